"""What the dashboard shows, built from a run's output folder as the run writes it.

:class:`RunView` follows the JSON-lines files of ``OUT`` (keywords, events, alarms,
windows, rejects, selection, classifier metrics, word2vec snapshots) with one
:class:`~textcl.serve.tail.JsonlTail` each and keeps a bounded summary of every part;
:meth:`RunView.state` returns it as one JSON-able dict. Nothing is written.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from pathlib import Path
from typing import Any

import orjson

from textcl.keywords.history import add_transition
from textcl.serve.tail import JsonlTail

__all__ = ["RunView"]

RECENT = 200  # transitions, alarms, rejects, picks kept for the page
TIMELINE_TERMS = 40  # terms drawn in the keyword timeline
DRIFT_WINDOWS = 8  # windows of neighbours shown per term
WINDOWS_KEPT = 400


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None  # not written yet, or being replaced


class _Keywords:
    """The keyword set now, and each term's spans in it (from ``keywords.jsonl``)."""

    def __init__(self) -> None:
        self.current: dict[str, dict[str, Any]] = {}
        self.spans: dict[str, list[list[Any]]] = {}  # [in, out | None, group] per span
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.transitions = 0

    def add(self, row: dict[str, Any]) -> None:
        if "term" not in row or "action" not in row:
            return  # not a transition line
        self.transitions += 1
        self.recent.append(row)
        add_transition(self.spans, row, row.get("time"))
        if row.get("action") == "in":
            self.current[row["term"]] = row
        else:
            self.current.pop(row["term"], None)

    def state(self) -> dict[str, Any]:
        members = sorted(self.current.values(), key=lambda r: (-float(r.get("score", 0)),
                                                               str(r.get("term"))))
        # the timeline: members held longest first, then the terms that left most recently
        held = sorted(self.current, key=lambda t: (str(self.spans[t][-1][0]), t))
        gone = sorted((t for t in self.spans if t not in self.current),
                      key=lambda t: (str(self.spans[t][-1][1]), t), reverse=True)
        shown = (held + gone)[:TIMELINE_TERMS]
        return {"members": members, "transitions": self.transitions,
                "recent": list(self.recent)[::-1][:50],
                "timeline": [{"term": t, "spans": self.spans[t]} for t in shown]}


class _Events:
    """Event groups of the latest window, and those that ended (from ``events.jsonl``)."""

    def __init__(self) -> None:
        self.window = -1
        self.last: dict[int, dict[str, Any]] = {}  # group -> its latest row

    def add(self, row: dict[str, Any]) -> None:
        self.window = max(self.window, int(row.get("window", 0)))
        group = int(row.get("group", 0))
        self.last.pop(group, None)  # re-inserted: the dict stays in order of last sight
        self.last[group] = row
        while len(self.last) > RECENT:
            self.last.pop(next(iter(self.last)))

    def state(self) -> dict[str, Any]:
        live = [r for r in self.last.values() if r.get("window") == self.window]
        live.sort(key=lambda r: (-len(r.get("terms", [])), r.get("group", 0)))
        ended = [{**r, "until": r.get("time")} for r in reversed(self.last.values())
                 if r.get("window") != self.window]
        return {"live": live, "ended": ended[:30]}


class _Drift:
    """Neighbours of the followed terms in the last windows, and the terms whose
    neighbours changed most over them (from ``snapshots/index.jsonl``)."""

    def __init__(self) -> None:
        self.terms: dict[str, deque[dict[str, Any]]] = {}

    def add(self, row: dict[str, Any]) -> None:
        for term, neighbours in (row.get("neighbours") or {}).items():
            self.terms.setdefault(term, deque(maxlen=DRIFT_WINDOWS)).append(
                {"window": row.get("window"), "start": row.get("start"),
                 "neighbours": neighbours})

    def state(self) -> dict[str, Any]:
        movers = []
        for term, rows in self.terms.items():  # over the windows shown
            before = [n[0] for n in rows[0]["neighbours"]]
            now = [n[0] for n in rows[-1]["neighbours"]]
            if len(rows) > 1 and before and now:
                change = 1.0 - len(set(before) & set(now)) / len(set(before) | set(now))
                movers.append({"term": term, "change": round(change, 3), "since":
                               rows[0]["start"], "from": before[:5], "to": now[:5]})
        movers.sort(key=lambda m: (-m["change"], m["term"]))
        return {"terms": {t: list(rows) for t, rows in self.terms.items()},
                "movers": movers[:10]}


