"""Small helpers of :class:`~textcl.keywords.tracker.KeywordTracker`.

The tokens never scored (:func:`default_ignore`) and the transition record
(:func:`_event`, scores rounded by :func:`_r`).
"""

from __future__ import annotations

import math
from datetime import datetime

from textcl.input.timeparse import to_iso

SPECIAL_TOKENS = frozenset({"http", "@user", "<num>", "rt", "amp", "via"})


def default_ignore() -> frozenset[str]:
    """Tokens never scored: special tokens and spaCy's English stop words."""
    from textcl.text.tokenize import _stopwords

    return SPECIAL_TOKENS | _stopwords()


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else to_iso(moment)


def _event(time: str, term: str, action: str, score: float, reason: str, group: int) -> dict:
    return {"time": time, "term": term, "action": action, "score": _r(score),
            "reason": reason, "group": group}


def _r(x: float) -> float:
    return round(float(x), 4) if math.isfinite(x) else 0.0
