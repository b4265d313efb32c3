"""Build the configured stream consumers (heavy libraries load only when enabled)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textcl.config import PipelineConfig
from textcl.types import Consumer

if TYPE_CHECKING:
    from textcl.keywords.background import Background


def build_consumers(config: PipelineConfig, out_dir: Path | None) -> list[Consumer]:
    """The consumers a pipeline file enables, writing under ``out_dir`` when given."""
    consumers: list[Consumer] = []
    kw, w2v, tf = config.keywords, config.word2vec, config.transformer
    keywords = None
    if kw.enabled:  # first: the other consumers may probe the window's keyword set
        from textcl.consumers.keywords import KeywordConsumer
        from textcl.keywords.alarms import DriftAlarms
        from textcl.keywords.tracker import KeywordTracker

        tracker = KeywordTracker(background=keyword_background(config), **kw.tracker_kwargs())
        alarms = DriftAlarms() if kw.alarms else None
        keywords = KeywordConsumer(tracker, out_dir, alarms, kw.event_alarm_terms)
        consumers.append(keywords)
    auto = config.drift.auto_terms
    probe_source = (
        (lambda: keywords.top_terms(auto)) if keywords is not None and auto > 0 else None
    )
    if w2v.enabled:
        from textcl.consumers.word2vec import Word2VecConsumer
        from textcl.embed.word2vec import ContinualWord2Vec

        model = ContinualWord2Vec(**w2v.model_kwargs())
        snapshots = out_dir / "snapshots" if out_dir is not None and w2v.snapshots else None
        probes = w2v.probe_terms or config.drift.terms
        w2v_consumer = Word2VecConsumer(
            model, snapshots, probes, probe_source,
            snapshot_min_tweets=w2v.snapshot_min_tweets, snapshot_dtype=w2v.snapshot_dtype,
        )
        consumers.append(w2v_consumer)
        if keywords is not None and w2v.compute_loss:
            keywords.window_statistics = lambda: (
                {} if (loss := w2v_consumer.pending_loss()) is None else {"w2v_loss": loss}
            )
    if tf.enabled:
        consumers.append(_transformer_consumer(config, out_dir, probe_source))
    return consumers


def keyword_background(config: PipelineConfig) -> Background | None:
    """The ``[keywords] background`` of a pipeline: wordfreq, files, or None (history)."""
    from textcl.keywords.background import corpus_background, wordfreq_background

    kw = config.keywords
    if kw.background == "history":
        return None
    if kw.background == "wordfreq":
        return wordfreq_background(tuple(kw.languages), kw.hashtag_share)
    from textcl.keywords.background import background_counts
    from textcl.stream.tokenize import TweetTokenizer

    counts = background_counts(kw.background, TweetTokenizer(config.tokenizer_options()))
    return corpus_background(counts, kw.hashtag_share, name=", ".join(kw.background))


def _transformer_consumer(
    config: PipelineConfig, out_dir: Path | None, probe_source: Callable[[], list[str]] | None
) -> Consumer:
    from textcl.cl import EWC, Replay, ReservoirBuffer
    from textcl.consumers.transformer import TransformerConsumer
    from textcl.transformer import ContinualTransformer

    tf = config.transformer
    adapters: list = []
    if tf.replay:
        adapters.append(Replay(ReservoirBuffer(tf.replay, seed=tf.seed)))
    if tf.ewc:
        adapters.append(EWC(lam=tf.ewc, fisher_examples=256))
    model = ContinualTransformer(
        model_path=tf.model_path or None,
        config={"hidden_size": tf.hidden_size, "num_hidden_layers": tf.layers,
                "num_attention_heads": tf.heads, "intermediate_size": 2 * tf.hidden_size},
        max_length=tf.max_length, batch_size=tf.batch_size, lr=tf.lr, epochs=tf.epochs,
        vocab_size=tf.vocab_size, adapters=adapters, seed=tf.seed,
    )
    terms = tf.probe_terms or config.word2vec.probe_terms or config.drift.terms
    return TransformerConsumer(
        model, out_dir, terms, tf.train_every, tf.term_texts, tf.grow_vocab,
        tf.grow_min_count, tf.grow_max_new, tf.checkpoint, probe_source=probe_source,
    )
