"""A prioritised top-N keyword set over a token stream, with in/out hysteresis.

Counting
    ``update`` counts **raw token occurrences** of a micro-batch into the open window's
    counter (one C-level ``Counter.update`` over the flattened batch). The window counter
    is bounded: when it holds more than ``capacity`` distinct terms, terms with the
    lowest counts are pruned (space-saving style; a term pruned that way had a count
    below the survivors', so it could not have been a top term).

Baseline
    A decayed count per term (``half_life`` in windows) in a bounded dict: at most
    ``capacity`` terms; when full, the lowest decayed counts are pruned. Decay is lazy
    (one global scale factor), so closing a window costs O(terms in the window).
    Counts of current members enter the baseline with weight ``member_fold`` only, so an
    ongoing event is not absorbed into its own expectation.

Scores (per window, for terms with ``count >= min_count``, plus the current members)
    * burstiness ``(obs - exp) / sqrt(exp + 1)`` with ``exp = n * B[t] / B_total``
      (``n`` tokens in the window, ``B`` the decayed baseline);
    * distinctiveness: Monroe et al.'s z-scored log-odds with an informative Dirichlet
      prior, window vs ``background`` counts when given, else vs the decayed history;
    * relevance: share of the term's ``neighbours`` (e.g. word2vec most-similar words)
      that are in the current set or the seeds (a seed itself has relevance 1).

    ``score = burst * burstiness + distinct * distinctiveness + relevance * enter * rel``
    (so a fully relevant term gets a boost of ``relevance`` entry thresholds).

In/out logic
    * in: score >= ``enter`` for ``k`` consecutive windows; if the set is full
      (``size``), the candidate replaces the lowest-scoring evictable member when it
      scores higher (reason ``evict``);
    * out: score < ``leave`` for ``m`` consecutive windows, once the term has dwelt
      ``min_dwell`` windows; ``pinned`` terms enter at the first window after the warmup
      and never leave (there is no separate "ranks inside N" entry path);
    * no transitions during the first ``warmup`` windows (the baseline is empty).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from itertools import chain
from typing import Any

from textcl.keywords.scores import burstiness, log_odds_z, relevance
from textcl.stream.timeparse import to_iso

SPECIAL_TOKENS = frozenset({"http", "@user", "<num>", "rt", "amp", "via"})
_RESCALE = 1e-150  # renormalise the lazy decay factor below this


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
        burst: weight of burstiness.
        distinct: weight of distinctiveness.
        relevance: weight of relevance (needs ``neighbours`` or ``seeds``).
        enter: score a term must reach (for ``k`` windows) to enter.
        leave: a member scoring below this for ``m`` windows leaves.
        k: consecutive windows at or above ``enter`` to enter.
        m: consecutive windows below ``leave`` to leave.
        min_dwell: windows a term stays at least (before leaving or being evicted).
        pinned: terms that are always in the set.
        seeds: terms whose embedding neighbours count as relevant.
        half_life: half-life of the baseline, in windows.
        min_count: least count in a window for a term to be scored.
        capacity: most distinct terms kept in the baseline and in a window's counter.
        background: term counts of a background corpus for distinctiveness.
        neighbours: ``term -> list of similar terms`` (e.g. word2vec most_similar).
        prior: ``alpha0``, total pseudo-count of the Dirichlet prior.
        warmup: windows without transitions at the start.
        member_fold: weight with which a member's window count enters the baseline
            (1: like any term; < 1: the baseline absorbs an ongoing event slowly, so
            its terms stay bursty until the event fades).
        ignore: tokens never scored (default: special tokens + English stop words).
        min_length: shortest scored token (code points).
    """

    def __init__(
        self,
        size: int = 50,
        burst: float = 1.0,
        distinct: float = 1.0,
        relevance: float = 0.5,
        enter: float = 10.0,
        leave: float = 1.0,
        k: int = 1,
        m: int = 1,
        min_dwell: int = 1,
        pinned: Iterable[str] = (),
        seeds: Iterable[str] = (),
        half_life: float = 7.0,
        min_count: int = 3,
        capacity: int = 100_000,
        background: Mapping[str, int] | None = None,
        neighbours: Callable[[str], list[str]] | None = None,
        prior: float = 1000.0,
        warmup: int = 1,
        member_fold: float = 0.1,
        ignore: Iterable[str] | None = None,
        min_length: int = 2,
    ) -> None:
        if size <= 0 or k <= 0 or m <= 0 or capacity <= 0 or half_life <= 0:
            raise ValueError("size, k, m, capacity and half_life must be positive")
        if leave > enter:
            raise ValueError(f"leave ({leave}) must not exceed enter ({enter})")
        self.size = size
        self.w_burst = burst
        self.w_distinct = distinct
        self.w_relevance = relevance
        self.enter = enter
        self.leave = leave
        self.k = k
        self.m = m
        self.min_dwell = min_dwell
        self.pinned = list(dict.fromkeys(pinned))
        self.seeds = frozenset(seeds)
        self.half_life = half_life
        self.decay = 0.5 ** (1.0 / half_life)
        self.min_count = min_count
        self.capacity = capacity
        self.neighbours = neighbours
        self.prior = prior
        self.warmup = warmup
        self.member_fold = member_fold
        self.ignore = frozenset(ignore) if ignore is not None else default_ignore()
        self.min_length = min_length
        self.background: dict[str, int] | None = None
        self.background_total = 0
        if background is not None:
            self.background = dict(background)
            self.background_total = sum(self.background.values())
        self._reset()

    def _reset(self) -> None:
        self.window = 0  # windows closed so far
        self.transitions = 0
        self.last_stats: dict[str, float] = {}
        self._counts: Counter[str] = Counter()
        self._tokens = 0
        self._tweets = 0
        self._base: dict[str, float] = {}  # decayed counts, divided by self._scale
        self._base_total = 0.0  # true (not scaled) decayed token total
        self._scale = 1.0
        self._members: dict[str, dict[str, Any]] = {}
        self._streak: dict[str, int] = {}
        self._rel: dict[str, float] = {}  # relevance of this window's candidates

    # -- counting ---------------------------------------------------------------------

    def update(self, tokens: list[list[str]]) -> None:
        """Count a micro-batch of token lists (raw occurrences) into the open window."""
        counts = self._counts
        counts.update(chain.from_iterable(tokens))
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

    # -- window end -------------------------------------------------------------------

    def end_window(self, start: datetime | str, end: datetime | str) -> list[dict[str, Any]]:
        """Score the window's terms, apply in/out logic, fold the window into the baseline.

        Returns the transitions, each ``{"time", "term", "action", "score", "reason"}``
        with ``time`` the window end as ISO-8601 UTC.
        """
        time = _iso(end)
        counts = self._counts
        n = float(counts.total() + self._tokens)
        scale = self._scale
        base = self._base
        base_total = self._base_total
        known = sum(map(counts.__getitem__, counts.keys() & base.keys()))
        oov = 1.0 - known / n if n else 0.0

        scores = self._score(counts, n) if n else {}
        members = self._members
        for term in members:
            if term not in scores:
                scores[term] = self._score_one(term, float(counts.get(term, 0)), n)
        events: list[dict[str, Any]] = []
        active = self.window >= self.warmup
        if active:
            events = self._transitions(scores, time)
        # fold the window into the decayed baseline (lazy decay: divide new mass by scale)
        self._scale = scale = scale * self.decay
        self._base_total = base_total * self.decay + n
        inv = 1.0 / scale
        members = self._members
        held = inv * self.member_fold
        get = base.get
        for term, c in counts.items():
            base[term] = get(term, 0.0) + c * inv
        for term in members.keys() & counts.keys():
            base[term] -= counts[term] * (inv - held)
        if scale < _RESCALE:
            self._base = base = {t: v * scale for t, v in base.items()}
            self._scale = 1.0
        if len(base) > self.capacity:
            keep = self.capacity * 3 // 4
            self._base = dict(heapq.nlargest(keep, base.items(), key=lambda kv: kv[1]))
        self.last_stats = {
            "oov_rate": oov,
            "churn": float(len(events)),
            "tokens": n,
            "tweets": float(self._tweets),
            "terms": float(len(counts)),
        }
        self._counts = Counter()
        self._tokens = 0
        self._tweets = 0
        self.window += 1
        self.transitions += len(events)
        for member in self._members.values():
            member["score"] = scores.get(member["term"], member["score"])
        return events

    def _expected(self, term: str, n: float) -> float:
        if self._base_total <= 0:
            return 0.0
        return n * self._base.get(term, 0.0) * self._scale / self._base_total

    def _distinct(self, term: str, count: float, n: float) -> float:
        if self.background is not None:
            ref = float(self.background.get(term, 0))
            ref_total = float(self.background_total)
        else:
            ref = self._base.get(term, 0.0) * self._scale
            ref_total = self._base_total
        if ref_total <= 0:
            return 0.0
        alpha = self.prior * ref / ref_total + 0.5
        return log_odds_z(count, n, ref, ref_total, alpha, self.prior)

    def _score_one(self, term: str, count: float, n: float) -> float:
        s = 0.0
        if self.w_burst:
            s += self.w_burst * burstiness(count, self._expected(term, n))
        if self.w_distinct and n:
            s += self.w_distinct * self._distinct(term, count, n)
        return s

    def _score(self, counts: Counter[str], n: float) -> dict[str, float]:
        ignore = self.ignore
        min_count = self.min_count
        min_length = self.min_length
        scores: dict[str, float] = {}
        self._rel = {}
        # inlined burstiness + log_odds_z (see scores.py) for speed
        w_b, w_d, prior = self.w_burst, self.w_distinct, self.prior
        base = self._base
        base_get = base.get
        to_true = self._scale / self._base_total if self._base_total > 0 else 0.0
        to_exp = n * to_true
        if self.background is not None:
            ref_get, ref_unit, ref_total = self.background.get, 1.0, float(self.background_total)
        else:
            ref_get, ref_unit, ref_total = base_get, self._scale, self._base_total
        use_dist = bool(w_d) and ref_total > 0
        log, sqrt = math.log, math.sqrt
        prior_rate = prior / ref_total if ref_total > 0 else 0.0
        window_log_odds_base = n + prior
        ref_log_odds_base = ref_total + prior
        for term, c in counts.items():
            if c < min_count or term in ignore or len(term) < min_length:
                continue
            score = 0.0
            if w_b:
                exp = base_get(term, 0.0) * to_exp
                score = w_b * (c - exp) / sqrt(exp + 1.0)
            if use_dist:
                ref = ref_get(term, 0) * ref_unit
                alpha = prior_rate * ref + 0.5
                a = c + alpha
                b = ref + alpha
                delta = log(a / max(window_log_odds_base - a, 1e-9)) - log(
                    b / max(ref_log_odds_base - b, 1e-9)
                )
                score += w_d * delta / sqrt(1.0 / a + 1.0 / b)
            scores[term] = score
        if self.w_relevance and (self.neighbours is not None or self.seeds):
            anchor = set(self._members) | self.seeds
            boost = self.w_relevance * self.enter
            # only the strongest candidates are worth a neighbour query
            top = heapq.nlargest(3 * self.size, scores.items(), key=lambda kv: kv[1])
            for term, s in top:
                if term in self.seeds:
                    rel = 1.0
                elif self.neighbours is not None:
                    rel = relevance(self.neighbours(term), anchor)
                else:
                    rel = 0.0
                if rel:
                    self._rel[term] = rel
                scores[term] = s + boost * rel
        return scores

    def _transitions(self, scores: dict[str, float], time: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        members = self._members
        pinned = set(self.pinned)

        def add(term: str, score: float, reason: str) -> None:
            members[term] = {"term": term, "score": score, "since": time, "dwell": 0, "below": 0}
            events.append(
                {"time": time, "term": term, "action": "in", "score": _r(score), "reason": reason}
            )

        def drop(term: str, score: float, reason: str) -> None:
            del members[term]
            events.append(
                {"time": time, "term": term, "action": "out", "score": _r(score), "reason": reason}
            )

        for term in self.pinned:
            if term not in members:
                add(term, scores.get(term, 0.0), "pinned")
        # streaks of windows at or above enter
        streak = self._streak
        new_streak: dict[str, int] = {}
        for term, s in scores.items():
            if s >= self.enter:
                new_streak[term] = streak.get(term, 0) + 1
        self._streak = new_streak
        # leaving: below `leave` for m windows, after min_dwell
        for term in list(members):
            info = members[term]
            info["dwell"] += 1
            if term in pinned:
                continue
            s = scores.get(term, 0.0)
            info["below"] = info["below"] + 1 if s < self.leave else 0
            if info["below"] >= self.m and info["dwell"] >= self.min_dwell:
                drop(term, s, f"score<{self.leave:g} for {self.m} window(s)")
        # entering: k windows at or above enter; lowest-score eviction when full
        ready = [
            (scores[t], t) for t, run in new_streak.items() if run >= self.k and t not in members
        ]
        ready.sort(key=lambda st: (-st[0], st[1]))
        reason = f"score>={self.enter:g} for {self.k} window(s)"
        for s, term in ready:
            why = reason
            if term in self._rel:
                why += f", relevance {self._rel[term]:.2f}"
            if len(members) < self.size:
                add(term, s, why)
                continue
            evictable = [
                (scores.get(t, 0.0), t)
                for t, info in members.items()
                if t not in pinned and info["dwell"] >= self.min_dwell
            ]
            if not evictable:
                break
            low_score, low = min(evictable)
            if low_score >= s:
                break
            drop(low, low_score, f"evicted by {term}")
            add(term, s, why + ", evict")
        for term in members:
            if term in scores:
                members[term]["score"] = scores[term]
        return events

    # -- queries ----------------------------------------------------------------------

    def current(self) -> list[dict[str, Any]]:
        """The current set, best score first: ``{"term", "score", "since"}``."""
        items = sorted(self._members.values(), key=lambda i: (-i["score"], i["term"]))
        return [{"term": i["term"], "score": _r(i["score"]), "since": i["since"]} for i in items]

    def __contains__(self, term: str) -> bool:
        return term in self._members

    def __len__(self) -> int:
        return len(self._members)

    @property
    def baseline_size(self) -> int:
        """Distinct terms held in the decayed baseline (bounded by ``capacity``)."""
        return len(self._base)

    @property
    def window_size(self) -> int:
        """Distinct terms counted in the open window (bounded by ``capacity``)."""
        return len(self._counts)

    def known(self, term: str) -> bool:
        """Whether the baseline holds ``term`` (the bounded known set used for OOV)."""
        return term in self._base

    # -- state ------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (counts, baseline, members, streaks); config is not included."""
        return {
            "window": self.window,
            "transitions": self.transitions,
            "counts": dict(self._counts),
            "tokens": self._tokens,
            "tweets": self._tweets,
            "base": dict(self._base),
            "base_total": self._base_total,
            "scale": self._scale,
            "members": {t: dict(i) for t, i in self._members.items()},
            "streak": dict(self._streak),
            "last_stats": dict(self.last_stats),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._reset()
        self.window = int(state["window"])
        self.transitions = int(state["transitions"])
        self._counts = Counter({t: int(c) for t, c in state["counts"].items()})
        self._tokens = int(state["tokens"])
        self._tweets = int(state["tweets"])
        self._base = {t: float(v) for t, v in state["base"].items()}
        self._base_total = float(state["base_total"])
        self._scale = float(state["scale"])
        self._members = {t: dict(i) for t, i in state["members"].items()}
        self._streak = {t: int(v) for t, v in state["streak"].items()}
        self.last_stats = {k: float(v) for k, v in state.get("last_stats", {}).items()}


def _r(x: float) -> float:
    return round(float(x), 4) if math.isfinite(x) else 0.0
