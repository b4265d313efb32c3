"""Continual word2vec for endless tweet streams (skip-gram / CBOW, negative sampling).

:class:`ContinualWord2Vec` learns from one micro-batch at a time with gensim's optimised
Cython routines (``train_batch_sg`` / ``train_batch_cbow``), but replaces gensim's online
vocabulary path (``build_vocab(update=True)``, O(vocabulary) per batch) with a bounded,
decayed vocabulary (:mod:`textcl.embed.vocab`) whose per-batch cost depends only on the
batch:

* **Vocabulary.** Candidate words are counted with exponentially decayed counts
  (``half_life`` in tweets) in a bounded dict; a word is admitted once its decayed count
  reaches ``min_count`` (to within 0.5). Arrays are preallocated and grow by doubling. When
  ``max_vocab`` is reached the lowest decayed counts are evicted in chunks
  (swap-with-last keeps rows contiguous); pinned words are never evicted.
* **Tables.** The per-word down-sampling threshold (``sample_int``) and per-word learning
  rate are recomputed, vectorised, for exactly the rows that occur in the batch, so they
  are always current where they are used. The negative-sampling table (``cum_table``) is
  rebuilt lazily with numpy when the vocabulary changed by ``table_refresh`` (5%) of its
  size, or when ``table_refresh`` of the decayed token mass (and at least one token per
  row) has flowed since the last build, and after each eviction round: O(n) work at most
  once per Θ(n) tokens or admissions, i.e. O(1) amortised per token. Words admitted
  since the last build are simply not drawn as negatives until the next one.
* **Learning rate** (``lr_schedule``). gensim decays alpha linearly to ``min_alpha``
  over a corpus of known length; a stream has no end, so that schedule either never
  decays or freezes the model. The default ``"warmup"`` schedule uses
  ``max(min_alpha, alpha / sqrt(1 + T / lr_warmup))`` for both layers, with ``T`` the
  tweets seen *decayed with the half-life*: it starts at ``alpha``, falls like
  1/sqrt(t) while the model is young, and settles at a constant once the decayed mass is
  stationary, so learning never stops and a model that went quiet regains plasticity.
  ``"count"`` gives every word its own rate for its input vector,
  ``max(min_alpha, alpha / sqrt(1 + c_w / lr_count_scale))`` with ``c_w`` its decayed
  count (AdaGrad-like: rare words learn fast, frequent words settle at ``min_alpha``),
  applied exactly through gensim's ``vectors_lockf`` multiplier; the output layer keeps
  the warm-up rule. ``"count"`` forgets less (frequent words barely move) but learns
  frequent words less well. ``alpha`` defaults to 0.05, twice gensim's, because a stream
  sees each tweet once: on CrisisLex T26+T6 (88k tweets in time order, 1000-tweet
  batches, skip-gram) the top-10 neighbours of 500 frequent content words agree with a
  converged gensim model (5 epochs) at 0.231, against 0.106 for gensim's one pass and
  0.119 at alpha 0.025; two 5-epoch seeds agree at 0.659 (``scripts/eval_w2v_quality.py``).
  Learning more per tweet costs time or plasticity: ``revisit`` 0.1 (re-train tweets of
  the last ``revisit_window``) reaches 0.266, ``replay_ratio`` 0.2 0.344, ``epochs`` 2
  0.279 at twice the time (off by default: at alpha 0.05 a background word already ranks
  among the planted shifted words as a drift mover on the sample stream).
  ``scripts/bench_w2v.py`` measures speed, forgetting and plasticity.
* **Forgetting control.** ``replay_ratio`` mixes ``ratio * len(batch)`` tweets drawn
  from a bounded reservoir sample of the past into each update (trained, not counted).
  ``anchor`` pulls the input and output vectors of the ``anchor_top`` most frequent
  unpinned words toward their values at the last :meth:`snapshot` (or every
  ``anchor_every`` updates): ``v += anchor * (ref - v)``, one vectorised step per update.
  Measured on a planted shift with the default schedule (neighbour overlap of vanished
  topics, 1 = nothing forgotten): replay 0.25 keeps them when their context words are
  only partly reused by new topics (0.67 -> 0.93) but not when all are (0.42 -> 0.31;
  replay 1.0: 0.00) and slows shifted words; anchoring 0.05 helps in both cases (0.77 /
  0.63). Pinned words are never anchored, so tracked keywords stay plastic.

Determinism: with ``workers=1`` and a fixed ``seed`` results are bit-for-bit repeatable,
also across :meth:`save` / :meth:`load` and :meth:`state_dict` round trips. With
``workers>1`` the batch is split into jobs trained by threads (the Cython routines
release the GIL) in hogwild fashion, as gensim does; results are then not repeatable.

The model is not thread-safe: call :meth:`update` from one thread at a time.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, pairwise
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models.keyedvectors import KeyedVectors
from gensim.models.word2vec_inner import MAX_WORDS_IN_BATCH, train_batch_cbow, train_batch_sg

from textcl.embed.vocab import DecayedVocab

__all__ = ["ContinualWord2Vec", "load_keyed_vectors", "save_keyed_vectors"]

_DOMAIN = 2**31 - 1  # negative-sampling table domain (as gensim)
_FORMAT = "textcl.ContinualWord2Vec/1"
_SCHEDULES = ("count", "constant", "warmup")


class _WvView:
    """The attributes of ``model.wv`` read by gensim's Cython routines."""

    def __init__(self, vector_size: int, key_to_index: dict[str, int]) -> None:
        self.vector_size = vector_size
        self.key_to_index = key_to_index
        self.vectors: np.ndarray = np.zeros((0, vector_size), dtype=np.float32)
        self.vectors_lockf: np.ndarray = np.ones(1, dtype=np.float32)
        self.expandos: dict[str, np.ndarray] = {}


