"""Event groups: keyword-set members that are written together, found by co-occurrence.

At each window end the tracker hands over a uniform sample of the window's distinct
tweets (:class:`TweetSample`, the ``size`` tweets of smallest stable hash, so the sample
does not depend on arrival order or on restarts). Over that sample:

* a member that occurs, for at least ``assoc`` of its occurrences, in tweets holding a
  member of another group joins that group's event (the groups merge; the older id is
  kept);
* a newcomer to the set joins the group holding at least ``assoc`` of its occurrences
  (the best one), else it starts a group of its own; newcomers of the same window are
  grouped with each other the same way, so an event's terms form one group on its
  first day.

A group is an event: its terms stay while the event is written about (see
:class:`~textcl.keywords.tracker.KeywordTracker`), so a rarely written hashtag of an
ongoing event stays while the event's other terms go on.
"""

from __future__ import annotations

import heapq
import zlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

__all__ = ["DisjointSets", "EventGroups", "TweetSample", "stable_hash"]


def stable_hash(tokens: Iterable[str]) -> int:
    """A 63-bit hash of a token sequence, the same in every process (unlike ``hash``):
    CRC-32 in the high bits (uniform: it orders the sample), Adler-32 below (fewer
    collisions); both C-level checksums, several times cheaper than a cryptographic hash."""
    data = "\x1f".join(tokens).encode("utf-8", "surrogatepass")
    return (zlib.crc32(data) << 31) ^ zlib.adler32(data)


class DisjointSets:
    """Union-find over hashable items (path halving): which items are linked together."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: Any) -> Any:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, absorbed: Any, kept: Any) -> None:
        """Link the sets of ``absorbed`` and ``kept``; the set keeps ``kept``'s root."""
        self.parent[self.find(absorbed)] = self.find(kept)


class TweetSample:
    """A uniform sample of a window's distinct tweets: the ``size`` smallest hashes."""

    def __init__(self, size: int = 20_000) -> None:
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self._heap: list[tuple[int, frozenset[str]]] = []  # (-hash, terms): a max-heap

    def offer(self, key: int, terms: frozenset[str]) -> None:
        heap = self._heap
        if len(heap) < self.size:
            heapq.heappush(heap, (-key, terms))
        elif -heap[0][0] > key:
            heapq.heapreplace(heap, (-key, terms))

    def tweets(self) -> list[frozenset[str]]:
        """The sampled tweets' term sets (in hash order: deterministic)."""
        return [terms for _, terms in sorted(self._heap, key=lambda item: -item[0])]

    def clear(self) -> None:
        self._heap = []

    def __len__(self) -> int:
        return len(self._heap)

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "tweets": [[-k, sorted(t)] for k, t in self._heap]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.size = int(state["size"])
        self._heap = [(-int(k), frozenset(t)) for k, t in state["tweets"]]
        heapq.heapify(self._heap)


class EventGroups:
    """Groups of keyword-set members by co-occurrence in a window's tweets.

    Args:
        assoc: least share of a term's occurrences in tweets holding a group's members
            for the term to join that group (and for two groups to merge).
        min_count: least occurrences in the sample for a member to move groups.
    """

    def __init__(self, assoc: float = 0.3, min_count: int = 2) -> None:
        if not 0 < assoc <= 1:
            raise ValueError(f"assoc must be in (0, 1], got {assoc}")
        self.assoc = assoc
        self.min_count = min_count
        self.group_of: dict[str, int] = {}
        self.next_id = 1

    def _shares(
        self, sample: list[frozenset[str]], terms: set[str]
    ) -> tuple[Counter[str], Counter[tuple[str, int]]]:
        """Occurrences of ``terms`` in the sample, and of each term in tweets holding
        another member of each group."""
        group_of = self.group_of
        occurrences: Counter[str] = Counter()
        shared: Counter[tuple[str, int]] = Counter()
        watched = terms | set(group_of)
        for tweet in sample:
            if watched.isdisjoint(tweet):
                continue
            hit = watched.intersection(tweet)
            members = [t for t in hit if t in group_of]
            for term in hit:
                if term not in terms:
                    continue
                occurrences[term] += 1
                for group in {group_of[m] for m in members if m != term}:
                    shared[(term, group)] += 1
        return occurrences, shared

    def merge(self, sample: list[frozenset[str]]) -> list[tuple[int, int]]:
        """Merge groups whose members are written together in ``sample``; returns the
        merges as ``(absorbed id, kept id)``."""
        group_ids = sorted(set(self.group_of.values()))
        if len(group_ids) < 2:
            return []
        occurrences, shared = self._shares(sample, set(self.group_of))
        sets = DisjointSets(group_ids)
        for (term, other), c in sorted(shared.items()):
            own = self.group_of[term]
            n = occurrences[term]
            if other != own and n >= self.min_count and c >= self.assoc * n:
                a, b = sets.find(own), sets.find(other)
                if a != b:
                    sets.union(max(a, b), min(a, b))  # the older id is kept
        merges = [(g, sets.find(g)) for g in group_ids if sets.find(g) != g]
        if merges:
            for term, g in self.group_of.items():
                self.group_of[term] = sets.find(g)
        return merges

    def place(self, newcomers: list[str], sample: list[frozenset[str]]) -> dict[str, int]:
        """Give each newcomer (in the given order) a group: the one holding most of its
        occurrences in ``sample`` if at least ``assoc`` of them, else a new one."""
        wanted = set(newcomers)
        watched = wanted | set(self.group_of)
        postings: dict[str, list[set[str]]] = {t: [] for t in newcomers}
        for tweet in sample:
            if watched.isdisjoint(tweet) or wanted.isdisjoint(tweet):
                continue
            hit = watched.intersection(tweet)
            for term in wanted.intersection(hit):
                postings[term].append(hit)
        group_of = self.group_of
        placed: dict[str, int] = {}
        for term in newcomers:
            tweets = postings[term]
            shared: Counter[int] = Counter()
            for hit in tweets:
                shared.update({group_of[m] for m in hit if m != term and m in group_of})
            best = min(shared, key=lambda g: (-shared[g], g)) if shared else None
            if best is None or shared[best] < self.assoc * len(tweets):
                best = self.next_id
                self.next_id += 1
            group_of[term] = best
            placed[term] = best
        return placed

    def add(self, term: str, group: int | None = None) -> int:
        """Put ``term`` in ``group`` (a new group when ``None``); returns the group id."""
        if group is None:
            group = self.next_id
            self.next_id += 1
        self.group_of[term] = group
        return group

    def remove(self, term: str) -> None:
        self.group_of.pop(term, None)

    def terms(self) -> dict[int, list[str]]:
        """Group id -> its member terms (sorted)."""
        out: dict[int, list[str]] = {}
        for term, group in sorted(self.group_of.items()):
            out.setdefault(group, []).append(term)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"group_of": dict(self.group_of), "next_id": self.next_id}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.group_of = {t: int(g) for t, g in state["group_of"].items()}
        self.next_id = int(state["next_id"])
