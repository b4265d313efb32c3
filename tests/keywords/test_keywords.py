"""Keyword tracker, drift alarms and the keyword consumer."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from textcl.input.readers import read_tweets
from textcl.input.timeparse import to_iso
from textcl.keywords import KeywordTracker
from textcl.keywords.background import wordfreq_background
from textcl.keywords.tracker import default_ignore
from textcl.paths import sample_stream_path, sample_truth_path
from textcl.text.tokenize import TweetTokenizer
from textcl.window import BatchEvent, Windower

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
def background():
    return wordfreq_background()


@pytest.fixture(scope="module")
def default_run(sample_events, background) -> list[dict]:
    return run(KeywordTracker(background=background), sample_events)


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
            # the last event runs into the stream's last window: it cannot be seen leaving
            last = event is truth["events"][-1]
            if entered and (last or any(o >= end and o > entered[0] for o in outs)):
                good.append(term)
        assert len(good) >= 3, (event["name"], good)


def test_transitions_well_formed(default_run) -> None:
    assert default_run
    members: set[str] = set()
    times = [t["time"] for t in default_run]
    assert times == sorted(times)
    for t in default_run:
        assert set(t) == {"time", "term", "action", "score", "reason", "group"}
        assert t["time"].endswith("Z") and t["group"] >= 1 and t["reason"]
        if t["action"] == "in":
            assert t["term"] not in members
            members.add(t["term"])
        else:
            assert t["action"] == "out" and t["term"] in members
            members.discard(t["term"])


def test_chatter_never_crowds_out_an_ongoing_event(sample_events, default_run, truth) -> None:
    """Chatter may fill free slots, but never pushes out a planted event's keyword while
    the event runs, and each planted event holds most of its keywords at its peak."""
    keywords = {k: e for e in truth["events"] for k in e["keywords"]}
    for t in default_run:
        if t["action"] == "out" and t["term"] in keywords and "evicted by" in t["reason"]:
            event = keywords[t["term"]]
            evictor = t["reason"].split("evicted by ")[1]
            window_end = _iso(t["time"])
            running = _iso(event["start"]) <= window_end - DAY and window_end <= _iso(event["end"])
            assert not running or evictor in keywords, t
    members: set[str] = set()
    at_end: dict[str, set[str]] = {}
    for t in default_run:
        (members.add if t["action"] == "in" else members.discard)(t["term"])
        at_end[t["time"]] = set(members)
    for event in truth["events"]:
        peak = _iso(event["peak"])
        end_of_peak_day = to_iso(datetime(peak.year, peak.month, peak.day, tzinfo=UTC) + DAY)
        held = at_end[max(t for t in at_end if t <= end_of_peak_day)]
        assert len(held & set(event["keywords"])) >= 8, (event["name"], held)


def test_bounded_memory_under_unique_flood() -> None:
    tracker = KeywordTracker(capacity=2000, min_count=1, enter=3)
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
        assert len(tracker._evidence) <= 2000
        assert len(tracker) <= tracker.size
    assert serial > 200_000  # far more distinct terms than the capacity
    assert tracker.last_stats["oov_rate"] > 0.5


class _Rates:
    """A tiny background: every listed word has rate 1e-3, everything else 1e-7."""

    def __init__(self, words):
        self.words = set(words)

    def rate(self, term: str) -> float:
        return 1e-3 if term in self.words else 1e-7


FILLER = [f"word{i}" for i in range(200)]
BACKGROUND = _Rates(FILLER)


def _tweets(n: int, extra: dict[str, int], salt: str) -> list[list[str]]:
    """``n`` distinct ordinary tweets (5 filler words each), plus ``extra`` tweets holding
    a term (``{"term a+term b": count}``: several terms in the same tweets)."""
    tweets = [[FILLER[(i * 7 + j * 13) % 200] for j in range(5)] + [f"{salt}{i}"]
              for i in range(n)]
    for terms, c in extra.items():
        for i in range(c):
            tweets.append([*terms.split("+"), FILLER[i % 200], f"{salt}x{terms}{i}"])
    return tweets


def _window(tracker: KeywordTracker, w: int, extra: dict[str, int], n: int = 200,
            skipped: int = 0) -> list[dict]:
    tracker.update(_tweets(n, extra, f"s{w}_"))
    return tracker.end_window(T0 + w * DAY, T0 + (w + 1) * DAY, skipped)


def _tracker(**kwargs) -> KeywordTracker:
    # each tweet's salt token occurs once: below min_count, never scored
    return KeywordTracker(background=BACKGROUND, **kwargs)  # type: ignore[arg-type]


def _terms(events: list[dict], action: str = "in") -> list[str]:
    return [e["term"] for e in events if e["action"] == action]


def test_first_window_yields_keywords_with_a_background() -> None:
    tracker = _tracker(carry=0)
    assert "#quake" in _terms(_window(tracker, 0, {"#quake": 30}))


def test_scale_free_a_common_word_slightly_above_its_rate_never_enters() -> None:
    """1.5x a word's reference rate is not an event, however big the window; a hashtag
    at 1% of the tokens is one, in a small window and in a big one."""
    for n in (200, 20_000):
        tracker = _tracker(carry=0)
        tweets = _tweets(n, {}, "big")
        total = sum(map(len, tweets))
        # word5 has rate 1e-3 in the background; add it to 1.5x its share of the window
        extra = int(0.5 * 1e-3 * total * 6) + 1
        tweets += [["word5", f"w5x{i}"] for i in range(extra)]
        tweets += [["#flood", f"fl{i}"] for i in range(max(3, total // 100))]
        tracker.update(tweets)
        terms = {e["term"] for e in tracker.end_window(T0, T0 + DAY) if e["action"] == "in"}
        assert "#flood" in terms and "word5" not in terms, (n, sorted(terms)[:10])


def test_a_rare_term_of_an_ongoing_event_stays_and_leaves_with_it() -> None:
    tracker = _tracker(carry=0)
    # day 0: the event starts; its rare hashtag is written with the main one
    _window(tracker, 0, {"#flood+#levee": 5, "#flood": 40})
    assert "#levee" in tracker and "#flood" in tracker
    # days 1-4: the event goes on without #levee
    for w in range(1, 5):
        _window(tracker, w, {"#flood": 20})
        assert "#levee" in tracker, w
    # the event stops: both leave within 2 windows
    gone = []
    for w in range(5, 7):
        gone += _terms(_window(tracker, w, {}), "out")
    assert {"#flood", "#levee"} <= set(gone)
    groups = {e["group"] for e in tracker.events()}
    assert not groups


def test_unrelated_events_form_separate_groups() -> None:
    tracker = _tracker(carry=0)
    _window(tracker, 0, {"#flood+#levee": 10, "#fire+#smoke": 10})
    _window(tracker, 1, {"#flood+#levee": 10, "#fire+#smoke": 10})
    events = tracker.events()
    groups = [set(e["terms"]) for e in events]
    assert {"#flood", "#levee"} in groups and {"#fire", "#smoke"} in groups, groups


def test_retweets_of_one_tweet_count_once() -> None:
    tracker = _tracker(carry=0)
    tweets = _tweets(200, {"#news": 10}, "r")
    tweets += [["rt", "@user", "shanaynay", "hurricane", "joke"]] * 40
    tracker.update(tweets)
    terms = {e["term"] for e in tracker.end_window(T0, T0 + DAY)}
    assert "#news" in terms and "shanaynay" not in terms


def test_hysteresis_k_windows_to_enter_m_to_leave() -> None:
    tracker = _tracker(k=2, m=2, carry=0)
    for w in range(3):
        assert _terms(_window(tracker, w, {})) == []
    # a one-window burst (k=2) does not enter
    assert _terms(_window(tracker, 3, {"#spike": 60})) == []
    assert _terms(_window(tracker, 4, {})) == []
    assert "#spike" not in tracker
    # two consecutive windows above enter do
    assert _terms(_window(tracker, 5, {"#storm": 60})) == []
    events = _window(tracker, 6, {"#storm": 60})
    assert _terms(events) == ["#storm"]
    assert events[0]["time"] == to_iso(T0 + 7 * DAY)
    assert tracker.current()[0]["since"] == to_iso(T0 + 6 * DAY)  # the window it came in
    # m=2: one quiet window is not enough to leave, the second is
    assert _terms(_window(tracker, 7, {}), "out") == []
    assert "#storm" in tracker
    assert _terms(_window(tracker, 8, {}), "out") == ["#storm"]


def test_capacity_evicts_lowest_priority() -> None:
    tracker = _tracker(size=2, carry=0)
    _window(tracker, 0, {"#aa": 5, "#bb": 40, "#cc": 50})
    assert {x["term"] for x in tracker.current()} == {"#bb", "#cc"}
    events = _window(tracker, 1, {"#aa": 5, "#bb": 40, "#cc": 50, "#dd": 300})
    assert ("#dd", "in") in {(e["term"], e["action"]) for e in events}
    assert ("#bb", "out") in {(e["term"], e["action"]) for e in events}
    assert "evicted by #dd" in next(e["reason"] for e in events if e["term"] == "#bb")
    assert len(tracker) == 2 and "#dd" in tracker


def test_a_silent_stream_empties_the_set() -> None:
    tracker = _tracker(carry=0)
    _window(tracker, 0, {"#flood": 40})
    assert "#flood" in tracker
    # the next tweets arrive 30 windows later, about something else
    events = _window(tracker, 31, {"#fire": 40}, skipped=30)
    assert ("#flood", "out") in {(e["term"], e["action"]) for e in events}
    assert "no tweets for 30 window(s)" in events[0]["reason"]
    assert "#fire" in tracker and "#flood" not in tracker


def test_pinned_terms_never_leave(sample_events, background) -> None:
    tracker = KeywordTracker(background=background, pinned=["wildfire", "zzzunseen"])
    events = run(tracker, sample_events)
    pinned = [e for e in events if e["term"] in ("wildfire", "zzzunseen")]
    assert {(e["term"], e["action"], e["reason"]) for e in pinned} == {
        ("wildfire", "in", "pinned"),
        ("zzzunseen", "in", "pinned"),
    }
    assert {"wildfire", "zzzunseen"} <= {x["term"] for x in tracker.current()}


@pytest.mark.parametrize("cut", [0.5, 0.37])  # at a window end and inside a window
def test_state_dict_round_trip_gives_identical_transitions(sample_events, background, cut) -> None:
    half = int(len(sample_events) * cut)
    full = KeywordTracker(background=background)
    run(full, sample_events, 0, half)
    state = json.loads(json.dumps(full.state_dict()))
    rest_full = run(full, sample_events, half)
    resumed = KeywordTracker(background=background)
    resumed.load_state_dict(state)
    rest_resumed = run(resumed, sample_events, half)
    assert rest_full and rest_resumed == rest_full
    assert resumed.current() == full.current()


def _crisislex_days(t26):
    """CrisisLex T26 in time order as daily windows of token lists, with the truth: each
    event's one-token collection keywords written at least 5 times in its tweets."""
    tokenizer = TweetTokenizer()
    tweets = sorted(read_tweets(t26, "crisislex"), key=lambda t: (t.created_at, t.id))
    tokens = tokenizer.tokenize_many([t.text for t in tweets])
    days: dict = {}
    written: dict[str, Counter[str]] = {}
    for tweet, toks in zip(tweets, tokens, strict=True):
        day = days.setdefault(tweet.created_at.date(), {"tokens": [], "events": Counter()})
        day["tokens"].append(toks)
        event = tweet.labels["event"]
        day["events"][event] += 1
        written.setdefault(event, Counter()).update(toks)
    keywords = {}
    for folder in sorted(p for p in t26.iterdir() if p.is_dir()):
        desc = json.loads(next(folder.glob("*-event_description.json")).read_text())
        single = [tokenizer(k) for k in desc["keywords"] if " " not in k.strip()]
        keywords[folder.name] = {
            t[0] for t in single if len(t) == 1 and written[folder.name][t[0]] >= 5
        }
    return list(days.items()), keywords


