"""Tweets worth learning again, replayed by the stream's models.

The selection consumer puts ``budget`` tweets of each window in a :class:`RelearnMemory`,
a reservoir over the whole stream of ``capacity`` tweets: by default a sample that covers
the window's frequent, distinctive terms (:mod:`textcl.active.coverage`), or its picks
(``fill = "picks"``: representative, novel, uncertain for the classifier), or as many
tweets drawn at random (``fill = "random"``: the baseline that representative replay must
beat at the same memory). word2vec, the continual transformer and (when listed) the
classifiers then mix ``share`` x (their new tweets) drawn from it into each update, so
what mattered in earlier windows keeps being learned."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class RelearnItem:
    """A tweet kept for re-learning."""

    id: str
    window: int
    text: str
    tokens: list[str]
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "window": self.window, "text": self.text,
                "tokens": self.tokens, "labels": self.labels}


class RelearnMemory:
    """A reservoir of ``capacity`` tweets to re-learn; ``share`` re-learned per new one."""

    def __init__(self, capacity: int, share: float, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"relearn memory must hold at least 1 tweet, got {capacity}")
        if share < 0:
            raise ValueError(f"relearn share must be >= 0, got {share}")
        self.capacity = capacity
        self.share = share
        self.items: list[RelearnItem] = []
        self.offered = 0
        self._rng = np.random.default_rng(seed)
        self.drawn: dict[str, int] = {}  # consumer -> tweets it re-learned

    def add(self, items: list[RelearnItem]) -> None:
        """Offer tweets (reservoir sampling: each offered tweet is kept with equal chance)."""
        for item in items:
            self.offered += 1
            if len(self.items) < self.capacity:
                self.items.append(item)
                continue
            slot = int(self._rng.integers(0, self.offered))
            if slot < self.capacity:
                self.items[slot] = item

    def __len__(self) -> int:
        return len(self.items)

    def draw(self, consumer: str, n_new: int, rng: np.random.Generator) -> list[RelearnItem]:
        """``round(share * n_new)`` tweets drawn with replacement with the consumer's own
        ``rng`` (so its draws resume exactly from its own state)."""
        m = round(self.share * n_new) if self.items else 0
        if m <= 0:
            return []
        picked = [self.items[i] for i in rng.integers(0, len(self.items), size=m).tolist()]
        self.drawn[consumer] = self.drawn.get(consumer, 0) + m
        return picked

    def summary(self) -> dict[str, Any]:
        return {"tweets": len(self.items), "offered": self.offered, "share": self.share,
                "relearned": dict(self.drawn)}

    def state_dict(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.items], "offered": self.offered,
                "rng": self._rng.bit_generator.state, "drawn": dict(self.drawn)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.items = [RelearnItem(**item) for item in state["items"]]
        self.offered = int(state["offered"])
        self._rng.bit_generator.state = state["rng"]
        self.drawn = {k: int(v) for k, v in state["drawn"].items()}

