"""The training step of :class:`~textcl.embed.word2vec.ContinualWord2Vec` on gensim's Cython.

gensim's ``train_batch_sg`` / ``train_batch_cbow`` read a model-like object; here
:class:`_WvView` and :class:`_Worker` provide exactly the attributes they use (shared
weight arrays, one RNG and scratch buffers per thread). :class:`_TrainingMixin` keeps
those views pointed at the vocabulary's columns, initialises new rows, maintains the
negative-sampling table and splits a batch into jobs trained by one or more threads.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
from gensim.models.word2vec_inner import MAX_WORDS_IN_BATCH, train_batch_cbow, train_batch_sg

if TYPE_CHECKING:
    from textcl.embed.word2vec import ContinualWord2Vec

_DOMAIN = 2**31 - 1  # negative-sampling table domain (as gensim)


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


class _TrainingMixin:
    """Training methods; uses the state set by the model's ``__init__``."""

    def close(self) -> None:
        """Stop the training threads (they are restarted on demand)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

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
