"""A small sample that says what a window says: greedy coverage of its distinctive terms.

Picking the window's single most distinctive tweets (highest log-odds) keeps short tweets
of one rare word; a random sample keeps the window's chatter and misses its smaller
events. :func:`coverage_sample` instead maximises the concave coverage

    F(S) = sum over terms t of  w_t * log(1 + c_S(t))

where ``c_S(t)`` is how many picked tweets hold ``t`` and ``w_t`` its weight (the
window's count of ``t`` times its positive log-odds z against a background: frequent
*and* distinctive). Greedy selection is within ``1 - 1/e`` of the best sample for a
monotone submodular ``F`` (Nemhauser et al. 1978); at the optimum each term is held
roughly in proportion to its weight, so concurrent events share the sample by how much
the window says about them, and a tweet with several of the window's terms (the context
that word2vec and a classifier learn from) counts for more than one with a single rare
word. Copies (the same distinct words: retweets) are picked once.

:func:`stratified_coverage` shares the sample between labels as the window does, each
label's share covering that label's own distinctive terms: the sample a classifier
re-learns from keeps the window's label mix.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
from scipy import sparse

from textcl.text.retweet import copy_key

__all__ = ["coverage_sample", "stratified_coverage", "term_weights"]


def term_weights(tokens: Sequence[Sequence[str]], z: Mapping[str, float]) -> dict[str, float]:
    """``count in the window x max(z, 0)`` for every term with a positive ``z``."""
    weights: dict[str, float] = {}
    for doc in tokens:
        for term in set(doc):
            score = z.get(term, 0.0)
            if score > 0:
                weights[term] = weights.get(term, 0.0) + score
    return weights


def coverage_sample(tokens: Sequence[Sequence[str]], weights: Mapping[str, float],
                    k: int) -> list[int]:
    """Indices (sorted) of up to ``k`` distinct tweets greedily maximising the coverage.

    Tweets holding no weighted term are never picked, so fewer than ``k`` come back when
    the window has fewer such tweets (or fewer distinct ones).
    """
    if k <= 0 or not weights:
        return []
    vocabulary = {term: j for j, term in enumerate(weights)}
    rows, cols, keys = [], [], []
    for i, doc in enumerate(tokens):
        terms = {vocabulary[t] for t in doc if t in vocabulary}
        rows.extend([i] * len(terms))
        cols.extend(terms)
        keys.append(copy_key(doc))
    holds = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                              shape=(len(tokens), len(vocabulary)))
    w = np.fromiter(weights.values(), dtype=np.float64, count=len(vocabulary))
    covered = np.zeros(len(vocabulary))
    open_ = np.asarray(holds.sum(axis=1)).ravel() > 0
    picked: list[int] = []
    seen: set[str] = set()
    while len(picked) < k and open_.any():
        # gain of adding tweet i: sum over its terms of w * (log(2 + c) - log(1 + c))
        gains = holds @ (w * np.log1p(1.0 / (1.0 + covered)))
        gains[~open_] = -1.0
        best = int(np.argmax(gains))  # ties: the earliest tweet
        open_[best] = False
        if keys[best] in seen:
            continue
        seen.add(keys[best])
        picked.append(best)
        covered[holds.indices[holds.indptr[best]:holds.indptr[best + 1]]] += 1.0
    return sorted(picked)



def _quotas(sizes: Sequence[int], k: int) -> list[int]:
    """``min(k, sum(sizes))`` shared in proportion to ``sizes`` (largest remainders; ties
    to the larger, then the earlier group)."""
    total = sum(sizes)
    k = min(k, total)
    if k <= 0:
        return [0] * len(sizes)
    exact = [k * size / total for size in sizes]
    quotas = [int(x) for x in exact]
    order = sorted(range(len(sizes)), key=lambda g: (-(exact[g] - quotas[g]), -sizes[g], g))
    for g in order[: k - sum(quotas)]:
        quotas[g] += 1
    return quotas


def stratified_coverage(tokens: Sequence[Sequence[str]],
                        weigh: Callable[[list[int]], Mapping[str, float]], k: int,
                        strata: Sequence[Hashable], rng: np.random.Generator) -> list[int]:
    """``k`` tweets shared between ``strata`` (e.g. the tweets' labels) in proportion to
    their sizes, each stratum's share a :func:`coverage_sample` of it under its own term
    weights (``weigh(rows)``), topped up with random distinct tweets of the stratum when
    too few of them hold a weighted term.

    A sample a classifier re-learns from must keep the window's label mix (a coverage
    sample of the whole window leans to the label that carries its distinctive words, e.g.
    on-topic over off-topic), and each label's share must be typical of that label (an
    off-topic tweet that borrows the event's words is the exception, not the rule).
    """
    groups: dict[Hashable, list[int]] = {}
    for i, stratum in enumerate(strata):
        groups.setdefault(stratum, []).append(i)
    members = list(groups.values())
    picked: list[int] = []
    for rows, quota in zip(members, _quotas([len(m) for m in members], k), strict=True):
        if quota == 0:
            continue
        inside = coverage_sample([tokens[r] for r in rows], weigh(rows), quota)
        chosen = [rows[i] for i in inside]
        seen = {copy_key(tokens[r]) for r in chosen}
        for r in rng.permutation(rows).tolist():
            if len(chosen) >= quota:
                break
            key = copy_key(tokens[r])
            if key not in seen:
                seen.add(key)
                chosen.append(r)
        picked += chosen
    return sorted(picked)
