"""Synthetic token streams with planted topics, for tests and benchmarks of embeddings."""

from __future__ import annotations

import numpy as np


def topic_stream(
    n: int, seed: int, topics: list[tuple[str, list[str]]], n_background: int = 300
) -> list[list[str]]:
    """``n`` token lists: a topic head word, 4 of its context words, and 5 Zipfian
    background words ``b0..b{n_background-1}``, shuffled; topics drawn uniformly."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_background + 1)
    p /= p.sum()
    out = []
    for _ in range(n):
        head, words = topics[rng.integers(len(topics))]
        toks = [head] + [words[i] for i in rng.choice(len(words), 4, replace=False)]
        toks += [f"b{i}" for i in rng.choice(n_background, 5, p=p)]
        rng.shuffle(toks)
        out.append(toks)
    return out
