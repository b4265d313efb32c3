"""Sentence features: a local encoder, and a cache that never embeds a text twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from textcl.features import FeatureCache, SentenceEncoder, cached_features


class CountingEncoder:
    """A stand-in encoder that records every text it is asked to embed."""

    model_id = "counting"
    dim = 4

    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode(self, texts):
        self.calls += list(texts)
        return np.array([[len(t), t.count("a"), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_cached_features_embed_each_distinct_text_once(tmp_path: Path) -> None:
    enc = CountingEncoder()
    first = cached_features(["flood", "fire", "flood"], enc, tmp_path)
    assert enc.calls == ["flood", "fire"]
    assert np.array_equal(first[0], first[2])
    again = cached_features(["fire", "quake", "flood"], CountingEncoder(), tmp_path)
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    third = CountingEncoder()
    cached_features(["quake", "fire"], third, tmp_path)
    assert third.calls == []  # everything was kept on disk


def test_a_damaged_cache_is_refused_with_the_fix(tmp_path: Path) -> None:
    cached_features(["a", "b"], CountingEncoder(), tmp_path)
    folder = tmp_path / "features" / "counting"
    np.save(folder / "keys.npy", np.zeros((5, 16), dtype=np.uint8))
    with pytest.raises(ValueError, match="delete the folder"):
        FeatureCache(tmp_path, "counting", 4)


def test_sentence_encoder_gives_normalised_vectors_independent_of_batching(
    tiny_model_dir: Path,
) -> None:
    enc = SentenceEncoder(tiny_model_dir, batch_size=2)
    texts = ["flood water rising !", "fire", "road closed help help help", "flood"]
    together = enc.encode(texts)
    alone = np.stack([enc.encode([t])[0] for t in texts])
    assert together.shape == (4, 16)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-5)
    assert not np.allclose(together[0], together[1])


def test_sentence_encoder_names_a_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model folder not found"):
        SentenceEncoder(tmp_path / "nowhere")
