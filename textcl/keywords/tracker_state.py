"""State of :class:`~textcl.keywords.tracker.KeywordTracker`: save and restore.

:meth:`state_dict` is JSON-able (counts, history, evidence, members, groups; config
excluded) and :meth:`load_state_dict` restores it, so a restored tracker computes bit for
bit what the uninterrupted one does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


class _StateMixin:
    """State save/restore methods; uses the state set by the tracker's ``_reset``."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (counts, history, evidence, members, groups); config excluded."""
        return {
            "window": self.window,
            "transitions": self.transitions,
            "counts": dict(self._counts),
            "distinct": dict(self._distinct),
            "distinct_tokens": self._distinct_tokens,
            "seen": sorted(self._seen),
            "sample": self._sample.state_dict(),
            "tokens": self._tokens,
            "tweets": self._tweets,
            "base": dict(self._base),
            "base_total": self._base_total,
            "scale": self._scale,
            # stored values and their lazy scale as they are, so a restored tracker
            # computes bit for bit what the uninterrupted one does
            "evidence": dict(self._evidence),
            "evidence_scale": self._ev_scale,
            "evidence_total": self._evidence_total,
            "members": {t: dict(i) for t, i in self._members.items()},
            "streak": dict(self._streak),
            "groups": self.groups.state_dict(),
            "event_log": self.event_log.state_dict(),
            "last_stats": dict(self.last_stats),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._reset()
        self.window = int(state["window"])
        self.transitions = int(state["transitions"])
        self._counts = Counter({t: int(c) for t, c in state["counts"].items()})
        self._distinct = Counter({t: int(c) for t, c in state["distinct"].items()})
        self._distinct_tokens = int(state["distinct_tokens"])
        self._seen = {int(h) for h in state["seen"]}
        self._sample.load_state_dict(state["sample"])
        self._tokens = int(state["tokens"])
        self._tweets = int(state["tweets"])
        self._base = {t: float(v) for t, v in state["base"].items()}
        self._base_total = float(state["base_total"])
        self._scale = float(state["scale"])
        self._evidence = {t: float(v) for t, v in state["evidence"].items()}
        self._ev_scale = float(state.get("evidence_scale", 1.0))
        self._evidence_total = float(state["evidence_total"])
        self._members = {t: dict(i) for t, i in state["members"].items()}
        self._streak = {t: int(v) for t, v in state["streak"].items()}
        self.groups.load_state_dict(state["groups"])
        self.event_log.load_state_dict(state.get("event_log", {}))
        self.last_stats = {k: float(v) for k, v in state.get("last_stats", {}).items()}
