"""Decay clock and learning-rate schedules of :class:`~textcl.embed.word2vec.ContinualWord2Vec`.

``lr_schedule`` is ``"warmup"`` (the default), ``"count"`` or ``"constant"`` (see the
:mod:`textcl.embed.word2vec` module doc). :class:`_ScheduleMixin` advances the decay
clock, computes the global (output-layer) rate and refreshes the per-word tables that
gensim reads: the input-vector rate multiplier (``lockf``) and the down-sampling
threshold (``sample_int``).
"""

from __future__ import annotations

import math

import numpy as np

_SCHEDULES = ("count", "constant", "warmup")


class _ScheduleMixin:
    """Learning-rate and decay-clock methods; uses the state set by the model's ``__init__``."""

    def _decay_step(self, n_tweets: int, now: float | None) -> float | None:
        if self.half_life_unit == "tweets":
            return None
        if now is None:
            raise ValueError("half_life_unit='seconds' needs update(batch, now=epoch_seconds)")
        step = 0.0 if self._clock is None else max(0.0, now - self._clock)
        self._clock = now if self._clock is None else max(self._clock, now)
        return step

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
