"""Orthogonal Procrustes alignment of embedding spaces trained separately.

Two word2vec models trained on different data (or with different seeds) live in
arbitrarily rotated spaces: their vectors can only be compared after alignment.
:func:`procrustes` finds the orthogonal ``R`` minimising ``||B R - A||_F`` over rows of
shared anchor words; :func:`align_to` applies it to a whole :class:`KeyedVectors`.
Anchors are the shared words with the highest counts (``expandos["count"]`` where
present, else vocabulary order); rows are length-normalised and mean-centred first
(Hamilton et al. 2016).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gensim.models.keyedvectors import KeyedVectors
from scipy.linalg import orthogonal_procrustes

__all__ = ["align_to", "procrustes", "shared_anchors", "unit_rows"]


def unit_rows(m: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), computed in ``dtype``."""
    m = np.asarray(m, dtype=dtype)
    n = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.where(n > 0, n, 1.0)


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal matrix ``R`` (d x d) minimising ``||source @ R - target||_F``."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2:
        raise ValueError(f"shapes differ or are not 2-D: {source.shape} vs {target.shape}")
    r, _ = orthogonal_procrustes(source, target)
    return r


def _counts(kv: KeyedVectors) -> np.ndarray:
    if "count" in kv.expandos:
        return np.asarray(kv.expandos["count"], dtype=np.float64)
    # gensim Word2Vec stores "count"; otherwise vocabulary order stands for frequency
    return -np.arange(len(kv.index_to_key), dtype=np.float64)


def shared_anchors(
    base: KeyedVectors,
    other: KeyedVectors,
    max_anchors: int = 5000,
    min_count: float = 0.0,
    exclude: Sequence[str] = (),
) -> list[str]:
    """Shared words ranked by their smaller count in the two models (most frequent first)."""
    cb, co = _counts(base), _counts(other)
    skip = set(exclude)
    rows = []
    for w, i in base.key_to_index.items():
        j = other.key_to_index.get(w)
        if j is None or w in skip:
            continue
        c = min(cb[i], co[j])
        if c >= min_count or "count" not in base.expandos:
            rows.append((c, w))
    rows.sort(key=lambda t: (-t[0], t[1]))
    return [w for _, w in rows[:max_anchors]]


def align_to(
    base: KeyedVectors,
    other: KeyedVectors,
    anchors: Sequence[str] | None = None,
    max_anchors: int = 5000,
    min_count: float = 0.0,
) -> KeyedVectors:
    """A copy of ``other`` rotated into ``base``'s space (vectors unit-normalised).

    Anchors default to :func:`shared_anchors`. Raises ``ValueError`` when fewer than 2
    anchors are shared (with fewer than ``vector_size`` the rotation is under-determined).
    """
    if base.vector_size != other.vector_size:
        raise ValueError("cannot align spaces of different dimensionality")
    words = (
        list(anchors)
        if anchors is not None
        else shared_anchors(base, other, max_anchors, min_count)
    )
    words = [w for w in words if w in base.key_to_index and w in other.key_to_index]
    if len(words) < 2:
        raise ValueError("fewer than 2 shared anchor words: cannot align")
    a = unit_rows(np.stack([base[w] for w in words]))
    b = unit_rows(np.stack([other[w] for w in words]))
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    r = procrustes(b - mb, a - ma)
    out = KeyedVectors(other.vector_size)
    out.index_to_key = list(other.index_to_key)
    out.key_to_index = dict(other.key_to_index)
    out.vectors = ((unit_rows(other.vectors) - mb) @ r + ma).astype(np.float32)
    out.next_index = len(out.index_to_key)
    for k, v in other.expandos.items():
        out.expandos[k] = v
    out.tag = getattr(other, "tag", None)
    out.meta = {**(getattr(other, "meta", None) or {}), "aligned": True}
    return out
