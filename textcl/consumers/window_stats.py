"""Per-window counts and most frequent terms, written to ``windows.jsonl``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import IO, Any

import orjson

from textcl.input.timeparse import to_iso
from textcl.outputs import open_output
from textcl.types import Batch, Window


class WindowStats:
    """Counts tweets, tokens and terms per window; records each closed window."""

    name = "window_stats"

    def __init__(self, top_terms: int = 20, path: Path | None = None) -> None:
        self.top_terms = top_terms
        self.windows = 0  # closed so far
        self.total_tokens = 0
        self._terms: Counter[str] = Counter()
        self._tokens = 0
        self._fh: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open_output(path)

    def update(self, batch: Batch) -> None:
        for tokens in batch.tokens:
            self._terms.update(tokens)
            self._tokens += len(tokens)

    def end_window(self, window: Window) -> None:
        record = {
            "window": window.index,
            "start": to_iso(window.start),
            "end": to_iso(window.end),
            "tweets": window.tweets,
            "batches": window.batches,
            "tokens": self._tokens,
            "distinct_terms": len(self._terms),
            "top_terms": [[t, c] for t, c in self._terms.most_common(self.top_terms)],
        }
        self.windows += 1
        self.total_tokens += self._tokens
        self._terms = Counter()
        self._tokens = 0
        if self._fh is not None:
            self._fh.write(orjson.dumps(record) + b"\n")
            self._fh.flush()

    def summary(self) -> dict[str, Any]:
        return {"tokens": self.total_tokens, "windows": self.windows}

    def close(self, out_dir: Path | None = None) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def state_dict(self) -> dict[str, Any]:
        return {"terms": dict(self._terms), "tokens": self._tokens, "total": self.total_tokens,
                "windows": self.windows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._terms = Counter(state["terms"])
        self._tokens = int(state["tokens"])
        self.total_tokens = int(state["total"])
        self.windows = int(state["windows"])
