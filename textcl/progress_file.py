"""``OUT/progress.json``: how far a run is, rewritten (atomically) about once a second.

A dashboard or a script reads it while the stream runs: records read, tweets processed,
rejects, windows closed, the stream's time, throughput, and whether the run is still
``running`` or ended (``done`` / ``stopped``).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from textcl.input.timeparse import to_iso
from textcl.run_summary import RunStats

__all__ = ["ProgressFile"]


class ProgressFile:
    """Writes ``progress.json`` in ``out`` at most every ``every`` seconds (and at the end)."""

    def __init__(self, out: Path, every: float = 1.0) -> None:
        self.path = out / "progress.json"
        self.every = every
        self.started = time.perf_counter()
        self._last = float("-inf")

    def update(self, stats: RunStats, last: datetime | None, *, force: bool = False,
               state: str = "running") -> None:
        """Rewrite the file when ``every`` seconds passed since the last write (or ``force``)."""
        now = time.perf_counter()
        if not force and now - self._last < self.every:
            return
        self._last = now
        seconds = now - self.started
        row: dict[str, Any] = {
            "state": state,
            "read": stats.read,
            "processed": stats.processed,
            "rejected": stats.rejected,
            "tweets": stats.tweets,
            "windows": stats.windows,
            "stream_time": to_iso(last) if last else None,
            "seconds": round(seconds, 2),
            "tweets_per_s": round(stats.processed / seconds, 1) if seconds > 0 else 0.0,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_bytes(orjson.dumps(row) + b"\n")
        os.replace(tmp, self.path)
