"""Append-only output files that a resumed run continues instead of overwriting.

Each :meth:`textcl.pipeline.Pipeline.run` owns one :class:`RunOutputs`: the files its
consumers opened, and (when resuming) their sizes at the checkpoint. Consumers open their
``.jsonl`` outputs through :func:`open_output`, which goes to the run in progress in this
thread (a :mod:`contextvars` variable, so two runs in two threads never see each other's
files). In a fresh run that truncates the file; while the run is :meth:`~RunOutputs.resuming`,
a file recorded in the checkpoint is cut back to its size at that checkpoint and
continued, so lines written after the last checkpoint (by a run that was then killed) are
dropped and written again, once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO


class RunOutputs:
    """The output files of one run (see the module doc)."""

    def __init__(self) -> None:
        self.files: list[tuple[Path, IO[bytes]]] = []
        self.resume_sizes: dict[str, int] | None = None

    def open(self, path: Path) -> IO[bytes]:
        """Open ``path`` for writing bytes (truncated, or continued when resuming)."""
        path = Path(path)
        key = str(path.resolve())
        sizes = self.resume_sizes
        if sizes is not None and key in sizes and path.exists():
            handle = path.open("r+b")
            handle.truncate(sizes[key])
            handle.seek(0, os.SEEK_END)
        else:
            handle = path.open("wb")
        self.files[:] = [(p, h) for p, h in self.files if not h.closed]
        self.files.append((path, handle))
        return handle

    def flush(self) -> dict[str, int]:
        """Flush and fsync every open output; return their sizes (for a checkpoint)."""
        sizes = {}
        for path, handle in self.files:
            if handle.closed:
                continue
            handle.flush()
            os.fsync(handle.fileno())
            sizes[str(path.resolve())] = handle.tell()
        return sizes

    @contextmanager
    def resuming(self, sizes: dict[str, int] | None) -> Iterator[None]:
        """While active, :meth:`open` continues the files listed in ``sizes``."""
        previous, self.resume_sizes = self.resume_sizes, sizes
        try:
            yield
        finally:
            self.resume_sizes = previous

    @contextmanager
    def active(self) -> Iterator[RunOutputs]:
        """Make this the run in progress of this thread (for :func:`open_output`)."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


_current: ContextVar[RunOutputs | None] = ContextVar("textcl_run_outputs", default=None)


def open_output(path: Path) -> IO[bytes]:
    """Open ``path`` through the run in progress (outside a run: a plain new file)."""
    run = _current.get()
    if run is None:
        return Path(path).open("wb")
    return run.open(path)


def flush_outputs() -> dict[str, int]:
    """Flush and fsync the outputs of the run in progress; return their sizes."""
    run = _current.get()
    return run.flush() if run is not None else {}


def continuing() -> bool:
    """True while the run in progress reopens its outputs to continue them."""
    run = _current.get()
    return run is not None and run.resume_sizes is not None
