"""The continual transformer inside `textcl stream`: training, checkpoints, contextual drift."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import torch

from textcl.config import config_from_dict, load_config
from textcl.paths import PROJECT_ROOT, sample_stream_path, sample_truth_path
from textcl.pipeline import Pipeline
from textcl.transformer import ContinualTransformer


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    data = load_config(PROJECT_ROOT / "pipelines" / "transformer.toml").model_dump()
    data["transformer"] |= {"hidden_size": 32, "layers": 1, "vocab_size": 1500,
                            "train_every": 3000, "term_texts": 80, "lr": 2e-3,
                            "probe_terms": ["crash", "cloud", "virus"]}
    data["keywords"]["enabled"] = False
    out = tmp_path_factory.mktemp("stream")
    summary = Pipeline(config_from_dict(data, "test")).run(sample_stream_path(), out)
    (out / "summary.test.json").write_text(json.dumps(summary, default=str))
    return out


def _shift_window(word: str) -> int:
    truth = json.loads(sample_truth_path().read_text())
    start = datetime.fromisoformat(truth["start"].replace("Z", "+00:00"))
    entry = next(w for w in truth["shifted_words"] if w["word"] == word)
    shift = datetime.fromisoformat(entry["periods"][1]["start"].replace("Z", "+00:00"))
    return (shift - start).days


def test_the_stream_trains_the_model_on_every_tweet_and_checkpoints_it(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    info = summary["consumers"]["transformer"]
    assert info["tweets_trained"] == summary["tweets"]
    assert info["vocab_added"] > 0
    model = ContinualTransformer.load(run / "transformer" / "model")
    assert model.built and model.tweets_seen == summary["tweets"]


def test_contextual_drift_peaks_when_a_planted_word_changes_meaning(run: Path) -> None:
    rows = [json.loads(line) for line in (run / "transformer" / "drift.jsonl").open()]
    assert len(rows) == 20
    peaked = []
    for word in ("crash", "cloud", "virus"):
        series = [r["terms"][word].get("centroid_distance") or 0.0 for r in rows]
        peaked.append(int(max(range(len(series)), key=series.__getitem__)) == _shift_window(word))
    assert sum(peaked) >= 2, peaked


def test_the_drift_report_shows_the_contextual_series(run: Path) -> None:
    report = (run / "drift" / "report.md").read_text()
    assert "Contextual drift of crash" in report
    assert (run / "drift" / "contextual.png").stat().st_size > 0
