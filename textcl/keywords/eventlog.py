"""The history of the keyword set's event groups: when each event came and went.

The keyword set says what is going on now; at the end of a stream whose events have
all gone quiet it is rightly empty. The :class:`EventLog` keeps what the set held: per
event group, its terms (in order of entry), the window it began in, the window end it
went quiet at (``None`` while some of its terms are in the set) and the most terms it
held at once. Groups that merge merge their records. Bounded: the oldest ended events
are forgotten beyond ``capacity``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["EventLog"]

MAX_TERMS = 30  # terms recorded per event


class EventLog:
    """Records of event groups: ``{"group", "since", "until", "terms", "peak"}``.
    :meth:`newly_reached` tells which events just grew to a size (event alarms).

    Args:
        capacity: most events remembered (the oldest ended ones go first).
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._events: dict[int, dict[str, Any]] = {}

    def merge(self, merges: Iterable[tuple[int, int]]) -> None:
        """Fold the records of absorbed groups into the kept ones (``(absorbed, kept)``)."""
        for absorbed, kept in merges:
            old = self._events.pop(absorbed, None)
            if old is None:
                continue
            into = self._events.get(kept)
            if into is None:
                self._events[kept] = {**old, "group": kept}
                continue
            into["since"] = min(into["since"], old["since"])
            into["terms"] = list(dict.fromkeys(into["terms"] + old["terms"]))[:MAX_TERMS]
            into["peak"] = max(into["peak"], old["peak"])
            into["alarmed"] = into.get("alarmed", False) or old.get("alarmed", False)

    def record(
        self, transitions: list[dict[str, Any]], since: str, live: dict[int, list[str]]
    ) -> None:
        """Apply one window's transitions. ``since``: the window's start; ``live``: the
        groups' current members (group id -> terms)."""
        for event in transitions:
            group = event["group"]
            if event["action"] == "in":
                rec = self._events.get(group)
                if rec is None:
                    rec = self._events[group] = {
                        "group": group, "since": since, "until": None, "terms": [], "peak": 0,
                    }
                rec["until"] = None
                if event["term"] not in rec["terms"] and len(rec["terms"]) < MAX_TERMS:
                    rec["terms"].append(event["term"])
            elif group in self._events and group not in live:
                self._events[group]["until"] = event["time"]
        for group, terms in live.items():
            rec = self._events.get(group)
            if rec is not None:
                rec["peak"] = max(rec["peak"], len(terms))
        if len(self._events) > self.capacity:
            ended = sorted(
                (rec["until"], group) for group, rec in self._events.items()
                if rec["until"] is not None
            )
            for _, group in ended[: len(self._events) - self.capacity]:
                del self._events[group]

    def newly_reached(self, n: int) -> list[dict[str, Any]]:
        """Events whose peak reached ``n`` terms for the first time (each reported once,
        merged events included)."""
        out = []
        for rec in self._events.values():
            if rec["peak"] >= n and not rec.get("alarmed"):
                rec["alarmed"] = True
                out.append(rec)
        return out

    def events(self, ended_only: bool = False) -> list[dict[str, Any]]:
        """The records, most recent first (by the time they ended; ongoing ones first)."""
        rows = [_public(r) for r in self._events.values()]
        if ended_only:
            rows = [r for r in rows if r["until"] is not None]
        rows.sort(key=lambda r: (r["until"] or "~", r["since"], r["group"]), reverse=True)
        return rows

    def largest(self, n: int, ended_only: bool = False) -> list[dict[str, Any]]:
        """The ``n`` events that held the most terms at once (latest first among ties)."""
        rows = self.events(ended_only)
        return sorted(rows, key=lambda r: -r["peak"])[:n]

    def state_dict(self) -> dict[str, Any]:
        return {"events": [dict(r, terms=list(r["terms"])) for r in self._events.values()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._events = {int(r["group"]): dict(r) for r in state.get("events", [])}


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if k == "terms" else v) for k, v in rec.items() if k != "alarmed"}
