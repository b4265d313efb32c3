"""Sharing a labelling budget across slices by their learning curves (Slice Tuner).

Tae & Whang (2021, "Slice Tuner: A Selective Data Acquisition Framework for Accurate and
Fair Machine Learning Models") model each slice's validation loss as a power law of its
training-set size, ``loss = a * n^-b``, and acquire data where it lowers loss most.
Here each next label goes to the slice whose fitted curve predicts the largest drop
(optionally weighted by slice size), until the budget is spent.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

__all__ = ["PowerLaw", "allocate", "fit_power_law"]

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PowerLaw:
    """``err(n) = a * n^-b`` (``n`` is clipped to at least 1)."""

    a: float
    b: float

    def __call__(self, n: float) -> float:
        return self.a * max(float(n), 1.0) ** -self.b

    def gain(self, n: int, extra: int = 1) -> float:
        """Predicted error drop from ``n`` to ``n + extra`` labels (``n`` counted as >= 1)."""
        m = max(int(n), 1)
        return self(m) - self(m + extra)


def fit_power_law(
    points: Sequence[tuple[float, float]], default_b: float = 0.5, max_b: float = 2.0
) -> PowerLaw:
    """Fit ``err = a * n^-b`` by least squares in log-log space.

    Points with ``n <= 0`` or ``err <= 0`` are ignored. With fewer than two distinct
    ``n`` the exponent falls back to ``default_b`` through the one point (or ``a = 1``
    with no point). ``b`` is clipped to ``[0, max_b]`` (a rising curve predicts no gain).
    """
    pts = [(float(n), float(e)) for n, e in points if n > 0 and e > 0]
    if len({n for n, _ in pts}) < 2:
        if not pts:
            return PowerLaw(1.0, default_b)
        n, e = pts[-1]
        return PowerLaw(e * n**default_b, default_b)
    logn = np.log([n for n, _ in pts])
    loge = np.log([e for _, e in pts])
    slope = float(np.polyfit(logn, loge, 1)[0])
    b = float(np.clip(-slope, 0.0, max_b))
    # Least-squares intercept for this (possibly clipped) exponent.
    a = math.exp(float(np.mean(loge + b * logn)))
    return PowerLaw(a, b)


def _usable(points: Sequence[tuple[float, float]]) -> bool:
    return any(n > 0 and e > 0 for n, e in points)


def allocate(
    curves: Mapping[K, Sequence[tuple[float, float]]],
    current_counts: Mapping[K, int],
    budget: int,
    sizes: Mapping[K, float] | None = None,
    available: Mapping[K, int] | None = None,
) -> dict[K, int]:
    """Labels to acquire per slice; the values sum to ``budget``.

    ``curves[s]`` holds ``(n_labels, loss or error)`` points of slice ``s``;
    ``current_counts[s]`` its labels so far (missing = 0); a slice without a usable point
    gets the default exponent and the median scale of the fitted slices. ``sizes`` weights
    each slice's predicted drop (e.g. its share of the stream). ``available`` caps the
    labels a slice can get (its unlabelled pool); then the sum is at most the total
    available. Each next label goes to the slice with the largest (weighted) predicted
    drop; ties go to the slice listed first.
    """
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    slices: list[K] = list(dict.fromkeys([*curves, *current_counts]))
    if not slices:
        if budget:
            raise ValueError("no slice to allocate the budget to")
        return {}
    laws = {s: fit_power_law(curves.get(s, ())) for s in slices if _usable(curves.get(s, ()))}
    # A slice with no usable point borrows the median scale of the fitted ones.
    scale = float(np.median([law.a for law in laws.values()])) if laws else 1.0
    for s in slices:
        laws.setdefault(s, PowerLaw(scale, fit_power_law(()).b))
    counts = {s: int(current_counts.get(s, 0)) for s in slices}
    weight = {s: float(sizes.get(s, 0.0)) if sizes is not None else 1.0 for s in slices}
    cap = {s: int(available.get(s, 0)) if available is not None else None for s in slices}
    out: dict[K, int] = dict.fromkeys(slices, 0)

    def entry(pos: int, s: K) -> tuple[float, int]:
        return (-weight[s] * laws[s].gain(counts[s] + out[s]), pos)

    heap = [entry(pos, s) for pos, s in enumerate(slices) if cap[s] is None or cap[s] > 0]
    heapq.heapify(heap)
    for _ in range(budget):
        if not heap:
            break
        _, pos = heapq.heappop(heap)
        s = slices[pos]
        out[s] += 1
        limit = cap[s]
        if limit is None or out[s] < limit:
            heapq.heappush(heap, entry(pos, s))
    return out
