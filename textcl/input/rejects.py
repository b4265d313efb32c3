"""Rejected records: what was wrong, where, and a short excerpt of the raw input."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson

from textcl.outputs import open_output

EXCERPT_CHARS = 200


@dataclass(slots=True, frozen=True)
class Reject:
    """An input record that could not become a tweet."""

    source: str
    line: int
    reason: str
    raw: str = ""

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "line": self.line, "reason": self.reason, "raw": self.raw}

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


class RecordError(ValueError):
    """Raised by record parsers; the reader turns it into a :class:`Reject`."""


class StrictModeError(RuntimeError):
    """Raised in ``--strict`` mode at the first bad record."""

    def __init__(self, reject: Reject) -> None:
        self.reject = reject
        super().__init__(
            f"{reject.source}, line {reject.line}: {reject.reason}. "
            "Fix or remove that record, or run without --strict to send bad records to "
            "rejects.jsonl and keep going."
        )


def excerpt(raw: bytes | str, limit: int = EXCERPT_CHARS) -> str:
    """A printable, truncated excerpt of a raw record (invalid UTF-8 shown as U+FFFD)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text.rstrip("\r\n")
    return text if len(text) <= limit else text[:limit] + f"... [{len(text)} chars]"


class RejectsWriter:
    """Appends rejects to a JSON-lines file and counts them by reason."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self.by_reason: Counter[str] = Counter()
        self._fh: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open_output(path)

    def write(self, reject: Reject) -> None:
        self.count += 1
        self.by_reason[reason_kind(reject.reason)] += 1
        if self._fh is not None:
            self._fh.write(orjson.dumps(reject.to_json()) + b"\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def reason_kind(reason: str) -> str:
    """The reason's category: the text before the first colon or parenthesis."""
    for sep in (":", " ("):
        if sep in reason:
            reason = reason.split(sep, 1)[0]
    return reason.strip()
