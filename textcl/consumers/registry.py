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
        w2v_consumer = Word2VecConsumer(model, snapshots, w2v.probe_terms)
        consumers.append(w2v_consumer)
    kw = config.keywords
    if kw.enabled:
        from textcl.consumers.keywords import KeywordConsumer, neighbours_from_model
        from textcl.keywords import DriftAlarms, KeywordTracker
        from textcl.keywords.background import background_counts
        from textcl.stream.tokenize import TweetTokenizer

        background = (
            background_counts(kw.background, TweetTokenizer(config.tokenizer_options()))
            if kw.background
            else None
        )
        neighbours = neighbours_from_model(model) if w2v.enabled and kw.use_word2vec else None
        tracker = KeywordTracker(background=background, **kw.tracker_kwargs())
        alarms = DriftAlarms() if kw.alarms else None
        keywords = KeywordConsumer(tracker, out_dir, alarms, neighbours)
        if w2v.enabled and w2v.compute_loss:
            keywords.window_statistics = lambda: (
                {} if w2v_consumer.window_loss is None else {"w2v_loss": w2v_consumer.window_loss}
            )
        consumers.append(keywords)
    tf = config.transformer
    if tf.enabled:
        consumers.append(_transformer_consumer(config, out_dir))
    return consumers


def _transformer_consumer(config: PipelineConfig, out_dir: Path | None) -> Consumer:
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
        tf.grow_min_count, tf.grow_max_new, tf.checkpoint,
    )
