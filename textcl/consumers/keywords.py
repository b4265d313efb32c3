"""The keyword tracker (and optional drift alarms) as a stream consumer.

Writes, under ``out_dir``:

* ``keywords.jsonl``: the set's transitions in order
  (``{"time", "term", "action", "score", "reason"}``), flushed at each window end;
* ``events.jsonl``: at each window end, the event groups of the set then, with their
  terms, since when, up to three representative tweets of the window (ids, texts), and
  the ``bursts`` the group held this window (terms written about together beyond
  chance, each with its own tweets) and its ``loose`` terms;
* ``alarms.jsonl``: drift alarms (``{"time", "statistic", "detector", "value"}``), when
  ``alarms`` is given, and event alarms: an event group of the set holding ``event_terms`` terms
  at once for the first time (``{"time", "statistic": "event", "detector": "keywords",
  "value": terms, "group", "since": when the event began, "terms"}``);
* ``keywords_final.json`` at :meth:`close`: the final set (``term``, ``score``, ``since``,
  ``group``: the id of the term's event group);
* ``events.json`` at :meth:`close`: every event group the set held, most recent first
  (``group``, ``since``, ``until``: the window end it went quiet, ``None`` if ongoing,
  ``terms``, ``peak``), so a stream whose events are over still shows what it was about.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import orjson
from pydantic import Field, field_validator

from textcl.consumers.spec import BuildContext, ConsumerSpec, Rows
from textcl.drift.alarms import DriftAlarms
from textcl.input.timeparse import to_iso
from textcl.keywords.background import DEFAULT_LANGUAGES, HASHTAG_SHARE
from textcl.keywords.examples import EventExamples
from textcl.keywords.tracker import KeywordTracker
from textcl.outputs import open_output
from textcl.section import Section, at_most
from textcl.types import Batch, Window

if TYPE_CHECKING:
    from textcl.config import PipelineConfig
    from textcl.keywords.background import Background

SUMMARY_TERMS = 20
SUMMARY_EVENTS = 5
SUMMARY_EVENT_TERMS = 8


class KeywordConsumer:
    """Feeds micro-batches to a :class:`KeywordTracker`; at each window end applies the
    in/out logic, writes the transitions and feeds the window statistics (OOV rate,
    keyword churn, plus anything given to :meth:`observe`) to the drift alarms.

    Args:
        tracker: the tracker (a default one when ``None``).
        out_dir: folder for ``keywords.jsonl``, ``alarms.jsonl``, ``keywords_final.json``.
        alarms: drift alarms over the window statistics, or ``None``.
        event_terms: terms an event group must hold at once to raise its (one) event
            alarm (0: no event alarms).
    """

    name = "keywords"

    def __init__(
        self,
        tracker: KeywordTracker | None = None,
        out_dir: Path | None = None,
        alarms: DriftAlarms | None = None,
        event_terms: int = 3,
    ) -> None:
        self.event_terms = event_terms
        self.tracker = tracker if tracker is not None else KeywordTracker()
        self.alarms = alarms
        self.out_dir = out_dir
        self.transitions = 0
        self.alarm_count = 0
        self.event_alarm_count = 0
        self.last_alarms: list[dict[str, Any]] = []
        self._extra: dict[str, float] = {}
        # Called at each window end for more alarm statistics (e.g. the word2vec loss).
        self.window_statistics: Callable[[], dict[str, float]] | None = None
        self._fh: IO[bytes] | None = None
        self._alarm_fh: IO[bytes] | None = None
        self._events_fh: IO[bytes] | None = None
        self.examples: EventExamples | None = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            self._fh = open_output(out_dir / "keywords.jsonl")
            self._events_fh = open_output(out_dir / "events.jsonl")
            self.examples = EventExamples()
            if alarms is not None or event_terms > 0:
                self._alarm_fh = open_output(out_dir / "alarms.jsonl")

    def observe(self, statistic: str, value: float) -> None:
        """Add a statistic (e.g. ``w2v_loss``) to the current window's alarm input."""
        self._extra[statistic] = float(value)

    def update(self, batch: Batch) -> None:
        self.tracker.update(batch.tokens)
        if self.examples is not None:
            offer = self.examples.offer
            for tweet, tokens in zip(batch.tweets, batch.tokens, strict=True):
                offer(tweet.id, tweet.text, tokens)

    def end_window(self, window: Window) -> list[dict[str, Any]]:
        events = self.tracker.end_window(window.start, window.end, window.skipped)
        self.transitions += len(events)
        if self._fh is not None:
            for event in events:
                self._fh.write(orjson.dumps(event) + b"\n")
            self._fh.flush()
        self._write_events(window)
        alarms = self._event_alarms(window)
        self.event_alarm_count += len(alarms)
        if self.alarms is not None:
            stats = {
                "oov_rate": self.tracker.last_stats["oov_rate"],
                "churn": self.tracker.last_stats["churn"],
                **(self.window_statistics() if self.window_statistics else {}),
                **self._extra,
            }
            alarms += self.alarms.update(stats, to_iso(window.end))
        self.last_alarms = alarms
        self.alarm_count += len(alarms)
        if self._alarm_fh is not None and alarms:
            for alarm in alarms:
                self._alarm_fh.write(orjson.dumps(alarm) + b"\n")
            self._alarm_fh.flush()
        self._extra = {}
        return events

    def _write_events(self, window: Window) -> None:
        """One ``events.jsonl`` line per event group of the set, with example tweets."""
        if self._events_fh is None or self.examples is None:
            return
        since = {e["group"]: e["since"] for e in self.tracker.event_log.events()}
        for event in self.tracker.events():
            bursts, loose = self.examples.bursts(event["terms"])
            row = {"window": window.index, "time": to_iso(window.end), "group": event["group"],
                   "since": since.get(event["group"]), "terms": event["terms"],
                   "tweets": self.examples.pick(event["terms"]),
                   "bursts": [{"terms": b, "tweets": self.examples.pick(b)} for b in bursts],
                   "loose": loose}
            self._events_fh.write(orjson.dumps(row) + b"\n")
        self._events_fh.flush()
        self.examples.clear()

    def _event_alarms(self, window: Window) -> list[dict[str, Any]]:
        """One alarm per event group, when it first holds ``event_terms`` terms at once."""
        if self.event_terms <= 0:
            return []
        live = self.tracker.groups.terms()
        return [
            {"time": to_iso(window.end), "statistic": "event", "detector": "keywords",
             "value": float(len(live.get(rec["group"], []))), "group": rec["group"],
             "since": rec["since"], "terms": live.get(rec["group"], rec["terms"])}
            for rec in sorted(
                self.tracker.event_log.newly_reached(self.event_terms), key=lambda r: r["group"]
            )
        ]

    def top_terms(self, n: int) -> list[str]:
        """The ``n`` best-scored members of the set now (probe terms that follow it)."""
        return [row["term"] for row in self.tracker.current()[:n]]

    def summary(self) -> dict[str, Any]:
        current = self.tracker.current()
        return {
            "keywords": current[:SUMMARY_TERMS],
            "set_size": len(current),
            "events": [
                {"group": e["group"], "terms": e["terms"][:SUMMARY_EVENT_TERMS]}
                for e in self.tracker.events()[:SUMMARY_EVENTS]
            ],
            "past_events": [
                {**e, "terms": e["terms"][:SUMMARY_EVENT_TERMS]}
                for e in self.tracker.event_log.largest(SUMMARY_EVENTS, ended_only=True)
            ],
            "transitions": self.transitions,
            "alarms": self.alarm_count,
            "event_alarms": self.event_alarm_count,
        }

    def close(self, out_dir: Path | None = None) -> None:
        """Close the logs; write ``keywords_final.json`` to ``out_dir`` (or the
        constructor's)."""
        for fh in (self._fh, self._alarm_fh, self._events_fh):
            if fh is not None:
                fh.close()
        self._fh = self._alarm_fh = self._events_fh = None
        target = out_dir if out_dir is not None else self.out_dir
        if target is not None:
            target.mkdir(parents=True, exist_ok=True)
            data = orjson.dumps(self.tracker.current(), option=orjson.OPT_INDENT_2)
            (target / "keywords_final.json").write_bytes(data + b"\n")
            log = orjson.dumps(self.tracker.event_log.events(), option=orjson.OPT_INDENT_2)
            (target / "events.json").write_bytes(log + b"\n")

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "tracker": self.tracker.state_dict(),
            "transitions": self.transitions,
            "alarm_count": self.alarm_count,
            "event_alarm_count": self.event_alarm_count,
        }
        if self.alarms is not None:
            state["alarms"] = self.alarms.state_dict()
        if self.examples is not None:
            state["examples"] = self.examples.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tracker.load_state_dict(state["tracker"])
        self.transitions = int(state["transitions"])
        self.alarm_count = int(state["alarm_count"])
        self.event_alarm_count = int(state.get("event_alarm_count", 0))
        if self.alarms is not None and "alarms" in state:
            self.alarms.load_state_dict(state["alarms"])
        if self.examples is not None and "examples" in state:
            self.examples.load_state_dict(state["examples"])


