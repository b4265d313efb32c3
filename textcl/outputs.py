"""Append-only output files that a resumed run continues instead of overwriting.

Consumers open their ``.jsonl`` outputs through :func:`open_output`. In a fresh run that
truncates the file; while :func:`resuming` is active, a file recorded in the checkpoint is
cut back to its size at that checkpoint and continued, so lines written after the last
checkpoint (by a run that was then killed) are dropped and written again, once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_open_files: list[tuple[Path, IO[bytes]]] = []
_resume_sizes: dict[str, int] | None = None


def open_output(path: Path) -> IO[bytes]:
    """Open ``path`` for writing bytes (truncated, or continued when resuming)."""
    path = Path(path)
    key = str(path.resolve())
    if _resume_sizes is not None and key in _resume_sizes and path.exists():
        handle = path.open("r+b")
        handle.truncate(_resume_sizes[key])
        handle.seek(0, os.SEEK_END)
    else:
        handle = path.open("wb")
    _open_files[:] = [(p, h) for p, h in _open_files if not h.closed]
    _open_files.append((path, handle))
    return handle


def flush_outputs() -> dict[str, int]:
    """Flush and fsync every open output; return their sizes (for a checkpoint)."""
    sizes = {}
    for path, handle in _open_files:
        if handle.closed:
            continue
        handle.flush()
        os.fsync(handle.fileno())
        sizes[str(path.resolve())] = handle.tell()
    return sizes


def continuing() -> bool:
    """True while a resumed run reopens its outputs (inside :func:`resuming`)."""
    return _resume_sizes is not None


@contextmanager
def resuming(sizes: dict[str, int] | None) -> Iterator[None]:
    """While active, :func:`open_output` continues the files listed in ``sizes``."""
    global _resume_sizes
    previous, _resume_sizes = _resume_sizes, sizes
    try:
        yield
    finally:
        _resume_sizes = previous
