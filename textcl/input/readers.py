"""Choosing and running a reader: ``auto | jsonl | csv | text | crisislex``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, get_args

from textcl.input.crisislex import is_crisislex, read_crisislex
from textcl.input.csvfile import ColumnMap, looks_like_csv_header, read_csv
from textcl.input.jsonl import DEFAULT_MAX_RECORD_BYTES, read_jsonl
from textcl.input.plaintext import read_text
from textcl.input.rejects import Reject
from textcl.input.source import BOM, STDIN, ByteSource, FollowSource
from textcl.types import Tweet

Format = Literal["auto", "jsonl", "csv", "text", "crisislex"]
FORMATS: tuple[str, ...] = get_args(Format)  # the one list of input formats
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "text",
}


class TweetReader:
    """Reads one source into :class:`Tweet` records and :class:`Reject` records.

    ``source`` is a file (plain or gzip), a CrisisLex folder, or ``-`` for stdin. With
    ``follow`` a plain file is read like ``tail -f`` (see :class:`FollowSource`) until
    ``idle_timeout`` seconds pass without new lines.
    """

    def __init__(
        self,
        source: str | Path,
        format: Format = "auto",
        csv_columns: ColumnMap | None = None,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        follow: bool = False,
        idle_timeout: float | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}; allowed: {', '.join(FORMATS)}")
        self.source = str(source)
        self.csv_columns = csv_columns
        self.max_record_bytes = max_record_bytes
        self._bytes: ByteSource | None = None
        path = Path(self.source)
        if self.source != STDIN and path.is_dir():
            if format not in ("auto", "crisislex") or not is_crisislex(path):
                raise ValueError(
                    f"{path}: is a folder, and only CrisisLex folders can be read as one "
                    "(--format crisislex); give a file instead"
                )
            self.format = "crisislex"
        elif format == "crisislex":
            raise ValueError(f"{path}: --format crisislex needs a CrisisLex folder")
        elif follow:
            if self.source == STDIN or not path.is_file():
                raise FileNotFoundError(f"{path}: --follow needs an existing plain file")
            self._bytes = FollowSource(path, idle_timeout, stop=stop)
            self.format = format if format != "auto" else self._detect(self._bytes)
        else:
            self._bytes = ByteSource.open(self.source)
            self.format = format if format != "auto" else self._detect(self._bytes)

    @staticmethod
    def _detect(source: ByteSource) -> str:
        name = source.name.lower().removesuffix(".gz")
        for suffix, fmt in _SUFFIXES.items():
            if name.endswith(suffix):
                return fmt
        head = source.head().removeprefix(BOM).lstrip()
        if head.startswith(b"{"):
            return "jsonl"
        first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
        return "csv" if looks_like_csv_header(first) else "text"

    def __iter__(self) -> Iterator[Tweet | Reject]:
        if self.format == "crisislex":
            yield from read_crisislex(Path(self.source), self.max_record_bytes)
            return
        assert self._bytes is not None
        with self._bytes as source:
            if self.format == "jsonl":
                yield from read_jsonl(source, self.max_record_bytes)
            elif self.format == "csv":
                columns = self.csv_columns or ColumnMap()  # delimiter sniffed
                yield from read_csv(source, columns, self.max_record_bytes)
            else:
                yield from read_text(source, self.max_record_bytes)
            if source.error is not None:
                line, reason = source.error
                yield Reject(source.name, line, f"{reason}; the rest of the file is unreadable")

    def progress(self) -> tuple[int, int | None]:
        """(bytes consumed, total bytes or None) of the underlying file."""
        if self._bytes is None:
            return 0, None
        return self._bytes.bytes_read(), self._bytes.total


def read_tweets(source: str | Path, format: Format = "auto", **options: object) -> Iterator[Tweet]:
    """Convenience: the tweets of a source, skipping rejects (see :class:`TweetReader`)."""
    for item in TweetReader(source, format, **options):  # type: ignore[arg-type]
        if not isinstance(item, Reject):
            yield item
