"""Labels that arrive from files, joined to the stream's tweets by tweet id.

A label file is a CSV (``id`` column plus one column per label name, e.g.
``informativeness``; a ``label`` column names the label of the only classifier) or JSON
lines (``{"id": ..., "<label name>": ...}``): ``textcl select``'s ``selection.csv`` with its
``label`` column filled in, a file a dashboard appends to, or gold labels prepared ahead.
Files are read again whenever they change (rewritten in place or appended to). Every
(id, label name, value) is learned once: a row that changes the label of a tweet still
remembered is learned again, an unchanged one is not. A label may come before its tweet
(kept until the tweet arrives) or after it (the tweet's features wait in a bounded
memory of the last ``wait`` tweets; a label whose tweet has left it is not joined).
"""

from __future__ import annotations

import csv
import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ID_COLUMNS = ("id", "tweet_id", "tweet id", "id_str")


@dataclass(frozen=True)
class LabelRow:
    """One label from a file: tweet ``id``, label ``name`` and ``value``, where it was."""

    id: str
    name: str
    value: str
    source: str
    line: int


@dataclass(frozen=True)
class LabelReject:
    """A label-file line that could not be used, and why."""

    source: str
    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "reason": self.reason}


class LabelFiles:
    """Read label files whenever they change; yield labels not learned before.

    ``names``: the label names the classifiers learn (the columns looked for).
    """

    def __init__(self, paths: Sequence[str | Path], names: Sequence[str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.names = list(names)
        self._seen_stat: dict[str, tuple[int, int]] = {}
        self.applied: dict[str, str] = {}  # "<name>\t<id>" -> value learned or waiting
        self.rejected = 0

    def poll(self) -> tuple[list[LabelRow], list[LabelReject]]:
        """New or changed labels in files that changed since the last poll."""
        rows: list[LabelRow] = []
        rejects: list[LabelReject] = []
        for path in self.paths:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # not written yet (a dashboard creates it on the first label)
            signature = (stat.st_mtime_ns, stat.st_size)
            if self._seen_stat.get(str(path)) == signature:
                continue
            self._seen_stat[str(path)] = signature
            for item in self._read(path):
                if isinstance(item, LabelReject):
                    rejects.append(item)
                    continue
                key = f"{item.name}\t{item.id}"
                if self.applied.get(key) != item.value:
                    self.applied[key] = item.value
                    rows.append(item)
        self.rejected += len(rejects)
        return rows, rejects

    def _read(self, path: Path) -> Iterator[LabelRow | LabelReject]:
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".json", ".ndjson"):
            yield from self._read_jsonl(path)
        else:
            yield from self._read_csv(path)

    def _read_csv(self, path: Path) -> Iterator[LabelRow | LabelReject]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            id_column = next((c for c in fields if c.strip().lower() in ID_COLUMNS), None)
            columns = self._label_columns(fields)
            if id_column is None or not columns:
                yield LabelReject(str(path), 1, self._header_reason(fields, id_column))
                return
            try:
                for record in reader:
                    yield from self._labels(record, id_column, columns, str(path),
                                            reader.line_num)
            except csv.Error as exc:
                yield LabelReject(str(path), reader.line_num, f"unreadable CSV: {exc}")

    def _read_jsonl(self, path: Path) -> Iterator[LabelRow | LabelReject]:
        with path.open("rb") as handle:
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line being written is read next time
        for number, raw in enumerate(complete.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield LabelReject(str(path), number, f"not JSON: {exc}")
                continue
            if not isinstance(record, dict):
                yield LabelReject(str(path), number, "a line must be a JSON object")
                continue
            id_column = next((c for c in record if c.lower() in ID_COLUMNS), None)
            columns = self._label_columns(list(record))
            if id_column is None or not columns:
                yield LabelReject(str(path), number, self._header_reason(list(record),
                                                                         id_column))
                continue
            yield from self._labels(record, id_column, columns, str(path), number)

    def _label_columns(self, fields: Sequence[str]) -> dict[str, str]:
        """Column -> label name: columns named like a label, or ``label`` for the only one."""
        columns = {c: c for c in fields if c in self.names}
        if "label" in fields and "label" not in self.names and len(self.names) == 1:
            columns["label"] = self.names[0]
        return columns

    def _header_reason(self, fields: Sequence[str], id_column: str | None) -> str:
        if id_column is None:
            return (f"no id column (one of {', '.join(ID_COLUMNS)}); labels are joined to "
                    "tweets by id")
        wanted = ", ".join(self.names)
        hint = "" if len(self.names) == 1 else " (a 'label' column is read only when one " \
            "label is learned; name the column after the label)"
        return f"no label column: expected a column named {wanted}{hint}; got {list(fields)}"

    @staticmethod
    def _labels(record: dict[str, Any], id_column: str, columns: dict[str, str],
                source: str, line: int) -> Iterator[LabelRow | LabelReject]:
        tweet_id = str(record.get(id_column) or "").strip()
        values = {name: str(record.get(column) or "").strip() for column, name in
                  columns.items()}
        if not any(values.values()):
            return  # a row nobody labelled yet
        if not tweet_id:
            yield LabelReject(source, line, f"labelled row without an id in '{id_column}'")
            return
        for name, value in values.items():
            if value:
                yield LabelRow(tweet_id, name, value, source, line)

    def state_dict(self) -> dict[str, Any]:
        return {"applied": dict(self.applied), "rejected": self.rejected,
                "stat": {k: list(v) for k, v in self._seen_stat.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.applied = dict(state["applied"])
        self.rejected = int(state["rejected"])
        # files are read again after a resume: what changed since is picked up
        self._seen_stat = {}


class RecentTweets:
    """The features of the last ``capacity`` unlabelled tweets, by id, for late labels."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self.expired = 0

    def add(self, tweet_id: str, window: int, row: Any) -> None:
        self.items[tweet_id] = (window, row)
        self.items.move_to_end(tweet_id)
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)
            self.expired += 1

    def get(self, tweet_id: str) -> tuple[int, Any] | None:
        """The window and features of ``tweet_id`` while it is remembered (a relabel is
        learned again)."""
        return self.items.get(tweet_id)

    def __len__(self) -> int:
        return len(self.items)

