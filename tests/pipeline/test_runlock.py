"""One run per output folder: a second is refused with a clear error; a killed run
leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline
from textcl.runlock import LOCK_NAME, OutputInUseError, output_lock

CLI = [sys.executable, "-c", "from textcl.cli import app; app()"]


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    with output_lock(tmp_path), pytest.raises(OutputInUseError, match=f"pid {os.getpid()}"):
        Pipeline().run(sample_stream_path(), tmp_path)
    assert not (tmp_path / "summary.json").exists()  # the refused run wrote nothing


def test_two_processes_on_one_out_and_a_sigkill_leaves_no_stale_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = subprocess.Popen([*CLI, "stream", "--quiet", "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = out / LOCK_NAME
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip()):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        assert lock.read_text().strip() == str(first.pid)
        second = subprocess.run([*CLI, "stream", "--quiet", "--out", str(out)],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        assert f"another textcl run (pid {first.pid})" in second.stdout + second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    again = subprocess.run([*CLI, "stream", "--quiet", "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "summary.json").exists()
