"""CrisisLex T26 / T6 folders: every event merged in time order, labels and event kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from textcl.input.csvfile import ColumnMap, read_csv
from textcl.input.rejects import Reject
from textcl.input.source import ByteSource
from textcl.types import Tweet

T26_SUFFIX = "-tweets_labeled.csv"
T6_SUFFIX = "-ontopic_offtopic.csv"
T26_COLUMNS = ColumnMap(
    id="Tweet ID",
    text="Tweet Text",
    labels={
        "Information Source": "information_source",
        "Information Type": "information_type",
        "Informativeness": "informativeness",
    },
    time="id",
)
T6_COLUMNS = ColumnMap(id="tweet id", text="tweet", labels={"label": "topic"}, time="id")


def crisislex_files(root: Path) -> list[Path]:
    """The labelled CSV files of a CrisisLex folder (a collection, T26, T6, or one event)."""
    files = sorted(root.rglob(f"*{T26_SUFFIX}")) + sorted(root.rglob(f"*{T6_SUFFIX}"))
    return files


def is_crisislex(root: Path) -> bool:
    """True when ``root`` is a folder holding CrisisLex labelled CSV files."""
    return root.is_dir() and bool(crisislex_files(root))


def read_crisislex(root: Path, max_record_bytes: int = 64 * 1024) -> Iterator[Tweet | Reject]:
    """Yield the rejects of every file, then all tweets merged in (time, id) order.

    Each tweet's labels hold the CSV labels plus ``event``, ``collection`` (T26 or T6) and,
    where the event description exists, ``event_type`` (its categorization type).
    """
    files = crisislex_files(root)
    if not files:
        raise FileNotFoundError(
            f"{root}: no CrisisLex files (*{T26_SUFFIX} or *{T6_SUFFIX}) below this folder"
        )
    tweets: list[Tweet] = []
    for path in files:
        t26 = path.name.endswith(T26_SUFFIX)
        event = path.name.removesuffix(T26_SUFFIX if t26 else T6_SUFFIX)
        extra = {"event": event, "collection": "T26" if t26 else "T6"}
        event_type = _event_type(path.parent / f"{event}-event_description.json")
        if event_type:
            extra["event_type"] = event_type
        with ByteSource.open(path) as source:
            for item in read_csv(
                source, T26_COLUMNS if t26 else T6_COLUMNS, max_record_bytes, extra
            ):
                if isinstance(item, Reject):
                    yield item
                else:
                    tweets.append(item)
    tweets.sort(key=lambda t: (t.created_at, t.id))
    yield from tweets


def _event_type(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return str(info["categorization"]["type"])
    except (ValueError, KeyError, TypeError):
        return None
