"""Snapshots and persistence of :class:`~textcl.embed.word2vec.ContinualWord2Vec`.

:meth:`snapshot` freezes the current vectors as gensim ``KeyedVectors``;
:meth:`state_dict` / :meth:`load_state_dict` capture and restore the full state (numpy
arrays and JSON-able values, no pickling) and :meth:`save` / :meth:`load` write it to
one ``.npz`` file (:mod:`textcl.embed.w2v_io`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from gensim.models.keyedvectors import KeyedVectors

from textcl.embed.w2v_io import _jsonable, _load_npz, _save_npz

if TYPE_CHECKING:
    from textcl.embed.word2vec import ContinualWord2Vec

_FORMAT = "textcl.ContinualWord2Vec/1"


class _StateMixin:
    """Snapshot and persistence methods; uses the state set by the model's ``__init__``."""

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
