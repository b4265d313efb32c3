"""SIGINT / SIGTERM end a run cleanly: the open window closes, reports and summary are written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from textcl.paths import sample_stream_path

CLI = [sys.executable, "-c", "from textcl.cli import app; app()"]


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() or path.stat().st_size == 0:
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_sigint_stops_a_followed_file_with_a_summary(tmp_path: Path) -> None:
    lines = [json.dumps({"id": str(1_900_000_000_000_000_000 + i), "text": f"river level {i}",
                         "created_at": f"2026-03-01T00:00:{i:02d}.000Z"}) for i in range(30)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([*CLI, "stream", str(feed), "--follow", "-o", str(out), "-q",
                             "--window", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for(out / "windows.jsonl")  # two windows closed: the rest is read in a moment
    time.sleep(1.5)  # ... after which the follower only waits for new lines
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"] == "SIGINT"
    assert summary["read"] == 30 and summary["windows"] == 3
    assert "stopped by" in stdout


def test_sigterm_mid_stream_closes_the_window_and_writes_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([*CLI, "stream", str(sample_stream_path()), "-o", str(out), "-q",
                             "--window", "2000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for(out / "windows.jsonl")
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped"] == "SIGTERM"
    assert summary["read"] < 24_000
    assert summary["read"] == summary["processed"] + summary["rejected"]
    windows = (out / "windows.jsonl").read_text().splitlines()
    assert len(windows) == summary["windows"]
    assert (out / "word2vec.npz").exists()


def test_the_library_follows_a_growing_file_until_it_goes_idle(tmp_path: Path) -> None:
    """`Pipeline.reader(path, follow=True)`: the library's way to what --follow does."""
    import threading

    from textcl.config import config_from_dict
    from textcl.pipeline import Pipeline

    feed = tmp_path / "feed.txt"
    feed.write_text("first tweet about the flood\n")
    config = config_from_dict({"word2vec": {"enabled": False}, "drift": {"enabled": False},
                               "window": {"every": "10"}})
    runner = Pipeline(config)

    def append() -> None:
        time.sleep(0.5)
        with feed.open("a") as fh:
            fh.write("second tweet\nthird tweet\n")

    writer = threading.Thread(target=append)
    writer.start()
    summary = runner.run(runner.reader(feed, follow=True, idle_timeout=2.0), tmp_path / "o")
    writer.join()
    assert summary["processed"] == 3 and summary["rejected"] == 0