class KeywordsSection(Section):
    """Top-N keyword set with in/out logic (:class:`textcl.keywords.KeywordTracker`).

    ``background``: the reference for distinctiveness — ``"wordfreq"`` (embedded word
    frequencies of ``languages``, no download), ``"history"`` (the stream's own decayed
    history), or a list of plain-text files of ordinary tweets (one per line).
    ``alarms``: river drift alarms on the window statistics; ``event_alarm_terms``: an
    alarm when an event group first holds this many terms at once (0: off).
    Every other key except ``enabled``, ``languages``, ``hashtag_share``, ``alarms`` and
    ``event_alarm_terms`` is a constructor argument of the tracker with the same default.
    """

    enabled: bool = True
    size: int = Field(default=50, gt=0)
    background: Literal["wordfreq", "history"] | list[str] = "wordfreq"
    languages: list[str] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES), min_length=1)
    hashtag_share: float = Field(default=HASHTAG_SHARE, gt=0, le=1)
    enter: float = 2.0
    leave: float = 0.0
    confidence: float = Field(default=1.645, ge=0)
    ratio_cap: float = Field(default=7.0, gt=0)
    min_count: int = Field(default=3, ge=1)
    carry: float = Field(default=4.0, ge=0)
    assoc: float = Field(default=0.3, gt=0, le=1)
    k: int = Field(default=1, gt=0)
    m: int = Field(default=1, gt=0)
    min_dwell: int = Field(default=1, ge=0)
    priority_half_life: float = Field(default=14.0, gt=0)
    pinned: list[str] = Field(default_factory=list)
    half_life: float = Field(default=7.0, gt=0)
    capacity: int = Field(default=100_000, gt=0)
    sample_size: int = Field(default=20_000, gt=0)
    alarms: bool = True
    event_alarm_terms: int = Field(default=3, ge=0)

    _leave_below_enter = field_validator("leave")(at_most("enter"))

    def tracker_kwargs(self) -> dict[str, Any]:
        """Constructor arguments for KeywordTracker (the background excluded)."""
        return self.model_dump(
            exclude={
                "enabled", "background", "languages", "hashtag_share", "alarms",
                "event_alarm_terms",
            }
        )


