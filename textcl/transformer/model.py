"""``ContinualTransformer``: a masked language model that keeps adapting, window by window.

Training runs through :class:`textcl.cl.ContinualTrainer`, so the continual-learning
adapters of :mod:`textcl.cl` (EWC, MAS, SI, replay, A-GEM, ...) plug in unchanged::

    from textcl.cl import EWC, Replay, ReservoirBuffer

    lm = ContinualTransformer(adapters=[Replay(ReservoirBuffer(2000)), EWC(lam=10.0)])
    for window in windows:                       # lists of tweet texts
        lm.update(window)                        # one fit_task per call
    vectors = lm.term_embeddings(texts, "crash")

Each text is padded to ``max_length`` and masked *before* it enters the trainer (BERT's
80/10/10 rule, a seeded generator), so the trainer's inputs are
``{"input_ids", "attention_mask"}`` rows of one fixed width and its targets are ``[n, L]``
label rows (``-100`` where nothing is predicted); a replay buffer therefore stores and
replays rows with their masks. Without ``model_path`` a tiny BERT and a WordPiece tokenizer
are built from the first window's texts.

This module holds construction, encoding/masking and :meth:`~ContinualTransformer.update`;
the other methods come from mixins: vocabulary growth (:mod:`.vocab`), embeddings
(:mod:`.embeddings`), evaluation (:mod:`.evaluation`), the model folder
(:mod:`.persistence`) and the exact training state for checkpoints (:mod:`.state`).
Trainer glue is in :mod:`.training`, BERT masking in :mod:`.masking`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from transformers import (
    AutoModelForMaskedLM,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from textcl.cl.adapter import Adapter
from textcl.cl.regime import TrainConfig
from textcl.cl.trainer import FitReport
from textcl.transformer.embeddings import _EmbeddingMixin
from textcl.transformer.evaluation import _EvaluationMixin
from textcl.transformer.masking import IGNORE as IGNORE
from textcl.transformer.masking import _first_regular_id, mask_tokens
from textcl.transformer.persistence import FORMAT as FORMAT
from textcl.transformer.persistence import FORMAT_VERSION as FORMAT_VERSION
from textcl.transformer.persistence import META_NAME as META_NAME
from textcl.transformer.persistence import _no_hf_progress_bars as _no_hf_progress_bars
from textcl.transformer.persistence import _PersistenceMixin
from textcl.transformer.state import _StateMixin
from textcl.transformer.tokenizer import train_wordpiece
from textcl.transformer.training import MaskedLMModule, MLMTrainer
from textcl.transformer.training import _trim as _trim
from textcl.transformer.training import mlm_loss as mlm_loss
from textcl.transformer.vocab import _WORD as _WORD
from textcl.transformer.vocab import _VocabMixin

DEFAULT_CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "type_vocab_size": 1,
    "attn_implementation": "eager",  # vmap-friendly, and as fast as SDPA at this size
}


# ----------------------------------------------------------------------- the model
class ContinualTransformer(
    _VocabMixin, _EmbeddingMixin, _EvaluationMixin, _PersistenceMixin, _StateMixin
):
    """A masked-LM (BERT-style) that keeps training on a tweet stream, window by window.

    - ``model_path``: a local folder with a Hugging Face masked LM and its tokenizer (e.g.
      one written by :meth:`save`); nothing is downloaded. Without it a tiny BERT
      (``DEFAULT_CONFIG`` updated with ``config``) and a WordPiece tokenizer of
      ``vocab_size`` are built on the first :meth:`update` from that window's texts
      (or from ``tokenizer`` when given).
    - ``max_length``: every text is truncated/padded to this many tokens.
    - ``batch_size``, ``lr``, ``epochs``, ``weight_decay``, ``grad_clip``: training settings
      (AdamW, one :meth:`ContinualTrainer.fit_task` per :meth:`update`).
    - ``mlm_probability``: share of tokens predicted.
    - ``adapters``: :mod:`textcl.cl` adapters (EWC, replay, ...).
    - ``grow_every``: every ``grow_every``-th window (after the first), :meth:`grow_vocab`
      runs on that window's texts before training (``grow_min_count``, ``grow_max_new``).
    """

    trainer_class: type[MLMTrainer] = MLMTrainer  # the DDP variant: .distributed

    def __init__(
        self,
        model_path: str | Path | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        config: dict[str, Any] | None = None,
        max_length: int = 48,
        batch_size: int = 32,
        lr: float = 5e-4,
        mlm_probability: float = 0.15,
        adapters: Sequence[Adapter] = (),
        seed: int = 0,
        device: str | torch.device = "cpu",
        epochs: int = 1,
        weight_decay: float = 0.01,
        grad_clip: float | None = 1.0,
        vocab_size: int = 4000,
        min_frequency: int = 2,
        lowercase: bool = True,
        grow_every: int | None = None,
        grow_min_count: int = 5,
        grow_max_new: int = 200,
        train_config: TrainConfig | None = None,
    ) -> None:
        if max_length < 3:
            raise ValueError(f"max_length must be at least 3, got {max_length}")
        if not 0 < mlm_probability < 1:
            raise ValueError(f"mlm_probability must be in (0, 1), got {mlm_probability}")
        self.max_length = max_length
        self.batch_size = batch_size
        self.lr = lr
        self.mlm_probability = mlm_probability
        self.adapters = list(adapters)
        self.seed = seed
        self.device = torch.device(device)
        self.epochs = epochs
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.lowercase = lowercase
        self.grow_every = grow_every
        self.grow_min_count = grow_min_count
        self.grow_max_new = grow_max_new
        self.model_config = {**DEFAULT_CONFIG, **(config or {})}
        self.train_config = train_config
        self.windows_seen = 0
        self.tweets_seen = 0
        self.added_words: list[str] = []
        self.last_report: FitReport | None = None
        self.model_path = None if model_path is None else Path(model_path)
        self.tokenizer: PreTrainedTokenizerBase | None = tokenizer
        self.model: PreTrainedModel | None = None
        self.trainer: MLMTrainer | None = None
        self._mask_generator = torch.Generator().manual_seed(seed)
        self._init_train_rng()
        if self.model_path is not None:
            self._load_pretrained(self.model_path)
            self._make_trainer()
        elif tokenizer is not None:
            self._build(())

    # ------------------------------------------------------------------ building
    def _load_pretrained(self, folder: Path) -> None:
        if not folder.is_dir():
            raise FileNotFoundError(f"model folder {folder} does not exist")
        if not (folder / "config.json").exists():
            raise FileNotFoundError(f"model folder {folder} has no config.json")
        self.model = AutoModelForMaskedLM.from_pretrained(str(folder), local_files_only=True)
        if self.tokenizer is None:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        if self.tokenizer.mask_token_id is None or self.tokenizer.pad_token_id is None:
            raise ValueError(f"the tokenizer in {folder} has no [MASK] or [PAD] token")
        loaded = self.model.config
        self.model_config = {k: getattr(loaded, k) for k in DEFAULT_CONFIG if hasattr(loaded, k)}

    def _build(self, texts: Sequence[str]) -> None:
        if self.tokenizer is None:
            self.tokenizer = train_wordpiece(
                texts, self.vocab_size, self.min_frequency, self.lowercase
            )
        tok = self.tokenizer
        cfg = dict(self.model_config)
        cfg.setdefault("max_position_embeddings", max(64, self.max_length))
        config = BertConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, **cfg)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = BertForMaskedLM(config)
        self._make_trainer()

    def _make_trainer(self) -> None:
        assert self.model is not None
        cfg = self.train_config or TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer="adamw",
            weight_decay=self.weight_decay,
            grad_clip=self.grad_clip,
            seed=self.seed,
        )
        self.model.to(self.device)
        self.trainer = self.trainer_class(
            MaskedLMModule(self.model), self.adapters, cfg, device=self.device
        )
        self.model.eval()

    @property
    def built(self) -> bool:
        """True once the model and tokenizer exist."""
        return self.model is not None

    def _require(self) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        if self.model is None or self.tokenizer is None:
            raise RuntimeError("the model is built on the first update(); call update() first")
        return self.model, self.tokenizer

    # ------------------------------------------------------------------ encoding
    def encode(self, texts: Sequence[str], offsets: bool = False) -> dict[str, Tensor]:
        """Token ids, attention mask and special-token mask, padded to ``max_length``."""
        _, tok = self._require()
        enc = tok(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            return_special_tokens_mask=True,
            return_offsets_mapping=offsets,
            return_token_type_ids=False,
        )
        return dict(enc)

    def mask(
        self, texts: Sequence[str], generator: torch.Generator | None = None
    ) -> tuple[dict[str, Tensor], Tensor]:
        """Masked trainer inputs ``{"input_ids", "attention_mask"}`` and labels ``[n, L]``."""
        _, tok = self._require()
        enc = self.encode(texts)
        ids, labels = mask_tokens(
            enc["input_ids"],
            enc["special_tokens_mask"],
            int(tok.mask_token_id),
            len(tok),
            self.mlm_probability,
            generator if generator is not None else self._mask_generator,
            first_regular_id=_first_regular_id(tok),
        )
        return {"input_ids": ids, "attention_mask": enc["attention_mask"]}, labels

    # ------------------------------------------------------------------ training
    def update(self, texts: Sequence[str]) -> float:
        """Continue MLM training on one window (or micro-batch); returns the mean loss.

        Empty texts are dropped; with none left nothing happens and NaN is returned.
        """
        texts = [t for t in texts if t and t.strip()]
        if not texts:
            return float("nan")
        if self.model is None:
            self._build(texts)
        elif self.grow_every and self.windows_seen % self.grow_every == 0:
            self.grow_vocab(texts, self.grow_min_count, self.grow_max_new)
        assert self.trainer is not None
        x, y = self.mask(texts)
        with self._train_rng_active():  # dropout: its own random state (see .state)
            report = self.trainer.fit_task(x, y, task=None)
        self.model.eval()
        self.last_report = report
        self.windows_seen += 1
        self.tweets_seen += len(texts)
        return report.mean_loss
