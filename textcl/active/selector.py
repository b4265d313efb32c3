"""Choosing the few tweets of a window a person should label, with a reason for each.

    selector = Selector([(TermLogOdds(), 1.0), (Uncertainty("entropy"), 0.5)], budget=20)
    for pick in selector.select(candidates, Context(background_counts=bg)):
        print(pick.id, pick.reason)

Each strategy's scores are rank-normalised to [0, 1] (ties share their mean rank, a
constant score gives 0.5 everywhere) and weighted-summed. Near-duplicates (retweets,
copies) form groups of which at most one tweet is picked: the best-scoring one. With
``diversity > 0`` and embeddings, picks are made greedily by maximal marginal relevance
(total - diversity * max(0, cosine similarity) to the tweets already picked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import rankdata

from textcl.active.candidates import Candidates, Context
from textcl.active.dedup import Method, duplicate_groups
from textcl.active.strategies import Strategy

__all__ = ["Pick", "Selector", "rank_normalise"]


@dataclass
class Pick:
    """One tweet to label.

    ``scores`` holds each strategy's raw score under its name and its rank-normalised
    score under ``"<name>.rank"``; ``total`` is the weighted sum of the rank scores (minus
    the diversity penalty, when one applied).
    """

    index: int
    id: str
    text: str
    total: float
    scores: dict[str, float]
    group: str | None
    reason: str


def rank_normalise(scores: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties get their mean rank; constant or single input -> 0.5)."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        return scores
    if len(scores) == 1 or np.all(scores == scores[0]):
        return np.full(len(scores), 0.5)
    return (rankdata(scores, method="average") - 1.0) / (len(scores) - 1.0)


def _unique_names(strategies: Sequence[Strategy]) -> list[str]:
    names: list[str] = []
    for s in strategies:
        name, k = s.name, 2
        while name in names:
            name, k = f"{s.name}#{k}", k + 1
        names.append(name)
    return names


class Selector:
    """Combine strategies and pick ``budget`` tweets, never two of a near-duplicate group.

    ``strategies`` is a sequence of strategies (weight 1 each) or of
    ``(strategy, weight)`` pairs. ``dedup`` is ``"minhash"``, ``"cosine"`` (embeddings) or
    None. Ties are broken by candidate index, so the result is deterministic; ``seed``
    is used when ``context.seed`` is left at its default.
    """

    def __init__(
        self,
        strategies: Sequence[tuple[Strategy, float]] | Sequence[Strategy],
        budget: int,
        dedup: Method | None = "minhash",
        dedup_threshold: float = 0.8,
        diversity: float = 0.0,
        seed: int = 0,
    ) -> None:
        pairs: list[tuple[Strategy, float]] = []
        for item in strategies:
            if isinstance(item, tuple):
                strategy, weight = item
            else:
                strategy, weight = item, 1.0
            if not hasattr(strategy, "score") or not hasattr(strategy, "name"):
                raise TypeError(f"{strategy!r} is not a strategy (needs name and score())")
            if weight < 0 or not np.isfinite(weight):
                raise ValueError(f"weight of {strategy.name} must be >= 0, got {weight}")
            pairs.append((strategy, float(weight)))
        if not pairs:
            raise ValueError("a Selector needs at least one strategy")
        if budget < 0:
            raise ValueError(f"budget must be >= 0, got {budget}")
        if dedup not in (None, "minhash", "cosine"):
            raise ValueError(f"dedup {dedup!r}: use 'minhash', 'cosine' or None")
        if diversity < 0:
            raise ValueError(f"diversity must be >= 0, got {diversity}")
        self.strategies = pairs
        self.names = _unique_names([s for s, _ in pairs])
        self.budget = int(budget)
        self.dedup = dedup
        self.dedup_threshold = dedup_threshold
        self.diversity = float(diversity)
        self.seed = seed

    # ------------------------------------------------------------------ scoring
    def score(
        self, candidates: Candidates, context: Context
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[str]]]:
        """Raw scores ``(strategies, n)``, rank scores, weighted totals, details."""
        n = len(candidates)
        raw = np.zeros((len(self.strategies), n))
        ranks = np.zeros_like(raw)
        details: list[list[str]] = []
        for k, (strategy, _) in enumerate(self.strategies):
            explain = getattr(strategy, "explain", None)
            if callable(explain):
                values, detail = explain(candidates, context)
            else:
                values, detail = strategy.score(candidates, context), [""] * n
            values = np.asarray(values, dtype=np.float64).reshape(-1)
            if len(values) != n:
                raise ValueError(f"{self.names[k]} returned {len(values)} scores for {n} tweets")
            values = np.nan_to_num(values, nan=0.0, posinf=1e300, neginf=-1e300)
            raw[k], ranks[k] = values, rank_normalise(values)
            details.append(list(detail))
        weights = np.array([w for _, w in self.strategies])
        return raw, ranks, weights @ ranks, details

    # ------------------------------------------------------------------ selection
    def select(self, candidates: Candidates, context: Context | None = None) -> list[Pick]:
        """The ``budget`` best tweets (fewer when the pool, after dedup, is smaller)."""
        context = context if context is not None else Context(seed=self.seed)
        if context.seed == 0 and self.seed != 0:
            context = replace(context, seed=self.seed)
        n = len(candidates)
        if n == 0 or self.budget == 0:
            return []
        raw, ranks, totals, details = self.score(candidates, context)
        if self.dedup is None:
            groups = np.arange(n)
        else:
            groups = np.asarray(
                duplicate_groups(candidates, self.dedup_threshold, self.dedup), dtype=np.int64
            )
        use_mmr = self.diversity > 0 and candidates.embeddings is not None
        chosen: list[int] = []
        penalties: list[float] = []
        if use_mmr:
            x = candidates.embeddings
            assert x is not None
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            x = x / np.where(norms > 0, norms, 1.0)
            closeness = np.full(n, -np.inf)
            open_ = np.ones(n, dtype=bool)
            while len(chosen) < self.budget and open_.any():
                sim = np.maximum(closeness, 0.0)  # dissimilar tweets get no bonus
                value = np.where(open_, totals - self.diversity * sim, -np.inf)
                i = int(np.argmax(value))
                chosen.append(i)
                penalties.append(float(sim[i]))
                open_[groups == groups[i]] = False
                closeness = np.maximum(closeness, x @ x[i])
        else:
            used: set[int] = set()
            for i in np.lexsort((np.arange(n), -totals)):
                if int(groups[i]) in used:
                    continue
                used.add(int(groups[i]))
                chosen.append(int(i))
                penalties.append(0.0)
                if len(chosen) == self.budget:
                    break
        return [
            self._pick(candidates, i, raw, ranks, totals, details, pen, rank)
            for rank, (i, pen) in enumerate(zip(chosen, penalties, strict=True))
        ]

    def _pick(
        self,
        candidates: Candidates,
        i: int,
        raw: np.ndarray,
        ranks: np.ndarray,
        totals: np.ndarray,
        details: list[list[str]],
        penalty: float,
        order: int,
    ) -> Pick:
        scores: dict[str, float] = {}
        for k, name in enumerate(self.names):
            scores[name] = float(raw[k, i])
            scores[f"{name}.rank"] = float(ranks[k, i])
        weights = np.array([w for _, w in self.strategies])
        contrib = weights * ranks[:, i]
        order_k = sorted(range(len(self.names)), key=lambda k: (-contrib[k], k))
        best = contrib[order_k[0]]
        drivers = [
            k for k in order_k if contrib[k] > 0 and contrib[k] >= 0.5 * best and ranks[k, i] >= 0.5
        ][:3] or order_k[:1]
        parts = []
        for k in drivers:
            strategy = self.strategies[k][0]
            phrase = getattr(strategy, "phrase", None) or "scored high"
            detail = details[k][i]
            label = f"{self.names[k]}: {detail}" if detail else self.names[k]
            parts.append(f"{phrase} ({label})")
        if self.diversity > 0 and order > 0 and candidates.embeddings is not None:
            parts.append(f"unlike earlier picks (max cosine {penalty:.2f})")
        total = float(totals[i] - self.diversity * penalty)
        return Pick(
            index=i,
            id=candidates.ids[i],
            text=candidates.texts[i],
            total=total,
            scores=scores,
            group=None if candidates.groups is None else candidates.groups[i],
            reason="; ".join(parts),
        )

    def select_per_group(
        self, candidates: Candidates, context: Context | None, budgets: Mapping[str, int]
    ) -> dict[str, list[Pick]]:
        """Pick ``budgets[g]`` tweets among the candidates of each group ``g``.

        Each group is scored as its own window (strategies see only its tweets). Pick
        indices refer to ``candidates``. Groups without candidates get an empty list.
        """
        if candidates.groups is None:
            raise ValueError("select_per_group needs candidates.groups, which is None")
        out: dict[str, list[Pick]] = {}
        for group, budget in budgets.items():
            idx = [i for i, g in enumerate(candidates.groups) if g == str(group)]
            if not idx or budget <= 0:
                out[group] = []
                continue
            sub = Selector(
                self.strategies,
                budget,
                self.dedup,
                self.dedup_threshold,
                self.diversity,
                self.seed,
            )
            picks = sub.select(candidates.subset(idx), context)
            for p in picks:
                p.index = idx[p.index]
            out[group] = picks
        return out
