"""Stream consumer: a masked LM that keeps training on the stream, and contextual drift."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from textcl.checkpoint import CheckpointError
from textcl.consumers.spec import BuildContext, ConsumerSpec, Rows
from textcl.outputs import open_output
from textcl.section import Section
from textcl.types import Batch, Window

if TYPE_CHECKING:  # torch and transformers load only when the consumer is built
    from textcl.transformer import ContinualTransformer

PREVIOUS_TERMS = 200  # most terms whose last window's texts are kept (following the stream)


class TransformerConsumer:
    """Train ``model`` on every ``train_every`` tweets (and at window ends); at each window
    end, measure how the contexts of ``probe_terms`` moved since the previous window.

    Both windows' occurrences are embedded by the *current* model, so the drift measures a
    change of context, not the model's own training drift. One JSON line per window goes to
    ``OUT/transformer/drift.jsonl``; the model is checkpointed (safetensors) at every
    window end when ``checkpoint`` is set. With no ``probe_terms``, ``probe_source``
    (e.g. the keyword set's best terms) picks each window's terms at the previous
    window's end; a term's drift is measured from its second probed window on.

    :meth:`state_dict` holds the model's full training state and everything pending, so
    a resumed run ends exactly like an uninterrupted one (``drift.jsonl`` is continued).
    """

    name = "transformer"

    def __init__(self, model: ContinualTransformer, out_dir: Path | None,
                 probe_terms: list[str], train_every: int = 2000, term_texts: int = 200,
                 grow_vocab: bool = True, grow_min_count: int = 20, grow_max_new: int = 50,
                 checkpoint: bool = True,
                 probe_source: Callable[[], list[str]] | None = None) -> None:
        self.model = model
        self.relearn: Any = None
        self.out_dir = None if out_dir is None else Path(out_dir) / "transformer"
        self.probe_source = None if probe_terms else probe_source
        self.probe_terms: list[str] = []
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._set_probes(probe_terms)
        self.train_every = train_every
        self.term_texts = term_texts
        self.grow = grow_vocab
        self.grow_min_count = grow_min_count
        self.grow_max_new = grow_max_new
        self.checkpoint = checkpoint
        self._pending: list[str] = []
        self._window_texts: list[str] = []
        self._previous: dict[str, list[str]] = {}
        self.losses: list[float] = []
        self.drift: list[dict[str, Any]] = []
        self.added_words: list[str] = []
        self.trained = 0
        self._drift_file: IO[bytes] | None = None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._drift_file = open_output(self.out_dir / "drift.jsonl")

    def update(self, batch: Batch) -> None:
        for tweet in batch.tweets:
            self._pending.append(tweet.text)
            if self.grow:
                self._window_texts.append(tweet.text)
            for term, pattern in self._patterns.items():
                kept = self._term_texts[term]
                if len(kept) < self.term_texts and pattern.search(tweet.text):
                    kept.append(tweet.text)
        if len(self._pending) >= self.train_every:
            self._train()

    def attach_relearn(self, memory: Any) -> None:
        """Re-learn tweets of ``memory`` in every training round, ``memory.share`` per new
        tweet (drawn with this consumer's own generator)."""
        import numpy as np

        self.relearn = memory
        self._relearn_rng = np.random.default_rng(0)

    def _train(self) -> None:
        if self._pending:
            extra = ([item.text for item in self.relearn.draw(
                "transformer", len(self._pending), self._relearn_rng)]
                if self.relearn is not None else [])
            self.losses.append(self.model.update(self._pending + extra))
            self.trained += len(self._pending)
            self._pending = []

    def end_window(self, window: Window) -> None:
        self._train()
        if self.grow and self.model.built and self._window_texts:
            self.added_words += self.model.grow_vocab(
                self._window_texts, self.grow_min_count, self.grow_max_new)
        self._window_texts = []
        row: dict[str, Any] = {"window": window.index, "start": window.start.isoformat(),
                               "loss": self.losses[-1] if self.losses else None, "terms": {}}
        if self.model.built:
            for term, texts in self._term_texts.items():
                row["terms"][term] = self._term_drift(term, texts)
        # a term absent from this window keeps its last window with occurrences
        self._previous |= {t: v for t, v in self._term_texts.items() if v}
        if self.probe_source is not None:
            self._set_probes(self.probe_source())
            for term in list(self._previous)[:-PREVIOUS_TERMS]:  # bounded memory
                if term not in self._patterns:
                    del self._previous[term]
        self._term_texts = {t: [] for t in self.probe_terms}
        self.drift.append(row)
        if self.out_dir is not None:
            assert self._drift_file is not None
            self._drift_file.write((json.dumps(row) + "\n").encode("utf-8"))
            self._drift_file.flush()
            if self.checkpoint and self.model.built:
                self.model.save(self.out_dir / "model")

    def _set_probes(self, terms: list[str]) -> None:
        self.probe_terms = [t.lower() for t in terms]
        self._patterns = {
            t: self._patterns.get(t) or re.compile(rf"(?<!\w){re.escape(t)}(?!\w)", re.I)
            for t in self.probe_terms
        }
        self._term_texts = {t: [] for t in self.probe_terms}

    def _term_drift(self, term: str, texts: list[str]) -> dict[str, Any]:
        before = self._previous.get(term, [])
        info: dict[str, Any] = {"count": len(texts), "previous_count": len(before)}
        if texts and before:
            a = self.model.term_embeddings(before, term)
            b = self.model.term_embeddings(texts, term)
            if len(a) and len(b):
                from textcl.transformer import contextual_drift

                stats = contextual_drift(a, b)
                info |= {k: _round(stats[k]) for k in (
                    "centroid_distance", "mean_pairwise_distance")}
        return info

    def summary(self) -> dict[str, Any]:
        terms = dict.fromkeys(t for r in self.drift for t in r["terms"]) or self.probe_terms
        series = {t: [r["terms"].get(t, {}).get("centroid_distance") for r in self.drift]
                  for t in terms}
        peaks = {t: max((v for v in s if v is not None), default=None)
                 for t, s in series.items()}
        return {"tweets_trained": self.trained, "rounds": len(self.losses),
                "last_loss": self.losses[-1] if self.losses else None,
                "vocab_added": len(self.added_words), "peak_centroid_distance": peaks}

    def close(self, out_dir: Path | None) -> None:
        if self._drift_file is not None:
            self._drift_file.close()
            self._drift_file = None
        if self.out_dir is not None and self.model.built:
            self.model.save(self.out_dir / "model")

    def state_dict(self) -> dict[str, Any]:
        """The model's training state, the texts waiting for training or probing, and
        the drift rows and counters so far (tensors and plain values)."""
        return {
            "model": self.model.training_state(),
            "trained": self.trained,
            "losses": list(self.losses),
            "previous": {t: list(v) for t, v in self._previous.items()},
            "pending": list(self._pending),
            "window_texts": list(self._window_texts),
            "probe_terms": list(self.probe_terms),
            "term_texts": {t: list(v) for t, v in self._term_texts.items()},
            "drift": list(self.drift),
            "added_words": list(self.added_words),
            **({"relearn_rng": self._relearn_rng.bit_generator.state}
               if self.relearn is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "model" not in state:
            raise CheckpointError("the checkpoint holds no transformer model state (written "
                                  "before runs with [transformer] could resume); start over")
        self.model.load_training_state(state["model"])
        self.trained, self.losses = int(state["trained"]), list(state["losses"])
        self._previous = {t: list(v) for t, v in state["previous"].items()}
        self._pending = list(state["pending"])
        self._window_texts = list(state["window_texts"])
        self._set_probes(list(state["probe_terms"]))
        self._term_texts = {t: list(v) for t, v in state["term_texts"].items()}
        self.drift = list(state["drift"])
        self.added_words = list(state["added_words"])
        if self.relearn is not None and "relearn_rng" in state:
            self._relearn_rng.bit_generator.state = state["relearn_rng"]


def _round(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


class TransformerSection(Section):
    """Continual masked-LM training (:class:`textcl.transformer.ContinualTransformer`).

    ``model_path`` is a local folder with a masked LM and its tokenizer; empty builds a
    tiny BERT (``hidden_size``, ``layers``, ``heads``) with a WordPiece vocabulary of
    ``vocab_size`` from the first training round. The model trains on every
    ``train_every`` tweets (and at each window end). ``replay`` rows of memory and an
    ``ewc`` weight guard against forgetting (0 = off). ``grow_vocab`` adds frequent
    words and hashtags that the tokenizer splits, every window. At each window end the
    contextual drift of ``probe_terms`` (default: the word2vec probe terms, else the
    keyword set's best terms, see the ``[drift]`` section) against the
    previous window is measured on up to ``term_texts`` tweets per term and window.
    """

    enabled: bool = False
    model_path: str = ""
    hidden_size: int = Field(default=64, gt=0)
    layers: int = Field(default=2, gt=0)
    heads: int = Field(default=2, gt=0)
    vocab_size: int = Field(default=4000, gt=10)
    max_length: int = Field(default=48, ge=3)
    batch_size: int = Field(default=32, gt=0)
    lr: float = Field(default=5e-4, gt=0)
    epochs: int = Field(default=1, gt=0)
    train_every: int = Field(default=2000, gt=0)
    replay: int = Field(default=0, ge=0)
    ewc: float = Field(default=0.0, ge=0)
    grow_vocab: bool = True
    grow_min_count: int = Field(default=20, gt=0)
    grow_max_new: int = Field(default=50, ge=0)
    probe_terms: list[str] = Field(default_factory=list)
    term_texts: int = Field(default=200, gt=1)
    checkpoint: bool = True
    seed: int = 0


def _build(context: BuildContext) -> TransformerConsumer | None:
    tf: TransformerSection = context.section("transformer")
    if not tf.enabled:
        return None
    from textcl.cl import EWC, Replay, ReservoirBuffer
    from textcl.transformer import ContinualTransformer

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
    config = context.config
    terms = tf.probe_terms or config.word2vec.probe_terms or config.drift.terms
    return TransformerConsumer(
        model, context.out_dir, terms, tf.train_every, tf.term_texts, tf.grow_vocab,
        tf.grow_min_count, tf.grow_max_new, tf.checkpoint, probe_source=context.probe_source(),
    )


def _rows(summary: dict[str, Any]) -> Rows:
    loss = summary["last_loss"]
    return [("transformer tweets trained", f"{summary['tweets_trained']:,}"),
            ("transformer last loss", "-" if loss is None else f"{loss:.3f}")]


SPEC = ConsumerSpec(
    name="transformer",
    section=TransformerSection,
    build=_build,
    rows=_rows,
    files=lambda summary: ["transformer/"],
)
