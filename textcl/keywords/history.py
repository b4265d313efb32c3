"""Read a keyword log (``OUT/keywords.jsonl``): which terms the set held, when and how long."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = ["add_transition", "keyword_spans", "leading_keywords"]

Span = list[Any]  # [entered: datetime, left: datetime | None (still in), event group | None]


def _read_spans(path: Path) -> tuple[dict[str, list[Span]], datetime | None]:
    """Each term's spans in the set, in order of first entry, and the log's last time."""
    spans: dict[str, list[Span]] = {}
    last: datetime | None = None
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = orjson.loads(line)
            last = datetime.fromisoformat(row["time"])
            add_transition(spans, row, last)
    return spans, last


def add_transition(spans: dict[str, list[Span]], row: dict[str, Any], when: Any) -> None:
    """Apply one log line to each term's spans: an ``in`` opens a span at ``when`` (unless
    the term is in already), anything else closes the open one."""
    own = spans.get(row["term"])
    is_in = bool(own) and own[-1][1] is None
    if row["action"] == "in" and not is_in:
        spans.setdefault(row["term"], []).append([when, None, row.get("group")])
    elif row["action"] != "in" and is_in:
        own[-1][1] = when


def _held(spans: list[Span], last: datetime | None) -> float:
    """Seconds in the set over all spans (an open span counts until ``last``)."""
    return sum(((end or last or start) - start).total_seconds() for start, end, _ in spans)


def leading_keywords(path: Path, n: int) -> list[str]:
    """The ``n`` terms that were in the keyword set longest, by total time in it.

    ``path`` is the tracker's transition log (``{"time", "term", "action", ...}`` lines);
    a term still in the set counts until the log's last transition. Ties go to the
    earlier entrant. A missing log yields ``[]``.
    """
    if n <= 0 or not path.exists():
        return []
    spans, last = _read_spans(path)
    held = {term: _held(s, last) for term, s in spans.items()}
    order = {term: i for i, term in enumerate(held)}
    return sorted(held, key=lambda t: (-held[t], order[t]))[:n]


def keyword_spans(path: Path, n: int) -> dict[str, Any]:
    """The spans of the ``n`` terms held longest (ties: the latest entrant first).

    Returns ``{"end": the log's last time, "terms": [{"term", "held_days", "spans":
    [[since, until | None, group], ...]}, ...]}`` with ISO times, terms in order of first
    entry; ``{"end": None, "terms": []}`` for a missing or empty log.
    """
    if n <= 0 or not path.exists():
        return {"end": None, "terms": []}
    spans, last = _read_spans(path)
    held = {term: _held(s, last) for term, s in spans.items()}
    latest = {term: s[-1][0] for term, s in spans.items()}
    chosen = set(sorted(held, key=lambda t: (-held[t], -latest[t].timestamp()))[:n])
    terms = [
        {
            "term": term,
            "held_days": round(held[term] / 86400, 3),
            "spans": [[a.isoformat(), b.isoformat() if b else None, g] for a, b, g in s],
        }
        for term, s in spans.items()
        if term in chosen
    ]
    return {"end": last.isoformat() if last else None, "terms": terms}
