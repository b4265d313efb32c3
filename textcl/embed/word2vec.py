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

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

import numpy as np
from gensim.models.keyedvectors import KeyedVectors

from textcl.embed.vocab import DecayedVocab
from textcl.embed.w2v_io import _jsonable as _jsonable
from textcl.embed.w2v_io import _load_npz as _load_npz
from textcl.embed.w2v_io import _save_npz as _save_npz
from textcl.embed.w2v_io import load_keyed_vectors, save_keyed_vectors
from textcl.embed.w2v_memory import _MemoryMixin
from textcl.embed.w2v_schedules import _SCHEDULES, _ScheduleMixin
from textcl.embed.w2v_state import _FORMAT as _FORMAT
from textcl.embed.w2v_state import _StateMixin
from textcl.embed.w2v_train import _DOMAIN as _DOMAIN
from textcl.embed.w2v_train import _TrainingMixin, _Worker, _WvView

__all__ = ["ContinualWord2Vec", "load_keyed_vectors", "save_keyed_vectors"]


class ContinualWord2Vec(_StateMixin, _MemoryMixin, _ScheduleMixin, _TrainingMixin):
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
        # n new tweets, generator -> token lists to re-learn (the selection's picks)
        self.relearn_source: Callable[[int, np.random.Generator], list[list[str]]] | None = None
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
        if self.relearn_source is not None:  # tweets picked to be learned again
            replay = replay + self.relearn_source(n_tweets, self._rng)
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
