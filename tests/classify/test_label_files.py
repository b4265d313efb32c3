"""Labels from files joined to the stream's tweets by id: ahead of the tweets, late
(written while the stream runs), rewritten in place, bad lines rejected with their line."""

from __future__ import annotations

import json
from pathlib import Path

from textcl.classify.heldout import held_out
from textcl.classify.labels import LabelFiles
from textcl.config import config_from_dict
from textcl.pipeline import Pipeline

WORDS = {"flood": ["levee", "water", "sandbags", "river"],
         "fire": ["smoke", "blaze", "embers", "acres"]}


def _stream(path: Path, n: int = 1200) -> list[tuple[str, str]]:
    """``n`` unlabelled tweets, one a minute, alternating two topics; (id, topic) pairs."""
    truth = []
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            topic = "flood" if i % 2 else "fire"
            words = WORDS[topic]
            text = f"{words[i % 4]} {words[(i + 1) % 4]} near town update {i % 7}"
            tweet_id = str(10_000 + i)
            stamp = f"2026-03-01T{i // 60:02d}:{i % 60:02d}:00Z"  # 20 hours
            handle.write(json.dumps({"id": tweet_id, "text": text, "created_at": stamp}) + "\n")
            truth.append((tweet_id, topic))
    return truth


def _config(label_files: list[str], **extra: object):
    data = {"window": {"every": "300", "batch_size": 100},
            "keywords": {"enabled": False}, "word2vec": {"enabled": False},
            "drift": {"enabled": False}, "output": {"checkpoint": False},
            "classifier": {"labels": ["topic"], "label_files": label_files, **extra}}
    return config_from_dict(data, "test")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_labels_written_ahead_are_joined_when_their_tweets_arrive(tmp_path: Path) -> None:
    truth = _stream(tmp_path / "tweets.jsonl")
    labels = tmp_path / "labels.csv"
    given = truth[::3]
    labels.write_text("id,topic,note\n" + "".join(f"{i},{t},x\n" for i, t in given)
                      + "999999,fire,never streamed\n" + ",flood,no id\n")
    summary = Pipeline(_config([str(labels)])).run(tmp_path / "tweets.jsonl", tmp_path / "o")
    info = summary["consumers"]["classifier"]
    trained = [i for i, _ in given if not held_out(i, 0.1)]
    assert info["classifiers"]["topic"]["learned"] == len(trained)
    assert info["label_files"] == {"labels": len(given) + 1, "joined": len(given),
                                   "not_joined": 1, "rejected": 1}
    (reject,) = _rows(tmp_path / "o" / "classifier" / "label_rejects.jsonl")
    assert reject["source"] == str(labels) and reject["line"] == len(given) + 3
    assert "without an id" in reject["reason"]
    assert any("label_rejects.jsonl" in w for w in summary["warnings"])
    predictions = _rows(tmp_path / "o" / "classifier" / "topic" / "predictions.jsonl")
    assert not any(p["late"] for p in predictions)
    assert info["classifiers"]["topic"]["accuracy"] > 0.8


class LateLabeller:
    """A person labelling each window's tweets once the window has ended: appends their
    labels to a JSON-lines file (the classifier reads it while the stream goes on)."""

    name = "labeller"

    def __init__(self, path: Path, truth: dict[str, str]) -> None:
        self.path, self.truth, self.pending = path, truth, []

    def update(self, batch) -> None:
        self.pending += [t.id for t in batch.tweets]

    def end_window(self, window) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            for tweet_id in self.pending:
                handle.write(json.dumps({"id": tweet_id, "topic": self.truth[tweet_id]}) + "\n")
        self.pending = []

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def test_labels_that_arrive_after_their_tweets_are_learned_late(tmp_path: Path) -> None:
    truth = _stream(tmp_path / "tweets.jsonl")
    labels = tmp_path / "late.jsonl"
    labeller = LateLabeller(labels, dict(truth))
    summary = Pipeline(_config([str(labels)])).add(labeller).run(
        tmp_path / "tweets.jsonl", tmp_path / "o")
    topic = summary["consumers"]["classifier"]["classifiers"]["topic"]
    predictions = _rows(tmp_path / "o" / "classifier" / "topic" / "predictions.jsonl")
    # windows 0-2 are labelled while the stream goes on; the last window's labels come
    # after its last batch, so they wait for a stream that never continues
    assert all(p["late"] for p in predictions) and topic["late"] == len(predictions)
    expected = [i for i, _ in truth[:900] if not held_out(i, 0.1)]
    assert [p["id"] for p in predictions] == expected
    assert topic["accuracy"] > 0.8


def test_a_file_rewritten_in_place_teaches_only_the_changed_labels(tmp_path: Path) -> None:
    path = tmp_path / "selection.csv"
    files = LabelFiles([path], ["topic"])
    assert files.poll() == ([], [])  # not written yet: nothing, no error
    path.write_text("window,id,text,label\n0,1,a,\n0,2,b,\n")
    assert files.poll() == ([], [])  # nobody labelled yet
    path.write_text("window,id,text,label\n0,1,a,fire\n0,2,b,\n")
    rows, _ = files.poll()
    assert [(r.id, r.value) for r in rows] == [("1", "fire")]
    path.write_text("window,id,text,label\n0,1,a,fire\n0,2,b,flood\n#\n")
    rows, _ = files.poll()
    assert [(r.id, r.value) for r in rows] == [("2", "flood")]  # "1" unchanged: not again
    path.write_text("window,id,text,label\n0,1,a,smoke\n0,2,b,flood\n")
    rows, _ = files.poll()
    assert [(r.id, r.value) for r in rows] == [("1", "smoke")]  # a relabel


def test_a_label_file_without_an_id_or_label_column_names_what_is_missing(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("tweet,topic\nhello,fire\n")
    _, rejects = LabelFiles([path], ["topic"]).poll()
    assert rejects[0].line == 1 and "no id column" in rejects[0].reason
    path.write_text("id,label\n1,fire\n")
    _, rejects = LabelFiles([path], ["topic", "other"]).poll()
    assert "no label column" in rejects[0].reason and "name the column" in rejects[0].reason
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"id": "1", "topic": "fire"}\n{"id": 2, "topic"\n[1, 2]\n')
    rows, rejects = LabelFiles([bad_json], ["topic"]).poll()
    assert [r.id for r in rows] == ["1"]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [
        (2, "not JSON"), (3, "a line must be a JSON object")]
