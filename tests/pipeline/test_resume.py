"""Crash-safe resume: SIGKILL a real `textcl stream` at random points, resume each time,
and end with exactly the outputs of an uninterrupted run."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import Crash

from textcl.checkpoint import CheckpointError
from textcl.config import PipelineConfig
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline

CLI = [sys.executable, "-c", "from textcl.cli import app; app()"]
ARGS = ["stream", str(sample_stream_path()), "-q", "--window", "2000", "--batch-size", "250"]
# checkpoints at every window end and after every second micro-batch inside a window
PIPELINE = (
    "[output]\ncheckpoint_batches = 2\ncheckpoint_seconds = 0\ncheckpoint_window_seconds = 0\n"
)
TOTALS = ("read", "processed", "rejected", "tweets", "batches", "windows", "late", "tokens")


def start(out: Path, resume: bool) -> subprocess.Popen:
    pipeline = out.parent / f"{out.name}.toml"
    pipeline.write_text(PIPELINE)
    args = [*CLI, *ARGS, "-p", str(pipeline), "-o", str(out),
            *(["--resume"] if resume else [])]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def timeless(value: object) -> object:
    """``value`` without the timings (keys with "seconds") that differ run to run."""
    if isinstance(value, dict):
        return {k: timeless(v) for k, v in value.items() if "seconds" not in k}
    return value


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    proc = start(out, resume=False)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return out


def test_killed_and_resumed_runs_end_with_the_uninterrupted_outputs(
    reference: Path, tmp_path: Path
) -> None:
    rng = random.Random(11)
    out = tmp_path / "killed"
    kills = 0
    for attempt in range(12):
        proc = start(out, resume=(out / "checkpoint").exists())
        if attempt < 8:
            time.sleep(rng.uniform(1.0, 4.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
        break
    assert kills >= 2, "the run always finished before it could be killed"
    whole = json.loads((reference / "summary.json").read_text())
    resumed = json.loads((out / "summary.json").read_text())
    assert {k: resumed[k] for k in TOTALS} == {k: whole[k] for k in TOTALS}
    assert resumed["rejected_by_reason"] == whole["rejected_by_reason"]
    assert timeless(resumed["consumers"]) == timeless(whole["consumers"])
    for name in ("windows.jsonl", "keywords.jsonl", "rejects.jsonl", "alarms.jsonl",
                 "snapshots/index.jsonl"):
        assert lines(out / name) == lines(reference / name), name
    a, b = np.load(reference / "word2vec.npz"), np.load(out / "word2vec.npz")
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        assert np.array_equal(a[key], b[key]), key


def test_resume_refuses_another_source_and_starts_over_without_a_checkpoint(
    reference: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "1", "text": "hello", "created_at": "2026-03-01T00:00:00Z"}\n')
    with pytest.raises(CheckpointError, match="resume with the same source"):
        Pipeline(PipelineConfig()).run(other, reference, resume=True)
    # killed before its first checkpoint: --resume starts over (cutting what was written)
    fresh = tmp_path / "fresh"
    (fresh / "snapshots").mkdir(parents=True)
    (fresh / "windows.jsonl").write_text("a partial line from the killed run\n")
    (fresh / "snapshots" / "window-00099.npz").write_bytes(b"stale")
    runner = Pipeline(PipelineConfig())
    summary = runner.run(other, fresh, resume=True)
    assert summary["read"] == 1 and "started from the beginning" in summary["resume"]
    assert "partial" not in (fresh / "windows.jsonl").read_text()
    assert not (fresh / "snapshots" / "window-00099.npz").exists()
    (fresh / "checkpoint").mkdir(exist_ok=True)
    (fresh / "checkpoint" / "state.json").write_text("{}")
    with pytest.raises(CheckpointError, match="not a textcl checkpoint"):
        Pipeline(PipelineConfig()).run(other, fresh, resume=True)


def test_a_crash_inside_a_window_resumes_from_the_last_batch_checkpoint(tmp_path: Path) -> None:
    from textcl.config import config_from_dict

    data = {"window": {"every": "2000", "batch_size": 250},
            "output": {"checkpoint_batches": 1, "checkpoint_seconds": 0},
            "keywords": {"enabled": False}, "drift": {"enabled": False}}
    config = config_from_dict(data, "test")
    whole = Pipeline(config).add(Crash(None)).run(sample_stream_path(), tmp_path / "a")
    out = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        Pipeline(config).add(Crash(13)).run(sample_stream_path(), out)  # mid-window 6
    saved = json.loads((out / "checkpoint" / "state.json").read_text())
    assert saved["windower"]["_count"] > 0  # taken inside an open window
    resumed = Pipeline(config).add(Crash(None)).run(sample_stream_path(), out, resume=True)
    assert {k: resumed[k] for k in TOTALS} == {k: whole[k] for k in TOTALS}
    assert lines(out / "windows.jsonl") == lines(tmp_path / "a" / "windows.jsonl")
    # an added consumer's output is cut back to the checkpoint: no id lost or written twice
    assert lines(out / "ids.txt") == lines(tmp_path / "a" / "ids.txt")
    assert len(lines(out / "ids.txt")) == whole["tweets"]
    a, b = np.load(tmp_path / "a" / "word2vec.npz"), np.load(out / "word2vec.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_runs_collapsing_duplicates_and_retweets_resume_exactly(tmp_path: Path) -> None:
    """Crashes at window ends and inside windows, with --collapse-duplicates and
    --collapse-retweets: every repeat is still collapsed once, no tweet is lost or
    counted twice, and the outputs equal the uninterrupted run's."""
    from textcl.config import config_from_dict

    data = {"window": {"every": "2000", "batch_size": 250},
            "source": {"collapse_duplicates": True, "collapse_retweets": True},
            "output": {"checkpoint_batches": 3, "checkpoint_seconds": 0,
                       "checkpoint_window_seconds": 0},
            "keywords": {"enabled": False}, "drift": {"enabled": False}}
    config = config_from_dict(data, "test")
    whole = Pipeline(config).add(Crash(None)).run(sample_stream_path(), tmp_path / "a")
    assert whole["duplicates_collapsed"] > 0 and whole["retweets_collapsed"] > 0
    out = tmp_path / "b"
    resume = False
    for at in (8, 13, 24, 50):  # 8, 24: the first batch of a window; 13, 50: inside one
        with pytest.raises(KeyboardInterrupt):
            Pipeline(config).add(Crash(at)).run(sample_stream_path(), out, resume=resume)
        resume = True
    resumed = Pipeline(config).add(Crash(None)).run(sample_stream_path(), out, resume=True)
    keys = (*TOTALS, "duplicates_collapsed", "retweets_collapsed", "most_repeated")
    assert {k: resumed[k] for k in keys} == {k: whole[k] for k in keys}
    assert lines(out / "windows.jsonl") == lines(tmp_path / "a" / "windows.jsonl")
    # an added consumer's output is cut back to the checkpoint: no id lost or written twice
    assert lines(out / "ids.txt") == lines(tmp_path / "a" / "ids.txt")
    assert len(lines(out / "ids.txt")) == whole["tweets"]
    a, b = np.load(tmp_path / "a" / "word2vec.npz"), np.load(out / "word2vec.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_two_runs_in_two_threads_keep_their_outputs_apart(tmp_path: Path) -> None:
    """Each run's checkpoint records (and a resume cuts back) only its own files."""
    import threading

    from textcl.checkpoint import load_checkpoint
    from textcl.config import config_from_dict

    data = {"window": {"every": "2000", "batch_size": 250},
            "output": {"checkpoint_batches": 1, "checkpoint_seconds": 0,
                       "checkpoint_window_seconds": 0},
            "word2vec": {"enabled": False}, "keywords": {"enabled": False},
            "drift": {"enabled": False}}
    config = config_from_dict(data, "test")
    opened, release = threading.Event(), threading.Event()

    class Pause(Crash):
        def update(self, batch) -> None:
            super().update(batch)
            if batch.index == 3:
                opened.set()
                assert release.wait(60)

    first = tmp_path / "first"
    thread = threading.Thread(
        target=lambda: Pipeline(config).add(Pause(None)).run(sample_stream_path(), first))
    thread.start()
    assert opened.wait(60)  # the first run holds its outputs open, mid-stream
    second = tmp_path / "second"
    Pipeline(config).add(Crash(None)).run(sample_stream_path(), second)
    release.set()
    thread.join(60)
    for out in (first, second):
        files = load_checkpoint(out / "checkpoint")["outputs"]
        assert files and all(Path(f).is_relative_to(out.resolve()) for f in files), out
        assert lines(out / "ids.txt") == lines(tmp_path / "second" / "ids.txt")
