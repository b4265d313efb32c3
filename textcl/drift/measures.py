"""Semantic change measures between two embedding spaces (snapshots or corpora).

* :func:`neighbours`: top-k most similar words (cosine), optionally among frequent words.
* :func:`jaccard`: neighbour-set overlap ``|A ∩ B| / |A ∪ B|`` (Jaccard@k).
* :func:`cosine_change`: ``1 - cos(u, v)`` of a term's vectors; only meaningful when the
  two spaces are shared (one continually-trained model) or aligned (Procrustes).
* :func:`local_neighbourhood_change`: Hamilton et al. (2016): over the union of the
  term's neighbours in both spaces (words present in both), compare the vectors of
  cosine similarities of the term to those words (second-order similarity); ``1 - cos``.
  Needs no alignment.
* :func:`mover_scores`: ranks all frequent terms of a snapshot series by a robust
  change score (see its docstring).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
from gensim.models.keyedvectors import KeyedVectors

from textcl.drift.align import unit_rows

__all__ = [
    "Space",
    "cosine_change",
    "jaccard",
    "local_neighbourhood_change",
    "mover_scores",
    "neighbours",
]


_CHUNK = 256  # terms per similarity block in Space.neighbours


class Space:
    """A :class:`KeyedVectors` with unit vectors and a frequent-word mask.

    ``cache=True`` keeps the unit vectors (float32); ``cache=False`` computes them for
    each :meth:`neighbours` call and single rows with :meth:`row`, so a long series of
    snapshots holds only its stored vectors in memory.
    """

    def __init__(self, kv: KeyedVectors, min_count: float = 0.0, cache: bool = True) -> None:
        self.kv = kv
        self.keys: list[str] = list(kv.index_to_key)
        self.index: dict[str, int] = dict(kv.key_to_index)
        self._unit = unit_rows(kv.vectors, np.float32) if cache else None
        if "count" in kv.expandos:
            self.counts = np.asarray(kv.expandos["count"], dtype=np.float64)[: len(self.keys)]
        else:
            self.counts = np.full(len(self.keys), np.inf)
        self.frequent = self.counts >= min_count

    @property
    def unit(self) -> np.ndarray:
        """Unit-length vectors, one row per word (computed now unless cached)."""
        return self._unit if self._unit is not None else unit_rows(self.kv.vectors, np.float32)

    def row(self, term: str) -> np.ndarray:
        """The unit vector of ``term`` (which must be present)."""
        i = self.index[term]
        if self._unit is not None:
            return self._unit[i]
        return unit_rows(self.kv.vectors[i], np.float32)

    def count(self, term: str) -> float:
        i = self.index.get(term)
        return 0.0 if i is None else float(self.counts[i])

    def has(self, term: str, min_count: float = 0.0) -> bool:
        return self.count(term) >= min_count and term in self.index

    def neighbours(
        self, terms: Sequence[str], topn: int = 10
    ) -> dict[str, list[tuple[str, float]]]:
        """Top ``topn`` frequent neighbours of each term present (the term excluded).

        Similarities are computed against the frequent words only, ``_CHUNK`` terms at a
        time, so memory stays bounded on large vocabularies and long term lists.
        """
        present = [t for t in terms if t in self.index]
        if not present:
            return {}
        cols = np.flatnonzero(self.frequent)
        if cols.size == 0 or topn <= 0:
            return {t: [] for t in present}
        unit = self.unit
        frequent_unit = unit[cols]
        k = min(topn, cols.size)
        out: dict[str, list[tuple[str, float]]] = {}
        for start in range(0, len(present), _CHUNK):
            chunk = present[start : start + _CHUNK]
            rows = np.fromiter((self.index[t] for t in chunk), dtype=np.int64)
            sims = unit[rows] @ frequent_unit.T
            pos = np.minimum(np.searchsorted(cols, rows), cols.size - 1)
            own = cols[pos] == rows
            sims[np.flatnonzero(own), pos[own]] = -np.inf  # a term is not its own neighbour
            part = np.argpartition(sims, cols.size - k, axis=1)[:, cols.size - k :]
            for r, t in enumerate(chunk):
                order = part[r][np.argsort(-sims[r, part[r]], kind="stable")]
                out[t] = [
                    (self.keys[cols[j]], float(sims[r, j]))
                    for j in order
                    if np.isfinite(sims[r, j])
                ]
        return out


def neighbours(
    kv: KeyedVectors, terms: Sequence[str], topn: int = 10, min_count: float = 0.0
) -> dict[str, list[tuple[str, float]]]:
    """Top ``topn`` neighbours of each term in ``kv`` among words with count >= min_count."""
    return Space(kv, min_count).neighbours(terms, topn)


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard overlap of two neighbour sets (1.0 when both are empty)."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return 1.0 if not union else len(sa & sb) / len(union)


def cosine_change(u: np.ndarray, v: np.ndarray) -> float:
    """``1 - cos(u, v)`` (0: same direction, 2: opposite)."""
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0 or nv == 0:
        return 1.0
    return float(1.0 - np.dot(u, v) / (nu * nv))


def local_neighbourhood_change(
    a: Space,
    b: Space,
    term: str,
    nb_a: Iterable[str],
    nb_b: Iterable[str],
    missing_as_zero: bool = False,
) -> float | None:
    """Hamilton et al. (2016) local neighbourhood change of ``term`` between two spaces.

    Over the union of both neighbour sets, the vector of cosine similarities of ``term``
    to those words in ``a`` is compared (``1 - cos``) with the one in ``b``. Union words
    missing from one space are dropped (Hamilton), or with ``missing_as_zero`` count as
    similarity 0 there (a word absent from one corpus is a change). ``None`` when the
    term is missing or fewer than 2 union words remain.
    """
    if term not in a.index or term not in b.index:
        return None
    union = sorted({*nb_a, *nb_b} - {term})
    if not missing_as_zero:
        union = [w for w in union if w in a.index and w in b.index]
    if len(union) < 2:
        return None

    def sims(sp: Space) -> np.ndarray:
        v = sp.row(term)
        return np.array([float(sp.row(w) @ v) if w in sp.index else 0.0 for w in union])

    return cosine_change(sims(a), sims(b))


def _wordlike(term: str) -> bool:
    """A word or hashtag of at least two letters (not ``q``, ``x``, an emoji or a number)."""
    return sum(ch.isalpha() for ch in term) >= 2


def mover_scores(
    spaces: Sequence[Space],
    topn: int = 10,
    min_count: float = 5.0,
    candidates: int = 2000,
    ignore: Collection[str] | None = None,
) -> list[dict]:
    """Rank frequent terms of a snapshot series by a robust, split-based change score.

    Comparing only the first and last snapshot is not robust: the first windows of a
    young model are under-trained (every word's neighbours look random), and in one
    continually-trained space a frequent word's own vector can stay put while new
    context words move next to it (so cosine and Hamilton's measure over shared words
    miss it). The score therefore uses neighbour sets (among frequent words, new words
    included) and asks for a change that is *sustained* between stable neighbourhoods::

        score(w) = max_s (1 - J(N_s, N_T)) * J(N_{s-1}, N_s) * J(N_{T-1}, N_T)

    with ``N_t`` the top-``topn`` neighbours of ``w`` in snapshot ``t``, ``T`` the last
    snapshot and ``J`` Jaccard: high only when the neighbourhood was stable before the
    split ``s``, is stable at the end, and differs between the two. Noisy words (low
    consecutive overlap) and one-off jitter score low. A term is eligible when its count
    is >= ``min_count`` in the last snapshot; split windows need the count there too.
    Only the ``candidates`` most frequent eligible terms are ranked, which bounds the cost
    on large vocabularies. ``ignore`` terms are never ranked (default: special tokens such
    as ``@user`` / ``http`` and English stop words, whose neighbourhoods say nothing),
    nor are tokens with fewer than two letters (single letters, emoji, numbers).
    """
    n = len(spaces)
    if n < 2:
        return []
    if ignore is None:
        from textcl.keywords.tracker import default_ignore

        ignore = default_ignore()
    last = spaces[-1]
    terms = [
        w for w in last.keys if last.count(w) >= min_count and w not in ignore and _wordlike(w)
    ]
    if len(terms) > candidates:
        terms = sorted(terms, key=lambda w: (-last.count(w), w))[:candidates]
    nbs = []
    for sp in spaces:
        present = [w for w in terms if sp.count(w) >= min_count]
        nbs.append({w: [x for x, _ in v] for w, v in sp.neighbours(present, topn).items()})
    out = []
    for w in terms:
        n_last = nbs[-1].get(w)
        if not n_last:
            continue
        prev_last = nbs[-2].get(w) if n >= 2 else None
        stab_end = jaccard(prev_last, n_last) if prev_last is not None else 1.0
        best, best_s = 0.0, None
        for s in range(0, n - 1):
            ns = nbs[s].get(w)
            if ns is None:
                continue
            before = nbs[s - 1].get(w) if s >= 1 else None
            stab_before = jaccard(before, ns) if before is not None else 0.0
            val = (1.0 - jaccard(ns, n_last)) * stab_before * stab_end
            if val >= best or best_s is None:  # ties: latest split (just before change)
                best, best_s = val, s
        if best_s is None:
            continue
        out.append(
            {
                "term": w,
                "score": round(best, 4),
                "split": best_s,
                "stability_end": round(stab_end, 4),
                "neighbors_first": nbs[best_s][w],
                "neighbors_last": n_last,
                "count": round(float(last.count(w)), 2),
            }
        )
    out.sort(key=lambda r: (-r["score"], -r["count"], r["term"]))  # ties: frequent first
    return out
