"""Labels given in the dashboard: ``OUT/labels.jsonl``, one line per new or changed label.

Each line is ``{"id", "<label name>": value, "text", "time"}``: the stream's classifier
reads it as a label file (joined by tweet id), ``textcl label`` as labelled tweets.
A label already given with the same value is not written again; a changed one is
appended (the latest line wins). The file is read back on start, so a restarted
dashboard knows every label given before.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from textcl.serve.tail import JsonlTail

__all__ = ["LabelError", "LabelStore"]

MAX_VALUE = 64
MAX_TEXT = 2000
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
ID_KEYS = frozenset({"id", "text", "time"})


class LabelError(ValueError):
    """A label that cannot be written (the message says why)."""


class LabelStore:
    """Appends labels to ``path`` (created on the first label); knows every label given."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.given: dict[str, dict[str, str]] = {}  # tweet id -> {label name: value}
        self._tail = JsonlTail(self.path)
        self._read_back()

    def _read_back(self) -> None:
        rows, _ = self._tail.read()
        for row in rows:
            tweet_id = str(row.get("id", ""))
            for name, value in row.items():
                if name not in ID_KEYS and tweet_id:
                    self.given.setdefault(tweet_id, {})[name] = str(value)

    def add(self, tweet_id: Any, name: Any, value: Any, text: Any = "") -> bool:
        """Write the label; ``False`` when it was already given with this value."""
        tweet_id, name, value = _check(tweet_id, name, value)
        text = str(text or "")[:MAX_TEXT]
        with self._lock:
            self._read_back()  # another writer (a second dashboard) may have added some
            if self.given.get(tweet_id, {}).get(name) == value:
                return False
            row = {"id": tweet_id, name: value, "text": text,
                   "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(orjson.dumps(row) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            self._read_back()
            return True

    def snapshot(self) -> dict[str, dict[str, str]]:
        with self._lock:
            self._read_back()
            return {k: dict(v) for k, v in self.given.items()}


def _check(tweet_id: Any, name: Any, value: Any) -> tuple[str, str, str]:
    tweet_id = str(tweet_id or "").strip()
    name = str(name or "").strip()
    value = str(value or "").strip()
    if not tweet_id or (not tweet_id.isdigit() and len(tweet_id) > 64):
        raise LabelError("a label needs the tweet's id")
    if not NAME.match(name) or name in ID_KEYS:
        raise LabelError(f"label name {name!r}: letters, digits, _ . - (at most 40), "
                         f"not one of {sorted(ID_KEYS)}")
    if not value or len(value) > MAX_VALUE or any(c in value for c in "\r\n\t"):
        raise LabelError(f"label value {value!r}: 1 to {MAX_VALUE} characters on one line")
    return tweet_id, name, value
