"""In/out logic of :class:`~textcl.keywords.tracker.KeywordTracker`.

Members enter when their score stays at or above ``enter``, evict the weakest member of
a full set, and leave when their event goes quiet or the stream falls silent (see the
:mod:`textcl.keywords.tracker` module doc).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from textcl.keywords.tracker_evidence import _RESCALE
from textcl.keywords.tracker_helpers import _event


class _TransitionsMixin:
    """In/out transition methods; uses the state set by the tracker's ``__init__`` /
    ``_reset`` and the scores of :class:`~textcl.keywords.tracker_evidence._EvidenceMixin`."""

    def _silence(self, skipped: int, time: str) -> list[dict[str, Any]]:
        """Apply ``skipped`` empty windows: decay, and quiet members leave."""
        d = self.carry_decay**skipped
        self._ev_scale *= d
        if self._ev_scale < _RESCALE or not d:
            self._sweep_evidence()
        self._evidence_total *= d
        fade = self.priority_decay**skipped
        for info in self._members.values():
            info["priority"] *= fade
            info["dwell"] += skipped
        decay = self.decay**skipped
        self._scale *= decay
        self._base_total *= decay
        events = []
        if skipped >= self.m:
            pinned = set(self.pinned)
            for term in sorted(self._members):
                info = self._members[term]
                if term in pinned or info["dwell"] < self.min_dwell:
                    continue
                gid = self.groups.group_of.get(term, 0)
                del self._members[term]
                self.groups.remove(term)
                reason = f"no tweets for {skipped} window(s)"
                events.append(_event(time, term, "out", info["score"], reason, gid))
        return events

    def _group_quiet(self, counts: Counter[str], n: float) -> set[int]:
        """Ids of the groups whose terms went quiet in this window."""
        observed: Counter[int] = Counter()
        expected: Counter[int] = Counter()
        for term, group in self.groups.group_of.items():
            observed[group] += counts.get(term, 0)
            expected[group] += n * self.reference_rate(term)
        quiet = set()
        for group, obs in observed.items():
            bound = self._lower_bound(obs, 1.0, max(expected[group], 1e-300))
            if obs < self.min_count or bound < self.leave:
                quiet.add(group)
        return quiet

    def _transitions(
        self,
        counts: Counter[str],
        n: float,
        evidence: dict[str, float],
        scores: dict[str, float],
        sample: list[frozenset[str]],
        time: str,
        since: str,
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        members = self._members
        groups = self.groups
        pinned = set(self.pinned)

        def add(term: str, score: float, reason: str) -> None:
            members[term] = {
                "term": term, "score": score, "since": since, "dwell": 0, "quiet": 0,
                "priority": score,
            }
            entering.append((term, score, reason))

        def drop(term: str, score: float, reason: str) -> None:
            gid = groups.group_of.get(term, 0)
            del members[term]
            groups.remove(term)
            events.append(_event(time, term, "out", score, reason, gid))

        entering: list[tuple[str, float, str]] = []
        for term in self.pinned:
            if term not in members:
                add(term, scores.get(term, 0.0), "pinned")
        # priorities: best recent score, decaying while the term is not scored
        for term, info in members.items():
            info["dwell"] += 1
            s = scores.get(term)
            info["priority"] = info["priority"] * self.priority_decay
            if s is not None:
                info["score"] = s
                info["priority"] = max(info["priority"], s)
        # out: the member's event went quiet (and the member itself is rare now)
        quiet_groups = self._group_quiet(counts, n)
        for term in sorted(members):
            info = members[term]
            if term in pinned:
                continue
            group = groups.group_of[term]
            own = counts.get(term, 0)
            quiet = group in quiet_groups and own < self.min_count
            info["quiet"] = info["quiet"] + 1 if quiet else 0
            if info["quiet"] >= self.m and info["dwell"] >= self.min_dwell:
                tweets = sum(counts.get(t, 0) for t, g in groups.group_of.items() if g == group)
                drop(term, scores.get(term, 0.0), f"event quiet: its terms occurred {tweets}x")
        # streaks of windows at or above enter
        new_streak = {t: self._streak.get(t, 0) + 1 for t, s in scores.items() if s >= self.enter}
        self._streak = new_streak
        left = {e["term"] for e in events}
        ready = sorted(
            (
                (scores[t], t)
                for t, run in new_streak.items()
                if run >= self.k and t not in members and t not in left
            ),
            key=lambda st: (-st[0], st[1]),
        )
        for s, term in ready:
            why = self._why(term, counts, evidence, s)
            if len(members) >= self.size:
                evictable = [
                    (info["priority"], t)
                    for t, info in members.items()
                    if t not in pinned and info["dwell"] >= self.min_dwell and t in groups.group_of
                ]
                if not evictable:
                    break
                low_priority, low = min(evictable)
                if low_priority >= s:
                    break
                drop(low, scores.get(low, 0.0), f"evicted by {term}")
                why += ", evict"
            add(term, s, why)
        placed = groups.place([t for t, _, _ in entering], sample)
        for term, s, why in entering:
            events.append(_event(time, term, "in", s, why, placed[term]))
        return events

    def _why(self, term: str, counts: Counter[str], evidence: dict[str, float], s: float) -> str:
        ratio = math.exp(s)
        ratio_s = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"
        return (
            f"{ratio_s}x its reference rate at least ({counts.get(term, 0)} now, "
            f"evidence {evidence.get(term, 0.0):.1f})"
        )