class _Worker:
    """A model-like object for one training thread: shared weights, own RNG and buffers."""

    def __init__(self, owner: ContinualWord2Vec, wv: _WvView, seed: int) -> None:
        self.hs = 0
        self.negative = owner.negative
        self.sample = owner.sample
        self.cbow_mean = owner.cbow_mean
        self.window = owner.window
        self.workers = owner.workers
        self.shrink_windows = True
        self.running_training_loss = 0.0
        self.wv = wv
        self.syn1neg: np.ndarray = np.zeros((0, owner.vector_size), dtype=np.float32)
        self.cum_table: np.ndarray = np.zeros(0, dtype=np.uint32)
        self.random = np.random.RandomState(seed)
        self.work = np.zeros(owner.vector_size, dtype=np.float32)
        self.neu1 = np.zeros(owner.vector_size, dtype=np.float32)


class ContinualWord2Vec:
    """Word2vec that keeps learning from a stream, with bounded memory.

    Args:
        vector_size: dimensionality of the vectors.
        window: maximum context window (gensim shrinks it at random per word).
        sg: 1 for skip-gram, 0 for CBOW.
        negative: negative samples per positive pair (must be > 0).
        min_count: decayed count a word needs before it is admitted.
        max_vocab: maximum number of admitted words (memory bound).
        half_life: half-life of word counts, in ``half_life_unit``; ``None`` disables decay.
        half_life_unit: ``"tweets"`` (count-based decay) or ``"seconds"`` (time-based:
            :meth:`update` then needs ``now``, the batch's time in epoch seconds).
        sample: down-sampling threshold for frequent words (0 disables).
        alpha: initial / maximum learning rate (0.05: twice gensim's, since a stream
            sees each tweet once; see the module doc for the measurement).
        min_alpha: learning-rate floor reached by frequent words / after warm-up.
        lr_schedule: ``"warmup"`` (default), ``"count"`` or ``"constant"``; see module doc.
        lr_count_scale: decayed count at which a word's rate is ``alpha / sqrt(2)``.
        lr_warmup: decayed tweets over which the global (output-layer) rate settles.
        ns_exponent: exponent of the negative-sampling distribution.
        cbow_mean: CBOW uses the mean (1) or the sum (0) of context vectors.
        epochs: training passes over each micro-batch (with its replayed tweets).
        replay_ratio: replayed past tweets per new tweet in each update (0 disables).
        replay_size: reservoir size (tweets) for replay.
        revisit: tweets re-trained per new tweet, drawn from the last ``revisit_window``
            tweets (a second look at what just happened; 0 disables).
        revisit_window: how many of the most recent tweets ``revisit`` draws from.
        anchor: pull strength in [0, 1] toward the last snapshot for frequent words.
        anchor_top: number of most frequent (unpinned) words that are anchored.
        anchor_every: also refresh the anchor reference every N updates (None: only at
            :meth:`snapshot` / :meth:`set_anchor`).
        max_candidates: bound on not-yet-admitted words tracked (default 2 * max_vocab).
        evict_fraction: fraction of ``max_vocab`` freed per eviction round.
        table_refresh: relative change that triggers a negative-table rebuild.
        seed: random seed.
        workers: training threads.
        pinned: terms that are never evicted (still admitted via ``min_count``).
        compute_loss: accumulate the training loss (reported by :meth:`update`).
    """

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 5,
        sg: int = 1,
        negative: int = 5,
        min_count: float = 3,
        max_vocab: int = 200_000,
        half_life: float | None = 1_000_000,
        half_life_unit: str = "tweets",
        sample: float = 1e-3,
        alpha: float = 0.05,
        min_alpha: float = 0.0025,
        lr_schedule: str = "warmup",
        lr_count_scale: float = 100.0,
        lr_warmup: float = 20_000.0,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        epochs: int = 1,
        replay_ratio: float = 0.0,
        replay_size: int = 20_000,
        revisit: float = 0.0,
        revisit_window: int = 2000,
        anchor: float = 0.0,
        anchor_top: int = 1000,
        anchor_every: int | None = None,
        max_candidates: int | None = None,
        evict_fraction: float = 0.01,
        table_refresh: float = 0.05,
        seed: int = 1,
        workers: int = 1,
        pinned: Iterable[str] = (),
        compute_loss: bool = False,
    ) -> None:
        if negative <= 0:
            raise ValueError("negative sampling is required (negative > 0)")
        if lr_schedule not in _SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {_SCHEDULES}")
        if not 0.0 <= anchor <= 1.0:
            raise ValueError("anchor must be in [0, 1]")
        if replay_ratio < 0:
            raise ValueError("replay_ratio must be >= 0")
        if revisit < 0:
            raise ValueError("revisit must be >= 0")
        if int(revisit_window) < 1:
            raise ValueError("revisit_window must be >= 1")
        if int(epochs) < 1:
            raise ValueError("epochs must be >= 1")
        if not 0 < min_alpha <= alpha:
            raise ValueError(f"need 0 < min_alpha <= alpha (got {min_alpha} and {alpha})")
        self.vector_size = int(vector_size)
        self.window = int(window)
        self.sg = int(sg)
        self.negative = int(negative)
        self.min_count = float(min_count)
        self.max_vocab = int(max_vocab)
        self.half_life = None if half_life is None else float(half_life)
        if half_life_unit not in ("tweets", "seconds"):
            raise ValueError("half_life_unit must be 'tweets' or 'seconds'")
        self.half_life_unit = half_life_unit
        self._clock: float | None = None  # last batch time (seconds mode)
        self.sample = float(sample)
        self.alpha = float(alpha)
        self.min_alpha = float(min_alpha)
        self.lr_schedule = lr_schedule
        self.lr_count_scale = float(lr_count_scale)
        self.lr_warmup = float(lr_warmup)
        self.ns_exponent = float(ns_exponent)
        self.cbow_mean = int(cbow_mean)
        self.epochs = int(epochs)
        self.replay_ratio = float(replay_ratio)
        self.replay_size = int(replay_size)
        self.revisit = float(revisit)
        self.revisit_window = int(revisit_window)
        self.anchor = float(anchor)
        self.anchor_top = int(anchor_top)
        self.anchor_every = None if anchor_every is None else int(anchor_every)
        self.max_candidates = (
            int(max_candidates) if max_candidates is not None else 2 * self.max_vocab
        )
        self.evict_fraction = float(evict_fraction)
        self.table_refresh = float(table_refresh)
        self.seed = int(seed)
        self.workers = max(1, int(workers))
        self.compute_loss = bool(compute_loss)

        self._vocab = DecayedVocab(
            max_vocab=self.max_vocab,
            min_count=self.min_count,
            half_life=self.half_life,
            max_candidates=self.max_candidates,
            evict_chunk=max(1, math.ceil(self.evict_fraction * self.max_vocab)),
        )
        d = self.vector_size
        self._vocab.add_column("vectors", (d,), np.float32)
        self._vocab.add_column("syn1neg", (d,), np.float32)
        self._vocab.add_column("lockf", (), np.float32)
        self._vocab.add_column("sample_int", (), np.uint32)
        self._vocab.pin(pinned)

        self._rng = np.random.default_rng(self.seed)
        self._wv_view = _WvView(d, self._vocab.key_to_index)
        self._workers = [
            _Worker(self, self._wv_view, self.seed + 7919 * i) for i in range(self.workers)
        ]
        self._pool: ThreadPoolExecutor | None = None
        self._cum_table = np.zeros(0, dtype=np.uint32)
        self._table_changes = 0  # admissions + evictions since the table was built
        self._table_tokens = 0  # tokens seen since the table was built
        self._decayed_tweets = 0.0  # tweets seen, decayed with the half-life
        self.updates = 0
        self.words_seen = 0
        self.table_builds = 0
        self._reservoir: list[list[str]] = []
        self._reservoir_seen = 0
        self._recent: list[list[str]] = []  # ring buffer of the last revisit_window tweets
        self._recent_pos = 0
        self._anchor_keys: list[str] = []
        self._anchor_idx = np.zeros(0, dtype=np.int64)
        self._anchor_ref = np.zeros((0, d), dtype=np.float32)
        self._anchor_ref_out = np.zeros((0, d), dtype=np.float32)

        self._wv = KeyedVectors(d)
        self._wv.index_to_key = self._vocab.index_to_key
        self._wv.key_to_index = self._vocab.key_to_index
        self._sync_views()

    # ================================================================= public API
    @property
    def wv(self) -> KeyedVectors:
        """Live vectors of the admitted words (do not modify its structure)."""
        return self._wv

    @property
    def vocab_size(self) -> int:
        """Number of admitted words."""
        return len(self._vocab)

    @property
    def n_candidates(self) -> int:
        """Number of tracked, not yet admitted words."""
        return len(self._vocab.candidates)

    @property
    def tweets_seen(self) -> int:
        """Tweets counted so far (replayed tweets excluded)."""
        return self._vocab.tweets_seen

    @property
    def pinned(self) -> list[str]:
        """Pinned terms, in pinning order."""
        return list(self._vocab.pinned)

    @property
    def maintenance_rows(self) -> int:
        """Rows touched by O(vocabulary) maintenance so far (amortisation counter)."""
        return self._vocab.cost_rows

    def count(self, term: str) -> float:
        """Decayed count of ``term`` (admitted or candidate)."""
        return self._vocab.count(term)

    def __contains__(self, term: object) -> bool:
        return term in self._vocab

    def __len__(self) -> int:
        return len(self._vocab)

    def pin(self, terms: Iterable[str]) -> None:
        """Never evict ``terms`` (they are admitted through ``min_count`` as usual)."""
        terms = [terms] if isinstance(terms, str) else list(terms)
        self._vocab.pin(terms)

    def most_similar(self, term: str, topn: int = 10) -> list[tuple[str, float]]:
        """The ``topn`` nearest admitted words to ``term`` by cosine similarity."""
        return self._wv.most_similar(term, topn=topn)

    def update(self, batch: Sequence[Sequence[str]], now: float | None = None) -> dict[str, Any]:
        """Learn from one micro-batch of token lists; returns small statistics.

        ``now`` (epoch seconds of the batch) drives the decay clock when
        ``half_life_unit="seconds"``; time never runs backwards (late batches decay 0).
        """
        t0 = time.perf_counter()
        sents = [s if isinstance(s, list) else list(s) for s in batch if s]
        vocab = self._vocab
        n_tweets = len(batch)
        step = self._decay_step(n_tweets, now)
        vocab.advance(n_tweets, step)
        if self.half_life is not None:
            self._decayed_tweets *= 2.0 ** (-(n_tweets if step is None else step) / self.half_life)
        self._decayed_tweets += n_tweets
        counts = Counter(chain.from_iterable(sents))
        n_words = counts.total()
        res = vocab.observe(counts)
        if res.admitted or res.evicted:
            self._sync_views()
        if res.new_rows.size:
            self._init_rows(res.new_rows)
        if res.evicted and self._anchor_keys:
            self._remap_anchor()
        replay = self._draw(self._reservoir, self.replay_ratio, n_tweets)
        revisit = self._draw(self._recent, self.revisit, n_tweets)
        touched = res.touched
        if replay or revisit:
            k2i = vocab.key_to_index
            seen = set(chain.from_iterable(replay))
            seen.update(chain.from_iterable(revisit))
            extra = [k2i[w] for w in seen if w in k2i]
            touched = np.concatenate([touched, np.asarray(extra, dtype=np.int64)])
        alpha_out = self._alpha_out()
        if touched.size:
            self._update_word_tables(touched, alpha_out)
        self._table_changes += res.admitted + res.evicted
        self._table_tokens += n_words
        # after an eviction (itself an O(n) step, once per many admissions) the table is
        # rebuilt at once so that it never points at rows beyond the live vocabulary
        if res.evicted or self._table_due():
            self._rebuild_table()
        trained = 0
        loss = 0.0
        t_train = time.perf_counter()
        if len(vocab) and self._cum_table.size:
            for _ in range(self.epochs):
                n_tr, n_loss = self._train(sents + replay + revisit, alpha_out)
                trained += n_tr
                loss += n_loss
        t_train = time.perf_counter() - t_train
        self._reservoir_add(sents)
        self._recent_add(sents)
        self.updates += 1
        self.words_seen += n_words
        if self.anchor > 0:
            if self.anchor_every and self.updates % self.anchor_every == 0:
                self.set_anchor()
            self._apply_anchor()
        self._wv.norms = None
        return {
            "tweets": n_tweets,
            "words": n_words,
            "trained": trained,
            "replayed": len(replay),
            "revisited": len(revisit),
            "admitted": res.admitted,
            "evicted": res.evicted,
            "vocab": len(vocab),
            "candidates": len(vocab.candidates),
            "alpha": alpha_out,
            "loss": loss if self.compute_loss else None,
            "seconds": time.perf_counter() - t0,
            "train_seconds": t_train,
        }

    def _decay_step(self, n_tweets: int, now: float | None) -> float | None:
        if self.half_life_unit == "tweets":
            return None
        if now is None:
            raise ValueError("half_life_unit='seconds' needs update(batch, now=epoch_seconds)")
        step = 0.0 if self._clock is None else max(0.0, now - self._clock)
        self._clock = now if self._clock is None else max(self._clock, now)
        return step

    def snapshot(self, tag: Any = None) -> KeyedVectors:
        """A frozen copy of the current vectors (``kv.tag`` / ``kv.meta`` hold the tag).

        Also refreshes the anchoring reference when ``anchor > 0``.
        """
        n = len(self._vocab)
        kv = KeyedVectors(self.vector_size)
        kv.index_to_key = list(self._vocab.index_to_key)
        kv.key_to_index = dict(self._vocab.key_to_index)
        kv.vectors = self._vocab.columns["vectors"][:n].copy()
        kv.next_index = n
        kv.expandos["count"] = self._vocab.decayed()
        kv.tag = tag
        kv.meta = {
            "tag": tag,
            "tweets_seen": self.tweets_seen,
            "updates": self.updates,
            "vocab": n,
        }
        if self.anchor > 0:
            self.set_anchor()
        return kv

    def set_anchor(self) -> None:
        """Take the current vectors of the ``anchor_top`` most frequent words as reference."""
        vocab = self._vocab
        n = len(vocab)
        cnt = vocab.columns["counts"][:n].copy()
        cnt[vocab.columns["pinned"][:n]] = -np.inf
        k = min(self.anchor_top, int(np.isfinite(cnt).sum()))
        if k <= 0:
            idx = np.zeros(0, dtype=np.int64)
        elif k < n:
            idx = np.sort(np.argpartition(-cnt, k - 1)[:k])
        else:
            idx = np.flatnonzero(np.isfinite(cnt))
        self._anchor_idx = idx.astype(np.int64)
        self._anchor_keys = [vocab.index_to_key[i] for i in idx.tolist()]
        self._anchor_ref = vocab.columns["vectors"][idx].copy()
        self._anchor_ref_out = vocab.columns["syn1neg"][idx].copy()

    # ----------------------------------------------------------------- persistence
    def config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        return {
            "vector_size": self.vector_size,
            "window": self.window,
            "sg": self.sg,
            "negative": self.negative,
            "min_count": self.min_count,
            "max_vocab": self.max_vocab,
            "half_life": self.half_life,
            "half_life_unit": self.half_life_unit,
            "sample": self.sample,
            "alpha": self.alpha,
            "min_alpha": self.min_alpha,
            "lr_schedule": self.lr_schedule,
            "lr_count_scale": self.lr_count_scale,
            "lr_warmup": self.lr_warmup,
            "ns_exponent": self.ns_exponent,
            "cbow_mean": self.cbow_mean,
            "epochs": self.epochs,
            "replay_ratio": self.replay_ratio,
            "replay_size": self.replay_size,
            "revisit": self.revisit,
            "revisit_window": self.revisit_window,
            "anchor": self.anchor,
            "anchor_top": self.anchor_top,
            "anchor_every": self.anchor_every,
            "max_candidates": self.max_candidates,
            "evict_fraction": self.evict_fraction,
            "table_refresh": self.table_refresh,
            "seed": self.seed,
            "workers": self.workers,
            "compute_loss": self.compute_loss,
        }

    def state_dict(self) -> dict[str, Any]:
        """Full state as numpy arrays and JSON-able values (no pickling needed)."""
        n = len(self._vocab)
        cols = self._vocab.columns
        state: dict[str, Any] = {"format": _FORMAT, "config": self.config()}
        state.update(self._vocab.state_dict())
        state.update(
            {
                "vectors": cols["vectors"][:n].copy(),
                "syn1neg": cols["syn1neg"][:n].copy(),
                "lockf": cols["lockf"][:n].copy(),
                "sample_int": cols["sample_int"][:n].copy(),
                "cum_table": self._cum_table.copy(),
                "counters": {
                    "table_changes": self._table_changes,
                    "table_tokens": self._table_tokens,
                    "decayed_tweets": self._decayed_tweets,
                    "updates": self.updates,
                    "words_seen": self.words_seen,
                    "table_builds": self.table_builds,
                    "reservoir_seen": self._reservoir_seen,
                    "recent_pos": self._recent_pos,
                    "clock": self._clock,
                },
                "rng": self._rng.bit_generator.state,
                "reservoir": [list(t) for t in self._reservoir],
                "recent": [list(t) for t in self._recent],
                "anchor_keys": list(self._anchor_keys),
                "anchor_ref": self._anchor_ref.copy(),
                "anchor_ref_out": self._anchor_ref_out.copy(),
            }
        )
        for i, w in enumerate(self._workers):
            name, keys, pos, has_gauss, gauss = w.random.get_state()
            state[f"worker{i}.mt_keys"] = np.asarray(keys, dtype=np.uint32)
            state[f"worker{i}.mt_meta"] = [str(name), int(pos), int(has_gauss), float(gauss)]
            state[f"worker{i}.loss"] = float(w.running_training_loss)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (the configuration must match)."""
        if state.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} state")
        if int(state["config"]["vector_size"]) != self.vector_size:
            raise ValueError("vector_size mismatch")
        vocab = self._vocab
        vocab.load_state_dict(state)
        n = len(vocab)
        cols = vocab.columns
        for name in ("vectors", "syn1neg", "lockf", "sample_int"):
            cols[name][:n] = np.asarray(state[name], dtype=cols[name].dtype)
        self._cum_table = np.asarray(state["cum_table"], dtype=np.uint32).copy()
        c = state["counters"]
        self._table_changes = int(c["table_changes"])
        self._table_tokens = int(c["table_tokens"])
        self._decayed_tweets = float(c["decayed_tweets"])
        self.updates = int(c["updates"])
        self.words_seen = int(c["words_seen"])
        self.table_builds = int(c["table_builds"])
        self._reservoir_seen = int(c["reservoir_seen"])
        self._clock = None if c.get("clock") is None else float(c["clock"])
        self._rng.bit_generator.state = _jsonable(state["rng"])
        self._reservoir = [list(t) for t in state["reservoir"]]
        self._recent = [list(t) for t in state.get("recent", [])]
        self._recent_pos = int(c.get("recent_pos", 0))
        self._anchor_keys = list(state["anchor_keys"])
        self._anchor_ref = np.asarray(state["anchor_ref"], dtype=np.float32).reshape(
            -1, self.vector_size
        )
        self._anchor_ref_out = np.asarray(state["anchor_ref_out"], dtype=np.float32).reshape(
            -1, self.vector_size
        )
        self._anchor_idx = np.asarray(
            [vocab.key_to_index[k] for k in self._anchor_keys], dtype=np.int64
        )
        for i, w in enumerate(self._workers):
            key = f"worker{i}.mt_keys"
            if key in state:
                name, pos, has_gauss, gauss = state[f"worker{i}.mt_meta"]
                w.random.set_state(
                    (name, np.asarray(state[key], dtype=np.uint32), pos, has_gauss, gauss)
                )
                w.running_training_loss = float(state[f"worker{i}.loss"])
        self._wv.index_to_key = vocab.index_to_key
        self._wv.key_to_index = vocab.key_to_index
        self._wv_view.key_to_index = vocab.key_to_index
        self._sync_views()

    def save(self, path: str | Path) -> None:
        """Write the full state to one ``.npz`` file (arrays + a JSON document)."""
        _save_npz(path, self.state_dict())

    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> ContinualWord2Vec:
        """Load a model written by :meth:`save` (``overrides`` e.g. ``workers=2``)."""
        state = _load_npz(path)
        cfg = dict(state["config"])
        cfg.update(overrides)
        model = cls(**cfg, pinned=state["vocab.pinned"])
        model.load_state_dict(state)
        return model

    def close(self) -> None:
        """Stop the training threads (they are restarted on demand)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ================================================================= internals
    def _sync_views(self) -> None:
        """Point gensim-facing objects at the current column arrays."""
        cols = self._vocab.columns
        n = len(self._vocab)
        view = self._wv_view
        view.vectors = cols["vectors"]
        view.vectors_lockf = cols["lockf"]
        view.expandos["sample_int"] = cols["sample_int"]
        for w in self._workers:
            w.syn1neg = cols["syn1neg"]
            w.cum_table = self._cum_table
        self._wv.vectors = cols["vectors"][:n]
        self._wv.next_index = n
        self._wv.norms = None

    def _init_rows(self, rows: np.ndarray) -> None:
        cols = self._vocab.columns
        d = self.vector_size
        cols["vectors"][rows] = (self._rng.random((rows.size, d), dtype=np.float32) - 0.5) / d
        cols["syn1neg"][rows] = 0.0

    def _alpha_out(self) -> float:
        if self.lr_schedule == "constant":
            return self.alpha
        return max(
            self.min_alpha, self.alpha / math.sqrt(1.0 + self._decayed_tweets / self.lr_warmup)
        )

    def _update_word_tables(self, rows: np.ndarray, alpha_out: float) -> None:
        """Recompute learning-rate multipliers and down-sampling for ``rows``."""
        vocab = self._vocab
        cols = vocab.columns
        stored = cols["counts"][rows]
        if self.lr_schedule == "count":
            c = stored / vocab.scale
            lr = np.maximum(self.min_alpha, self.alpha / np.sqrt(1.0 + c / self.lr_count_scale))
            cols["lockf"][rows] = lr / alpha_out
        else:
            cols["lockf"][rows] = 1.0
        if self.sample > 0 and vocab.mass > 0:
            thr = self.sample * vocab.mass
            v = np.maximum(stored, 1e-300)
            p = np.minimum((np.sqrt(v / thr) + 1.0) * (thr / v), 1.0)
            cols["sample_int"][rows] = (p * (2**32 - 1)).astype(np.uint32)
        else:
            cols["sample_int"][rows] = np.uint32(2**32 - 1)

    def _table_due(self) -> bool:
        n = len(self._vocab)
        if n == 0:
            return False
        if self._cum_table.size == 0:
            return True
        if self._table_changes >= max(16.0, self.table_refresh * n):
            return True
        mass = self._vocab.mass / self._vocab.scale
        return self._table_tokens >= max(float(n), self.table_refresh * mass)

    def _rebuild_table(self) -> None:
        vocab = self._vocab
        n = len(vocab)
        p = (vocab.columns["counts"][:n] / vocab.scale) ** self.ns_exponent
        cum = np.cumsum(p)
        table = np.round(cum * (_DOMAIN / cum[-1]))
        table[-1] = _DOMAIN
        self._cum_table = table.astype(np.uint32)
        for w in self._workers:
            w.cum_table = self._cum_table
        vocab.cost_rows += n
        self._table_changes = 0
        self._table_tokens = 0
        self.table_builds += 1

    def _jobs(self, sents: list[list[str]], limit: int) -> list[list[list[str]]]:
        """Split sentences into jobs of at most ``limit`` words (gensim's C buffer size)."""
        if not sents:
            return []
        lens = np.fromiter(map(len, sents), dtype=np.int64, count=len(sents))
        if int(lens.sum()) <= limit:
            return [sents]
        longest = int(lens.max())
        if longest * 4 <= limit:
            # a job holds the sentences *starting* in one span of (limit - longest) words
            span = limit - longest
            starts = np.cumsum(lens) - lens
            job_id = starts // span
            cuts = (np.flatnonzero(np.diff(job_id)) + 1).tolist()
            bounds = [0, *cuts, len(sents)]
            return [sents[a:b] for a, b in pairwise(bounds)]
        jobs: list[list[list[str]]] = []
        cur: list[list[str]] = []
        size = 0
        for s in sents:
            pieces = [s[i : i + limit] for i in range(0, len(s), limit)] if len(s) > limit else [s]
            for piece in pieces:
                if size + len(piece) > limit and cur:
                    jobs.append(cur)
                    cur, size = [], 0
                cur.append(piece)
                size += len(piece)
        if cur:
            jobs.append(cur)
        return jobs

    def _run_jobs(self, worker: _Worker, jobs: list[list[list[str]]], alpha: float) -> int:
        trained = 0
        if self.sg:
            for job in jobs:
                trained += train_batch_sg(worker, job, alpha, worker.work, self.compute_loss)
        else:
            for job in jobs:
                trained += train_batch_cbow(
                    worker, job, alpha, worker.work, worker.neu1, self.compute_loss
                )
        return trained

    def _train(self, sents: list[list[str]], alpha: float) -> tuple[int, float]:
        loss0 = sum(w.running_training_loss for w in self._workers)
        total = sum(len(s) for s in sents)
        if self.workers == 1 or total < 2000:
            jobs = self._jobs(sents, MAX_WORDS_IN_BATCH)
            trained = self._run_jobs(self._workers[0], jobs, alpha)
        else:
            nw = self.workers
            limit = min(MAX_WORDS_IN_BATCH, max(500, math.ceil(total / (2 * nw))))
            jobs = self._jobs(sents, limit)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=nw - 1, thread_name_prefix="w2v")
            futures = [
                self._pool.submit(self._run_jobs, self._workers[i], jobs[i::nw], alpha)
                for i in range(1, nw)
            ]
            trained = self._run_jobs(self._workers[0], jobs[0::nw], alpha)
            trained += sum(f.result() for f in futures)
        loss = sum(w.running_training_loss for w in self._workers) - loss0
        return trained, loss

    def _draw(self, pool: list[list[str]], ratio: float, n_tweets: int) -> list[list[str]]:
        """``round(ratio * n_tweets)`` tweets drawn with replacement from ``pool``."""
        m = round(ratio * n_tweets) if ratio > 0 and pool else 0
        if m <= 0:
            return []
        idx = self._rng.integers(0, len(pool), size=m)
        return [pool[i] for i in idx.tolist()]

    def _recent_add(self, sents: list[list[str]]) -> None:
        """Keep the last ``revisit_window`` tweets (a ring buffer, O(batch) per update)."""
        if self.revisit <= 0 or not sents:
            return
        size = self.revisit_window
        buf = self._recent
        new = [list(s) for s in sents[-size:]]
        fill = min(size - len(buf), len(new))
        if fill > 0:
            buf.extend(new[:fill])
            new = new[fill:]
        pos = self._recent_pos
        for s in new:
            buf[pos] = s
            pos = (pos + 1) % size
        self._recent_pos = pos

    def _reservoir_add(self, sents: list[list[str]]) -> None:
        """Reservoir sampling (algorithm R) of the tweets seen so far."""
        if self.replay_ratio <= 0 or self.replay_size <= 0 or not sents:
            return
        res = self._reservoir
        size = self.replay_size
        seen = self._reservoir_seen
        fill = max(0, min(size - len(res), len(sents)))
        res.extend(list(s) for s in sents[:fill])
        rest = len(sents) - fill
        if rest > 0:
            highs = np.arange(seen + fill + 1, seen + len(sents) + 1, dtype=np.int64)
            draws = self._rng.integers(0, highs)
            for h in np.flatnonzero(draws < size).tolist():
                res[int(draws[h])] = list(sents[fill + h])
        self._reservoir_seen = seen + len(sents)

    def _remap_anchor(self) -> None:
        k2i = self._vocab.key_to_index
        keep = [j for j, k in enumerate(self._anchor_keys) if k in k2i]
        self._anchor_keys = [self._anchor_keys[j] for j in keep]
        self._anchor_idx = np.asarray([k2i[k] for k in self._anchor_keys], dtype=np.int64)
        self._anchor_ref = self._anchor_ref[keep]
        self._anchor_ref_out = self._anchor_ref_out[keep]

    def _apply_anchor(self) -> None:
        idx = self._anchor_idx
        if not idx.size:
            return
        a = np.float32(self.anchor)
        cols = self._vocab.columns
        vec = cols["vectors"]
        vec[idx] += a * (self._anchor_ref - vec[idx])
        out = cols["syn1neg"]
        out[idx] += a * (self._anchor_ref_out - out[idx])


