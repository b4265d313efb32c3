"""Out-of-vocabulary rate of micro-batches, with a bounded memory of known tokens."""

from __future__ import annotations

from collections.abc import Iterable


class OovRate:
    """Share of a batch's tokens never seen before (the first ``capacity`` distinct
    tokens are remembered; beyond that the oldest are forgotten)."""

    def __init__(self, capacity: int = 500_000) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self._known: dict[str, None] = {}

    def update(self, tokens: Iterable[list[str]]) -> float:
        """Record a batch's tokens; return the share that was new."""
        known = self._known
        total = new = 0
        for tweet in tokens:
            total += len(tweet)
            for token in tweet:
                if token not in known:
                    new += 1
                    known[token] = None
        if len(known) > self.capacity:
            for token in list(known)[: len(known) - self.capacity]:
                del known[token]
        return new / total if total else 0.0
