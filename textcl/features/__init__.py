"""Frozen sentence features: a local sentence encoder and an on-disk cache keyed by text."""

from textcl.features.cache import FeatureCache, cached_features
from textcl.features.encoder import SentenceEncoder, minilm_path

__all__ = ["FeatureCache", "SentenceEncoder", "cached_features", "minilm_path"]
