"""Live sources by name, for the library and ``textcl stream --source``.

``open_live("redis-stream", "tweets", broker="redis://host:6379/0", group="g")`` returns a
reader that :meth:`textcl.pipeline.Pipeline.run` takes in place of a file.
"""

from __future__ import annotations

import threading
from typing import Any

LIVE_SOURCES = ("x-api", "x-stream", "redis-stream", "kafka")


def open_live(kind: str, target: str | None = None, *, query: str = "",
              rules: list[str] | None = None, max_records: int | None = None,
              max_polls: int | None = None, poll_interval: float = 60.0,
              api_base: str | None = None, broker: str | None = None, group: str = "textcl",
              consumer: str = "textcl-1", idle_timeout: float | None = None,
              stop: threading.Event | None = None) -> Any:
    """Build the reader of live source ``kind``; ``target`` is the stream (Redis) or the
    comma-separated topics (Kafka)."""
    if kind == "x-api":
        from textcl.input.xapi import XApiReader

        return XApiReader(query, poll_interval, max_polls, api_base=api_base, stop=stop)
    if kind == "x-stream":
        from textcl.input.xapi import XStreamReader

        return XStreamReader(rules or [], max_records, api_base=api_base, stop=stop)
    if kind in ("redis-stream", "kafka") and not target:
        noun = "stream name" if kind == "redis-stream" else "topic (comma-separated for several)"
        raise ValueError(f"--source {kind} needs the {noun} as the SOURCE argument")
    if kind == "redis-stream":
        from textcl.input.redis_stream import RedisStreamReader

        return RedisStreamReader(target or "", group, consumer,
                                 url=broker or "redis://localhost:6379/0",
                                 idle_timeout=idle_timeout, max_records=max_records, stop=stop)
    if kind == "kafka":
        from textcl.input.kafka import KafkaReader

        topics = [t.strip() for t in (target or "").split(",") if t.strip()]
        return KafkaReader(topics, group, bootstrap=broker or "localhost:9092",
                           idle_timeout=idle_timeout, max_records=max_records, stop=stop)
    raise ValueError(f"--source {kind!r}: use 'file' or one of {', '.join(LIVE_SOURCES)}")
