"""The keyword tracker (and optional drift alarms) as a stream consumer.

Writes, under ``out_dir``:

* ``keywords.jsonl``: the set's transitions in order
  (``{"time", "term", "action", "score", "reason"}``), flushed at each window end;
* ``alarms.jsonl``: drift alarms (``{"time", "statistic", "detector", "value"}``), when
  ``alarms`` is given, and event alarms: an event group of the set holding ``event_terms`` terms
  at once for the first time (``{"time", "statistic": "event", "detector": "keywords",
  "value": terms, "group", "since": when the event began, "terms"}``);
* ``keywords_final.json`` at :meth:`close`: the final set (``term``, ``score``, ``since``,
  ``group``: the id of the term's event group);
* ``events.json`` at :meth:`close`: every event group the set held, most recent first
  (``group``, ``since``, ``until``: the window end it went quiet, ``None`` if ongoing,
  ``terms``, ``peak``), so a stream whose events are over still shows what it was about.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from textcl.keywords.alarms import DriftAlarms
from textcl.keywords.tracker import KeywordTracker
from textcl.outputs import open_output
from textcl.stream.timeparse import to_iso
from textcl.types import Batch, Window

SUMMARY_TERMS = 20
SUMMARY_EVENTS = 5
SUMMARY_EVENT_TERMS = 8


class KeywordConsumer:
    """Feeds micro-batches to a :class:`KeywordTracker`; at each window end applies the
    in/out logic, writes the transitions and feeds the window statistics (OOV rate,
    keyword churn, plus anything given to :meth:`observe`) to the drift alarms.

    Args:
        tracker: the tracker (a default one when ``None``).
        out_dir: folder for ``keywords.jsonl``, ``alarms.jsonl``, ``keywords_final.json``.
        alarms: drift alarms over the window statistics, or ``None``.
        event_terms: terms an event group must hold at once to raise its (one) event
            alarm (0: no event alarms).
    """

    name = "keywords"

    def __init__(
        self,
        tracker: KeywordTracker | None = None,
        out_dir: Path | None = None,
        alarms: DriftAlarms | None = None,
        event_terms: int = 3,
    ) -> None:
        self.event_terms = event_terms
        self.tracker = tracker if tracker is not None else KeywordTracker()
        self.alarms = alarms
        self.out_dir = out_dir
        self.transitions = 0
        self.alarm_count = 0
        self.event_alarm_count = 0
        self.last_alarms: list[dict[str, Any]] = []
        self._extra: dict[str, float] = {}
        # Called at each window end for more alarm statistics (e.g. the word2vec loss).
        self.window_statistics: Callable[[], dict[str, float]] | None = None
        self._fh: IO[bytes] | None = None
        self._alarm_fh: IO[bytes] | None = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            self._fh = open_output(out_dir / "keywords.jsonl")
            if alarms is not None or event_terms > 0:
                self._alarm_fh = open_output(out_dir / "alarms.jsonl")

    def observe(self, statistic: str, value: float) -> None:
        """Add a statistic (e.g. ``w2v_loss``) to the current window's alarm input."""
        self._extra[statistic] = float(value)

    def update(self, batch: Batch) -> None:
        self.tracker.update(batch.tokens)

    def end_window(self, window: Window) -> list[dict[str, Any]]:
        events = self.tracker.end_window(window.start, window.end, window.skipped)
        self.transitions += len(events)
        if self._fh is not None:
            for event in events:
                self._fh.write(orjson.dumps(event) + b"\n")
            self._fh.flush()
        alarms = self._event_alarms(window)
        self.event_alarm_count += len(alarms)
        if self.alarms is not None:
            stats = {
                "oov_rate": self.tracker.last_stats["oov_rate"],
                "churn": self.tracker.last_stats["churn"],
                **(self.window_statistics() if self.window_statistics else {}),
                **self._extra,
            }
            alarms += self.alarms.update(stats, to_iso(window.end))
        self.last_alarms = alarms
        self.alarm_count += len(alarms)
        if self._alarm_fh is not None and alarms:
            for alarm in alarms:
                self._alarm_fh.write(orjson.dumps(alarm) + b"\n")
            self._alarm_fh.flush()
        self._extra = {}
        return events

    def _event_alarms(self, window: Window) -> list[dict[str, Any]]:
        """One alarm per event group, when it first holds ``event_terms`` terms at once."""
        if self.event_terms <= 0:
            return []
        live = self.tracker.groups.terms()
        return [
            {"time": to_iso(window.end), "statistic": "event", "detector": "keywords",
             "value": float(len(live.get(rec["group"], []))), "group": rec["group"],
             "since": rec["since"], "terms": live.get(rec["group"], rec["terms"])}
            for rec in sorted(
                self.tracker.event_log.newly_reached(self.event_terms), key=lambda r: r["group"]
            )
        ]

    def top_terms(self, n: int) -> list[str]:
        """The ``n`` best-scored members of the set now (probe terms that follow it)."""
        return [row["term"] for row in self.tracker.current()[:n]]

    def summary(self) -> dict[str, Any]:
        current = self.tracker.current()
        return {
            "keywords": current[:SUMMARY_TERMS],
            "set_size": len(current),
            "events": [
                {"group": e["group"], "terms": e["terms"][:SUMMARY_EVENT_TERMS]}
                for e in self.tracker.events()[:SUMMARY_EVENTS]
            ],
            "past_events": [
                {**e, "terms": e["terms"][:SUMMARY_EVENT_TERMS]}
                for e in self.tracker.event_log.largest(SUMMARY_EVENTS, ended_only=True)
            ],
            "transitions": self.transitions,
            "alarms": self.alarm_count,
            "event_alarms": self.event_alarm_count,
        }

    def close(self, out_dir: Path | None = None) -> None:
        """Close the logs; write ``keywords_final.json`` to ``out_dir`` (or the
        constructor's)."""
        for fh in (self._fh, self._alarm_fh):
            if fh is not None:
                fh.close()
        self._fh = self._alarm_fh = None
        target = out_dir if out_dir is not None else self.out_dir
        if target is not None:
            target.mkdir(parents=True, exist_ok=True)
            data = orjson.dumps(self.tracker.current(), option=orjson.OPT_INDENT_2)
            (target / "keywords_final.json").write_bytes(data + b"\n")
            log = orjson.dumps(self.tracker.event_log.events(), option=orjson.OPT_INDENT_2)
            (target / "events.json").write_bytes(log + b"\n")

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "tracker": self.tracker.state_dict(),
            "transitions": self.transitions,
            "alarm_count": self.alarm_count,
            "event_alarm_count": self.event_alarm_count,
        }
        if self.alarms is not None:
            state["alarms"] = self.alarms.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.load_state_dict(state["tracker"])
        self.transitions = int(state["transitions"])
        self.alarm_count = int(state["alarm_count"])
        self.event_alarm_count = int(state.get("event_alarm_count", 0))
        if self.alarms is not None and "alarms" in state:
            self.alarms.load_state_dict(state["alarms"])
