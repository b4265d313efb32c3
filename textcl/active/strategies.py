"""Scoring strategies: how much each candidate tweet is worth labelling (higher = more).

Every strategy has a ``name`` and ``score(candidates, context) -> np.ndarray``. Those that
can say why (all of the ones here) also have ``explain(candidates, context)`` returning the
scores and a short detail per tweet (e.g. ``"z 4.2: #flood, levee"``), and a ``phrase``
used in the selector's human-readable reasons.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from textcl.active.candidates import Candidates, Context

__all__ = [
    "IGNORED_TERMS",
    "EmbeddingDensityRatio",
    "ExplainingStrategy",
    "KCenterGreedy",
    "KMeansPlusPlus",
    "Novelty",
    "Strategy",
    "TermLogOdds",
    "Uncertainty",
    "log_odds_z",
]

# Placeholder tokens of TweetTokenizer and the retweet marker: never informative terms.
IGNORED_TERMS: frozenset[str] = frozenset({"rt", "@user", "http", "<num>"})


@runtime_checkable
class Strategy(Protocol):
    """Scores candidates: one float each, higher = more worth labelling."""

    name: str

    def score(self, candidates: Candidates, context: Context) -> np.ndarray: ...


@runtime_checkable
class ExplainingStrategy(Strategy, Protocol):
    """A strategy that can also say, per tweet, what drove its score."""

    phrase: str

    def explain(self, candidates: Candidates, context: Context) -> tuple[np.ndarray, list[str]]:
        ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _need_embeddings(candidates: Candidates, who: str) -> np.ndarray:
    if candidates.embeddings is None:
        raise ValueError(f"{who} needs candidates.embeddings, which is None")
    return candidates.embeddings


# ------------------------------------------------------------------------ uncertainty


class Uncertainty:
    """Uncertainty sampling from ``candidates.probs``.

    * ``entropy``: ``-sum p log p`` (nats);
    * ``margin``: ``1 - (p_top1 - p_top2)``;
    * ``least_confidence``: ``1 - p_top1``.
    Rows are renormalised to sum to 1.
    """

    phrase = "uncertain"

    def __init__(self, kind: Literal["entropy", "margin", "least_confidence"] = "entropy"):
        if kind not in ("entropy", "margin", "least_confidence"):
            raise ValueError(f"kind {kind!r}: use entropy, margin or least_confidence")
        self.kind = kind
        self.name = f"uncertainty_{kind}"

    def score(self, candidates: Candidates, context: Context) -> np.ndarray:
        """One uncertainty value per candidate."""
        if candidates.probs is None:
            raise ValueError(
                f"{self.name} needs class probabilities: candidates.probs is None "
                "(pass probs=classifier probabilities when building Candidates)"
            )
        p = candidates.probs
        sums = p.sum(axis=1, keepdims=True)
        p = np.where(sums > 0, p / np.where(sums > 0, sums, 1.0), 1.0 / p.shape[1])
        if self.kind == "entropy":
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(p > 0, p * np.log(p), 0.0)
            return -terms.sum(axis=1)
        top = -np.sort(-p, axis=1)
        if self.kind == "least_confidence":
            return 1.0 - top[:, 0]
        second = top[:, 1] if p.shape[1] > 1 else np.zeros(len(p))
        return 1.0 - (top[:, 0] - second)

    def explain(self, candidates: Candidates, context: Context) -> tuple[np.ndarray, list[str]]:
        """Scores and ``"<kind> 0.68"`` per tweet."""
        s = self.score(candidates, context)
        label = self.kind.replace("_", " ")
        return s, [f"{label} {v:.2f}" for v in s]


# -------------------------------------------------------------------------- diversity


class _Coverage:
    """Shared part of the diversity strategies: distances to labelled/selected points."""

    name = "coverage"
    phrase = "far from what is labelled"

    def __init__(self, metric: Literal["cosine", "euclidean"] = "cosine") -> None:
        if metric not in ("cosine", "euclidean"):
            raise ValueError(f"metric {metric!r}: use cosine or euclidean")
        self.metric = metric

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        return _normalise(x) if self.metric == "cosine" else x

    def _dist(self, x: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """Distance of every row of ``x`` to its nearest row of ``centres`` (prepared)."""
        out = np.full(len(x), np.inf)
        for start in range(0, len(centres), 2048):
            c = centres[start : start + 2048]
            if self.metric == "cosine":
                d = 1.0 - x @ c.T
            else:
                d2 = (x**2).sum(1)[:, None] + (c**2).sum(1)[None, :] - 2.0 * x @ c.T
                d = np.sqrt(np.maximum(d2, 0.0))
            out = np.minimum(out, d.min(axis=1))
        return np.maximum(out, 0.0)

    def _initial(self, candidates: Candidates, context: Context) -> np.ndarray:
        x = self._prepare(_need_embeddings(candidates, type(self).__name__))
        labelled = context.labelled_embeddings
        if labelled is None or len(labelled) == 0:
            return np.full(len(x), np.inf)
        if labelled.shape[1] != x.shape[1]:
            raise ValueError(
                f"labelled_embeddings have dimension {labelled.shape[1]}, "
                f"candidates.embeddings {x.shape[1]}"
            )
        return self._dist(x, self._prepare(labelled))

    def score(self, candidates: Candidates, context: Context) -> np.ndarray:
        """Distance to the nearest labelled embedding (all 1.0 when nothing is labelled)."""
        d = self._initial(candidates, context)
        return np.where(np.isinf(d), 1.0, d)

    def explain(self, candidates: Candidates, context: Context) -> tuple[np.ndarray, list[str]]:
        """Scores and ``"distance 0.42 to nearest labelled"`` per tweet."""
        s = self.score(candidates, context)
        if context.labelled_embeddings is None or len(context.labelled_embeddings) == 0:
            return s, ["nothing labelled yet"] * len(s)
        return s, [f"distance {v:.2f} to nearest labelled" for v in s]


class _GreedyCoverage(_Coverage):
    """Pick ``k`` candidates one at a time from their distance to everything covered."""

    def _next(self, dist: np.ndarray, free: np.ndarray, rng: np.random.Generator) -> int:
        raise NotImplementedError

    def select(self, candidates: Candidates, k: int, context: Context) -> list[int]:
        """Indices of ``k`` candidates (fewer if the pool is smaller), in pick order."""
        x = self._prepare(_need_embeddings(candidates, self.name))
        k = min(int(k), len(x))
        if k <= 0:
            return []
        dist = self._initial(candidates, context)
        rng = np.random.default_rng(context.seed)
        picks: list[int] = []
        free = np.ones(len(x), dtype=bool)
        for _ in range(k):
            # nothing covered yet: a seeded random start
            uncovered = np.all(np.isinf(dist))
            i = int(rng.integers(len(x))) if uncovered else self._next(dist, free, rng)
            picks.append(i)
            free[i] = False
            dist = np.minimum(dist, self._dist(x, x[i : i + 1]))
        return picks


class KCenterGreedy(_GreedyCoverage):
    """Core-set selection (Sener & Savarese 2018): greedy k-center over embeddings.

    ``select`` repeatedly takes the candidate farthest from everything labelled or already
    selected; the first pick (when nothing is labelled) is drawn with ``context.seed``.
    """

    name = "kcenter"

    def _next(self, dist: np.ndarray, free: np.ndarray, rng: np.random.Generator) -> int:
        return int(np.argmax(np.where(free, dist, -np.inf)))


class KMeansPlusPlus(_GreedyCoverage):
    """k-means++ seeding (Arthur & Vassilvitskii 2007), as in BADGE (Ash et al. 2020).

    Each next pick is drawn with probability proportional to its squared distance to the
    nearest labelled or selected point (seeded by ``context.seed``).
    """

    name = "kmeanspp"

    def _next(self, dist: np.ndarray, free: np.ndarray, rng: np.random.Generator) -> int:
        w = np.where(free, dist, 0.0) ** 2
        total = w.sum()
        if total <= 0 or not np.isfinite(total):
            choices = np.flatnonzero(free)
            return int(choices[rng.integers(len(choices))])
        return int(rng.choice(len(dist), p=w / total))


# ------------------------------------------------------------------ representativeness


def log_odds_z(
    counts: Counter[str],
    background: Counter[str],
    background_total: int | None = None,
    prior_strength: float = 1000.0,
) -> dict[str, float]:
    """Weighted log-odds z-scores of ``counts`` vs ``background`` (Monroe et al. 2008).

    Informative Dirichlet prior: ``alpha_w = prior_strength * f_w`` with ``f_w`` the pooled
    relative frequency of ``w`` in both corpora. Returns ``z_w`` for every term of
    ``counts``; positive means over-represented relative to the background.
    """
    n = float(sum(counts.values()))
    nb = float(background_total if background_total is not None else sum(background.values()))
    if n <= 0:
        return {}
    pooled = n + nb
    a0 = float(prior_strength)
    out: dict[str, float] = {}
    for w, y in counts.items():
        b = float(background.get(w, 0))
        alpha = max(a0 * (y + b) / pooled, 1e-3)
        d = math.log((y + alpha) / (n + a0 - y - alpha)) - math.log(
            (b + alpha) / (nb + a0 - b - alpha)
        )
        var = 1.0 / (y + alpha) + 1.0 / (b + alpha)
        out[w] = d / math.sqrt(var)
    return out


class TermLogOdds:
    """Typical of this window, rare in the background: Fightin' Words log-odds z-scores.

    Term counts of the whole candidate pool (the window) are compared with
    ``context.background_counts`` by the weighted log-odds ratio with an informative
    Dirichlet prior (Monroe, Colaresi & Quinn 2008). A tweet's score is the mean over its
    distinct terms of ``max(z, 0)`` (0 for a tweet with no scored term). Terms in
    ``ignore`` (placeholders such as ``http``, ``@user``, ``rt``) and terms seen fewer than
    ``min_count`` times in the window are not scored.
    """

    name = "term_log_odds"
    phrase = "typical of this window, rare in background"

    def __init__(
        self,
        prior_strength: float = 1000.0,
        min_count: int = 2,
        ignore: frozenset[str] | set[str] = IGNORED_TERMS,
    ) -> None:
        if prior_strength <= 0:
            raise ValueError(f"prior_strength must be positive, got {prior_strength}")
        self.prior_strength = prior_strength
        self.min_count = min_count
        self.ignore = frozenset(ignore)

    def term_z(self, candidates: Candidates, context: Context) -> dict[str, float]:
        """z-score of every scored term of the window."""
        if context.background_counts is None:
            raise ValueError(f"{self.name} needs context.background_counts, which is None")
        counts: Counter[str] = Counter()
        for tokens in candidates.tokens:
            counts.update(t for t in tokens if t not in self.ignore)
        counts = Counter({w: c for w, c in counts.items() if c >= self.min_count})
        return log_odds_z(
            counts, context.background_counts, context.background_total, self.prior_strength
        )

    def explain(self, candidates: Candidates, context: Context) -> tuple[np.ndarray, list[str]]:
        """Scores and ``"z 4.2: #flood, levee"`` (top terms) per tweet."""
        z = self.term_z(candidates, context)
        scores = np.zeros(len(candidates))
        details: list[str] = []
        for i, tokens in enumerate(candidates.tokens):
            terms = {t for t in tokens if t in z}
            if not terms:
                details.append("no distinctive term")
                continue
            scores[i] = sum(max(z[t], 0.0) for t in terms) / len(terms)
            top = sorted((t for t in terms if z[t] > 0), key=lambda t: (-z[t], t))[:3]
            if top:
                details.append(f"log-odds z {z[top[0]]:.1f}: {', '.join(top)}")
            else:
                details.append("no distinctive term")
        return scores, details

    def score(self, candidates: Candidates, context: Context) -> np.ndarray:
        """Mean positive-part log-odds z of each tweet's distinct terms."""
        return self.explain(candidates, context)[0]


