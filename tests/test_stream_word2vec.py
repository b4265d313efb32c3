"""`textcl stream` with continual word2vec on the sample stream: snapshots and ground truth."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from textcl.cli import app
from textcl.embed.word2vec import ContinualWord2Vec, load_keyed_vectors
from textcl.paths import sample_truth_path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("w2v")
    result = CliRunner().invoke(app, ["stream", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def truth():
    return json.loads(sample_truth_path().read_text())


def snapshot_at(run_dir, day: str):
    index = [
        json.loads(x) for x in (run_dir / "snapshots" / "index.jsonl").read_text().splitlines()
    ]
    record = next(r for r in index if r["start"].startswith(day))
    return load_keyed_vectors(run_dir / "snapshots" / record["file"]), record


def test_one_snapshot_per_window_and_final_model(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    files = sorted((run_dir / "snapshots").glob("window-*.npz"))
    assert len(files) == summary["windows"] == summary["consumers"]["word2vec"]["snapshots"] == 20
    first, last = load_keyed_vectors(files[0]), load_keyed_vectors(files[-1])
    assert first.tag["window"] == 0 and last.tag["window"] == 19
    assert len(last.index_to_key) >= len(first.index_to_key)
    model = ContinualWord2Vec.load(run_dir / "word2vec.npz")
    assert len(model) == summary["consumers"]["word2vec"]["vocab"]


def test_shifted_words_follow_their_period_contexts(run_dir, truth):
    for shifted in truth["shifted_words"]:
        word = shifted["word"]
        for period in shifted["periods"]:
            last_day = period["end"][:10]
            kv, _ = snapshot_at(run_dir, _previous_day(last_day))
            neighbours = {w for w, _ in kv.most_similar(word, topn=10)}
            hits = neighbours & set(period["context_words"])
            assert len(hits) >= 5, (word, period["start"], sorted(neighbours))


def test_event_words_find_their_event(run_dir, truth):
    kv, _ = snapshot_at(run_dir, "2026-03-20")
    for event in truth["events"]:
        own = set(event["keywords"])
        for word in [w for w in event["keywords"] if w in kv.key_to_index][:3]:
            neighbours = {w for w, _ in kv.most_similar(word, topn=10)}
            assert len(neighbours & own) >= 5, (event["name"], word, sorted(neighbours))


def _previous_day(iso_day: str) -> str:
    return (date.fromisoformat(iso_day) - timedelta(days=1)).isoformat()
