"""What broker sources share: parse an entry, and acknowledge only what a checkpoint covers.

A broker reader (Redis Streams, Kafka) yields tweets like any reader, and also keeps the
ledger of the records it delivered and has not acknowledged yet. The pipeline calls
:meth:`BrokerReader.commit` right after a checkpoint is written, with the number of this
session's records the checkpoint covers, and stores :meth:`BrokerReader.position` in that
checkpoint. After a crash the broker delivers the unacknowledged records again; those at or
before the checkpoint's position (a crash between the checkpoint and its acknowledgement)
are acknowledged and skipped, so every record reaches the model exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import orjson

from textcl.input.jsonl import tweet_from_payload
from textcl.input.rejects import RecordError, Reject
from textcl.types import Origin, Tweet

Key = TypeVar("Key")  # what identifies one delivered record in its broker


def parse_entry(value: bytes | str | None, source: str, number: int) -> Tweet | Reject:
    """A broker record holding one JSON tweet object (X API v2/v1.1 or textcl JSON lines)."""
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")
    if value is None:
        return Reject(source, number, "record without a tweet field", raw)
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return Reject(source, number, f"invalid JSON: {exc}", raw[:2000])
    if not isinstance(obj, dict):
        return Reject(source, number, "not a JSON object", raw[:2000])
    try:
        return tweet_from_payload(obj, Origin(source, number))
    except RecordError as exc:
        return Reject(source, number, str(exc), raw[:2000])


class BrokerReader(Generic[Key]):
    """Base of the broker readers: the ledger of delivered, unacknowledged records.

    Subclasses implement :meth:`_records` (yield ``(key, value)`` pairs in delivery order),
    :meth:`_ack` (acknowledge a list of keys), :meth:`_covered` (whether a key is at or
    before a checkpoint position) and :meth:`_position` (the position after some keys).
    ``idle_timeout`` stops the reader after that many seconds without a new record
    (None: never); ``max_records`` after that many records in all (a resumed run counts
    the checkpoint's); ``stop`` when it is set. Records are numbered in delivery order
    across resumed sessions (the ``line`` of a reject; its source names the broker key).
    """

    format = "broker"
    source = "broker"

    def __init__(self, idle_timeout: float | None = None, max_records: int | None = None,
                 stop: threading.Event | None = None) -> None:
        self.idle_timeout = idle_timeout
        self.max_records = max_records
        self.stop = stop or threading.Event()
        self.delivered = 0
        self.acknowledged = 0
        self.skipped = 0  # re-delivered records a checkpoint already covered
        self._ledger: deque[Key] = deque()
        self._after: Any = None  # the position of the checkpoint this run resumes from

    def resume_after(self, position: Any, records: int = 0) -> None:
        """Continue a run whose checkpoint holds ``records`` records up to ``position``:
        re-delivered records at or before it are acknowledged and skipped."""
        self._after = position
        self.delivered = records  # numbering (and max_records) go on across sessions

    def position(self, count: int) -> Any:
        """The position after the first ``count`` unacknowledged records (for a checkpoint)."""
        return self._position(list(self._ledger)[:count], self._after)

    def commit(self, count: int) -> None:
        """Acknowledge the first ``count`` unacknowledged records (a checkpoint covers them)."""
        keys = [self._ledger.popleft() for _ in range(min(count, len(self._ledger)))]
        if keys:
            self._ack(keys)
            self.acknowledged += len(keys)
        self._after = self._position(keys, self._after)

    def progress(self) -> tuple[int, int | None]:
        """(records delivered, the limit or None)."""
        return self.delivered, self.max_records

    def __iter__(self) -> Iterator[Tweet | Reject]:
        idle_since = time.monotonic()
        if self.max_records is not None and self.delivered >= self.max_records:
            return
        for item in self._records():
            if item is None:  # nothing new within one blocking read
                if self.stop.is_set() or (
                    self.idle_timeout is not None
                    and time.monotonic() - idle_since >= self.idle_timeout
                ):
                    return
                continue
            key, value, where = item
            idle_since = time.monotonic()
            if self._after is not None and self._covered(key, self._after):
                self._ack([key])
                self.skipped += 1
                continue
            self._ledger.append(key)
            self.delivered += 1
            yield parse_entry(value, where, self.delivered)
            if self.stop.is_set() or (
                self.max_records is not None and self.delivered >= self.max_records
            ):
                return

    def _records(self) -> Iterator[tuple[Key, bytes | None, str] | None]:
        raise NotImplementedError

    def _ack(self, keys: list[Key]) -> None:
        raise NotImplementedError

    def _covered(self, key: Key, position: Any) -> bool:
        raise NotImplementedError

    def _position(self, keys: list[Key], previous: Any) -> Any:
        raise NotImplementedError
