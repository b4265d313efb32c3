"""`textcl stream` with continual word2vec on the sample stream: snapshots and ground truth."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from textcl.cli import app
from textcl.config import load_config
from textcl.consumers.registry import build_consumers
from textcl.embed.word2vec import ContinualWord2Vec, load_keyed_vectors
from textcl.input.readers import read_tweets
from textcl.paths import PROJECT_ROOT, sample_stream_path, sample_truth_path
from textcl.pipeline import Pipeline


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


def test_stream_writes_drift_report_with_shifted_words_as_top_movers(run_dir, truth):
    summary = json.loads((run_dir / "summary.json").read_text())
    shifted = {s["word"] for s in truth["shifted_words"]}
    # at the default rate (alpha 0.05, chosen on real tweets) a background word can rank
    # among them: measured order crash, news, virus, street, cloud
    assert shifted <= set(summary["consumers"]["drift"]["top_movers"][:5])
    report = json.loads((run_dir / "drift" / "report.json").read_text())
    assert [m["term"] for m in report["movers"][:3]] and report["mode"] == "snapshots"
    assert (run_dir / "drift" / "report.html").stat().st_size > 10_000


def test_drift_command_on_snapshots_and_on_two_corpora(run_dir, truth, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "drift",
            str(run_dir / "snapshots"),
            "--terms",
            "crash,coffee",
            "--out",
            str(tmp_path / "snap"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "snap" / "report.json").read_text())
    assert set(report["terms"]) == {"crash", "coffee"}
    period_cut = truth["shifted_words"][0]["periods"][1]["start"][:10]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    with a.open("w") as fa, b.open("w") as fb:
        for tweet in read_tweets(sample_stream_path()):
            target = fa if tweet.created_at.date().isoformat() < period_cut else fb
            target.write(" ".join(tweet.text.split()) + "\n")
    targets = tmp_path / "targets.txt"
    targets.write_text("crash\ncloud\nvirus\ncoffee\nweekend\n")
    result = runner.invoke(
        app,
        [
            "drift",
            "--compare",
            str(a),
            str(b),
            "--targets",
            str(targets),
            "--seeds",
            "1",
            "--out",
            str(tmp_path / "cmp"),
        ],
    )
    assert result.exit_code == 0, result.output
    ranked = json.loads((tmp_path / "cmp" / "report.json").read_text())["targets"]
    assert {t["term"] for t in ranked[:3]} == {"crash", "cloud", "virus"}
    missing = runner.invoke(app, ["drift", "--compare", str(a), str(b), "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "--targets" in missing.output


def test_stream_keyword_set_follows_the_planted_events(run_dir, truth):
    transitions = [json.loads(x) for x in (run_dir / "keywords.jsonl").read_text().splitlines()]
    assert transitions == sorted(transitions, key=lambda t: t["time"])
    for event in truth["events"]:
        entered = [
            t
            for t in transitions
            if t["action"] == "in"
            and t["term"] in event["keywords"]
            and event["start"] <= t["time"] <= event["end"][:10] + "T23:59:59Z"
        ]
        assert entered, event["name"]
    final = json.loads((run_dir / "keywords_final.json").read_text())
    assert final and {"term", "score", "since"} <= set(final[0])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["consumers"]["keywords"]["set_size"] == len(final)


def test_drift_report_is_rewritten_every_n_windows(tmp_path):
    seen: dict[int, int | None] = {}

    class ReportWatcher:
        name = "watcher"

        def update(self, batch):
            pass

        def end_window(self, window):
            path = tmp_path / "drift" / "report.json"
            seen[window.index] = (
                len(json.loads(path.read_text())["windows"]) if path.exists() else None
            )

        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass

    config = load_config(PROJECT_ROOT / "pipelines" / "default.toml")
    config.drift.every = 5
    Pipeline(config).add(ReportWatcher()).run(sample_stream_path(), tmp_path)
    # the report is rewritten at the 5th, 10th ... window end (index 4, 9: before the
    # consumers added after the built-in ones see that window end)
    assert seen[3] is None and seen[4] == 5 and seen[8] == 5 and seen[9] == 10


def test_windows_close_on_an_oov_alarm_when_configured(tmp_path):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    lines = []
    for i in range(6000):
        words = [f"common{(i * 7 + j) % 40}" for j in range(6)]
        if i >= 4000:  # an event starts: half of every tweet is vocabulary never seen before
            words[:3] = [f"event{i}x{j}" for j in range(3)]
        stamp = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        lines.append(json.dumps({"id": str(i + 1), "text": " ".join(words), "created_at": stamp}))
    source = tmp_path / "shift.jsonl"
    source.write_text("\n".join(lines) + "\n")
    config = load_config(PROJECT_ROOT / "pipelines" / "default.toml")
    config.word2vec.enabled = config.keywords.enabled = False
    config.window.batch_size, config.window.every = 100, "1d"
    plain = Pipeline(config).run(source)
    config.window.close_on_alarm = True
    cut = Pipeline(config)
    summary = cut.run(source)
    assert plain["windows"] == 1 and plain["window_cuts"] == []
    assert summary["windows"] >= 2 and summary["read"] == 6000
    first = cut.windows[0]
    assert 4000 <= first.tweets <= 4600, first.tweets  # closed a few batches after the shift
    assert summary["window_cuts"][0]["statistic"] == "oov_rate"


def test_word2vec_loss_reaches_the_drift_alarms_when_computed():
    config = load_config(PROJECT_ROOT / "pipelines" / "default.toml")
    config.word2vec.compute_loss = True
    consumers = build_consumers(config, None)
    keywords = next(c for c in consumers if c.name == "keywords")
    bare = load_config(PROJECT_ROOT / "pipelines" / "default.toml")
    bare.word2vec.enabled = bare.keywords.enabled = bare.drift.enabled = False
    pipeline = Pipeline(bare)
    for consumer in consumers:
        pipeline.add(consumer)
    pipeline.run(sample_stream_path())
    history = keywords.alarms.state_dict()["history"]
    assert len(history) == 20
    losses = [stats["w2v_loss"] for _, stats in history[1:]]
    assert all(loss > 0 for loss in losses)


def _members_at(transitions: list[dict], end: str) -> set[str]:
    members: set[str] = set()
    for t in transitions:
        if t["time"] <= end:
            (members.add if t["action"] == "in" else members.discard)(t["term"])
    return members


def test_probes_and_drift_terms_follow_the_keyword_set_by_default(run_dir):
    # the default pipeline names no probe or drift terms: they come from the stream
    from textcl.keywords.history import leading_keywords

    lines = (run_dir / "keywords.jsonl").read_text().splitlines()
    transitions = [json.loads(x) for x in lines]
    index = [
        json.loads(x) for x in (run_dir / "snapshots" / "index.jsonl").read_text().splitlines()
    ]
    probed = 0
    for record in index:
        members = _members_at(transitions, record["end"])
        assert set(record["neighbours"]) <= members, (record["window"], record["neighbours"])
        probed += len(record["neighbours"])
    assert probed >= 50
    report = json.loads((run_dir / "drift" / "report.json").read_text())
    leading = leading_keywords(run_dir / "keywords.jsonl", 10)
    movers = [m["term"] for m in report["movers"] if m["term"] not in leading][:5]
    assert len(leading) == 10 and list(report["terms"]) == leading + movers
