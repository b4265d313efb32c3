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
import math
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import Any

from textcl.keywords.background import Background
from textcl.keywords.eventlog import EventLog
from textcl.keywords.groups import EventGroups, TweetSample, stable_hash
from textcl.stream.timeparse import to_iso

SPECIAL_TOKENS = frozenset({"http", "@user", "<num>", "rt", "amp", "via"})
_RESCALE = 1e-150  # renormalise the lazy decay factor below this
_EVIDENCE_FLOOR = 0.5  # carried evidence below this is forgotten


def default_ignore() -> frozenset[str]:
    """Tokens never scored: special tokens and spaCy's English stop words."""
    from textcl.stream.tokenize import _stopwords

    return SPECIAL_TOKENS | _stopwords()


def _iso(moment: datetime | str) -> str:
    return moment if isinstance(moment, str) else to_iso(moment)


class KeywordTracker:
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
        head = _RETWEET_HEAD
        for tweet in tokens:
            key = stable_hash(_strip_retweet(tweet) if tweet and tweet[0] in head else tweet)
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

    # -- reference rates --------------------------------------------------------------

    def reference_rate(self, term: str) -> float:
        """The term's rate in ordinary text: the background's, else the decayed history's."""
        if self.background is not None:
            return self.background.rate(term)
        total = self._base_total
        if total <= 0:
            return 1.0
        return (self._base.get(term, 0.0) * self._scale + 0.5) / (total + 1.0)

    def _lower_bound(self, count: float, total: float, rate: float) -> float:
        return math.log((count + 0.5) / total / rate) - self.confidence / math.sqrt(count + 0.5)

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

    def _silence(self, skipped: int, time: str) -> list[dict[str, Any]]:
        """Apply ``skipped`` empty windows: decay, and quiet members leave."""
        d = self.carry_decay**skipped
        self._ev_scale *= d
        if self._ev_scale < _RESCALE or not d:
            self._sweep_evidence()
        self._evidence_total *= d
        fade = self.priority_decay**skipped
        for info in self._members.values():
            info["priority"] *= fade
            info["dwell"] += skipped
        decay = self.decay**skipped
        self._scale *= decay
        self._base_total *= decay
        events = []
        if skipped >= self.m:
            pinned = set(self.pinned)
            for term in sorted(self._members):
                info = self._members[term]
                if term in pinned or info["dwell"] < self.min_dwell:
                    continue
                gid = self.groups.group_of.get(term, 0)
                del self._members[term]
                self.groups.remove(term)
                reason = f"no tweets for {skipped} window(s)"
                events.append(_event(time, term, "out", info["score"], reason, gid))
        return events

    def _carry_evidence(self, counts: Counter[str], n: float) -> tuple[dict[str, float], float]:
        """Decay the carried evidence one window and add ``counts``; returns the evidence
        of this window's terms. Lazy decay: stored values are divided by ``_ev_scale``,
        so a window costs its own terms, not every term carried."""
        d = self.carry_decay
        if not d:
            self._evidence, self._ev_scale = dict(counts), 1.0
            self._evidence_total = n
            return dict(counts), n
        self._ev_scale = scale = self._ev_scale * d
        inv = 1.0 / scale
        stored = self._evidence
        get = stored.get
        evidence: dict[str, float] = {}
        for term, c in counts.items():
            prior = get(term, 0.0) * scale
            e = (prior if prior >= _EVIDENCE_FLOOR else 0.0) + c
            evidence[term] = e
            stored[term] = e * inv
        if len(stored) > self.capacity or scale < _RESCALE:
            self._sweep_evidence()
        self._evidence_total = self._evidence_total * d + n
        return evidence, self._evidence_total

    def _sweep_evidence(self) -> None:
        """Forget evidence below the floor, keep at most ``capacity`` terms, rescale."""
        scale = self._ev_scale
        live = {t: v * scale for t, v in self._evidence.items() if v * scale >= _EVIDENCE_FLOOR}
        if len(live) > self.capacity:
            keep = self.capacity * 3 // 4
            live = dict(heapq.nlargest(keep, live.items(), key=lambda kv: kv[1]))
        self._evidence, self._ev_scale = live, 1.0

    def _score(
        self, counts: Counter[str], evidence: dict[str, float], total: float
    ) -> dict[str, float]:
        """Scores of this window's scorable terms (seen now, evidence >= min_count)."""
        if total <= 0:
            return {}
        ignore, min_length, min_count = self.ignore, self.min_length, self.min_count
        rate = self.reference_rate
        z = self.confidence
        cap = self.ratio_cap
        log, sqrt = math.log, math.sqrt
        scores: dict[str, float] = {}
        for term in counts:
            e = evidence.get(term, 0.0)
            if e < min_count or term in ignore or len(term) < min_length:
                continue
            scores[term] = min(log((e + 0.5) / total / rate(term)), cap) - z / sqrt(e + 0.5)
        return scores

    def _group_quiet(self, counts: Counter[str], n: float) -> set[int]:
        """Ids of the groups whose terms went quiet in this window."""
        observed: Counter[int] = Counter()
        expected: Counter[int] = Counter()
        for term, group in self.groups.group_of.items():
            observed[group] += counts.get(term, 0)
            expected[group] += n * self.reference_rate(term)
        quiet = set()
        for group, obs in observed.items():
            bound = self._lower_bound(obs, 1.0, max(expected[group], 1e-300))
            if obs < self.min_count or bound < self.leave:
                quiet.add(group)
        return quiet

    def _transitions(
        self,
        counts: Counter[str],
        n: float,
        evidence: dict[str, float],
        scores: dict[str, float],
        sample: list[frozenset[str]],
        time: str,
        since: str,
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        members = self._members
        groups = self.groups
        pinned = set(self.pinned)

        def add(term: str, score: float, reason: str) -> None:
            members[term] = {
                "term": term, "score": score, "since": since, "dwell": 0, "quiet": 0,
                "priority": score,
            }
            entering.append((term, score, reason))

        def drop(term: str, score: float, reason: str) -> None:
            gid = groups.group_of.get(term, 0)
            del members[term]
            groups.remove(term)
            events.append(_event(time, term, "out", score, reason, gid))

        entering: list[tuple[str, float, str]] = []
        for term in self.pinned:
            if term not in members:
                add(term, scores.get(term, 0.0), "pinned")
        # priorities: best recent score, decaying while the term is not scored
        for term, info in members.items():
            info["dwell"] += 1
            s = scores.get(term)
            info["priority"] = info["priority"] * self.priority_decay
            if s is not None:
                info["score"] = s
                info["priority"] = max(info["priority"], s)
        # out: the member's event went quiet (and the member itself is rare now)
        quiet_groups = self._group_quiet(counts, n)
        for term in sorted(members):
            info = members[term]
            if term in pinned:
                continue
            group = groups.group_of[term]
            own = counts.get(term, 0)
            quiet = group in quiet_groups and own < self.min_count
            info["quiet"] = info["quiet"] + 1 if quiet else 0
            if info["quiet"] >= self.m and info["dwell"] >= self.min_dwell:
                tweets = sum(counts.get(t, 0) for t, g in groups.group_of.items() if g == group)
                drop(term, scores.get(term, 0.0), f"event quiet: its terms occurred {tweets}x")
        # streaks of windows at or above enter
        new_streak = {t: self._streak.get(t, 0) + 1 for t, s in scores.items() if s >= self.enter}
        self._streak = new_streak
        left = {e["term"] for e in events}
        ready = sorted(
            (
                (scores[t], t)
                for t, run in new_streak.items()
                if run >= self.k and t not in members and t not in left
            ),
            key=lambda st: (-st[0], st[1]),
        )
        for s, term in ready:
            why = self._why(term, counts, evidence, s)
            if len(members) >= self.size:
                evictable = [
                    (info["priority"], t)
                    for t, info in members.items()
                    if t not in pinned and info["dwell"] >= self.min_dwell and t in groups.group_of
                ]
                if not evictable:
                    break
                low_priority, low = min(evictable)
                if low_priority >= s:
                    break
                drop(low, scores.get(low, 0.0), f"evicted by {term}")
                why += ", evict"
            add(term, s, why)
        placed = groups.place([t for t, _, _ in entering], sample)
        for term, s, why in entering:
            events.append(_event(time, term, "in", s, why, placed[term]))
        return events

    def _why(self, term: str, counts: Counter[str], evidence: dict[str, float], s: float) -> str:
        ratio = math.exp(s)
        ratio_s = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"
        return (
            f"{ratio_s}x its reference rate at least ({counts.get(term, 0)} now, "
            f"evidence {evidence.get(term, 0.0):.1f})"
        )

    def _fold_history(self, counts: Counter[str], n: float) -> None:
        """Fold the window into the decayed history (lazy decay: divide new mass by scale)."""
        self._scale = scale = self._scale * self.decay
        self._base_total = self._base_total * self.decay + n
        inv = 1.0 / scale
        base = self._base
        get = base.get
        for term, c in counts.items():
            base[term] = get(term, 0.0) + c * inv
        if scale < _RESCALE:
            self._base = base = {t: v * scale for t, v in base.items()}
            self._scale = 1.0
        if len(base) > self.capacity:
            keep = self.capacity * 3 // 4
            self._base = dict(heapq.nlargest(keep, base.items(), key=lambda kv: kv[1]))

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

    # -- state ------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (counts, history, evidence, members, groups); config excluded."""
        return {
            "window": self.window,
            "transitions": self.transitions,
            "counts": dict(self._counts),
            "distinct": dict(self._distinct),
            "distinct_tokens": self._distinct_tokens,
            "seen": sorted(self._seen),
            "sample": self._sample.state_dict(),
            "tokens": self._tokens,
            "tweets": self._tweets,
            "base": dict(self._base),
            "base_total": self._base_total,
            "scale": self._scale,
            # stored values and their lazy scale as they are, so a restored tracker
            # computes bit for bit what the uninterrupted one does
            "evidence": dict(self._evidence),
            "evidence_scale": self._ev_scale,
            "evidence_total": self._evidence_total,
            "members": {t: dict(i) for t, i in self._members.items()},
            "streak": dict(self._streak),
            "groups": self.groups.state_dict(),
            "event_log": self.event_log.state_dict(),
            "last_stats": dict(self.last_stats),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._reset()
        self.window = int(state["window"])
        self.transitions = int(state["transitions"])
        self._counts = Counter({t: int(c) for t, c in state["counts"].items()})
        self._distinct = Counter({t: int(c) for t, c in state["distinct"].items()})
        self._distinct_tokens = int(state["distinct_tokens"])
        self._seen = {int(h) for h in state["seen"]}
        self._sample.load_state_dict(state["sample"])
        self._tokens = int(state["tokens"])
        self._tweets = int(state["tweets"])
        self._base = {t: float(v) for t, v in state["base"].items()}
        self._base_total = float(state["base_total"])
        self._scale = float(state["scale"])
        self._evidence = {t: float(v) for t, v in state["evidence"].items()}
        self._ev_scale = float(state.get("evidence_scale", 1.0))
        self._evidence_total = float(state["evidence_total"])
        self._members = {t: dict(i) for t, i in state["members"].items()}
        self._streak = {t: int(v) for t, v in state["streak"].items()}
        self.groups.load_state_dict(state["groups"])
        self.event_log.load_state_dict(state.get("event_log", {}))
        self.last_stats = {k: float(v) for k, v in state.get("last_stats", {}).items()}


_RETWEET_HEAD = frozenset({"rt", "@user", ":"})


def _strip_retweet(tokens: list[str]) -> list[str]:
    """The tokens without a leading ``rt @user`` (so a retweet hashes as its original)."""
    i = 0
    while i < len(tokens) and i < 3 and tokens[i] in _RETWEET_HEAD:
        i += 1
    return tokens[i:] if i else tokens


def _event(time: str, term: str, action: str, score: float, reason: str, group: int) -> dict:
    return {"time": time, "term": term, "action": action, "score": _r(score),
            "reason": reason, "group": group}


def _r(x: float) -> float:
    return round(float(x), 4) if math.isfinite(x) else 0.0
