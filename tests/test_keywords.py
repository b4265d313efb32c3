"""Keyword tracker, drift alarms and the keyword consumer."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from textcl.consumers.keywords import KeywordConsumer, neighbours_from_model
from textcl.keywords import DriftAlarms, KeywordTracker
from textcl.paths import sample_stream_path, sample_truth_path
from textcl.stream.readers import read_tweets
from textcl.stream.timeparse import to_iso
from textcl.stream.tokenize import TweetTokenizer
from textcl.stream.window import BatchEvent, Windower
from textcl.types import Batch, Window

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def sample_events() -> list[tuple[str, object]]:
    """The sample stream as ("batch", tokens) / ("window", Window) events, daily windows."""
    tokenizer = TweetTokenizer()
    windower = Windower(1000, "1d")
    events: list[tuple[str, object]] = []

    def push():
        for tweet in read_tweets(sample_stream_path()):
            yield from windower.push(tweet)
        yield from windower.finish()

    for event in push():
        if isinstance(event, BatchEvent):
            events.append(("batch", tokenizer.tokenize_many([t.text for t in event.tweets])))
        else:
            events.append(("window", event.window))
    return events


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads(sample_truth_path().read_text(encoding="utf-8"))


def run(tracker: KeywordTracker, events, start: int = 0, stop: int | None = None) -> list[dict]:
    out: list[dict] = []
    for kind, item in events[start:stop]:
        if kind == "batch":
            tracker.update(item)
        else:
            out += tracker.end_window(item.start, item.end)
    return out


@pytest.fixture(scope="module")
def default_run(sample_events) -> list[dict]:
    return run(KeywordTracker(), sample_events)


def test_planted_events_enter_during_and_leave_after(default_run, truth) -> None:
    for event in truth["events"]:
        start, end = _iso(event["start"]), _iso(event["end"])
        good = []
        for term in event["keywords"]:
            ins = [
                _iso(t["time"]) for t in default_run if t["term"] == term and t["action"] == "in"
            ]
            outs = [
                _iso(t["time"]) for t in default_run if t["term"] == term and t["action"] == "out"
            ]
            # `time` is the window end: the entering window overlaps the event span
            entered = [t for t in ins if start < t and t - DAY < end]
            if entered and any(o >= end and o > entered[0] for o in outs):
                good.append(term)
        assert good, f"no keyword of {event['name']} entered in its span and left after it"
        assert len(good) >= 3 or event is truth["events"][-1], (event["name"], good)


def test_transitions_well_formed(default_run) -> None:
    assert default_run
    members: set[str] = set()
    times = [t["time"] for t in default_run]
    assert times == sorted(times)
    for t in default_run:
        assert set(t) == {"time", "term", "action", "score", "reason"}
        assert t["time"].endswith("Z")
        if t["action"] == "in":
            assert t["term"] not in members
            members.add(t["term"])
        else:
            assert t["action"] == "out" and t["term"] in members
            members.discard(t["term"])


def test_background_words_do_not_churn(sample_events, default_run, truth) -> None:
    keywords = {k for e in truth["events"] for k in e["keywords"]}
    shifted = set()
    for s in truth["shifted_words"]:
        shifted.add(s["word"])
        for p in s["periods"]:
            shifted.update(p["context_words"])
    event_vocab: set[str] = set()
    vocab: Counter[str] = Counter()
    for kind, item in sample_events:
        if kind == "batch":
            for tokens in item:
                vocab.update(tokens)
                if keywords.intersection(tokens):
                    event_vocab.update(tokens)
    background = {t for t, c in vocab.items() if c >= 20} - event_vocab - shifted
    assert len(background) > 100
    entries = Counter(t["term"] for t in default_run if t["action"] == "in")
    churn = {t: c for t, c in entries.items() if t in background}
    assert all(c <= 1 for c in churn.values()), churn
    assert sum(churn.values()) <= 8, churn


def test_bounded_memory_under_unique_flood() -> None:
    tracker = KeywordTracker(capacity=2000, min_count=1, enter=3)
    rng = random.Random(1)
    serial = 0
    for w in range(30):
        for _ in range(5):
            batch = []
            for _ in range(200):
                batch.append([f"u{serial + i}" for i in range(8)] + ["common", "words"])
                serial += 8
            tracker.update(batch)
            assert tracker.window_size <= 2000
        tracker.end_window(T0 + w * DAY, T0 + (w + 1) * DAY)
        assert tracker.baseline_size <= 2000
        assert len(tracker) <= tracker.size
    assert serial > 200_000  # far more distinct terms than the capacity
    assert tracker.last_stats["oov_rate"] > 0.5
    assert rng  # seeded, deterministic


def _window(tracker: KeywordTracker, w: int, counts: dict[str, int]) -> list[dict]:
    """One synthetic window: 200 tweets of filler plus ``counts`` extra occurrences."""
    tokens = [["filler", f"common{i % 20}"] for i in range(200)]
    for term, c in counts.items():
        tokens += [[term]] * c
    tracker.update(tokens)
    return tracker.end_window(T0 + w * DAY, T0 + (w + 1) * DAY)


def test_hysteresis_k_windows_to_enter_m_to_leave() -> None:
    tracker = KeywordTracker(k=2, m=2, min_count=1, ignore=())
    for w in range(5):
        assert _window(tracker, w, {}) == []
    # a one-window burst (k=2) does not enter
    assert _window(tracker, 5, {"spike": 60}) == []
    assert _window(tracker, 6, {}) == []
    assert "spike" not in tracker
    # two consecutive windows above enter do
    assert _window(tracker, 7, {"storm": 60}) == []
    events = _window(tracker, 8, {"storm": 60})
    assert [(e["term"], e["action"]) for e in events] == [("storm", "in")]
    assert events[0]["time"] == to_iso(T0 + 9 * DAY)
    # m=2: one quiet window is not enough to leave, the second is
    assert _window(tracker, 9, {}) == []
    assert "storm" in tracker
    events = _window(tracker, 10, {})
    assert [(e["term"], e["action"]) for e in events] == [("storm", "out")]
    # with k=1 the one-window spike would have entered
    quick = KeywordTracker(k=1, min_count=1, ignore=())
    for w in range(5):
        _window(quick, w, {})
    assert [e["term"] for e in _window(quick, 5, {"spike": 60})] == ["spike"]


def test_capacity_evicts_lowest_score_and_min_dwell() -> None:
    tracker = KeywordTracker(size=2, min_count=1, ignore=(), min_dwell=1)
    for w in range(3):
        _window(tracker, w, {})
    _window(tracker, 3, {"aa": 30, "bb": 40, "cc": 50})
    assert {x["term"] for x in tracker.current()} == {"bb", "cc"}
    events = _window(tracker, 4, {"aa": 30, "bb": 40, "cc": 50, "dd": 300})
    assert {"term": "dd", "action": "in"}.items() <= events[-1].items()
    assert len(tracker) <= 2 and "dd" in tracker


def test_pinned_terms_never_leave(sample_events) -> None:
    tracker = KeywordTracker(pinned=["wildfire", "zzzunseen"])
    events = run(tracker, sample_events)
    pinned = [e for e in events if e["term"] in ("wildfire", "zzzunseen")]
    assert {(e["term"], e["action"], e["reason"]) for e in pinned} == {
        ("wildfire", "in", "pinned"),
        ("zzzunseen", "in", "pinned"),
    }
    assert {"wildfire", "zzzunseen"} <= {x["term"] for x in tracker.current()}


def test_state_dict_round_trip_gives_identical_transitions(sample_events) -> None:
    half = len(sample_events) // 2
    full = KeywordTracker()
    run(full, sample_events, 0, half)
    state = json.loads(json.dumps(full.state_dict()))
    rest_full = run(full, sample_events, half)
    resumed = KeywordTracker()
    resumed.load_state_dict(state)
    rest_resumed = run(resumed, sample_events, half)
    assert rest_full and rest_resumed == rest_full
    assert resumed.current() == full.current()


def test_relevance_pulls_in_neighbours_of_the_set() -> None:
    near = {"tremor": ["quake", "aftershock"]}

    def build(neighbours):
        tracker = KeywordTracker(min_count=1, ignore=(), relevance=1.0, neighbours=neighbours)
        for w in range(4):
            _window(tracker, w, {})
        assert [e["term"] for e in _window(tracker, 4, {"aftershock": 60})] == ["aftershock"]
        return _window(tracker, 5, {"aftershock": 60, "tremor": 4})

    assert build(None) == []
    events = build(lambda t: near.get(t, []))
    assert [e["term"] for e in events] == ["tremor"]
    assert "relevance 0.50" in events[0]["reason"]


def _series(values: list[float], alarms: DriftAlarms, name: str = "oov_rate") -> list[dict]:
    out = []
    for i, v in enumerate(values):
        out += alarms.update({name: v}, to_iso(T0 + i * DAY))
    return out


def test_alarms_fire_on_jump_not_on_stationary_series() -> None:
    rng = random.Random(3)
    stationary = [0.05 + rng.gauss(0, 0.01) for _ in range(120)]
    assert _series(stationary, DriftAlarms()) == []
    churn = [float(rng.randint(8, 14)) for _ in range(120)]
    assert _series(churn, DriftAlarms(), "churn") == []
    jump = [0.05 + rng.gauss(0, 0.01) for _ in range(40)]
    jump += [0.30 + rng.gauss(0, 0.01) for _ in range(40)]
    alarms = _series(jump, DriftAlarms())
    assert alarms
    assert {a["detector"] for a in alarms} == {"adwin", "page_hinkley"}
    first = min(_iso(a["time"]) for a in alarms)
    assert T0 + 40 * DAY <= first <= T0 + 46 * DAY
    assert all(a["statistic"] == "oov_rate" and a["value"] > 0.2 for a in alarms)
    # statistics outside the watched list are ignored
    assert _series(jump, DriftAlarms(statistics=["churn"])) == []


def test_alarms_state_round_trip() -> None:
    rng = random.Random(5)
    values = [0.05 + rng.gauss(0, 0.01) for _ in range(30)] + [0.4] * 30
    a = DriftAlarms()
    first = _series(values[:35], a)
    b = DriftAlarms()
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert b.alarms == a.alarms == len(first)
    rest = [v for v in values[35:]]
    assert _series(rest, a) == _series(rest, b)


def test_consumer_writes_files(sample_events, tmp_path: Path) -> None:
    class Model:
        def __contains__(self, term: str) -> bool:
            return term == "wildfire"

        def most_similar(self, term: str, topn: int):
            return [("blaze", 0.9), ("smoke", 0.8)][:topn]

    consumer = KeywordConsumer(
        KeywordTracker(), tmp_path, DriftAlarms(), neighbours_from_model(Model())
    )
    assert consumer.tracker.neighbours("wildfire") == ["blaze", "smoke"]
    assert consumer.tracker.neighbours("other") == []
    batch_index = 0
    for kind, item in sample_events:
        if kind == "batch":
            consumer.update(Batch(batch_index, 0, [], item))
            batch_index += 1
        else:
            assert isinstance(item, Window)
            consumer.observe("w2v_loss", 1.0)
            consumer.end_window(item)
    summary = consumer.summary()
    consumer.close(tmp_path)
    lines = (tmp_path / "keywords.jsonl").read_text().splitlines()
    assert len(lines) == summary["transitions"] > 0
    assert json.loads(lines[0])["action"] == "in"
    final = json.loads((tmp_path / "keywords_final.json").read_text())
    assert final == consumer.tracker.current()
    assert all(set(x) == {"term", "score", "since"} for x in final)
    assert len(summary["keywords"]) == min(20, len(final))
    alarms = (tmp_path / "alarms.jsonl").read_text().splitlines()
    assert len(alarms) == summary["alarms"]
    # the sample stream opens with an all-new vocabulary: OOV falls from 1.0
    state = json.loads(json.dumps(consumer.state_dict()))
    again = KeywordConsumer(KeywordTracker(), None, DriftAlarms())
    again.load_state_dict(state)
    assert again.tracker.current() == consumer.tracker.current()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        KeywordTracker(enter=1.0, leave=2.0)
    with pytest.raises(ValueError):
        KeywordTracker(size=0)
    with pytest.raises(ValueError):
        DriftAlarms(detectors=("kswin",))