# ===================================================================== npz + JSON
def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def _save_npz(path: str | Path, state: Mapping[str, Any]) -> None:
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = {k: _jsonable(v) for k, v in state.items() if not isinstance(v, np.ndarray)}
    meta["__arrays__"] = sorted(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta)), **arrays)


def _load_npz(path: str | Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
        names = meta.pop("__arrays__")
        state: dict[str, Any] = dict(meta)
        for k in names:
            state[k] = z[k]
    return state


def save_keyed_vectors(kv: KeyedVectors, path: str | Path, dtype: str = "float32") -> None:
    """Write a snapshot (vectors, keys, counts, tag/meta) as ``.npz`` without pickling.

    ``dtype="float16"`` halves the file (cosines change by < 1e-3); it is read back as
    float32 by :func:`load_keyed_vectors`.
    """
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype {dtype!r}: use float16 or float32")
    state: dict[str, Any] = {
        "keys": list(kv.index_to_key),
        "vectors": np.asarray(kv.vectors, dtype=dtype),
        "meta": getattr(kv, "meta", None),
        "tag": getattr(kv, "tag", None),
    }
    if "count" in kv.expandos:
        state["count"] = np.asarray(kv.expandos["count"])
    _save_npz(path, state)


def load_keyed_vectors(path: str | Path, dtype: str | None = "float32") -> KeyedVectors:
    """Read a snapshot written by :func:`save_keyed_vectors` (``dtype=None``: as stored,
    e.g. float16 for half the memory when only similarities are needed)."""
    state = _load_npz(path)
    vectors = np.asarray(state["vectors"], dtype=dtype or state["vectors"].dtype)
    kv = KeyedVectors(vectors.shape[1] if vectors.ndim == 2 else 0)
    kv.index_to_key = list(state["keys"])
    kv.key_to_index = {k: i for i, k in enumerate(kv.index_to_key)}
    kv.vectors = vectors
    kv.next_index = len(kv.index_to_key)
    if "count" in state:
        kv.expandos["count"] = state["count"]
    kv.tag = state.get("tag")
    kv.meta = state.get("meta")
    return kv