def keyword_background(config: PipelineConfig) -> Background | None:
    """The ``[keywords] background`` of a pipeline: wordfreq, files, or None (history)."""
    from textcl.keywords.background import corpus_background, wordfreq_background

    kw = config.keywords
    if kw.background == "history":
        return None
    if kw.background == "wordfreq":
        return wordfreq_background(tuple(kw.languages), kw.hashtag_share)
    from textcl.keywords.background import background_counts
    from textcl.text.tokenize import TweetTokenizer

    counts = background_counts(kw.background, TweetTokenizer(config.tokenizer_options()))
    return corpus_background(counts, kw.hashtag_share, name=", ".join(kw.background))


def _build(context: BuildContext) -> KeywordConsumer | None:
    kw: KeywordsSection = context.section("keywords")
    if not kw.enabled:
        return None
    tracker = KeywordTracker(background=keyword_background(context.config),
                             **kw.tracker_kwargs())
    alarms = DriftAlarms() if kw.alarms else None
    return KeywordConsumer(tracker, context.out_dir, alarms, kw.event_alarm_terms)


def _rows(summary: dict[str, Any]) -> Rows:
    rows = [
        ("keywords now", ", ".join(k["term"] for k in summary["keywords"][:8]) or "-"),
        ("event alarms / all alarms", f"{summary['event_alarms']:,} / {summary['alarms']:,}"),
    ]
    for event in summary["past_events"][:2]:
        span = f"{event['since'][:10]} to {event['until'][:10]}"
        rows.append((f"past event ({span})", ", ".join(event["terms"][:6])))
    return rows


SPEC = ConsumerSpec(
    name="keywords",
    section=KeywordsSection,
    build=_build,
    rows=_rows,
    files=lambda summary: ["keywords.jsonl", "keywords_final.json", "events.json",
                           "events.jsonl", "alarms.jsonl"],
)
