"""Following a growing JSON-lines file, and the dashboard's label file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from textcl.classify.labels import LabelFiles
from textcl.serve.labels import LabelError, LabelStore
from textcl.serve.tail import JsonlTail


def test_tail_reads_complete_lines_once_and_restarts_after_a_cut(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    tail = JsonlTail(path)
    assert tail.read() == ([], False)  # not written yet
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n{"a": ')  # the last line is being written
    assert tail.read() == ([{"a": 1}, {"a": 2}], False)
    with path.open("ab") as handle:
        handle.write(b'3}\nnot json\n[1]\n')
    assert tail.read() == ([{"a": 3}], False)
    assert tail.bad == 2
    assert tail.read() == ([], False)
    path.write_bytes(b'{"a": 1}\n')  # a resumed run cut the file back
    assert tail.read() == ([{"a": 1}], True)


def test_a_label_is_written_once_a_change_is_appended_and_both_survive_a_restart(
        tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    assert store.add("11", "topic", "flood", "water everywhere <b>help</b>") is True
    assert store.add("11", "topic", "flood", "water everywhere") is False  # once
    assert store.add("12", "topic", "fire") is True
    assert store.add("11", "topic", "storm") is True  # a changed label: the latest wins
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["id"], r["topic"]) for r in rows] == [("11", "flood"), ("12", "fire"),
                                                    ("11", "storm")]
    assert rows[0]["text"] == "water everywhere <b>help</b>"
    again = LabelStore(path)  # a restarted dashboard knows them all
    assert again.snapshot() == {"11": {"topic": "storm"}, "12": {"topic": "fire"}}
    assert again.add("12", "topic", "fire") is False
    # the stream's classifier reads the same file as a label file
    files = LabelFiles([path], ["topic"])
    learned, rejects = files.poll()
    assert rejects == []
    assert files.applied == {"topic\t11": "storm", "topic\t12": "fire"}
    assert [r.value for r in learned] == ["flood", "fire", "storm"]


@pytest.mark.parametrize(("tweet_id", "name", "value", "why"), [
    ("", "topic", "flood", "id"),
    ("11", "topic", "", "value"),
    ("11", "topic", "two\nlines", "value"),
    ("11", "topic", "x" * 65, "value"),
    ("11", "../../etc", "flood", "label name"),
    ("11", "text", "flood", "label name"),
])
def test_bad_labels_are_refused_with_the_reason(tmp_path: Path, tweet_id: str, name: str,
                                                value: str, why: str) -> None:
    store = LabelStore(tmp_path / "labels.jsonl")
    with pytest.raises(LabelError, match=why):
        store.add(tweet_id, name, value)
    assert not (tmp_path / "labels.jsonl").exists()