class EmbeddingDensityRatio:
    """Dense in this window, sparse in the background: a kNN density ratio.

    The density around a tweet is estimated as the inverse mean cosine distance to its
    ``k`` nearest neighbours; the score is ``log(density in window / density in
    background)`` = ``log(r_background) - log(r_window)``.
    """

    name = "density_ratio"
    phrase = "dense here, sparse in background"

    def __init__(self, k: int = 10, eps: float = 1e-6) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = k
        self.eps = eps

    @staticmethod
    def _radius(points: np.ndarray, queries: np.ndarray, k: int, skip_self: bool) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        k_eff = min(k + int(skip_self), len(points))
        nn = NearestNeighbors(n_neighbors=k_eff, metric="cosine").fit(points)
        dist, _ = nn.kneighbors(queries)
        if skip_self:
            dist = dist[:, 1:] if dist.shape[1] > 1 else dist
        return dist.mean(axis=1)

    def score(self, candidates: Candidates, context: Context) -> np.ndarray:
        """Log density ratio per candidate."""
        x = _need_embeddings(candidates, self.name)
        bg = context.background_embeddings
        if bg is None or len(bg) == 0:
            raise ValueError(f"{self.name} needs context.background_embeddings, which is None")
        if bg.shape[1] != x.shape[1]:
            raise ValueError(
                f"background_embeddings have dimension {bg.shape[1]}, "
                f"candidates.embeddings {x.shape[1]}"
            )
        if len(x) < 2:
            return np.zeros(len(x))
        r_win = self._radius(x, x, self.k, skip_self=True)
        r_bg = self._radius(bg, x, self.k, skip_self=False)
        return np.log(r_bg + self.eps) - np.log(r_win + self.eps)

    def explain(self, candidates: Candidates, context: Context) -> tuple[np.ndarray, list[str]]:
        """Scores and ``"density ratio x2.3"`` per tweet."""
        s = self.score(candidates, context)
        return s, [f"density ratio x{math.exp(min(v, 50.0)):.1f}" for v in s]


