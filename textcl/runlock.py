"""One run per output folder: an exclusive lock on ``OUT/.textcl.lock`` while it writes.

Two ``textcl stream`` processes writing one folder would interleave their JSONL lines and
checkpoints; the second is refused at once with the first one's process id. The lock is
an ``fcntl.flock`` on an open file: the operating system drops it when the process ends,
however it ends (a SIGKILL included), so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".textcl.lock"


class OutputInUseError(RuntimeError):
    """Another process holds the output folder's lock."""


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock for the block; raise :class:`OutputInUseError` if taken."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            raise OutputInUseError(
                f"{out}: another textcl run (pid {owner}) is writing this folder; wait for "
                "it to finish, or give another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock
