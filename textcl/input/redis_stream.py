"""Tweets from a Redis stream, read through a consumer group (``XREADGROUP``).

Each entry holds one JSON tweet object in its ``tweet`` field (``field``). The reader first
reads its own pending entries (delivered before a crash and never acknowledged), then new
ones. Entries are acknowledged (``XACK``) only once a pipeline checkpoint covers them, so a
killed run loses nothing: ``textcl stream --resume`` gets the unacknowledged entries again.
Several ``textcl stream`` processes with one ``group`` and different ``consumer`` names
split the entries between them; each keeps its own output folder and checkpoint, and must
resume under the same consumer name (its pending entries are its own).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from textcl.input.broker import BrokerReader

EntryId = tuple[int, int]


def entry_id(raw: bytes | str) -> EntryId:
    """A Redis stream id ``"<ms>-<seq>"`` as a comparable pair."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _text(key: EntryId) -> str:
    return f"{key[0]}-{key[1]}"


class RedisStreamReader(BrokerReader[EntryId]):
    """Reader of a Redis stream through consumer group ``group`` as ``consumer``.

    The group is created (at the stream's start, ``MKSTREAM``) when it does not exist.
    ``block`` seconds is the longest one read waits for new entries; ``count`` entries are
    read per call. ``client`` is an existing ``redis.Redis`` (default: one from ``url``).
    """

    format = "redis-stream"

    def __init__(self, stream: str, group: str = "textcl", consumer: str = "textcl-1",
                 url: str = "redis://localhost:6379/0", field: str = "tweet",
                 block: float = 1.0, count: int = 500, idle_timeout: float | None = None,
                 max_records: int | None = None, stop: threading.Event | None = None,
                 client: Any = None) -> None:
        super().__init__(idle_timeout, max_records, stop)
        if not stream or not group or not consumer:
            raise ValueError("a Redis stream source needs a stream, a group and a consumer name")
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ValueError("the Redis source needs redis-py: pip install 'textcl[brokers]'"
                             ) from exc
        self.stream, self.group, self.consumer, self.field = stream, group, consumer, field
        self.block_ms = max(1, int(block * 1000))
        self.count = count
        self.source = f"redis-stream:{stream}/{group}/{consumer}"
        self._redis = client or redis.Redis.from_url(url)
        self._error = redis.RedisError
        try:
            self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise ValueError(f"{self.source}: cannot create the consumer group: {exc}"
                                 ) from exc
        except redis.ConnectionError as exc:
            raise ValueError(f"cannot reach Redis at {url}: {exc} (start redis-server, or "
                             "give --broker redis://HOST:PORT/DB)") from exc

    def __repr__(self) -> str:
        return f"RedisStreamReader({self.source!r}, delivered={self.delivered})"

    def _read(self, start: str, block: int | None) -> list[tuple[bytes, dict | None]]:
        count = self.count  # no more than the limit: what is read is this consumer's
        if self.max_records is not None:
            count = max(1, min(count, self.max_records - self.delivered))
        reply = self._redis.xreadgroup(self.group, self.consumer, {self.stream: start},
                                       count=count, block=block)
        return reply[0][1] if reply else []

    def _records(self) -> Iterator[tuple[EntryId, bytes | None, str] | None]:
        # 1. this consumer's pending entries: delivered before, never acknowledged
        after = "0"
        while entries := self._read(after, None):
            for raw_id, fields in entries:
                after = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
                yield self._item(raw_id, fields)
        # 2. entries never delivered to this group
        while True:
            entries = self._read(">", self.block_ms)
            if not entries:
                yield None
                continue
            for raw_id, fields in entries:
                yield self._item(raw_id, fields)

    def _item(self, raw_id: bytes, fields: dict | None) -> tuple[EntryId, bytes | None, str]:
        key = entry_id(raw_id)
        where = f"{self.stream}#{_text(key)}"
        # a pending entry trimmed from the stream (XTRIM/MAXLEN) comes back without fields
        value = None if not fields else fields.get(self.field.encode(), fields.get(self.field))
        return key, value, where

    def _ack(self, keys: list[EntryId]) -> None:
        for start in range(0, len(keys), 1000):
            self._redis.xack(self.stream, self.group, *(_text(k) for k in keys[start:start + 1000]))

    def _covered(self, key: EntryId, position: Any) -> bool:
        return key <= entry_id(position)

    def _position(self, keys: list[EntryId], previous: Any) -> Any:
        return _text(keys[-1]) if keys else previous
