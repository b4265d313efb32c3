"""Score arithmetic of :class:`~textcl.keywords.tracker.KeywordTracker`.

Reference rates (the background's, else the decayed history's), the carried evidence
with its lazy decay, the scores (a lower confidence bound of the log rate ratio) and
the folding of a window into the decayed history (see the
:mod:`textcl.keywords.tracker` module doc).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter

_RESCALE = 1e-150  # renormalise the lazy decay factor below this
_EVIDENCE_FLOOR = 0.5  # carried evidence below this is forgotten


class _EvidenceMixin:
    """Reference-rate, evidence, score and history methods; uses the state set by the
    tracker's ``__init__`` / ``_reset``."""

    # -- reference rates --------------------------------------------------------------

    def reference_rate(self, term: str) -> float:
        """The term's rate in ordinary text: the background's, else the decayed history's."""
        if self.background is not None:
            return self.background.rate(term)
        total = self._base_total
        if total <= 0:
            return 1.0
        return (self._base.get(term, 0.0) * self._scale + 0.5) / (total + 1.0)

    def _lower_bound(self, count: float, total: float, rate: float) -> float:
        return math.log((count + 0.5) / total / rate) - self.confidence / math.sqrt(count + 0.5)

    def _carry_evidence(self, counts: Counter[str], n: float) -> tuple[dict[str, float], float]:
        """Decay the carried evidence one window and add ``counts``; returns the evidence
        of this window's terms. Lazy decay: stored values are divided by ``_ev_scale``,
        so a window costs its own terms, not every term carried."""
        d = self.carry_decay
        if not d:
            self._evidence, self._ev_scale = dict(counts), 1.0
            self._evidence_total = n
            return dict(counts), n
        self._ev_scale = scale = self._ev_scale * d
        inv = 1.0 / scale
        stored = self._evidence
        get = stored.get
        evidence: dict[str, float] = {}
        for term, c in counts.items():
            prior = get(term, 0.0) * scale
            e = (prior if prior >= _EVIDENCE_FLOOR else 0.0) + c
            evidence[term] = e
            stored[term] = e * inv
        if len(stored) > self.capacity or scale < _RESCALE:
            self._sweep_evidence()
        self._evidence_total = self._evidence_total * d + n
        return evidence, self._evidence_total

    def _sweep_evidence(self) -> None:
        """Forget evidence below the floor, keep at most ``capacity`` terms, rescale."""
        scale = self._ev_scale
        live = {t: v * scale for t, v in self._evidence.items() if v * scale >= _EVIDENCE_FLOOR}
        if len(live) > self.capacity:
            keep = self.capacity * 3 // 4
            live = dict(heapq.nlargest(keep, live.items(), key=lambda kv: kv[1]))
        self._evidence, self._ev_scale = live, 1.0

    def _score(
        self, counts: Counter[str], evidence: dict[str, float], total: float
    ) -> dict[str, float]:
        """Scores of this window's scorable terms (seen now, evidence >= min_count)."""
        if total <= 0:
            return {}
        ignore, min_length, min_count = self.ignore, self.min_length, self.min_count
        rate = self.reference_rate
        z = self.confidence
        cap = self.ratio_cap
        log, sqrt = math.log, math.sqrt
        scores: dict[str, float] = {}
        for term in counts:
            e = evidence.get(term, 0.0)
            if e < min_count or term in ignore or len(term) < min_length:
                continue
            scores[term] = min(log((e + 0.5) / total / rate(term)), cap) - z / sqrt(e + 0.5)
        return scores

    def _fold_history(self, counts: Counter[str], n: float) -> None:
        """Fold the window into the decayed history (lazy decay: divide new mass by scale)."""
        self._scale = scale = self._scale * self.decay
        self._base_total = self._base_total * self.decay + n
        inv = 1.0 / scale
        base = self._base
        get = base.get
        for term, c in counts.items():
            base[term] = get(term, 0.0) + c * inv
        if scale < _RESCALE:
            self._base = base = {t: v * scale for t, v in base.items()}
            self._scale = 1.0
        if len(base) > self.capacity:
            keep = self.capacity * 3 // 4
            self._base = dict(heapq.nlargest(keep, base.items(), key=lambda kv: kv[1]))
