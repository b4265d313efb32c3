"""Time-sorting a source that is not in time order, in bounded memory (external sort).

:class:`TimeSorted` reads its reader to the end in runs of ``run_size`` tweets, sorts each
run by ``(created_at, read order)`` and spills it to a temporary file of JSON lines, then
merges the runs (``heapq.merge``). Memory holds one run, however long the file. Rejects
are passed on as they are read (before the sorted tweets); the order of the output is
deterministic, so a checkpoint's count of records consumed stays valid on ``--resume``.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from textcl.input.rejects import Reject
from textcl.types import Origin, Tweet

__all__ = ["TimeSorted"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeSorted:
    """The records of ``reader`` with its tweets in time order.

    Args:
        reader: a reader (anything iterable over tweets and rejects; its ``source``,
            ``format`` and ``progress()`` are passed through when present).
        run_size: tweets sorted in memory at once (one run).
        tmp_dir: folder for the runs (default: the system's temporary folder).
    """

    def __init__(self, reader: Any, run_size: int = 200_000, tmp_dir: Path | None = None):
        if run_size < 1:
            raise ValueError(f"run_size must be at least 1, got {run_size}")
        self.reader = reader
        self.run_size = run_size
        self.tmp_dir = tmp_dir
        self.source = getattr(reader, "source", "<records>")
        self.format = getattr(reader, "format", "auto")
        self.runs = 0

    def progress(self) -> tuple[int, int | None]:
        """The underlying reader's progress (bytes read, total), while it is read."""
        progress = getattr(self.reader, "progress", None)
        return progress() if progress is not None else (0, None)

    def __iter__(self) -> Iterator[Tweet | Reject]:
        with tempfile.TemporaryDirectory(prefix="textcl-sort-", dir=self.tmp_dir) as tmp:
            files: list[Path] = []
            run: list[tuple[int, int, Tweet]] = []
            seq = 0
            for item in self.reader:
                if isinstance(item, Reject):
                    yield item
                    continue
                run.append((_micros(item.created_at), seq, item))
                seq += 1
                if len(run) >= self.run_size:
                    files.append(_spill(run, Path(tmp) / f"run-{len(files):05d}.jsonl"))
                    run = []
            self.runs = len(files) + (1 if run else 0)
            run.sort(key=lambda r: (r[0], r[1]))
            if not files:
                for _, _, tweet in run:
                    yield tweet
                return
            handles = [path.open("rb") for path in files]
            try:
                streams: list[Iterable[tuple[int, int, Tweet]]] = [_read(h) for h in handles]
                streams.append(iter(run))
                for _, _, tweet in heapq.merge(*streams, key=lambda r: (r[0], r[1])):
                    yield tweet
            finally:
                for handle in handles:
                    handle.close()


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _spill(run: list[tuple[int, int, Tweet]], path: Path) -> Path:
    run.sort(key=lambda r: (r[0], r[1]))
    with path.open("wb") as fh:
        for micros, seq, t in run:
            origin = None if t.origin is None else [t.origin.source, t.origin.line,
                                                    t.origin.offset]
            fh.write(orjson.dumps([micros, seq, t.id, t.text, t.lang, t.author_id, t.labels,
                                   origin, t.retweet_of]) + b"\n")
    return path


def _read(fh: IO[bytes]) -> Iterator[tuple[int, int, Tweet]]:
    for line in fh:
        micros, seq, id_, text, lang, author, labels, origin, retweet_of = orjson.loads(line)
        tweet = Tweet(
            id=id_, created_at=_EPOCH + timedelta(microseconds=micros), text=text, lang=lang,
            author_id=author, labels=labels,
            origin=None if origin is None else Origin(*origin), retweet_of=retweet_of,
        )
        yield micros, seq, tweet
