"""`textcl stream` end to end: the embedded sample stream, CrisisLex, stdin, strict mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from textcl.cli import app
from textcl.paths import sample_stream_path, sample_truth_path

runner = CliRunner()


def stream(*args: str, input: str | None = None):
    return runner.invoke(app, ["stream", *args], input=input, catch_exceptions=False)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_default_run_on_embedded_sample_stream(tmp_path):
    result = stream("--out", str(tmp_path), "--quiet")
    assert result.exit_code == 0, result.output
    truth = json.loads(sample_truth_path().read_text())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["source"] == str(sample_stream_path())
    assert summary["read"] == truth["tweets"]
    assert summary["read"] == summary["processed"] + summary["rejected"]
    assert summary["rejected"] == len(truth["planted_rejects"])
    assert summary["windows"] == 20 and summary["tweets_per_s"] > 0 and summary["seconds"] > 0
    rejects = read_jsonl(tmp_path / "rejects.jsonl")
    assert sorted(r["line"] for r in rejects) == sorted(p["line"] for p in truth["planted_rejects"])
    assert all(r["reason"] and r["source"].endswith("sample_stream.jsonl.gz") for r in rejects)
    windows = read_jsonl(tmp_path / "windows.jsonl")
    assert sum(w["tweets"] for w in windows) == summary["tweets"] == summary["processed"]
    assert "read" in result.output and "rejected" in result.output


def test_event_words_top_their_windows(tmp_path):
    stream("--out", str(tmp_path), "--quiet")
    truth = json.loads(sample_truth_path().read_text())
    windows = {w["start"][:10]: w for w in read_jsonl(tmp_path / "windows.jsonl")}
    for event in truth["events"]:
        peak = windows[event["peak"][:10]]
        top = {term for term, _ in peak["top_terms"]}
        assert top & set(event["keywords"]), (event["name"], peak["top_terms"])


def test_collapse_flags_count_repeats(tmp_path):
    result = stream(
        "--out", str(tmp_path), "--quiet", "--collapse-duplicates", "--collapse-retweets"
    )
    assert result.exit_code == 0
    truth = json.loads(sample_truth_path().read_text())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["duplicates_collapsed"] >= truth["duplicates"]
    assert summary["retweets_collapsed"] >= truth["retweets"] * 0.9
    assert summary["tweets"] == (
        summary["processed"] - summary["duplicates_collapsed"] - summary["retweets_collapsed"]
    )
    assert summary["most_repeated"] and summary["most_repeated"][0]["repeats"] >= 1


def test_strict_mode_stops_with_file_line_and_reason(tmp_path):
    truth = json.loads(sample_truth_path().read_text())
    first = min(p["line"] for p in truth["planted_rejects"])
    result = runner.invoke(app, ["stream", "--out", str(tmp_path), "--quiet", "--strict"])
    assert result.exit_code == 2
    assert f"line {first}:" in result.output and "sample_stream.jsonl.gz" in result.output
    assert "without --strict" in result.output


def test_crisislex_t26_end_to_end(tmp_path, crisislex_t26):
    result = stream(str(crisislex_t26), "--out", str(tmp_path), "--quiet", "--window", "7d")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["format"] == "crisislex"
    assert summary["read"] == summary["processed"] == 27933 and summary["rejected"] == 0
    assert summary["first"].startswith("2012") and summary["last"].startswith("2013")


def test_stdin_and_csv_and_text(tmp_path):
    lines = '{"id": "211040709124440064", "text": "hello #world"}\nnot json\n'
    result = stream("-", "--out", str(tmp_path / "a"), "--quiet", input=lines)
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert (summary["read"], summary["processed"], summary["rejected"]) == (2, 1, 1)
    text = tmp_path / "docs.txt"
    text.write_text("one doc\ntwo doc\n\nthree doc\n", encoding="utf-8")
    result = stream(str(text), "--out", str(tmp_path / "b"), "--quiet", "--window", "2")
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert (summary["processed"], summary["rejected"], summary["windows"]) == (3, 1, 2)


def test_bad_pipeline_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[window]\nevry = "1d"\n', encoding="utf-8")
    result = runner.invoke(app, ["stream", "--pipeline", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        "unknown key 'evry'" in result.output and "allowed keys: batch_size, every" in result.output
    )
    result = runner.invoke(app, ["stream", "--format", "xml", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "[source] format = 'xml' is not allowed; allowed values" in result.output


def test_console_script_runs_with_progress(tmp_path):
    exe = Path(sys.executable).with_name("textcl")
    env = dict(os.environ, COLUMNS="120")
    proc = subprocess.run(
        [str(exe), "stream", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "read" in proc.stdout and "tweets/s" in proc.stdout
    assert (tmp_path / "summary.json").exists()


@pytest.mark.parametrize("content", [b"", b"not json\n{broken\n"])
def test_a_run_of_zero_tweets_ends_cleanly_with_its_summary(tmp_path, content: bytes) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_bytes(content)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["stream", str(source), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tweets"] == 0 and summary["read"] == summary["rejected"]
    assert summary["consumers"]["drift"]["report"] is None
