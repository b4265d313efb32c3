"""What a stream classifier sees of a tweet: hashed n-grams, cached sentence vectors, or
the continual transformer's sentence vectors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from textcl.cl.rows import Inputs


class FeatureSpace(Protocol):
    """Turns tweets into model inputs and builds a model over them."""

    kind: str

    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Inputs: ...

    def model(self, hidden: Sequence[int], dropout: float) -> nn.Module: ...

    def flush(self) -> None: ...

    def ready(self) -> bool: ...


class HashedSpace:
    """Hashed word unigrams and bigrams of the tokens (:mod:`textcl.features.hashed`)."""

    kind = "hashed"

    def __init__(self, n_features: int, order: int = 2, max_terms: int = 64) -> None:
        from textcl.features.hashed import HashedNgrams

        self.ngrams = HashedNgrams(n_features, order, max_terms)

    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Inputs:
        return self.ngrams.transform(tokens)

    def model(self, hidden: Sequence[int], dropout: float) -> nn.Module:
        from textcl.heads import HashedTextClassifier

        return HashedTextClassifier(self.ngrams.n_features, tuple(hidden), dropout)

    def flush(self) -> None:
        """Nothing kept."""

    def ready(self) -> bool:
        return True


class SentenceSpace:
    """Frozen sentence vectors of the texts from a local encoder folder, cached on disk
    by text (a tweet is never embedded twice, in this run or any later one)."""

    kind = "sentence"

    def __init__(self, model_path: str | Path | None, cache_dir: str | Path | None) -> None:
        from textcl.features import FeatureCache, SentenceEncoder
        from textcl.features.cache import default_cache_dir

        self.encoder = SentenceEncoder(model_path)
        self.cache = FeatureCache(cache_dir or default_cache_dir(), self.encoder.model_id,
                                  self.encoder.dim)
        self.embedded = 0

    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Inputs:
        todo = self.cache.missing(texts)
        if todo:
            self.cache.add(todo, self.encoder.encode(todo))
            self.embedded += len(todo)
        return torch.from_numpy(self.cache.get(texts).copy())

    def model(self, hidden: Sequence[int], dropout: float) -> nn.Module:
        from textcl.heads import MLPClassifier

        return MLPClassifier(self.encoder.dim, tuple(hidden), n_classes=0, dropout=dropout)

    def flush(self) -> None:
        """Write the vectors embedded so far to the cache."""
        if self.embedded:
            self.cache.save()

    def ready(self) -> bool:
        return True


class TransformerSpace:
    """Mean-pooled last hidden states of the stream's own continual transformer (the
    ``[transformer]`` consumer): the features move as it keeps learning, and tweets that
    come before it is built (its first training round) cannot be featurised yet."""

    kind = "transformer"

    def __init__(self, transformer: object) -> None:
        self.transformer = transformer  # a ContinualTransformer

    def ready(self) -> bool:
        return bool(self.transformer.built)  # type: ignore[attr-defined]

    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Inputs:
        vectors = self.transformer.sentence_embeddings(list(texts))  # type: ignore[attr-defined]
        return torch.from_numpy(vectors)

    def model(self, hidden: Sequence[int], dropout: float) -> nn.Module:
        from textcl.heads import MLPClassifier

        dim = int(self.transformer.model_config["hidden_size"])  # type: ignore[attr-defined]
        return MLPClassifier(dim, tuple(hidden), n_classes=0, dropout=dropout)

    def flush(self) -> None:
        """Nothing kept."""
