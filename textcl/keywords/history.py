"""Read a keyword log (``OUT/keywords.jsonl``): which terms the set held longest."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

__all__ = ["leading_keywords"]


def leading_keywords(path: Path, n: int) -> list[str]:
    """The ``n`` terms that were in the keyword set longest, by total time in it.

    ``path`` is the tracker's transition log (``{"time", "term", "action", ...}`` lines);
    a term still in the set counts until the log's last transition. Ties go to the
    earlier entrant. A missing log yields ``[]``.
    """
    if n <= 0 or not path.exists():
        return []
    held: dict[str, float] = {}
    entered: dict[str, datetime] = {}
    last: datetime | None = None
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = orjson.loads(line)
            when = datetime.fromisoformat(row["time"])
            last = when
            term = row["term"]
            if row["action"] == "in":
                entered.setdefault(term, when)
                held.setdefault(term, 0.0)
            elif term in entered:
                held[term] += (when - entered.pop(term)).total_seconds()
    for term, since in entered.items():
        assert last is not None
        held[term] += (last - since).total_seconds()
    order = {term: i for i, term in enumerate(held)}
    return sorted(held, key=lambda t: (-held[t], order[t]))[:n]
