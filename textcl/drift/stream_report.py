"""The drift report of a ``textcl stream`` run, from its snapshots and outputs.

:func:`write_stream_drift` reads ``OUT/snapshots`` (word2vec), ``OUT/keywords.jsonl``
(the terms to follow when none are configured, and the keyword timeline),
``OUT/events.json`` (the event list; the event alarms while the run goes on),
``OUT/alarms.jsonl`` (drift alarms), ``OUT/transformer/drift.jsonl`` (the contextual
series) and the classifiers' ``OUT/classifier/*/accuracy.png``, and writes
``OUT/drift/report.{html,md,json}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from textcl.config import PipelineConfig

__all__ = ["mover_ignore", "stream_events", "write_stream_drift"]

MAX_EVENTS = 40  # events listed in the report (the largest)


def write_stream_drift(config: PipelineConfig, out: Path) -> dict[str, Any]:
    """Drift report over the run's snapshots in ``out/drift``; returns a short summary
    (the report's path relative to ``out``, so two copies of a run summarise alike)."""
    from textcl.drift import load_snapshots, snapshot_drift, write_report
    from textcl.keywords.history import leading_keywords

    if len(list((out / "snapshots").glob("*.npz"))) < 2:  # e.g. a run of zero tweets
        return {"report": None, "reason": "fewer than 2 snapshots"}
    snapshots = load_snapshots(out / "snapshots", dtype=None)
    cfg = config.drift
    terms = cfg.terms or config.word2vec.probe_terms
    follow = not terms  # no terms given: the stream's own keywords and movers
    if follow:
        terms = leading_keywords(out / "keywords.jsonl", cfg.auto_terms)
    if len(snapshots) < 2:
        return {"report": None, "reason": "fewer than 2 snapshots"}
    result = snapshot_drift(
        snapshots,
        terms,
        topn=cfg.topn,
        movers=cfg.movers,
        min_count=cfg.min_count,
        candidates=cfg.candidates,
        mover_terms=cfg.auto_movers if follow else 0,
        ignore=mover_ignore(config),
    )
    result.update(stream_events(out))
    contextual = _contextual_drift(out / "transformer" / "drift.jsonl")
    if contextual:
        result["contextual"] = contextual
    result["figures"] = [  # each stream classifier's scores over the run
        (f"classifier {png.parent.name}: test-then-train accuracy, macro-F1, forgetting",
         str(png)) for png in sorted((out / "classifier").glob("*/accuracy.png"))
    ]
    paths = write_report(result, out / "drift")
    return {
        "report": paths["html"].relative_to(out).as_posix(),  # relative to OUT
        "top_movers": [m["term"] for m in result["movers"][:10]],
    }


def mover_ignore(config: PipelineConfig) -> frozenset[str]:
    """Terms never ranked as movers: special tokens, English stop words, and with the
    embedded background the common words of its languages (``de``, ``la``, ...)."""
    from textcl.keywords.tracker import default_ignore

    ignore = default_ignore()
    if config.keywords.background == "wordfreq":
        from textcl.keywords.background import wordfreq_background

        kw = config.keywords
        ignore |= wordfreq_background(tuple(kw.languages), kw.hashtag_share).common()
    return ignore


def _contextual_drift(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Per-term series of the transformer consumer's window-to-window contextual drift."""
    if not path.exists():
        return {}
    series: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for term, info in row["terms"].items():
            series.setdefault(term, []).append(
                {"window": row["window"], "start": row["start"], **info}
            )
    return series


def stream_events(out: Path) -> dict[str, Any]:
    """The run's keyword timeline, events and drift alarms (keys absent when missing).

    Events come from ``events.json`` (written when the run ends) or, while it goes on,
    from the event alarms in ``alarms.jsonl``; the ``MAX_EVENTS`` largest (most terms at
    once, then longest) are kept, in order of start, each with an example tweet from
    ``events.jsonl`` when there is one.
    """
    from textcl.drift.report_plots import MAX_KEYWORD_ROWS
    from textcl.keywords.history import keyword_spans

    found: dict[str, Any] = {}
    timeline = keyword_spans(out / "keywords.jsonl", MAX_KEYWORD_ROWS)
    if timeline["terms"]:
        found["keyword_timeline"] = timeline
    alarms = _jsonl(out / "alarms.jsonl")
    if (out / "events.json").exists():
        events = json.loads((out / "events.json").read_text(encoding="utf-8"))
    else:
        events = [
            {"group": a.get("group"), "since": a.get("since"), "until": None,
             "terms": a.get("terms", []), "peak": a.get("value")}
            for a in alarms if a.get("statistic") == "event"
        ]
    if events:
        examples = _event_examples(out / "events.jsonl")
        found["events"] = [
            {**e, "example": examples[e["group"]]} if e.get("group") in examples else e
            for e in _largest_events(events)
        ]
        found["events_total"] = len(events)
    others = [a for a in alarms if a.get("statistic") != "event"]
    if others:
        found["alarms"] = others
    return found


def _largest_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``MAX_EVENTS`` events with the most terms at once (ties: the longest lasting,
    then the most recent), in order of start; an ongoing event lasts to the last time."""
    times = [t for e in events for t in (e.get("since"), e.get("until")) if t]
    last = _seconds(max(times, key=_seconds)) if times else 0.0

    def size(e: dict[str, Any]) -> tuple[float, float, float]:
        since = _seconds(e["since"]) if e.get("since") else last
        until = _seconds(e["until"]) if e.get("until") else last
        return (e.get("peak") or len(e["terms"]), until - since, since)

    kept = sorted(events, key=size, reverse=True)[:MAX_EVENTS]
    return sorted(kept, key=lambda e: e.get("since") or "")


def _event_examples(path: Path) -> dict[int, str]:
    """Per event group, the best example tweet (``events.jsonl``) of the window in which
    the group held the most terms."""
    best: dict[int, tuple[int, str]] = {}
    for row in _jsonl(path):
        tweets = row.get("tweets") or []
        size = len(row.get("terms") or [])
        if tweets and size >= best.get(row["group"], (0, ""))[0]:
            best[row["group"]] = (size, str(tweets[0].get("text", "")))
    return {group: text for group, (_size, text) in best.items()}


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
