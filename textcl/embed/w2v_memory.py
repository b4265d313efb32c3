"""Forgetting control of :class:`~textcl.embed.word2vec.ContinualWord2Vec`: replay and anchoring.

``replay_ratio`` mixes tweets from a bounded reservoir sample of the past into each
update, ``revisit`` re-trains tweets from a ring buffer of the most recent ones, and
``anchor`` pulls the vectors of the most frequent unpinned words toward a reference
taken at :meth:`set_anchor` (see the :mod:`textcl.embed.word2vec` module doc).
"""

from __future__ import annotations

import numpy as np


class _MemoryMixin:
    """Replay, revisit and anchoring methods; uses the state set by the model's ``__init__``."""

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
