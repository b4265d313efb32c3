"""Representative tweets of each event group, picked from a uniform sample of the window.

:class:`EventExamples` keeps the window's ``size`` distinct tweets of smallest stable hash
(the same sample whatever the arrival order or restarts) with their text; at the window
end each event group gets the sampled tweets that hold the most of its terms, and is
split into the *bursts* written about together this window: two terms are linked when at
least three sampled tweets hold both and they occur together at least ``lift`` times as
often as by chance (MABED-style co-occurrence beyond chance); a term linked to no other
joins the set it occurs with most beyond chance. A word written everywhere
(an emoji, a weekday hashtag) occurs with an event's terms only by chance, so a group it
holds together shows as the events it really holds.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from textcl.keywords.groups import DisjointSets, stable_hash

__all__ = ["EventExamples"]


class EventExamples:
    """A sample of the open window's tweets (id, text, terms) to show events by."""

    def __init__(self, size: int = 2000) -> None:
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self.size = size
        self._heap: list[tuple[int, str, str, frozenset[str]]] = []  # (-hash, id, text, terms)
        self._keys: set[int] = set()

    def offer(self, tweet_id: str, text: str, tokens: Sequence[str]) -> None:
        """Consider one tweet (retweets and copies of a sampled tweet are kept once)."""
        key = stable_hash(tokens)
        if key in self._keys:
            return
        heap = self._heap
        item = (-key, tweet_id, text, frozenset(tokens))
        if len(heap) < self.size:
            heapq.heappush(heap, item)
        elif -heap[0][0] > key:
            self._keys.discard(-heapq.heapreplace(heap, item)[0])
        else:
            return
        self._keys.add(key)

    def pick(self, terms: Sequence[str], n: int = 3) -> list[dict[str, Any]]:
        """The ``n`` sampled tweets holding the most of ``terms`` (at least one), best first."""
        wanted = set(terms)
        scored = [(len(wanted & t), -neg, tid, text) for neg, tid, text, t in self._heap
                  if not wanted.isdisjoint(t)]
        best = heapq.nsmallest(n, scored, key=lambda s: (-s[0], s[1]))
        return [{"id": tid, "text": text, "terms": hits} for hits, _, tid, text in best]

    def bursts(self, terms: Sequence[str], lift: float = 1.5, attach: float = 1.2,
               min_together: int = 3) -> tuple[list[list[str]], list[str]]:
        """``terms`` split into the sets written about together in the sample (two terms
        or more each, largest first; terms in the given order), and the terms linked to
        none. Pairs link at ``lift``; a term linked to no other then joins the set whose
        share of the term's tweets is highest, and at least ``attach`` times its share of
        the other tweets (a relative risk: it holds when one event fills the window)."""
        wanted = set(terms)
        hits = [h for h in (wanted.intersection(t) for _, _, _, t in self._heap) if h]
        size = max(len(self._heap), 1)
        alone: Counter[str] = Counter(t for h in hits for t in h)
        pairs = Counter(p for h in hits if len(h) > 1 for p in combinations(sorted(h), 2))
        linking = DisjointSets(terms)
        root = linking.find
        for (a, b), together in pairs.items():
            if together >= min_together and together * size >= lift * alone[a] * alone[b]:
                linking.union(a, b)
        sets: dict[str, list[str]] = {}
        for term in terms:
            sets.setdefault(root(term), []).append(term)
        linked = {r: set(g) for r, g in sets.items() if len(g) > 1}
        loose = [t for t in terms if root(t) not in linked]
        holding = {r: sum(1 for h in hits if not g.isdisjoint(h)) for r, g in linked.items()}
        for term in list(loose):
            best, best_lift = None, attach
            for r, members in linked.items():
                together = sum(1 for h in hits if term in h and not members.isdisjoint(h))
                # the set's share of the term's tweets against its share of all the others
                rest = (holding[r] - together) / max(size - alone[term], 1)
                ratio = together / max(alone[term], 1) / max(rest, 1e-9)
                if together >= min_together and ratio >= best_lift:
                    best, best_lift = r, ratio
            if best is not None:
                linking.union(term, best)
                loose.remove(term)
        out: dict[str, list[str]] = {}
        for term in terms:
            if term not in loose:
                out.setdefault(root(term), []).append(term)
        return sorted(out.values(), key=lambda g: -len(g)), loose

    def clear(self) -> None:
        self._heap = []
        self._keys = set()

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size,
                "tweets": [[-k, tid, text, sorted(t)] for k, tid, text, t in self._heap]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.size = int(state["size"])
        self._heap = [(-int(k), str(tid), str(text), frozenset(t))
                      for k, tid, text, t in state["tweets"]]
        heapq.heapify(self._heap)
        self._keys = {-item[0] for item in self._heap}
