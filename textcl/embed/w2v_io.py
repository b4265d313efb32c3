"""Pickle-free ``.npz`` persistence for word2vec: model states and vector snapshots.

A state is a mapping of numpy arrays and JSON-able values; :func:`_save_npz` stores the
arrays as ``.npz`` members and everything else as one JSON document (``__meta__``).
:func:`save_keyed_vectors` / :func:`load_keyed_vectors` write and read gensim
``KeyedVectors`` snapshots (keys, vectors, counts, tag/meta) in that format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models.keyedvectors import KeyedVectors

__all__ = ["load_keyed_vectors", "save_keyed_vectors"]


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