def test_defaults_follow_real_crisis_events(background, crisislex_t26) -> None:
    """CrisisLex T26: on each day with at least 5 tweets of an event, the default set
    holds most of the event's collection hashtags; the daily top-50 by frequency does not."""
    days, keywords = _crisislex_days(crisislex_t26)
    tracker = KeywordTracker(background=background)
    ignore = default_ignore()
    ours, freq = [], []
    for day, info in days:
        tracker.update(info["tokens"])
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        tracker.end_window(start, start + DAY)
        members = {x["term"] for x in tracker.current()}
        counts = Counter(t for toks in info["tokens"] for t in toks if t not in ignore)
        top = {t for t, _ in counts.most_common(50)}
        for event, n in info["events"].items():
            kws = keywords[event]
            if n >= 5 and kws:
                ours.append(len(kws & members) / len(kws))
                freq.append(len(kws & top) / len(kws))
    assert len(ours) > 300
    mean_ours, mean_freq = sum(ours) / len(ours), sum(freq) / len(freq)
    assert mean_ours >= 0.75 and mean_ours >= mean_freq + 0.25, (mean_ours, mean_freq)


def test_leading_keywords_rank_terms_by_time_held(tmp_path) -> None:
    from textcl.keywords.history import leading_keywords

    rows = [
        ("2026-03-01T00:00:00+00:00", "a", "in"),
        ("2026-03-01T00:00:00+00:00", "b", "in"),
        ("2026-03-02T00:00:00+00:00", "a", "out"),  # a: 1 day
        ("2026-03-02T00:00:00+00:00", "c", "in"),
        ("2026-03-05T00:00:00+00:00", "c", "out"),  # c: 3 days
        ("2026-03-06T00:00:00+00:00", "a", "in"),  # a: +0 (still in at the log's end)
    ]  # b: in to the end, 5 days
    log = tmp_path / "keywords.jsonl"
    lines = [json.dumps({"time": t, "term": w, "action": a}) for t, w, a in rows]
    log.write_text("\n".join(lines) + "\n")
    assert leading_keywords(log, 2) == ["b", "c"]
    assert leading_keywords(log, 5) == ["b", "c", "a"]
    assert leading_keywords(tmp_path / "missing.jsonl", 3) == []
