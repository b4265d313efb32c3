"""On-disk cache of sentence vectors keyed by (encoder, text), so no text is embedded twice."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

CACHE_ENV = "TEXTCL_CACHE"


def default_cache_dir() -> Path:
    """``$TEXTCL_CACHE``, else ``~/.cache/textcl``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "textcl"


def text_key(text: str) -> bytes:
    """16-byte digest of a text (the cache key)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class FeatureCache:
    """Vectors of one encoder, stored as two ``.npy`` files (keys and vectors), no pickle.

    ``get`` returns the cached rows; ``add`` appends new ones; ``save`` writes atomically.
    """

    def __init__(self, folder: str | Path, model_id: str, dim: int) -> None:
        self.folder = Path(folder) / "features" / model_id
        self.dim = dim
        self._keys_path = self.folder / "keys.npy"
        self._vecs_path = self.folder / "vectors.npy"
        self._index: dict[bytes, int] = {}
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        if self._keys_path.exists() and self._vecs_path.exists():
            keys = np.load(self._keys_path, allow_pickle=False)
            vectors = np.load(self._vecs_path, allow_pickle=False)
            if len(keys) != len(vectors) or vectors.shape[1:] != (dim,):
                raise ValueError(
                    f"{self.folder}: cache files disagree (keys {keys.shape}, vectors "
                    f"{vectors.shape}, expected dim {dim}); delete the folder to rebuild it"
                )
            self._index = {bytes(k): i for i, k in enumerate(keys)}
            self._vectors = vectors.astype(np.float32, copy=False)

    def __len__(self) -> int:
        return len(self._index)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """Distinct texts that are not cached yet, in first-seen order."""
        seen: set[bytes] = set()
        out = []
        for text in texts:
            key = text_key(text)
            if key not in self._index and key not in seen:
                seen.add(key)
                out.append(text)
        return out

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store ``vectors[i]`` as the vector of ``texts[i]``."""
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        start = len(self._vectors)
        self._vectors = np.concatenate([self._vectors, vectors.astype(np.float32)])
        for offset, text in enumerate(texts):
            self._index[text_key(text)] = start + offset

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for ``texts`` (all must be cached)."""
        rows = [self._index[text_key(t)] for t in texts]
        return self._vectors[rows]

    def save(self) -> None:
        """Write keys and vectors atomically (temp file + rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = np.empty((len(self._index), 16), dtype=np.uint8)
        for key, row in self._index.items():
            keys[row] = np.frombuffer(key, dtype=np.uint8)
        for path, array in ((self._vecs_path, self._vectors), (self._keys_path, keys)):
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, path)


def cached_features(
    texts: Sequence[str],
    encoder: object,
    cache_dir: str | Path | None = None,
    chunk: int = 2048,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Vectors for ``texts``; only texts never seen by this encoder are embedded.

    ``encoder`` needs ``encode(texts) -> array``, ``dim`` and ``model_id``. New vectors are
    saved every ``chunk`` texts, so an interrupted run keeps what it computed.
    """
    cache = FeatureCache(cache_dir or default_cache_dir(), encoder.model_id, encoder.dim)
    todo = cache.missing(texts)
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        cache.add(part, encoder.encode(part))
        cache.save()
        if progress:
            progress(min(start + chunk, len(todo)), len(todo))
    return cache.get(texts)