class Novelty:
    """Share of a tweet's distinct terms that are frequent in the window but not keywords.

    A term is frequent when it occurs at least ``min_count`` times in the window;
    ``context.keywords`` (the current keyword set) may be None (treated as empty).
    """

    name = "novelty"
    phrase = "uses new frequent terms"

    def __init__(self, min_count: int = 3, ignore: frozenset[str] | set[str] = IGNORED_TERMS):
        self.min_count = min_count
        self.ignore = frozenset(ignore)

    def explain(self, candidates: Candidates, context: Context) -> tuple[np.ndarray, list[str]]:
        """Scores and ``"new: a, b"`` per tweet."""
        counts: Counter[str] = Counter()
        for tokens in candidates.tokens:
            counts.update(tokens)
        keywords = context.keywords or set()
        scores = np.zeros(len(candidates))
        details: list[str] = []
        for i, tokens in enumerate(candidates.tokens):
            terms = {t for t in tokens if t not in self.ignore}
            new = sorted(
                (t for t in terms if counts[t] >= self.min_count and t not in keywords),
                key=lambda t: (-counts[t], t),
            )
            scores[i] = len(new) / len(terms) if terms else 0.0
            details.append(f"new: {', '.join(new[:3])}" if new else "no new frequent term")
        return scores, details

    def score(self, candidates: Candidates, context: Context) -> np.ndarray:
        """Share of new frequent terms per tweet."""
        return self.explain(candidates, context)[0]
