"""What the stream classifier sees of a tweet: cached sentence vectors of a local encoder,
or the stream's own continual transformer."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from textcl.config import config_from_dict
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline

OFF = {"keywords": {"enabled": False}, "word2vec": {"enabled": False},
       "drift": {"enabled": False}, "output": {"checkpoint": False},
       "window": {"every": "1000", "batch_size": 250}}


@pytest.fixture(scope="module")
def head_of_sample(tmp_path_factory) -> Path:
    """The sample stream's first 3,000 lines (about 900 carry a topic label)."""
    lines = gzip.decompress(sample_stream_path().read_bytes()).splitlines(keepends=True)
    path = tmp_path_factory.mktemp("sample") / "head.jsonl"
    path.write_bytes(b"".join(lines[:3000]))
    return path


def test_sentence_features_are_cached_so_no_tweet_is_embedded_twice(
    head_of_sample: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    classifier = {"labels": ["topic"], "features": "sentence", "hidden": [8],
                  "sentence_model": str(tiny_model_dir), "feature_cache": str(tmp_path / "c")}
    config = config_from_dict({**OFF, "classifier": classifier}, "test")
    first = Pipeline(config).run(head_of_sample, tmp_path / "a")
    topic = first["consumers"]["classifier"]["classifiers"]["topic"]
    assert topic["features"] == "sentence" and topic["learned"] > 700
    assert topic["embedded"] == topic["learned"] + topic["held_out"]  # each text once
    assert list((tmp_path / "c" / "features").glob("*/vectors.npy"))
    again = Pipeline(config).run(head_of_sample, tmp_path / "b")
    topic_again = again["consumers"]["classifier"]["classifiers"]["topic"]
    assert topic_again["embedded"] == 0  # every text came from the cache
    assert topic_again["accuracy"] == topic["accuracy"]


def test_transformer_features_come_from_the_streams_own_transformer(
    head_of_sample: Path, tmp_path: Path
) -> None:
    transformer = {"enabled": True, "hidden_size": 16, "layers": 1, "heads": 2,
                   "vocab_size": 800, "train_every": 500, "term_texts": 5,
                   "checkpoint": False}
    data = {**OFF, "transformer": transformer,
            "classifier": {"labels": ["topic"], "features": "transformer"}}
    summary = Pipeline(config_from_dict(data, "test")).run(head_of_sample, tmp_path / "o")
    topic = summary["consumers"]["classifier"]["classifiers"]["topic"]
    assert topic["features"] == "transformer" and topic["learned"] > 300
    # the tweets before the transformer's first training round could not be featurised
    assert topic["before_features"] > 0
    assert any("before its features" in w for w in summary["warnings"])


def test_transformer_features_without_the_transformer_name_the_fix(tmp_path: Path) -> None:
    data = {**OFF, "classifier": {"labels": ["topic"], "features": "transformer"}}
    with pytest.raises(ValueError, match=r"\[transformer\] enabled = true"):
        Pipeline(config_from_dict(data, "test")).run(sample_stream_path(), tmp_path / "o")
