"""Exact-duplicate and retweet collapsing."""

from __future__ import annotations

from datetime import UTC, datetime

from textcl.text.dedup import Deduplicator
from textcl.types import Tweet

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def tweet(i: int, text: str, retweet_of: str | None = None) -> Tweet:
    return Tweet(str(i), NOW, text, retweet_of=retweet_of)


def test_duplicates_and_retweets_collapse_with_counts():
    dedup = Deduplicator()
    stream = [
        tweet(1, "Fire near the ridge road"),
        tweet(2, "Fire  near the ridge   road"),  # whitespace differs only
        tweet(3, "RT @ana: Fire near the ridge road", retweet_of="1"),
        tweet(4, "RT @bo: Fire near the ridge road"),
        tweet(5, "a different tweet"),
    ]
    verdicts = [dedup.check(t) for t in stream]
    assert verdicts[0] is None and verdicts[4] is None
    assert [(v.kind, v.original_id) for v in verdicts[1:4]] == [
        ("duplicate", "1"),
        ("retweet", "1"),
        ("retweet", "1"),
    ]
    assert (dedup.collapsed_duplicates, dedup.collapsed_retweets) == (1, 2)
    assert dedup.top(1) == [{"id": "1", "text": "Fire near the ridge road", "repeats": 3}]


def test_retweet_of_unseen_original_is_kept_once():
    dedup = Deduplicator()
    assert dedup.check(tweet(1, "RT @x: breaking news", retweet_of="99")) is None
    assert dedup.check(tweet(2, "RT @y: breaking news", retweet_of="99")).kind == "retweet"


def test_switches_and_bounded_memory():
    only_rt = Deduplicator(duplicates=False, retweets=True)
    only_rt.check(tweet(1, "same"))
    assert only_rt.check(tweet(2, "same")) is None
    small = Deduplicator(capacity=2)
    for i, text in enumerate(["a", "b", "c"]):
        small.check(tweet(i, text))
    assert len(small.seen) == 2
    assert small.check(tweet(9, "a")) is None  # forgotten: memory is bounded
