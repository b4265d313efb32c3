"""The pool of tweets an active-learning round chooses from, and what it is compared with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Candidates", "Context"]


def _rows(name: str, value: np.ndarray, n: int) -> np.ndarray:
    """``value`` as a 2-D float array with ``n`` rows (1-D arrays become one column)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 1-D or 2-D array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but there are {n} candidates")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


@dataclass
class Candidates:
    """Tweets that could be labelled: ids, texts, tokens, and optional per-tweet data.

    * ``embeddings``: one row per tweet (L2-normalised or not).
    * ``probs``: class probabilities from any classifier, shape ``(n, classes)``; a 1-D
      array is read as the probability of the positive class of a binary classifier.
    * ``groups``: a label per tweet (its event, window, slice...).
    """

    ids: list[str]
    texts: list[str]
    tokens: list[list[str]]
    embeddings: np.ndarray | None = None
    probs: np.ndarray | None = None
    groups: list[str] | None = None

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        self.texts = list(self.texts)
        self.tokens = [list(t) for t in self.tokens]
        n = len(self.ids)
        if len(self.texts) != n:
            raise ValueError(f"texts has {len(self.texts)} entries but ids has {n}")
        if len(self.tokens) != n:
            raise ValueError(f"tokens has {len(self.tokens)} entries but ids has {n}")
        if self.groups is not None:
            self.groups = [str(g) for g in self.groups]
            if len(self.groups) != n:
                raise ValueError(f"groups has {len(self.groups)} entries but ids has {n}")
        if self.embeddings is not None:
            self.embeddings = _rows("embeddings", self.embeddings, n)
        if self.probs is not None:
            probs = _rows("probs", self.probs, n)
            if probs.shape[1] == 1:
                probs = np.hstack([1.0 - probs, probs])
            if np.any(probs < 0):
                raise ValueError("probs contains negative values")
            self.probs = probs

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_texts(
        cls,
        ids: Sequence[str],
        texts: Sequence[str],
        tokenizer: object | None = None,
        **extra: object,
    ) -> Candidates:
        """Build candidates, tokenising ``texts`` with ``tokenizer`` (a ``TweetTokenizer``)."""
        if tokenizer is None:
            from textcl.text.tokenize import TweetTokenizer

            tokenizer = TweetTokenizer()
        tokens = [tokenizer(t) for t in texts]  # type: ignore[operator]
        return cls(list(ids), list(texts), tokens, **extra)  # type: ignore[arg-type]

    def subset(self, idx: Sequence[int] | np.ndarray) -> Candidates:
        """The candidates at positions ``idx`` (in that order)."""
        index = [int(i) for i in np.asarray(idx, dtype=np.int64).reshape(-1)]
        for i in index:
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} out of range for {len(self)} candidates")
        return Candidates(
            ids=[self.ids[i] for i in index],
            texts=[self.texts[i] for i in index],
            tokens=[self.tokens[i] for i in index],
            embeddings=None if self.embeddings is None else self.embeddings[index],
            probs=None if self.probs is None else self.probs[index],
            groups=None if self.groups is None else [self.groups[i] for i in index],
        )


@dataclass
class Context:
    """What a round of selection knows besides the pool.

    * ``background_counts`` / ``background_total``: term counts of ordinary text (the total
      defaults to the sum of the counts).
    * ``background_embeddings``: embeddings of ordinary tweets.
    * ``keywords``: the current keyword set of the tracker.
    * ``labelled_embeddings``: embeddings of tweets already labelled.
    * ``seed``: randomness of the seeded strategies.
    """

    background_counts: Counter[str] | None = None
    background_total: int | None = None
    background_embeddings: np.ndarray | None = None
    keywords: set[str] | None = None
    labelled_embeddings: np.ndarray | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.background_counts is not None:
            self.background_counts = Counter(self.background_counts)
            if self.background_total is None:
                self.background_total = int(sum(self.background_counts.values()))
            elif self.background_total < sum(self.background_counts.values()):
                raise ValueError("background_total is smaller than the sum of background_counts")
        for name in ("background_embeddings", "labelled_embeddings"):
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value, dtype=np.float64)
                if arr.ndim != 2:
                    raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
                setattr(self, name, arr)
        if self.keywords is not None:
            self.keywords = set(self.keywords)
