"""Read a JSON-lines file that another process keeps appending to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

__all__ = ["JsonlTail"]


class JsonlTail:
    """The complete lines appended to ``path`` since the last :meth:`read`.

    A line still being written (no newline yet) is read next time. A file that shrank
    (a resumed run cuts its outputs back to the checkpoint) is read again from the start:
    :meth:`read` then returns ``reset=True`` so that what was built from it is rebuilt.
    Lines that are not JSON objects are counted in ``bad`` and skipped.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.bad = 0

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """``(new rows, reset)``."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            reset = self.offset > 0
            self.offset = 0
            return [], reset
        reset = size < self.offset
        if reset:
            self.offset = 0
        if size == self.offset:
            return [], reset
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(size - self.offset)
        end = data.rfind(b"\n") + 1
        self.offset += end
        rows = []
        for line in data[:end].splitlines():
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                self.bad += 1
                continue
            if isinstance(row, dict):
                rows.append(row)
            else:
                self.bad += 1
        return rows, reset
