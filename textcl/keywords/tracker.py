"""A top-N keyword set over a token stream: terms of the events going on now.

Counting
    ``update`` counts the **raw token occurrences** of a micro-batch into the open
    window's counter (one C-level ``Counter.update``), and each term once per distinct
    tweet (a retweet or copy counts once), offering each distinct tweet to the window's
    uniform sample (:class:`~textcl.keywords.groups.TweetSample`) that groups members
    into events at the window end. The window counter is bounded (``capacity`` distinct
    terms; the lowest counts are pruned, their occurrences kept in the window's total).

Evidence
    A term's evidence is its count carried over windows with a half-life of ``carry``
    windows (a hashtag written twice a day for three days gathers evidence as one
    written six times in a day), over the token mass carried the same way.

Score (scale-free)
    ``score = ln(rate / reference rate) - confidence / sqrt(evidence + 0.5)``: a lower
    confidence bound of the log ratio of the term's rate in the stream to its rate in
    ordinary text (the :class:`~textcl.keywords.background.Background`, by default
    ``wordfreq``'s word frequencies; or the stream's own decayed history). It is a rate
    ratio, so the same threshold means the same thing in a window of 50 tweets and of
    5 million; the Poisson term only asks for enough occurrences to be sure.

In/out logic
    * in: evidence >= ``min_count``, seen in this window, ``score >= enter`` for ``k``
      consecutive windows; highest scores first. A full set (``size``) admits the
      newcomer in place of the weakest evictable member (lowest *priority*: the
      member's best recent score, decaying with ``priority_half_life`` windows), when
      the newcomer scores higher (reason ``evicted by``).
    * a newcomer joins the event group holding most of its occurrences (see
      :mod:`~textcl.keywords.groups`), else starts one; groups merge when their terms are
      used together.
    * out: when the member's event has gone quiet — its terms together occurred fewer
      than ``min_count`` times in the window, or no more often than their reference
      rate predicts (lower bound of the group's log ratio below ``leave``) — and the
      term itself occurred fewer than ``min_count`` times, for ``m`` consecutive windows,
      once it has dwelt ``min_dwell`` windows. ``pinned`` terms enter at once and never
      leave.
    * With the stream's own history as reference (``background=None``) the first
      ``warmup`` windows make no transitions (the history is empty); with a background
      the first window already yields keywords.

Measured on CrisisLex T26 (26 crisis events, daily windows, ``scripts/eval_keywords.py``):
the share of each event's collection hashtags in the set over its active days rises from
0.45 (daily top-50 by frequency) to about 0.8, with a median exit of 2 days.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import Any

from textcl.keywords.background import Background
from textcl.keywords.eventlog import EventLog
from textcl.keywords.groups import EventGroups, TweetSample, stable_hash
from textcl.keywords.tracker_evidence import _EVIDENCE_FLOOR as _EVIDENCE_FLOOR
from textcl.keywords.tracker_evidence import _RESCALE as _RESCALE
from textcl.keywords.tracker_evidence import _EvidenceMixin
from textcl.keywords.tracker_helpers import SPECIAL_TOKENS as SPECIAL_TOKENS
from textcl.keywords.tracker_helpers import _event as _event
from textcl.keywords.tracker_helpers import _iso, default_ignore
from textcl.keywords.tracker_helpers import _r as _r
from textcl.keywords.tracker_state import _StateMixin
from textcl.keywords.tracker_transitions import _TransitionsMixin
from textcl.text.retweet import strip_retweet


class KeywordTracker(_EvidenceMixin, _TransitionsMixin, _StateMixin):
    """Keeps a top-N keyword set over a stream of tokenised micro-batches.

    Args:
        size: N, the most terms in the set (pinned terms included).
        background: reference rates of ordinary text; ``None`` uses the stream's own
            decayed history (``half_life``) instead.
        enter: least score to come in: a lower bound of ``ln(rate / reference rate)``
            (2.0: at least 7.4 times the reference rate).
        leave: an event whose terms' lower-bound log ratio falls below this is quiet.
        confidence: z of the one-sided lower bounds (1.645: 95%).
        ratio_cap: most log ratio a term scores (7.0: 1100x its reference rate), so
            terms absent from the background (typos, user names) rank by evidence among
            themselves and do not outrank every listed event word.
        min_count: least evidence (occurrences) for a term to be scored, and least
            occurrences of an event's terms in a window for the event to stay.
        carry: half-life, in windows, of a term's carried evidence (0: this window only).
        assoc: least share of a term's occurrences in an event's tweets to join it.
        k: consecutive windows at or above ``enter`` to come in.
        m: consecutive quiet windows to go out.
        min_dwell: windows a term stays at least (before leaving or being evicted).
        priority_half_life: half-life, in windows, of a member's priority (its best
            recent score), which decides evictions when the set is full.
        pinned: terms that are always in the set.
        half_life: half-life, in windows, of the decayed history (OOV statistics, and the
            reference when there is no background).
        capacity: most distinct terms kept in the history, the carried evidence and a
            window's counter (and most tweets remembered to recognise repeats).
        sample_size: tweets per window sampled (uniformly) to group terms into events.
        warmup: windows without transitions at the start when there is no background.
        ignore: tokens never scored (default: special tokens + English stop words).
        min_length: shortest scored token (code points).
    """

    def __init__(
        self,
        size: int = 50,
        background: Background | None = None,
        enter: float = 2.0,
        leave: float = 0.0,
        confidence: float = 1.645,
        ratio_cap: float = 7.0,
        min_count: int = 3,
        carry: float = 4.0,
        assoc: float = 0.3,
        k: int = 1,
        m: int = 1,
        min_dwell: int = 1,
        priority_half_life: float = 14.0,
        pinned: Iterable[str] = (),
        half_life: float = 7.0,
        capacity: int = 100_000,
        sample_size: int = 20_000,
        warmup: int = 1,
        ignore: Iterable[str] | None = None,
        min_length: int = 2,
    ) -> None:
        if size <= 0 or k <= 0 or m <= 0 or capacity <= 0 or half_life <= 0:
            raise ValueError("size, k, m, capacity and half_life must be positive")
        if leave > enter:
            raise ValueError(f"leave ({leave}) must not exceed enter ({enter})")
        if carry < 0 or priority_half_life <= 0 or confidence < 0 or min_count < 1:
            raise ValueError(
                "carry and confidence must be >= 0, priority_half_life > 0, min_count >= 1"
            )
        self.size = size
        self.background = background
        self.enter = enter
        self.leave = leave
        self.confidence = confidence
        self.ratio_cap = ratio_cap
        self.min_count = min_count
        self.carry = carry
        self.carry_decay = 0.5 ** (1.0 / carry) if carry > 0 else 0.0
        self.assoc = assoc
        self.k = k
        self.m = m
        self.min_dwell = min_dwell
        self.priority_decay = 0.5 ** (1.0 / priority_half_life)
        self.pinned = list(dict.fromkeys(pinned))
        self.half_life = half_life
        self.decay = 0.5 ** (1.0 / half_life)
        self.capacity = capacity
        self.sample_size = sample_size
        self.warmup = warmup if background is None else 0
        self.ignore = frozenset(ignore) if ignore is not None else default_ignore()
        self.min_length = min_length
        self._reset()

    def _reset(self) -> None:
        self.window = 0  # windows closed so far
        self.transitions = 0
        self.last_stats: dict[str, float] = {}
        self._counts: Counter[str] = Counter()
        self._distinct: Counter[str] = Counter()  # tweets (distinct texts) holding a term
        self._seen: set[int] = set()  # hashes of this window's tweets
        self._distinct_tokens = 0
        self._tokens = 0
        self._tweets = 0
        self._base: dict[str, float] = {}  # decayed counts, divided by self._scale
        self._base_total = 0.0  # true (not scaled) decayed token total
        self._scale = 1.0
        self._evidence: dict[str, float] = {}  # carried evidence / _ev_scale (lazy decay)
        self._ev_scale = 1.0
        self._evidence_total = 0.0
        self._members: dict[str, dict[str, Any]] = {}
        self._streak: dict[str, int] = {}
        self.groups = EventGroups(self.assoc)
        self.event_log = EventLog()
        self._sample = TweetSample(self.sample_size)

    # -- counting ---------------------------------------------------------------------

    def update(self, tokens: list[list[str]]) -> None:
        """Count a micro-batch of token lists into the open window: raw occurrences, and
        each term once per distinct tweet (retweets and copies of a tweet count once)."""
        counts = self._counts
        counts.update(chain.from_iterable(tokens))
        seen = self._seen
        sample = self._sample
        fresh: list[frozenset[str]] = []
        for tweet in tokens:
            key = stable_hash(strip_retweet(tweet) if tweet and tweet[0] == "rt" else tweet)
            if key in seen:
                continue
            if len(seen) < self.capacity:
                seen.add(key)
            terms = frozenset(tweet)
            fresh.append(terms)
            sample.offer(key, terms)
        self._distinct.update(chain.from_iterable(fresh))
        self._distinct_tokens += sum(map(len, fresh))
        self._tweets += len(tokens)
        if len(counts) > self.capacity:
            self._prune_window()

    def _prune_window(self) -> None:
        keep = self.capacity // 2
        counts = self._counts
        top = heapq.nlargest(keep, counts.items(), key=lambda kv: kv[1])
        pruned = counts.total() - sum(c for _, c in top)
        self._counts = Counter(dict(top))
        self._tokens += pruned  # keep the pruned occurrences in the window's total
        distinct = self._distinct
        self._distinct = Counter({t: distinct[t] for t, _ in top if t in distinct})


    # -- window end -------------------------------------------------------------------

    def end_window(
        self, start: datetime | str, end: datetime | str, skipped: int = 0
    ) -> list[dict[str, Any]]:
        """Score the window's terms, apply the in/out logic, fold the window into the
        history. ``skipped``: empty windows since the previous one (a silent stream):
        evidence and history decay over them, and members leave if they cover ``m``.

        Returns the transitions, each ``{"time", "term", "action", "score", "reason",
        "group"}`` with ``time`` the window end as ISO-8601 UTC and ``group`` the id of
        the term's event group.
        """
        time, since = _iso(end), _iso(start)
        counts = self._counts
        n = float(counts.total() + self._tokens)
        known = sum(map(counts.__getitem__, counts.keys() & self._base.keys()))
        oov = 1.0 - known / n if n else 0.0

        events: list[dict[str, Any]] = []
        if skipped > 0:
            events += self._silence(skipped, time)
        groups = self.groups
        distinct = self._distinct
        n_distinct = float(self._distinct_tokens)
        sample = self._sample.tweets()
        self.event_log.merge(groups.merge(sample))
        evidence, evidence_total = self._carry_evidence(distinct, n_distinct)
        scores = self._score(distinct, evidence, evidence_total)
        if self.window >= self.warmup:
            events += self._transitions(
                distinct, n_distinct, evidence, scores, sample, time, since
            )
        self.event_log.record(events, since, groups.terms())
        self._fold_history(counts, n)
        self.last_stats = {
            "oov_rate": oov,
            "churn": float(len(events)),
            "tokens": n,
            "tweets": float(self._tweets),
            "terms": float(len(counts)),
        }
        self._counts = Counter()
        self._distinct = Counter()
        self._seen = set()
        self._sample.clear()
        self._distinct_tokens = 0
        self._tokens = 0
        self._tweets = 0
        self.window += 1
        self.transitions += len(events)
        return events

    # -- queries ----------------------------------------------------------------------

    def current(self) -> list[dict[str, Any]]:
        """The current set, best score first: ``{"term", "score", "since", "group"}``."""
        items = sorted(self._members.values(), key=lambda i: (-i["score"], i["term"]))
        group_of = self.groups.group_of
        return [
            {"term": i["term"], "score": _r(i["score"]), "since": i["since"],
             "group": group_of.get(i["term"], 0)}
            for i in items
        ]

    def events(self) -> list[dict[str, Any]]:
        """The current event groups, largest first: ``{"group", "terms"}`` (terms by score)."""
        score = {t: i["score"] for t, i in self._members.items()}
        out = [
            {"group": g, "terms": sorted(terms, key=lambda t: (-score.get(t, 0.0), t))}
            for g, terms in self.groups.terms().items()
        ]
        out.sort(key=lambda e: (-len(e["terms"]), e["group"]))
        return out

    def __contains__(self, term: str) -> bool:
        return term in self._members

    def __len__(self) -> int:
        return len(self._members)

    @property
    def baseline_size(self) -> int:
        """Distinct terms held in the decayed history (bounded by ``capacity``)."""
        return len(self._base)

    @property
    def window_size(self) -> int:
        """Distinct terms counted in the open window (bounded by ``capacity``)."""
        return len(self._counts)

    def known(self, term: str) -> bool:
        """Whether the history holds ``term`` (the bounded known set used for OOV)."""
        return term in self._base
