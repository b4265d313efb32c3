"""Bounded vocabulary with exponentially decayed counts, for endless streams.

:class:`DecayedVocab` keeps two tiers of words:

* **admitted** words own a row in a set of row-aligned numpy "columns" (the model's
  vectors, output weights, per-word tables...). Rows ``0..n-1`` are live; the arrays are
  preallocated and grow by doubling (amortised O(1) per admitted word) up to
  ``max_vocab`` rows.
* **candidates** are words seen but not (yet) admitted; their decayed counts live in a
  plain dict, bounded by ``max_candidates`` (when it overflows, the lowest half is pruned
  in one vectorised pass, amortised O(1) per new candidate).

Decay without touching every count: counts are stored in *inflated* units. A word seen
at time ``t`` (in tweets) adds ``2 ** (t / half_life)`` to its stored count; its decayed
count at time ``now`` is ``stored / 2 ** (now / half_life)``. Ordering between stored
counts is the ordering of decayed counts, so eviction and pruning compare stored values
directly; only ``log2_scale`` moves with time. When the scale gets large all stored
values are renormalised at once (every ~500 half-lives).

Eviction: when admissions do not fit, the vocabulary is cut back to ``max_vocab - room``
rows (``room = max(evict_chunk, min(8 * pending, max_vocab / 4))``) keeping the highest
decayed counts among admitted words and the words waiting for admission (pinned words are
never evicted). Cutting back by a chunk makes the O(n) selection happen once per
``evict_chunk`` admissions (or once per ~8 batches when words arrive faster). Evicted rows
are filled by moving the last rows into the holes (swap-with-last), so rows stay
contiguous; every column is moved the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

_RENORM_LOG2 = 512.0  # renormalise stored counts when the scale passes 2**512


@dataclass(slots=True)
class ObserveResult:
    """What :meth:`DecayedVocab.observe` changed."""

    touched: np.ndarray  # rows whose count changed in this call (known + newly admitted)
    new_rows: np.ndarray  # rows that now hold newly admitted words (need initialising)
    admitted: int = 0
    evicted: int = 0
    evicted_keys: list[str] = field(default_factory=list)


class DecayedVocab:
    """Admitted words (row-aligned numpy columns) plus a bounded candidate counter.

    Args:
        max_vocab: maximum number of admitted words.
        min_count: decayed count a candidate needs to be admitted (rounded: a count
            within 0.5 of ``min_count`` qualifies, so decay between the occurrences of a
            word seen ``min_count`` times does not keep it out).
        half_life: half-life of counts in tweets; ``None`` disables decay.
        max_candidates: bound on the candidate dict (pruned to half when exceeded).
        evict_chunk: rows freed per eviction round (amortises the O(n) selection).
        initial_capacity: rows preallocated before the first growth.
    """

    def __init__(
        self,
        max_vocab: int,
        min_count: float,
        half_life: float | None,
        max_candidates: int,
        evict_chunk: int,
        initial_capacity: int = 8192,
    ) -> None:
        if max_vocab < 1:
            raise ValueError("max_vocab must be >= 1")
        if half_life is not None and half_life <= 0:
            raise ValueError("half_life must be positive or None")
        self.max_vocab = int(max_vocab)
        self.min_count = float(min_count)
        # decayed counts are never exactly integers: admit when count rounds to min_count
        self.admit_at = max(self.min_count - 0.5, 0.5 * self.min_count)
        self.half_life = None if half_life is None else float(half_life)
        self.max_candidates = max(16, int(max_candidates))
        self.evict_chunk = max(1, min(int(evict_chunk), self.max_vocab))
        self.key_to_index: dict[str, int] = {}
        self.index_to_key: list[str] = []
        self.candidates: dict[str, float] = {}
        self.pinned: dict[str, None] = {}  # ordered set
        self.log2_scale = 0.0
        self.tweets_seen = 0
        self.mass = 0.0  # sum of stored counts of admitted words
        self.cost_rows = 0  # rows touched by O(n) maintenance (amortisation counter)
        self._specs: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self.columns: dict[str, np.ndarray] = {}
        self.capacity = min(self.max_vocab, max(16, int(initial_capacity)))
        self.add_column("counts", (), np.float64)
        self.add_column("pinned", (), np.bool_)

    # ----------------------------------------------------------------- structure
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def add_column(self, name: str, tail: tuple[int, ...], dtype: type | np.dtype) -> np.ndarray:
        """Register a row-aligned array that follows growth and eviction moves."""
        self._specs[name] = (tuple(tail), np.dtype(dtype))
        arr = np.zeros((self.capacity, *tail), dtype=dtype)
        self.columns[name] = arr
        return arr

    def _grow(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        cap = self.capacity
        while cap < needed:
            cap *= 2
        cap = min(cap, self.max_vocab)
        n = len(self)
        for name, (tail, dtype) in self._specs.items():
            arr = np.zeros((cap, *tail), dtype=dtype)
            arr[:n] = self.columns[name][:n]
            self.columns[name] = arr
        self.cost_rows += n
        self.capacity = cap

    @property
    def scale(self) -> float:
        """Current inflation factor: decayed count = stored count / scale."""
        return 2.0**self.log2_scale

    def decayed(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """Decayed counts of admitted rows (all live rows by default)."""
        counts = self.columns["counts"]
        if rows is None:
            rows = slice(0, len(self))
        return counts[rows] / self.scale

    def count(self, key: str) -> float:
        """Decayed count of ``key`` (admitted or candidate; 0 if unknown)."""
        i = self.key_to_index.get(key)
        if i is not None:
            return float(self.columns["counts"][i]) / self.scale
        return self.candidates.get(key, 0.0) / self.scale

    # ----------------------------------------------------------------- decay
    def advance(self, tweets: int, elapsed: float | None = None) -> None:
        """Move the clock forward by ``tweets`` tweets (decays every count).

        ``elapsed`` is the decay clock's step in ``half_life`` units when that is not
        tweets (e.g. seconds); by default the clock counts tweets.
        """
        self.tweets_seen += int(tweets)
        if self.half_life is None:
            return
        self.log2_scale += (tweets if elapsed is None else elapsed) / self.half_life
        if self.log2_scale > _RENORM_LOG2:
            self._renormalise()

    def _renormalise(self) -> None:
        f = 2.0**-self.log2_scale
        n = len(self)
        self.columns["counts"][:n] *= f
        self.mass *= f
        self.candidates = {k: v * f for k, v in self.candidates.items()}
        self.cost_rows += n + len(self.candidates)
        self.log2_scale = 0.0

    # ----------------------------------------------------------------- pinning
    def pin(self, keys: Iterable[str]) -> None:
        """Mark keys as never evicted (and never pruned while candidates)."""
        pinned = self.columns["pinned"]
        for k in keys:
            self.pinned[k] = None
            i = self.key_to_index.get(k)
            if i is not None:
                pinned[i] = True

    # ----------------------------------------------------------------- counting
    def observe(self, counts: Mapping[str, int]) -> ObserveResult:
        """Add one batch's raw counts; admit words reaching ``min_count``; evict if full."""
        s = self.scale
        thr = self.admit_at * s
        k2i = self.key_to_index
        cand = self.candidates
        n_keys = len(counts)
        keys = list(counts.keys())
        inc = np.fromiter(counts.values(), dtype=np.float64, count=n_keys) * s
        idx = np.fromiter(map(k2i.get, keys, repeat(-1)), dtype=np.int64, count=n_keys)
        is_known = idx >= 0
        known = idx[is_known]
        col = self.columns["counts"]
        if known.size:
            kinc = inc[is_known]
            col[known] += kinc
            self.mass += float(kinc.sum())
        pending: list[str] = []
        pending_cnt = np.empty(0, dtype=np.float64)
        if known.size < n_keys:
            unk = np.flatnonzero(~is_known)
            ukeys = [keys[j] for j in unk.tolist()]
            uval = np.fromiter(map(cand.get, ukeys, repeat(0.0)), dtype=np.float64, count=unk.size)
            uval += inc[unk]
            ready = uval >= thr
            if ready.any():
                r = np.flatnonzero(ready).tolist()
                pending = [ukeys[j] for j in r]
                pending_cnt = uval[ready]
                for k in pending:
                    cand.pop(k, None)
                stay = np.flatnonzero(~ready).tolist()
                cand.update(zip([ukeys[j] for j in stay], uval[~ready].tolist(), strict=True))
            else:
                cand.update(zip(ukeys, uval.tolist(), strict=True))
        res = ObserveResult(touched=known, new_rows=np.empty(0, dtype=np.int64))
        if pending:
            self._admit(pending, pending_cnt, res)
        if len(cand) > self.max_candidates:
            self._prune_candidates()
        return res

    def _admit(self, keys: list[str], cnt: np.ndarray, res: ObserveResult) -> None:
        n = len(self)
        free = self.max_vocab - n
        if len(keys) > free:
            keys, cnt = self._evict_for(keys, cnt, res)
            n = len(self)
        if n + len(keys) > self.max_vocab:  # only when pinned words fill the vocabulary
            for k, c in zip(keys[self.max_vocab - n :], cnt[self.max_vocab - n :], strict=True):
                self.candidates[k] = float(c)
            keys, cnt = keys[: self.max_vocab - n], cnt[: self.max_vocab - n]
        if not keys:
            return
        a = len(keys)
        self._grow(n + a)
        rows = np.arange(n, n + a, dtype=np.int64)
        self.columns["counts"][n : n + a] = cnt
        pinned = self.columns["pinned"]
        pinned[n : n + a] = False
        for j, k in enumerate(keys):
            self.key_to_index[k] = n + j
            if k in self.pinned:
                pinned[n + j] = True
        self.index_to_key.extend(keys)
        self.mass += float(cnt.sum())
        res.admitted += a
        res.new_rows = rows
        # rows moved by eviction may sit in `touched`: it was remapped in _evict_for
        res.touched = np.concatenate([res.touched, rows])

    def _evict_for(
        self, keys: list[str], cnt: np.ndarray, res: ObserveResult
    ) -> tuple[list[str], np.ndarray]:
        """Cut the vocabulary back so the best of (admitted + pending) fit.

        Keeps the ``target`` highest stored counts among admitted and pending words
        (pinned words always stay), where ``target = max_vocab - evict_chunk`` plus room
        for pinned pending words. Returns the pending words that made it.
        """
        n = len(self)
        counts = self.columns["counts"][:n]
        pinned = self.columns["pinned"][:n]
        p = len(keys)
        # leave room for the chunk or ~8 batches like this one (at most a quarter of the
        # vocabulary), so the O(n) selection runs at most once per several batches
        room = max(self.evict_chunk, min(8 * p, self.max_vocab // 4))
        target = max(self.max_vocab - room, 0)
        k_out = n + p - target  # how many of (vocab + pending) must go
        evictable = np.flatnonzero(~pinned)
        self.cost_rows += n
        pend_pinned = np.fromiter((k in self.pinned for k in keys), dtype=bool, count=p)
        # pinned pending words must be admitted; they count against the target
        k_out = min(k_out, evictable.size + int((~pend_pinned).sum()))
        if k_out <= 0:
            return keys, cnt
        kv = min(k_out, evictable.size)
        if kv < evictable.size:
            sel = np.argpartition(counts[evictable], kv - 1)[:kv]
            victims = evictable[sel]
        else:
            victims = evictable
        pool_cnt = np.concatenate([counts[victims], np.where(pend_pinned, np.inf, cnt)])
        # lowest k_out of the pool go out; stable order: lower count first, victims first
        order = np.lexsort((np.arange(pool_cnt.size), pool_cnt))
        out = order[:k_out]
        out_victims = np.sort(victims[out[out < victims.size]])
        out_pending = np.zeros(p, dtype=bool)
        out_pending[out[out >= victims.size] - victims.size] = True
        # rejected pending words go back to the candidates (keep their counts)
        for j in np.flatnonzero(out_pending):
            self.candidates[keys[j]] = float(cnt[j])
        keep = ~out_pending
        keys = [k for k, o in zip(keys, out_pending, strict=True) if not o]
        cnt = cnt[keep]
        if out_victims.size:
            self._remove_rows(out_victims, res)
        return keys, cnt

    def _remove_rows(self, rows: np.ndarray, res: ObserveResult) -> None:
        """Drop sorted ``rows``; move the last live rows into the holes."""
        n = len(self)
        m = n - rows.size
        counts = self.columns["counts"]
        self.mass -= float(counts[rows].sum())
        gone = [self.index_to_key[i] for i in rows.tolist()]
        for k in gone:
            del self.key_to_index[k]
        holes = rows[rows < m]
        tail_dead = np.zeros(n - m, dtype=bool)
        tail_dead[rows[rows >= m] - m] = True
        movers = np.flatnonzero(~tail_dead) + m
        # holes.size == movers.size by construction
        for arr in self.columns.values():
            arr[holes] = arr[movers]
        for h, mv in zip(holes.tolist(), movers.tolist(), strict=True):
            k = self.index_to_key[mv]
            self.index_to_key[h] = k
            self.key_to_index[k] = h
        del self.index_to_key[m:]
        if res.touched.size:
            # remap touched rows: moved rows follow their word, evicted rows vanish
            remap = np.arange(n, dtype=np.int64)
            remap[rows] = -1
            remap[movers] = holes
            t = remap[res.touched]
            res.touched = t[t >= 0]
        res.evicted += len(gone)
        res.evicted_keys.extend(gone)

    def _prune_candidates(self) -> None:
        cand = self.candidates
        keep = self.max_candidates // 2
        vals = np.fromiter(cand.values(), dtype=np.float64, count=len(cand))
        self.cost_rows += len(cand)
        if keep <= 0:
            thr = math.inf
        else:
            thr = float(np.partition(vals, vals.size - keep)[vals.size - keep])
        pinned = self.pinned
        # keep counts strictly above the threshold, then fill ties in insertion order
        kept: dict[str, float] = {}
        ties = keep - int((vals > thr).sum())
        for k, v in cand.items():
            if v > thr or k in pinned:
                kept[k] = v
            elif v == thr and ties > 0:
                kept[k] = v
                ties -= 1
        self.candidates = kept

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict:
        """Plain arrays / JSON-able values (only live rows)."""
        n = len(self)
        out: dict = {
            "vocab.keys": list(self.index_to_key),
            "vocab.counts": self.columns["counts"][:n].copy(),
            "vocab.cand_keys": list(self.candidates.keys()),
            "vocab.cand_counts": np.fromiter(
                self.candidates.values(), dtype=np.float64, count=len(self.candidates)
            ),
            "vocab.pinned": list(self.pinned),
            "vocab.log2_scale": self.log2_scale,
            "vocab.tweets_seen": self.tweets_seen,
            "vocab.mass": self.mass,
            "vocab.cost_rows": self.cost_rows,
            "vocab.capacity": self.capacity,
        }
        return out

    def load_state_dict(self, state: Mapping) -> None:
        """Restore counts, keys and candidates (columns other than counts are left zeroed)."""
        keys = list(state["vocab.keys"])
        n = len(keys)
        self.index_to_key.clear()
        self.key_to_index.clear()
        # the saved capacity, so the arrays grow at the same points as in the saved run
        saved = int(state.get("vocab.capacity", 0))
        self.capacity = min(self.max_vocab, max(16, n, saved))
        for name, (tail, dtype) in self._specs.items():
            self.columns[name] = np.zeros((self.capacity, *tail), dtype=dtype)
        self.index_to_key.extend(keys)
        self.key_to_index.update((k, i) for i, k in enumerate(keys))
        self.columns["counts"][:n] = np.asarray(state["vocab.counts"], dtype=np.float64)
        self.candidates = dict(
            zip(
                state["vocab.cand_keys"],
                np.asarray(state["vocab.cand_counts"], dtype=np.float64).tolist(),
                strict=True,
            )
        )
        self.pinned = dict.fromkeys(state["vocab.pinned"])
        self.log2_scale = float(state["vocab.log2_scale"])
        self.tweets_seen = int(state["vocab.tweets_seen"])
        self.mass = float(state["vocab.mass"])
        self.cost_rows = int(state["vocab.cost_rows"])
        pinned = self.columns["pinned"]
        for k in self.pinned:
            i = self.key_to_index.get(k)
            if i is not None:
                pinned[i] = True
