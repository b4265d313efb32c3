"""Opening inputs: files, gzip files (detected by magic bytes) and stdin."""

from __future__ import annotations

import gzip
import io
import os
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"

BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark, dropped from the start of a file


def _drop_bom(first_line: bytes, offset: int) -> tuple[bytes, int]:
    """The first line without a byte-order mark, and the offset just after the mark."""
    if first_line.startswith(BOM):
        return first_line[len(BOM) :], offset + len(BOM)
    return first_line, offset


@dataclass(slots=True)
class RawLine:
    """One physical line of input: 1-based number, byte offset (uncompressed), bytes."""

    number: int
    offset: int
    data: bytes


class ByteSource:
    """A readable byte stream with a name, plus progress in (compressed) bytes."""

    def __init__(self, name: str, raw: BinaryIO, total: int | None) -> None:
        self.name = name
        self.total = total
        self.error: tuple[int, str] | None = None
        self._raw = raw
        self.compressed = _peek(raw, 2) == GZIP_MAGIC
        self.stream: IO[bytes] = raw
        if self.compressed:
            self.stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
            if not _gzip_starts(self.stream) and raw.seekable():
                # The magic bytes were a coincidence: read the file as it is, line by line,
                # so every physical line is accounted for.
                raw.seek(0)
                self.stream, self.compressed = raw, False

    @classmethod
    def open(cls, source: str | Path) -> ByteSource:
        """Open a path (gzip or plain) or ``-`` for standard input."""
        if str(source) == STDIN:
            raw = sys.stdin.buffer
            if not isinstance(raw, io.BufferedReader):
                raw = io.BufferedReader(raw)  # type: ignore[arg-type]
            return cls("<stdin>", raw, None)
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file (give a path, or - for stdin)")
        if path.is_dir():
            raise IsADirectoryError(
                f"{path}: is a folder; use --format crisislex for a CrisisLex folder"
            )
        return cls(str(path), path.open("rb"), path.stat().st_size)

    def bytes_read(self) -> int:
        """Bytes consumed from the underlying (possibly compressed) file so far."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def head(self, size: int = 4096) -> bytes:
        """Peek at the first uncompressed bytes without consuming them."""
        return _peek(self.stream, size)

    def lines(self) -> Iterator[RawLine]:
        """Yield every physical line with its number and uncompressed byte offset.

        A truncated or corrupt gzip stream ends the lines early and sets :attr:`error` to
        ``(line, reason)`` for the first line that could not be read.
        """
        offset = 0
        number = 0
        iterator = iter(self.stream)
        while True:
            try:
                data = next(iterator)
            except StopIteration:
                return
            except (EOFError, OSError, zlib.error) as exc:
                self.error = (number + 1, f"corrupt or truncated gzip data: {exc}")
                return
            number += 1
            if number == 1:
                data, offset = _drop_bom(data, offset)
            yield RawLine(number, offset, data)
            offset += len(data)

    def close(self) -> None:
        if self._raw is not sys.stdin.buffer:
            self.stream.close()
            self._raw.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gzip_starts(stream: IO[bytes]) -> bool:
    """Whether a gzip stream has a valid header and its first block decompresses."""
    try:
        _peek(stream, 1)
    except (EOFError, OSError, zlib.error):
        return False
    return True


def _peek(stream: IO[bytes], size: int) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return peek(size)[:size]
    return b""


class FollowSource(ByteSource):
    """A plain file read like ``tail -f``: at its end, wait for more lines.

    A line is only yielded once its newline has been written. When the file is rotated
    (the path now names another file) or truncated, the new file is read from its start
    (its line numbers start again at 1). Reading stops after ``idle_timeout`` seconds
    without new data (None: never), or when ``stop`` is set (Ctrl-C in ``textcl stream``).
    """

    def __init__(self, path: Path, idle_timeout: float | None, poll: float = 0.2,
                 stop: threading.Event | None = None) -> None:
        raw = path.open("rb")
        super().__init__(str(path), raw, None)
        if self.compressed:
            raw.close()
            raise ValueError(f"{path}: --follow reads plain files only (this one is gzip)")
        self.path = path
        self.idle_timeout = idle_timeout
        self.poll = poll
        self.rotations = 0
        self.stop = stop or threading.Event()

    def _rotated(self) -> bool:
        try:
            now = self.path.stat()
        except FileNotFoundError:
            return False  # between the old file's removal and the new one's creation
        mine = os.fstat(self._raw.fileno())
        return (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev) or (
            now.st_size < self._raw.tell()
        )

    def lines(self) -> Iterator[RawLine]:
        number = offset = 0
        pending = b""
        idle_since = time.monotonic()
        while True:
            data = self._raw.readline()
            if data:
                pending += data
                if not pending.endswith(b"\n"):
                    continue
                number += 1
                if number == 1:
                    pending, offset = _drop_bom(pending, offset)
                yield RawLine(number, offset, pending)
                offset += len(pending)
                pending = b""
                idle_since = time.monotonic()
                continue
            if self._rotated():
                self._raw.close()
                self._raw = self.stream = self.path.open("rb")
                number = offset = 0
                pending = b""
                self.rotations += 1
                continue
            if self.idle_timeout is not None and time.monotonic() - idle_since >= self.idle_timeout:
                if pending:  # a last line without its newline
                    yield RawLine(number + 1, offset, pending)
                return
            if self.stop.wait(self.poll):  # the pipeline was asked to stop
                return
