"""Hashed word n-grams of tokenised tweets, stored sparse (a fixed number of terms a row).

No vocabulary to fit, so the features of a tweet never change as the stream moves on and
two runs (or machines) agree. Rows are L2-normalised counts of hashed unigrams and
bigrams (scikit-learn's ``HashingVectorizer``, MurmurHash3), kept as the ``max_terms``
hashed ids of each tweet and their weights: ``{"ids": [n, L], "weights": [n, L]}``,
padded with id 0 and weight 0. A replay memory of 1,000 tweets holds 1,000 x L ids and
weights, not 1,000 dense rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

DEFAULT_FEATURES = 2**14
DEFAULT_MAX_TERMS = 64


def _grams(order: int) -> Any:
    def grams(doc: Sequence[str]) -> list[str]:
        out = list(doc)
        if order >= 2:
            out += [f"{a} {b}" for a, b in itertools.pairwise(doc)]
        return out

    return grams


class HashedNgrams:
    """Tokens to sparse hashed n-gram rows (``order`` 1: unigrams, 2: and bigrams).

    ``truncated`` counts rows that had more than ``max_terms`` distinct hashed terms (the
    extra, lowest-weighted ones were dropped; the row is L2-normalised again).
    """

    def __init__(self, n_features: int = DEFAULT_FEATURES, order: int = 2,
                 max_terms: int = DEFAULT_MAX_TERMS) -> None:
        if n_features < 2:
            raise ValueError(f"n_features must be at least 2, got {n_features}")
        if order not in (1, 2):
            raise ValueError(f"order must be 1 (unigrams) or 2 (and bigrams), got {order}")
        if max_terms < 1:
            raise ValueError(f"max_terms must be at least 1, got {max_terms}")
        from sklearn.feature_extraction.text import HashingVectorizer

        self.n_features = n_features
        self.order = order
        self.max_terms = max_terms
        self.truncated = 0
        self._vectorizer = HashingVectorizer(
            n_features=n_features, analyzer=_grams(order), alternate_sign=False, norm="l2"
        )

    def sparse(self, tokens: Sequence[Sequence[str]]) -> Any:
        """The rows as a SciPy CSR matrix ``[n, n_features]`` (before truncation)."""
        return self._vectorizer.transform(list(tokens))

    def transform(self, tokens: Sequence[Sequence[str]]) -> dict[str, torch.Tensor]:
        """``{"ids": LongTensor [n, max_terms], "weights": FloatTensor [n, max_terms]}``."""
        matrix = self.sparse(tokens)
        n, width = matrix.shape[0], self.max_terms
        ids = np.zeros((n, width), dtype=np.int64)
        weights = np.zeros((n, width), dtype=np.float32)
        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
        for row in range(n):
            lo, hi = indptr[row], indptr[row + 1]
            cols, vals = indices[lo:hi], data[lo:hi]
            if hi - lo > width:
                self.truncated += 1
                keep = np.sort(np.argsort(-vals, kind="stable")[:width])
                cols, vals = cols[keep], vals[keep] / np.linalg.norm(vals[keep])
            ids[row, : len(cols)] = cols
            weights[row, : len(cols)] = vals
        return {"ids": torch.from_numpy(ids), "weights": torch.from_numpy(weights)}


def densify(x: dict[str, torch.Tensor], n_features: int) -> torch.Tensor:
    """Sparse hashed rows as a dense ``[n, n_features]`` tensor (padding adds nothing)."""
    weights = x["weights"]
    out = weights.new_zeros(weights.shape[0], n_features)
    return out.scatter_add_(1, x["ids"], weights)


def as_dicts(x: dict[str, torch.Tensor]) -> list[dict[int, float]]:
    """Each row as ``{feature id: weight}`` (for dict-based learners such as river's)."""
    out = []
    for ids, weights in zip(x["ids"].tolist(), x["weights"].tolist(), strict=True):
        out.append({i: w for i, w in zip(ids, weights, strict=True) if w})
    return out
