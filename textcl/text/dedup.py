"""Exact-duplicate and retweet collapsing, in bounded memory, with counts kept."""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from textcl.text.retweet import is_retweet_text, strip_retweet_text
from textcl.types import Tweet


@dataclass(slots=True)
class Collapsed:
    """Why a tweet was collapsed and which first-seen tweet it repeats."""

    kind: str  # "duplicate" or "retweet"
    original_id: str


@dataclass
class Deduplicator:
    """Remembers the last ``capacity`` distinct texts and spots repeats.

    A retweet (``retweet_of`` set, or text starting ``RT @name:``) is collapsed when the
    text it retweets was seen before (else it stands for that text from then on); an exact
    duplicate has the same whitespace-normalised text as an earlier tweet.
    ``counts`` keeps how many times each original was repeated (bounded like the memory).
    """

    duplicates: bool = True
    retweets: bool = True
    capacity: int = 1_000_000
    seen: OrderedDict[bytes, str] = field(default_factory=OrderedDict)
    counts: Counter[str] = field(default_factory=Counter)
    texts: dict[str, str] = field(default_factory=dict)
    collapsed_duplicates: int = 0
    collapsed_retweets: int = 0

    def check(self, tweet: Tweet) -> Collapsed | None:
        """None if the tweet is new (and remember it), else what it repeats."""
        retweet = tweet.retweet_of is not None or is_retweet_text(tweet.text)
        body = strip_retweet_text(tweet.text) if retweet else tweet.text
        norm = " ".join(body.split())
        key = hashlib.blake2b(norm.encode("utf-8"), digest_size=12).digest()
        original = self.seen.get(key)
        if original is None:
            self.seen[key] = tweet.id
            if len(self.seen) > self.capacity:
                self.seen.popitem(last=False)
            return None
        if not (self.retweets if retweet else self.duplicates):
            return None
        if retweet:
            self.collapsed_retweets += 1
        else:
            self.collapsed_duplicates += 1
        self.seen.move_to_end(key)
        self._count(original, norm)
        return Collapsed("retweet" if retweet else "duplicate", original)

    def _count(self, original: str, text: str) -> None:
        self.counts[original] += 1
        self.texts.setdefault(original, text)
        if len(self.counts) > self.capacity:
            for key, _ in self.counts.most_common()[self.capacity // 2 :]:
                del self.counts[key]
                self.texts.pop(key, None)

    def state_dict(self) -> dict[str, Any]:
        """Everything remembered, in memory order (so eviction goes on the same way)."""
        return {
            "seen": [[key.hex(), tweet_id] for key, tweet_id in self.seen.items()],
            "counts": list(self.counts.items()),
            "texts": dict(self.texts),
            "collapsed_duplicates": self.collapsed_duplicates,
            "collapsed_retweets": self.collapsed_retweets,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seen = OrderedDict((bytes.fromhex(k), v) for k, v in state["seen"])
        self.counts = Counter({k: int(v) for k, v in state["counts"]})
        self.texts = dict(state["texts"])
        self.collapsed_duplicates = int(state["collapsed_duplicates"])
        self.collapsed_retweets = int(state["collapsed_retweets"])

    def top(self, n: int = 10) -> list[dict[str, object]]:
        """The most repeated originals: id, text and how many repeats were collapsed."""
        return [
            {"id": key, "text": self.texts.get(key, ""), "repeats": count}
            for key, count in self.counts.most_common(n)
        ]

