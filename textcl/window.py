"""Micro-batches by count inside windows by time (``1h``, ``1d``) or by count (``5000``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from textcl.types import Tweet, Window

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SPEC = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True, frozen=True)
class WindowSpec:
    """A parsed window size: ``seconds`` for time windows or ``count`` for count windows."""

    seconds: int | None = None
    count: int | None = None

    @classmethod
    def parse(cls, spec: str) -> WindowSpec:
        """``"1d"``, ``"6h"``, ``"30m"``, ``"90s"``, ``"2w"`` (time) or ``"5000"`` (tweets)."""
        match = _SPEC.match(str(spec))
        if not match or int(match.group(1)) <= 0:
            raise ValueError(
                f"bad window {spec!r}: use a positive number of tweets (e.g. '5000') or a "
                "duration with unit s, m, h, d or w (e.g. '1d', '6h')"
            )
        value, unit = int(match.group(1)), match.group(2)
        return cls(count=value) if not unit else cls(seconds=value * _UNITS[unit])

    def __str__(self) -> str:
        return f"{self.count} tweets" if self.count else f"{self.seconds}s"


@dataclass(slots=True)
class BatchEvent:
    """A micro-batch ready: its window index and tweets."""

    window: int
    tweets: list[Tweet]


@dataclass(slots=True)
class WindowEndEvent:
    """A window closed."""

    window: Window


class Windower:
    """Cuts a tweet stream into micro-batches that never straddle a window boundary.

    Time windows are aligned to the Unix epoch (a ``1d`` window is one UTC day). A tweet
    older than the open window (late arrival) joins the open window and is counted in
    ``late``. Windows with no tweets are not emitted.
    """

    # what state_dict saves (the pending tweets are not: it is only saved between batches)
    _STATE = ("late", "_index", "_start", "_end", "_count", "_batches", "_first", "_last",
              "_cut", "_previous_end")

    def __init__(self, batch_size: int = 1000, every: str | WindowSpec = "1d") -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.batch_size = batch_size
        self.spec = every if isinstance(every, WindowSpec) else WindowSpec.parse(every)
        self.late = 0
        self._index = -1
        self._start: datetime | None = None
        self._end: datetime | None = None
        self._count = 0
        self._batches = 0
        self._pending: list[Tweet] = []
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._cut = False
        self._previous_end: datetime | None = None

    @property
    def between_batches(self) -> bool:
        """True inside an open window right after a micro-batch was handed out."""
        return not self._pending and self._count > 0

    def state_dict(self, closed: bool) -> dict[str, Any]:
        """JSON-able state with no tweet pending: just after a window closed (``closed``:
        the next tweet opens a new window without closing one) or between micro-batches."""
        if self._pending:
            raise RuntimeError("the windower has pending tweets; save it between batches")
        state = {}
        for name in self._STATE:
            value = getattr(self, name)
            state[name] = value.isoformat() if isinstance(value, datetime) else value
        if closed:
            state["_cut"] = True
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        for name in self._STATE:
            value = state[name]
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            setattr(self, name, value)
        self._pending = []

    def closes_window(self, tweet: Tweet) -> bool:
        """Whether pushing ``tweet`` would close the open window (a window-end event)."""
        return self._index >= 0 and not self._cut and self._outside(tweet.created_at)

    def push(self, tweet: Tweet) -> Iterator[BatchEvent | WindowEndEvent]:
        """Add one tweet; yield any batch or window-end events it triggers."""
        if self._index < 0 or self._cut or self._outside(tweet.created_at):
            if self._index >= 0 and not self._cut:
                yield from self._close()
            self._open(tweet.created_at)
        elif self._start is not None and tweet.created_at < self._start:
            self.late += 1
        self._pending.append(tweet)
        self._count += 1
        if self._first is None or tweet.created_at < self._first:
            self._first = tweet.created_at
        if self._last is None or tweet.created_at > self._last:
            self._last = tweet.created_at
        if len(self._pending) >= self.batch_size:
            yield self._flush()

    def cut(self) -> Iterator[BatchEvent | WindowEndEvent]:
        """Close the open window now (e.g. on a drift alarm); the next tweet opens a new
        one, which for time windows runs from that tweet to the end of its time slot."""
        if self._index >= 0 and self._count:
            yield from self._close()
            self._cut = True

    def finish(self) -> Iterator[BatchEvent | WindowEndEvent]:
        """Flush the last batch and close the open window."""
        if self._index >= 0 and self._count:
            yield from self._close()

    def _outside(self, moment: datetime) -> bool:
        if self.spec.count is not None:
            return self._count >= self.spec.count
        assert self._end is not None
        return moment >= self._end

    def _open(self, moment: datetime) -> None:
        after_cut, self._cut = self._cut, False
        self._index += 1
        self._count = 0
        self._batches = 0
        self._first = self._last = None
        if self.spec.seconds is not None:
            width = self.spec.seconds
            offset = int((moment - EPOCH).total_seconds()) // width * width
            self._start = EPOCH + timedelta(seconds=offset)
            self._end = self._start + timedelta(seconds=width)
            if after_cut and self._previous_end is not None and moment < self._previous_end:
                self._start, self._end = moment, self._previous_end
        else:
            self._start = self._end = None

    def _flush(self) -> BatchEvent:
        event = BatchEvent(self._index, self._pending)
        self._pending = []
        self._batches += 1
        return event

    def _close(self) -> Iterator[BatchEvent | WindowEndEvent]:
        if self._pending:
            yield self._flush()
        start = self._start or self._first
        end = self._end or self._last
        assert start is not None and end is not None
        skipped = 0
        if self.spec.seconds is not None and self._previous_end is not None:
            gap = (start - self._previous_end).total_seconds()
            skipped = max(0, int(gap // self.spec.seconds))
        self._previous_end = self._end
        count, self._count = self._count, 0
        yield WindowEndEvent(Window(self._index, start, end, count, self._batches, skipped))
