"""Micro-batches and windows: sizes, boundaries, late tweets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from textcl.types import Tweet
from textcl.window import BatchEvent, WindowEndEvent, Windower, WindowSpec

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def tweets_at(hours: list[float]) -> list[Tweet]:
    return [Tweet(str(i), T0 + timedelta(hours=h), f"t{i}") for i, h in enumerate(hours)]


def run(windower: Windower, tweets: list[Tweet]) -> list[BatchEvent | WindowEndEvent]:
    events = [e for t in tweets for e in windower.push(t)]
    return events + list(windower.finish())


def test_spec_parsing():
    assert WindowSpec.parse("1d").seconds == 86400
    assert WindowSpec.parse("6h").seconds == 21600
    assert WindowSpec.parse("5000").count == 5000
    for bad in ("", "0", "1y", "-3h", "day"):
        with pytest.raises(ValueError, match="bad window"):
            WindowSpec.parse(bad)


def test_daily_windows_align_to_utc_days_and_batches_never_straddle():
    hours = [1, 2, 3, 4, 5, 23.5, 24.5, 25, 50]
    events = run(Windower(batch_size=2, every="1d"), tweets_at(hours))
    windows = [e.window for e in events if isinstance(e, WindowEndEvent)]
    assert [(w.start, w.end, w.tweets) for w in windows] == [
        (T0, T0 + timedelta(days=1), 6),
        (T0 + timedelta(days=1), T0 + timedelta(days=2), 2),
        (T0 + timedelta(days=2), T0 + timedelta(days=3), 1),
    ]
    batches = [e for e in events if isinstance(e, BatchEvent)]
    assert [len(b.tweets) for b in batches] == [2, 2, 2, 2, 1]
    assert [b.window for b in batches] == [0, 0, 0, 1, 2]
    assert [w.batches for w in windows] == [3, 1, 1]
    for batch in batches:
        window = windows[batch.window]
        assert all(window.start <= t.created_at < window.end for t in batch.tweets)


def test_count_windows():
    events = run(Windower(batch_size=3, every="4"), tweets_at([0] * 10))
    windows = [e.window for e in events if isinstance(e, WindowEndEvent)]
    assert [w.tweets for w in windows] == [4, 4, 2]
    assert sum(len(e.tweets) for e in events if isinstance(e, BatchEvent)) == 10


def test_late_tweet_joins_open_window_and_is_counted():
    windower = Windower(batch_size=10, every="1h")
    events = run(windower, tweets_at([5.1, 5.2, 4.9, 6.1]))
    windows = [e.window for e in events if isinstance(e, WindowEndEvent)]
    assert [w.tweets for w in windows] == [3, 1]
    assert windower.late == 1


def test_cut_closes_the_open_window_early():
    windower = Windower(batch_size=10, every="1d")
    tweets = tweets_at([1, 2, 3, 4, 5])
    events = [e for t in tweets[:3] for e in windower.push(t)]
    events += list(windower.cut())
    events += [e for t in tweets[3:] for e in windower.push(t)] + list(windower.finish())
    windows = [e.window for e in events if isinstance(e, WindowEndEvent)]
    assert [w.tweets for w in windows] == [3, 2]
    assert windows[1].start == tweets[3].created_at and windows[1].end == T0 + timedelta(days=1)
    assert list(Windower().cut()) == []  # nothing open: nothing to close
