"""The [classifier] consumer inside `textcl stream`: test-then-train on the labelled tweets
of the sample stream, a head that grows with each planted event, crash-safe resume."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from helpers import Crash
from typer.testing import CliRunner

from textcl.cli import app
from textcl.config import config_from_dict
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline

SAMPLE_TRUTH = Path(__file__).resolve().parents[2] / "data" / "sample_stream.truth.json"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("classify")
    result = CliRunner().invoke(app, ["stream", "-p", "classify", "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_classify_pipeline_learns_the_sample_topics_test_then_train(sample_run: Path):
    truth = json.loads(SAMPLE_TRUTH.read_text())
    info = json.loads((sample_run / "summary.json").read_text())["consumers"]["classifier"]
    topic = info["classifiers"]["topic"]
    # one output unit per planted event plus chatter, each added as its label first came
    assert sorted(topic["classes"]) == sorted(truth["labels"]["counts"])
    labelled = sum(truth["labels"]["counts"].values())
    assert 0.8 * labelled < topic["learned"] < 0.95 * labelled  # ~10% held out
    majority = max(truth["labels"]["counts"].values()) / labelled
    assert topic["accuracy"] > majority + 0.1 and topic["macro_f1"] > 0.7
    folder = sample_run / "classifier" / "topic"
    predictions = _rows(folder / "predictions.jsonl")
    assert len(predictions) == topic["learned"]
    assert len({p["id"] for p in predictions}) == len(predictions)  # each learned once
    first = {}
    for p in predictions:
        first.setdefault(p["label"], p)
    # a class is predicted only after it was learned: its first tweet is always a miss
    assert all(p["predicted"] != label for label, p in first.items())
    growth = _rows(folder / "growth.jsonl")
    assert [g["class"] for g in growth] == list(first)  # in order of first appearance
    assert [g["classes"] for g in growth] == list(range(1, len(growth) + 1))


def test_new_event_classes_appear_once_their_event_has_started(sample_run: Path):
    truth = json.loads(SAMPLE_TRUTH.read_text())
    starts = {e["name"]: datetime.fromisoformat(e["start"].replace("Z", "+00:00"))
              for e in truth["events"]}
    folder = sample_run / "classifier" / "topic"
    windows = {m["window"]: m for m in _rows(folder / "metrics.jsonl")}
    for event in _rows(folder / "growth.jsonl"):
        if event["class"] == "chatter":
            continue
        end = datetime.fromisoformat(windows[event["window"]]["end"].replace("Z", "+00:00"))
        assert end >= starts[event["class"]]


def test_metrics_rows_per_window_with_held_out_forgetting_and_a_plot(sample_run: Path):
    folder = sample_run / "classifier" / "topic"
    metrics = _rows(folder / "metrics.jsonl")
    summary = json.loads((sample_run / "summary.json").read_text())
    assert len(metrics) == summary["windows"]
    last = metrics[-1]
    assert last["running"]["n"] == sum(m["learned"] for m in metrics)
    assert last["earlier_windows"]["windows"] >= summary["windows"] - 2
    assert last["earlier_windows"]["accuracy"] > 0.8
    assert (folder / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the run's report shows it too
    report = (sample_run / "drift" / "report.html").read_text()
    assert "classifier topic: test-then-train" in report
    assert (sample_run / "drift" / "figure_00_topic.png").read_bytes() == (
        folder / "accuracy.png").read_bytes()


def test_the_summary_table_shows_the_classifier(tmp_path: Path):
    result = CliRunner().invoke(app, ["stream", "-p", "classify", "-o", str(tmp_path / "o"),
                                      "--window", "6000"])
    assert result.exit_code == 0, result.output
    assert "classifier topic" in result.output and "learned" in result.output


def test_a_crashed_run_resumes_to_the_uninterrupted_classifier_outputs(tmp_path: Path):
    data = {"window": {"every": "2000", "batch_size": 250},
            "output": {"checkpoint_batches": 2, "checkpoint_seconds": 0,
                       "checkpoint_window_seconds": 0},
            "keywords": {"enabled": False}, "word2vec": {"enabled": False},
            "drift": {"enabled": False},
            "classifier": {"labels": ["topic"], "adapters": ["class_balanced", "lwf"]}}
    config = config_from_dict(data, "test")
    whole = Pipeline(config).add(Crash(None)).run(sample_stream_path(), tmp_path / "a")
    out = tmp_path / "b"
    resume = False
    for at in (8, 13, 50):  # 8: the first batch of a window; 13, 50: inside one
        with pytest.raises(KeyboardInterrupt):
            Pipeline(config).add(Crash(at)).run(sample_stream_path(), out, resume=resume)
        resume = True
    resumed = Pipeline(config).add(Crash(None)).run(sample_stream_path(), out, resume=True)
    def timeless(info: dict) -> dict:
        return {k: timeless(v) if isinstance(v, dict) else v for k, v in info.items()
                if "seconds" not in k}

    assert timeless(resumed["consumers"]["classifier"]) == timeless(
        whole["consumers"]["classifier"])
    for name in ("predictions", "metrics", "growth"):
        a = (tmp_path / "a" / "classifier" / "topic" / f"{name}.jsonl").read_text()
        b = (out / "classifier" / "topic" / f"{name}.jsonl").read_text()
        assert a == b, name


def test_unknown_adapters_and_repeated_labels_are_refused_with_the_choices(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[classifier]\nlabels = ["topic"]\nadapters = ["ewk"]\n')
    result = CliRunner().invoke(app, ["stream", "-p", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "'ewk'" in result.output and "class_balanced" in result.output
    bad.write_text('[classifier]\nlabels = ["topic", "topic"]\n')
    result = CliRunner().invoke(app, ["stream", "-p", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "listed twice" in result.output


def test_a_stream_without_the_label_learns_nothing_and_says_so(tmp_path: Path):
    bad = tmp_path / "p.toml"
    bad.write_text('[classifier]\nlabels = ["sentiment"]\n')
    result = CliRunner().invoke(app, ["stream", "-p", str(bad), "-q", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    info = summary["consumers"]["classifier"]["classifiers"]["sentiment"]
    assert info["learned"] == 0 and info["accuracy"] is None
    assert any("sentiment" in w and "no tweet" in w for w in summary["warnings"]), \
        summary["warnings"]
    assert Counter() == Counter(_rows(tmp_path / "o" / "classifier" / "sentiment" /
                                      "predictions.jsonl"))
