"""Contextual drift of a term: how far its usage vectors moved between two periods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from textcl.transformer.model import ContinualTransformer


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _mean_within(u: np.ndarray) -> float:
    """Mean cosine distance over distinct pairs of one set (0 for a single vector)."""
    n = len(u)
    if n < 2:
        return 0.0
    sims = u @ u.T
    return float(1.0 - (sims.sum() - np.trace(sims)) / (n * (n - 1)))


def contextual_drift(vectors_a: np.ndarray, vectors_b: np.ndarray) -> dict[str, float]:
    """Compare two sets of usage vectors of one term (rows are occurrences).

    - ``centroid_distance``: cosine distance between the two mean vectors.
    - ``cross_distance``: mean cosine distance over all pairs (one from each set).
    - ``within_a``, ``within_b``: mean cosine distance over distinct pairs inside each set.
    - ``mean_pairwise_distance``: ``cross_distance - (within_a + within_b) / 2``, the
      cross-set spread beyond the usual spread of each period (an energy-distance style
      statistic: about 0 when both sets come from one usage distribution, so a
      polysemous but stable word does not look like it drifted).
    - ``separation``: squared Euclidean distance between the two mean vectors over the
      pooled mean squared distance of a vector to its set's mean (how far apart the
      usages moved, in units of their usual spread; scale-free and insensitive to the
      large component all of a term's vectors share).
    - ``n_a``, ``n_b``: the number of vectors.

    Either set empty: the distances are NaN.
    """
    a = np.asarray(vectors_a, dtype=np.float64)
    b = np.asarray(vectors_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError("usage vectors must be 2-D arrays [occurrences, dim]")
    result: dict[str, float] = {"n_a": float(len(a)), "n_b": float(len(b))}
    keys = ("centroid_distance", "mean_pairwise_distance", "cross_distance",
            "within_a", "within_b", "separation")
    if not len(a) or not len(b):
        return {**dict.fromkeys(keys, float("nan")), **result}
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"vector widths differ: {a.shape[1]} and {b.shape[1]}")
    ca, cb = a.mean(0), b.mean(0)
    denom = max(float(np.linalg.norm(ca) * np.linalg.norm(cb)), 1e-12)
    ua, ub = _unit(a), _unit(b)
    cross = float(1.0 - (ua @ ub.T).mean())
    within_a, within_b = _mean_within(ua), _mean_within(ub)
    spread = (((a - ca) ** 2).sum() + ((b - cb) ** 2).sum()) / (len(a) + len(b))
    result.update(
        centroid_distance=float(1.0 - float(ca @ cb) / denom),
        mean_pairwise_distance=cross - (within_a + within_b) / 2,
        cross_distance=cross,
        within_a=within_a,
        within_b=within_b,
        separation=float(((ca - cb) ** 2).sum() / max(float(spread), 1e-12)),
    )
    return result


def term_drift(
    model: ContinualTransformer,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    term: str,
    model_b: ContinualTransformer | None = None,
) -> dict[str, Any]:
    """:func:`contextual_drift` of ``term`` between its uses in ``texts_a`` and ``texts_b``.

    Vectors of ``texts_a`` come from ``model``, those of ``texts_b`` from ``model_b``
    (default: the same model). Two models are only comparable when ``model_b`` was
    trained on from ``model`` (continual updates keep the space roughly aligned).
    """
    va = model.term_embeddings(texts_a, term)
    vb = (model_b or model).term_embeddings(texts_b, term)
    return {"term": term, **contextual_drift(va, vb)}