class RunView:
    """A live, bounded picture of the run writing to ``out`` (thread-safe)."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self._lock = threading.Lock()
        self._tails: dict[str, JsonlTail] = {}
        self._reset_all()

    def _reset_all(self) -> None:
        self.keywords, self.events, self.drift = _Keywords(), _Events(), _Drift()
        self.alarms: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.alarm_count = 0
        self.windows: deque[dict[str, Any]] = deque(maxlen=WINDOWS_KEPT)
        self.rejects: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.reject_reasons: Counter[str] = Counter()
        self.picks: dict[str, dict[str, Any]] = {}
        self.metrics: dict[str, list[dict[str, Any]]] = {}
        self.classes: dict[str, list[str]] = {}
        for tail in self._tails.values():
            tail.offset = 0

    def _tail(self, relative: str) -> list[dict[str, Any]]:
        tail = self._tails.get(relative)
        if tail is None:
            tail = self._tails[relative] = JsonlTail(self.out / relative)
        rows, reset = tail.read()
        if reset:  # a resumed run cut its files back: build everything again
            self._reset_all()
            return self._tail(relative)
        return rows

    def refresh(self) -> None:
        """Read what was appended since the last refresh."""
        with self._lock:
            for row in self._tail("keywords.jsonl"):
                self.keywords.add(row)
            for row in self._tail("events.jsonl"):
                self.events.add(row)
            for row in self._tail("snapshots/index.jsonl"):
                self.drift.add(row)
            rows = self._tail("alarms.jsonl")
            self.alarm_count += len(rows)
            self.alarms.extend(rows)
            self.windows.extend(self._tail("windows.jsonl"))
            for row in self._tail("rejects.jsonl"):
                reason = str(row.get("reason", "?"))
                self.reject_reasons[reason.split(":")[0]] += 1
                self.rejects.append({k: row.get(k) for k in ("source", "line", "reason")})
            for row in self._tail("selection/selection.jsonl"):
                self.picks[str(row.get("id"))] = row
                while len(self.picks) > RECENT:
                    self.picks.pop(next(iter(self.picks)))
            self._refresh_classifiers()

    def _refresh_classifiers(self) -> None:
        folder = self.out / "classifier"
        if not folder.is_dir():
            return
        for path in sorted(p for p in folder.iterdir() if (p / "metrics.jsonl").exists()):
            name = path.name
            self.metrics.setdefault(name, []).extend(
                self._tail(f"classifier/{name}/metrics.jsonl"))
            classes = self.classes.setdefault(name, [])
            for row in self._tail(f"classifier/{name}/growth.jsonl"):
                if str(row.get("class")) not in classes:
                    classes.append(str(row.get("class")))

    def known_text(self, tweet_id: str) -> str | None:
        """The text of a tweet the page shows (a pick or an event example), else ``None``."""
        with self._lock:
            pick = self.picks.get(tweet_id)
            if pick is not None:
                return str(pick.get("text", ""))
            for event in self.events.last.values():
                tweets = event.get("tweets", []) + [
                    t for burst in event.get("bursts", []) for t in burst.get("tweets", [])]
                for tweet in tweets:
                    if str(tweet.get("id")) == tweet_id:
                        return str(tweet.get("text", ""))
        return None

    def state(self) -> dict[str, Any]:
        """Everything the page shows."""
        self.refresh()
        with self._lock:
            picks = [{k: row.get(k) for k in ("id", "text", "window", "reason", "total")}
                     for row in reversed(self.picks.values())]
            windows = list(self.windows)
            return {
                "out": str(self.out),
                "progress": _read_json(self.out / "progress.json"),
                "finished": (self.out / "summary.json").exists(),
                "keywords": self.keywords.state(),
                "events": self.events.state(),
                "drift": self.drift.state(),
                "alarms": {"count": self.alarm_count, "recent": list(self.alarms)[::-1][:50]},
                "windows": {"count": len(windows),
                            "recent": [{k: w.get(k) for k in ("window", "start", "end", "tweets")}
                                       for w in windows[-60:]]},
                "rejects": {"count": sum(self.reject_reasons.values()),
                            "reasons": dict(self.reject_reasons.most_common()),
                            "recent": list(self.rejects)[::-1][:20]},
                "selection": {"enabled": (self.out / "selection").is_dir(), "picks": picks},
                "classifiers": {
                    name: {"classes": self.classes.get(name, []),
                           "metrics": [_metric_point(r) for r in rows]}
                    for name, rows in self.metrics.items()},
            }


def _metric_point(row: dict[str, Any]) -> dict[str, Any]:
    """One window of a classifier's metrics, as the accuracy chart draws it."""
    this = row.get("this_window") or {}
    earlier = row.get("earlier_windows") or {}
    return {"window": row.get("window"), "start": row.get("start"),
            "accuracy": this.get("accuracy"), "macro_f1": this.get("macro_f1"),
            "n": this.get("n"), "classes": row.get("classes"),
            "earlier_accuracy": earlier.get("accuracy")}
