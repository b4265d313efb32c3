"""CSV reader with a configurable column mapping."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain

from textcl.input.rejects import RecordError, Reject, excerpt
from textcl.input.source import ByteSource
from textcl.input.timeparse import parse_time, snowflake_time
from textcl.types import Origin, Tweet

ORDER_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Column names tried, in order, when the mapping leaves a field unset (case-insensitive).
AUTO_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "id_str", "tweet id", "tweet_id", "tweetid"),
    "text": ("text", "full_text", "tweet text", "tweet", "content", "body"),
    "created_at": ("created_at", "date", "time", "timestamp", "datetime"),
    "lang": ("lang", "language"),
    "author_id": ("author_id", "user_id", "author", "user"),
}


DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV header line: the most frequent of :data:`DELIMITERS`
    (comma on a tie or when none occurs)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def looks_like_csv_header(line: str) -> bool:
    """A header line with at least two cells, one of them a known text column name."""
    cells = [c.strip().strip('"').strip().lower() for c in line.split(sniff_delimiter(line))]
    return len(cells) >= 2 and any(c in AUTO_COLUMNS["text"] for c in cells)


@dataclass(slots=True)
class ColumnMap:
    """Which CSV column feeds each tweet field; ``labels`` maps column -> label name.

    ``time`` is ``auto`` (the created_at column, else the snowflake id), ``id`` (snowflake
    id only) or ``order`` (arrival order: record *i* is ``1970-01-01 + i`` seconds).
    """

    id: str | None = None
    text: str | None = None
    created_at: str | None = None
    lang: str | None = None
    author_id: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    time: str = "auto"
    delimiter: str = "auto"


def read_csv(
    source: ByteSource,
    columns: ColumnMap | None = None,
    max_record_bytes: int = 64 * 1024,
    extra_labels: Mapping[str, str] | None = None,
) -> Iterator[Tweet | Reject]:
    """Yield a tweet or a reject for every data row of a CSV source (header on line 1)."""
    columns = columns or ColumnMap()
    name = source.name
    lines = _decoded_lines(source)
    delimiter = columns.delimiter
    if delimiter == "auto":  # from the header line: comma, tab, semicolon or bar
        first = next(lines, None)
        if first is None:
            return
        delimiter = sniff_delimiter(first)
        lines = chain([first], lines)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield Reject(name, 1, f"malformed CSV header: {exc}", "")
        return
    index = _resolve(header, columns, name)
    extra = dict(extra_labels or {})
    last_line = reader.line_num
    position = 0
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            last_line = reader.line_num
            yield Reject(name, start, f"malformed CSV: {exc}", "")
            continue
        last_line = reader.line_num
        raw = delimiter.join(row)
        try:
            tweet = _row_tweet(row, index, header, columns, Origin(name, start), position)
            if len(raw.encode("utf-8", "surrogateescape")) > max_record_bytes:
                raise RecordError(f"oversize record: more than max_record_bytes={max_record_bytes}")
        except RecordError as exc:
            yield Reject(name, start, str(exc), excerpt(raw.encode("utf-8", "surrogateescape")))
            continue
        position += 1
        if extra:
            tweet.labels.update(extra)
        yield tweet


def _decoded_lines(source: ByteSource) -> Iterator[str]:
    for raw in source.lines():
        yield raw.data.decode("utf-8", errors="surrogateescape")


def _resolve(header: list[str], columns: ColumnMap, name: str) -> dict[str, int]:
    lowered = {h.lower(): i for i, h in enumerate(header)}
    index: dict[str, int] = {}
    for fld, candidates in AUTO_COLUMNS.items():
        wanted = getattr(columns, fld)
        if wanted is not None:
            if wanted.lower() not in lowered:
                raise ValueError(
                    f"{name}: column {wanted!r} (mapped to {fld}) is not in the header; "
                    f"columns are {header}"
                )
            index[fld] = lowered[wanted.lower()]
            continue
        for cand in candidates:
            if cand in lowered:
                index[fld] = lowered[cand]
                break
    if "text" not in index:
        raise ValueError(
            f"{name}: no text column found in header {header}; map one with "
            '[source.csv] text = "COLUMN" in the pipeline file (--pipeline FILE)'
        )
    for col in columns.labels:
        if col.lower() not in lowered:
            raise ValueError(f"{name}: label column {col!r} is not in the header {header}")
        index[f"label:{col}"] = lowered[col.lower()]
    return index


def _row_tweet(
    row: list[str],
    index: dict[str, int],
    header: list[str],
    columns: ColumnMap,
    origin: Origin,
    position: int,
) -> Tweet:
    if len(row) != len(header):
        raise RecordError(f"wrong field count: expected {len(header)} fields, got {len(row)}")
    for cell in row:
        if _has_surrogates(cell):
            raise RecordError("undecodable bytes: invalid UTF-8 in a field")

    def get(fld: str) -> str | None:
        i = index.get(fld)
        if i is None:
            return None
        value = row[i].strip()
        return value or None

    text = get("text")
    if text is None:
        raise RecordError("empty text")
    tweet_id = get("id")
    if tweet_id is not None:
        tweet_id = tweet_id.strip("'\"")
    created_at = _row_time(get("created_at"), tweet_id, columns.time, position)
    if tweet_id is None:
        tweet_id = f"{origin.source}:{origin.line}"
    labels = {label: row[index[f"label:{col}"]].strip() for col, label in columns.labels.items()}
    return Tweet(
        id=tweet_id,
        created_at=created_at,
        text=text,
        lang=get("lang"),
        author_id=get("author_id"),
        labels=labels,
        origin=origin,
    )


def _row_time(created: str | None, tweet_id: str | None, mode: str, position: int) -> datetime:
    if mode == "order":
        return ORDER_EPOCH + timedelta(seconds=position)
    if created is not None and mode == "auto":
        return parse_time(created)
    if tweet_id is None:
        raise RecordError("missing time: no created_at column and no id to take the time from")
    return snowflake_time(tweet_id)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
