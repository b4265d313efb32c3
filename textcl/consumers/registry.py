"""Build the configured stream consumers (heavy libraries load only when enabled)."""

from __future__ import annotations

from pathlib import Path

from textcl.config import PipelineConfig
from textcl.types import Consumer


def build_consumers(config: PipelineConfig, out_dir: Path | None) -> list[Consumer]:
    """The consumers a pipeline file enables, writing under ``out_dir`` when given."""
    consumers: list[Consumer] = []
    w2v = config.word2vec
    if w2v.enabled:
        from textcl.consumers.word2vec import Word2VecConsumer
        from textcl.embed.word2vec import ContinualWord2Vec

        model = ContinualWord2Vec(**w2v.model_kwargs())
        snapshots = out_dir / "snapshots" if out_dir is not None and w2v.snapshots else None
        consumers.append(Word2VecConsumer(model, snapshots, w2v.probe_terms))
    return consumers
