"""[selection] inside `textcl stream`: picks with the live classifier's uncertainty, the
labelling loop through a label file, and re-learning the picks (resumable)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from helpers import Crash

from textcl.classify.heldout import held_out
from textcl.config import config_from_dict
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline

FILLER_TEXT = ("town street people road bridge school market north south east west morning "
               "night today friends family news update photo video near past over under "
               "around still again already truly really maybe seems looks heard told watch "
               "wait stay drive walk bus train car truck boat park hill lake coast farm mall "
               "church")
FILLER = FILLER_TEXT.split()
WORDS = {"flood": ["levee", "water", "sandbags", "river", "rescue"],
         "fire": ["smoke", "blaze", "embers", "acres", "evacuate"]}


def _stream(path: Path, n: int = 1600) -> dict[str, str]:
    """Unlabelled tweets, one a minute, of two topics; id -> topic."""
    truth = {}
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            topic = "flood" if (i * 7) % 3 else "fire"
            words = WORDS[topic]
            filler = " ".join(rng.sample(FILLER, 4))
            text = f"{words[i % 5]} {words[(i * 3 + 1) % 5]} {filler}"
            tweet_id = str(50_000 + i)
            stamp = f"2026-03-01T{i // 60:02d}:{i % 60:02d}:00Z"
            handle.write(json.dumps({"id": tweet_id, "text": text, "created_at": stamp}) + "\n")
            truth[tweet_id] = topic
    return truth


class Annotator:
    """A person who, at each window end, labels the tweets just picked (read from
    OUT/selection/selection.jsonl) by appending them to a label file."""

    name = "annotator"

    def __init__(self, out: Path, labels: Path, truth: dict[str, str]) -> None:
        self.picks, self.labels, self.truth, self.done = out / "selection" / "selection.jsonl", \
            labels, truth, 0

    def update(self, batch) -> None:
        pass

    def end_window(self, window) -> None:
        rows = self.picks.read_text().splitlines()[self.done:]
        self.done += len(rows)
        with self.labels.open("a", encoding="utf-8") as handle:
            for row in map(json.loads, rows):
                handle.write(json.dumps({"id": row["id"], "topic": self.truth[row["id"]]}) + "\n")

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def test_picked_tweets_labelled_while_the_stream_runs_are_learned_and_sharpen_picks(
    tmp_path: Path,
) -> None:
    truth = _stream(tmp_path / "tweets.jsonl")
    labels = tmp_path / "labels.jsonl"
    out = tmp_path / "out"
    data = {"window": {"every": "200", "batch_size": 100},
            "keywords": {"enabled": False}, "word2vec": {"enabled": False},
            "drift": {"enabled": False}, "output": {"checkpoint": False},
            "classifier": {"labels": ["topic"], "label_files": [str(labels)], "chunk": 4},
            "selection": {"enabled": True, "budget": 25}}
    summary = Pipeline(config_from_dict(data, "test")).add(
        Annotator(out, labels, truth)).run(tmp_path / "tweets.jsonl", out)
    picks = [json.loads(r) for r in (out / "selection" / "selection.jsonl").read_text()
             .splitlines()]
    assert len(picks) == 8 * 25
    topic = summary["consumers"]["classifier"]["classifiers"]["topic"]
    # every pick but the last window's (labelled after the stream's last tweet) is learned
    learned = [p["id"] for p in picks if p["window"] < 7 and not held_out(p["id"], 0.1)]
    assert topic["learned"] == topic["late"] == len(learned)
    assert topic["accuracy"] > 0.8
    selection = summary["consumers"]["selection"]
    assert selection["uncertainty"] and selection["uncertain_windows"] >= 6
    later = [p for p in picks if p["window"] >= 2]
    assert later and all("uncertainty_entropy" in p["scores"] for p in later)
    assert "uncertainty_entropy" not in picks[0]["scores"]  # no classifier yet


def test_the_uncertainty_of_an_unknown_classifier_is_refused(tmp_path: Path) -> None:
    data = {"classifier": {"labels": ["topic"]},
            "selection": {"enabled": True, "uncertainty_from": "topics"}}
    with pytest.raises(ValueError, match="'topics' is not a classifier"):
        Pipeline(config_from_dict(data, "test")).run(sample_stream_path(), tmp_path / "o")


RELEARN = {"window": {"every": "2000", "batch_size": 250},
           "keywords": {"enabled": False}, "drift": {"enabled": False},
           "output": {"checkpoint_batches": 2, "checkpoint_seconds": 0,
                      "checkpoint_window_seconds": 0},
           "word2vec": {"snapshots": False},
           "classifier": {"labels": ["topic"]},
           "selection": {"enabled": True, "budget": 40, "relearn": 300, "relearn_share": 0.25,
                         "relearn_fill": "picks",
                         "relearn_to": ["word2vec", "transformer", "classifier"]}}


def test_picks_are_relearned_by_word2vec_and_the_classifier(tmp_path: Path) -> None:
    summary = Pipeline(config_from_dict(RELEARN, "test")).run(sample_stream_path(),
                                                               tmp_path / "o")
    relearn = summary["consumers"]["selection"]["relearn"]
    assert relearn["tweets"] == 300 and relearn["offered"] == summary["windows"] * 40
    # a quarter as many re-learned as new tweets, from the end of the first window on
    first = 2000
    assert relearn["relearned"]["word2vec"] == pytest.approx(0.25 * (summary["tweets"] - first),
                                                             rel=0.01)
    topic = summary["consumers"]["classifier"]["classifiers"]["topic"]
    drawn = relearn["relearned"]["classifier topic"]
    assert 0 < topic["relearned"] < drawn  # only the drawn tweets that carry a topic label
    random = config_from_dict({**RELEARN, "selection": {**RELEARN["selection"],
                                                        "relearn_fill": "random"}}, "test")
    other = Pipeline(random).run(sample_stream_path(), tmp_path / "random")
    assert other["consumers"]["selection"]["relearn"]["fill"] == "random"
    a = np.load(tmp_path / "o" / "word2vec.npz")["vectors"]
    b = np.load(tmp_path / "random" / "word2vec.npz")["vectors"]
    assert a.shape != b.shape or not np.array_equal(a, b)  # other tweets re-learned


def test_a_crashed_run_with_relearning_resumes_exactly(tmp_path: Path) -> None:
    config = config_from_dict(RELEARN, "test")
    whole = Pipeline(config).add(Crash(None)).run(sample_stream_path(), tmp_path / "a")
    out = tmp_path / "b"
    resume = False
    for at in (8, 13, 50):
        with pytest.raises(KeyboardInterrupt):
            Pipeline(config).add(Crash(at)).run(sample_stream_path(), out, resume=resume)
        resume = True
    resumed = Pipeline(config).add(Crash(None)).run(sample_stream_path(), out, resume=True)
    assert resumed["consumers"]["selection"] == whole["consumers"]["selection"]
    a, b = np.load(tmp_path / "a" / "word2vec.npz"), np.load(out / "word2vec.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
    for name in ("selection/selection.csv", "classifier/topic/predictions.jsonl",
                 "classifier/topic/metrics.jsonl"):
        assert (out / name).read_text() == (tmp_path / "a" / name).read_text(), name


def test_representative_fill_keeps_the_tweets_an_event_is_about(tmp_path: Path) -> None:
    """On the sample stream (planted events amid everyday chatter), the tweets kept for
    re-learning are event tweets far more often with `representative` than at random."""
    truth = json.loads((Path(__file__).resolve().parents[2] / "data" /
                        "sample_stream.truth.json").read_text())
    keywords = {k for event in truth["events"] for k in event["keywords"]}
    shares = {}
    for fill in ("representative", "random"):
        data = {**RELEARN, "word2vec": {"enabled": False}, "classifier": {"labels": []},
                "output": {"checkpoint": False},
                "selection": {**RELEARN["selection"], "relearn_fill": fill}}
        summary = Pipeline(config_from_dict(data, "test")).run(sample_stream_path(),
                                                               tmp_path / fill)
        assert summary["consumers"]["selection"]["relearn"]["fill"] == fill
        kept = tmp_path / fill / "selection" / "relearn.jsonl"  # the memory at the end
        memory = [json.loads(line) for line in kept.read_text().splitlines()]
        assert len(memory) == summary["consumers"]["selection"]["relearn"]["tweets"]
        events = [any(k in item["text"].lower() for k in keywords) for item in memory]
        shares[fill] = sum(events) / len(events)
    assert shares["representative"] > shares["random"] + 0.2, shares


def _window_of(consumer, index: int, texts: list[str], first_id: int) -> list[str]:
    """Feed one window of tweets to a selection consumer; return the picked texts."""
    from datetime import UTC, datetime, timedelta

    from textcl.text.tokenize import TweetTokenizer
    from textcl.types import Batch, Tweet, Window

    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=index)
    tweets = [Tweet(str(first_id + i), start + timedelta(minutes=i), text)
              for i, text in enumerate(texts)]
    consumer.update(Batch(index, index, tweets, TweetTokenizer().tokenize_many(texts)))
    before = consumer.selected
    consumer.end_window(Window(index, start, start + timedelta(days=1), len(tweets), 1))
    picked = set(list(consumer._picked_keys)[before:])
    return [(t.id, t.text) for t in tweets if t.id in picked]


def test_a_tweet_labelled_while_streaming_and_its_copies_are_not_offered_again() -> None:
    """The dashboard's loop: once a picked tweet has a label, the next windows do not
    offer its copies (retweets) again; without the label they do (the control)."""
    from textcl.consumers.selection import SelectionConsumer

    rng = random.Random(1)
    filler = [" ".join(rng.sample(FILLER, 6)) for _ in range(450)]
    rumour = "levee breach sandbags rescue boats needed at the river bridge"
    offered = {}
    for labelled in (False, True):
        consumer = SelectionConsumer(None, budget=5, seed=0)
        _window_of(consumer, 0, filler[:150], 1_000)  # the stream before the rumour
        first = _window_of(consumer, 1, [*filler[150:300], *[rumour] * 10], 2_000)
        picked = [tweet_id for tweet_id, text in first if text == rumour]
        assert len(picked) == 1  # typical of its window: picked (once)
        consumer.is_labelled = lambda tweet_id, on=labelled, hit=picked[0]: on and tweet_id == hit
        later = _window_of(consumer, 2, [*filler[300:], *[rumour] * 20], 3_000)
        offered[labelled] = any(text == rumour for _, text in later)
    assert offered == {False: True, True: False}


def test_by_default_relearning_covers_the_window_and_leaves_the_classifiers_alone(
        tmp_path: Path) -> None:
    """The defaults: a representative fill, re-learned by word2vec only (the classifier
    keeps to its own class-balanced replay)."""
    data = {**RELEARN, "selection": {"enabled": True, "budget": 40, "relearn": 300}}
    summary = Pipeline(config_from_dict(data, "test")).run(sample_stream_path(), tmp_path / "o")
    relearn = summary["consumers"]["selection"]["relearn"]
    assert relearn["fill"] == "representative"
    assert set(relearn["relearned"]) == {"word2vec"} and relearn["relearned"]["word2vec"] > 0
    assert summary["consumers"]["classifier"]["classifiers"]["topic"]["relearned"] == 0
