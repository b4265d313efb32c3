"""Plain-text reader: one tweet or document per line, arrival order as time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from textcl.input.csvfile import ORDER_EPOCH
from textcl.input.rejects import Reject, excerpt
from textcl.input.source import ByteSource
from textcl.types import Origin, Tweet


def read_text(source: ByteSource, max_record_bytes: int = 64 * 1024) -> Iterator[Tweet | Reject]:
    """Yield one tweet per non-blank line; blank, undecodable or oversize lines are rejects.

    Lines carry no time, so the *i*-th tweet gets ``1970-01-01T00:00:00Z + i`` seconds and
    the id ``SOURCE:LINE``: window such streams by count (``every = "1000"``).
    """
    name = source.name
    position = 0
    for raw in source.lines():
        if len(raw.data) > max_record_bytes:
            reason = f"oversize record: {len(raw.data)} bytes > max_record_bytes={max_record_bytes}"
            yield Reject(name, raw.number, reason, excerpt(raw.data))
            continue
        try:
            text = raw.data.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            reason = f"undecodable bytes: invalid UTF-8 at byte {exc.start}"
            yield Reject(name, raw.number, reason, excerpt(raw.data))
            continue
        if not text:
            yield Reject(name, raw.number, "blank line", "")
            continue
        yield Tweet(
            id=f"{name}:{raw.number}",
            created_at=ORDER_EPOCH + timedelta(seconds=position),
            text=text,
            origin=Origin(name, raw.number, raw.offset),
        )
        position += 1
