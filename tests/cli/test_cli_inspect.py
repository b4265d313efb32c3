"""`textcl config show`, `textcl predict`, and a quiet terminal under --quiet."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from textcl.cli import app
from textcl.config import load_config
from textcl.paths import PROJECT_ROOT, sample_stream_path

runner = CliRunner()


def test_config_show_prints_the_effective_pipeline_as_toml(tmp_path: Path) -> None:
    overlay = tmp_path / "mine.toml"
    overlay.write_text("[keywords]\nsize = 7\n[window]\nevery = \"6h\"\n")
    result = runner.invoke(app, ["config", "show", "-p", str(overlay)])
    assert result.exit_code == 0, result.output
    shown = tomllib.loads(result.output)
    assert shown["keywords"]["size"] == 7 and shown["window"]["every"] == "6h"
    assert shown["word2vec"]["alpha"] == load_config(None).word2vec.alpha  # defaults filled
    printed = tmp_path / "printed.toml"
    printed.write_text(result.output)
    assert load_config(printed) == load_config(overlay)  # what it prints runs the same


def test_config_show_names_the_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[keywords]\nsize = -1\n")
    result = runner.invoke(app, ["config", "show", "-p", str(bad)])
    assert result.exit_code == 2 and "bad.toml" in result.output


def _labels_csv(tweeteval: Path, split: str, n: int, out: Path) -> Path:
    texts = (tweeteval / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()[:n]
    labels = (tweeteval / f"{split}_labels.txt").read_text().split()[:n]
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "label"])
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            writer.writerow([f"{split}-{i}", text, label])
    return out


def test_predict_labels_unseen_tweets_better_than_the_majority_class(
    shared_data: Path, tmp_path: Path
) -> None:
    """TweetEval sentiment-like emotion task: learn 1,500 labels, predict 500 unseen."""
    emotion = shared_data / "tweeteval" / "emotion"
    train = _labels_csv(emotion, "train", 1500, tmp_path / "train.csv")
    test = _labels_csv(emotion, "test", 500, tmp_path / "test.csv")
    model = tmp_path / "model"
    assert runner.invoke(app, ["label", str(train), "--model", str(model)]).exit_code == 0
    out = tmp_path / "predictions.jsonl"
    result = runner.invoke(app, ["predict", str(test), "--model", str(model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"test-{i}" for i in range(500)]
    truth = (emotion / "test_labels.txt").read_text().split()[:500]
    accuracy = sum(r["label"] == t for r, t in zip(rows, truth, strict=True)) / 500
    majority = max(truth.count(c) for c in set(truth)) / 500
    assert accuracy > majority + 0.05, (accuracy, majority)
    assert all(abs(sum(r["probs"].values()) - 1) < 1e-3 and r["p"] == max(r["probs"].values())
               for r in rows)


def test_predict_without_a_model_says_how_to_make_one(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["predict", str(sample_stream_path()), "--model", str(tmp_path / "none")]
    )
    assert result.exit_code == 2 and "textcl label" in result.output


def test_quiet_transformer_run_prints_no_progress_bars(tmp_path: Path) -> None:
    tweets = tmp_path / "small.jsonl"
    lines = [json.dumps({"id": str(i), "created_at": f"2026-03-0{1 + i // 200}T00:00:{i % 60:02d}Z",
                         "text": f"tweet number {i} about the river flood #flood"})
             for i in range(600)]
    tweets.write_text("\n".join(lines) + "\n")
    pipeline = tmp_path / "tiny.toml"
    base = (PROJECT_ROOT / "pipelines" / "transformer.toml").read_text()
    pipeline.write_text(base.replace("hidden_size = 64", "hidden_size = 16")
                        .replace("train_every = 2000", "train_every = 300"))
    result = runner.invoke(
        app, ["stream", str(tweets), "-p", str(pipeline), "-o", str(tmp_path / "out"), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "transformer").is_dir()
    assert "it/s" not in result.output and "Writing model shards" not in result.output
