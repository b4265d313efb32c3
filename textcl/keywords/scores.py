"""Per-window term scores: burstiness, distinctiveness (Monroe et al.) and relevance.

All functions are plain-Python scalar formulas so the tracker can call them on the few
thousand candidate terms of a window without numpy overhead.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def burstiness(observed: float, expected: float) -> float:
    """Poisson-style z-score of a window count against its expectation.

    ``(observed - expected) / sqrt(expected + 1)``: positive when a term is more frequent
    than its decayed baseline predicts; a term never seen before scores ``observed``.
    """
    return (observed - expected) / math.sqrt(expected + 1.0)


def log_odds_z(
    count: float,
    total: float,
    ref_count: float,
    ref_total: float,
    alpha: float,
    alpha0: float,
) -> float:
    """z-scored log-odds ratio with an informative Dirichlet prior (Monroe et al., 2008).

    ``count``/``total`` are the term's count and all tokens in the window; ``ref_count``/
    ``ref_total`` the same in the reference corpus (background or decayed history);
    ``alpha`` the term's prior pseudo-count and ``alpha0`` the sum of all prior
    pseudo-counts. Positive: the term is over-represented in the window.
    """
    a = count + alpha
    b = ref_count + alpha
    delta = math.log(a / max(total + alpha0 - a, 1e-9)) - math.log(
        b / max(ref_total + alpha0 - b, 1e-9)
    )
    return delta / math.sqrt(1.0 / a + 1.0 / b)


def relevance(neighbours: Sequence[str], anchor: Collection[str]) -> float:
    """Share of a term's embedding neighbours that are in ``anchor`` (current set + seeds)."""
    if not neighbours:
        return 0.0
    return sum(1 for w in neighbours if w in anchor) / len(neighbours)
