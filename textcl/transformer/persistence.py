"""Save/load of a :class:`~textcl.transformer.model.ContinualTransformer` model folder.

A folder holds the Hugging Face model (``model.safetensors`` + ``config.json``), the
tokenizer files and ``textcl_transformer.json`` (format version, settings, progress).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import Tensor

from textcl.checkpoint import read_format_json
from textcl.cl.adapter import Adapter

if TYPE_CHECKING:
    from textcl.transformer.model import ContinualTransformer

FORMAT = "textcl-transformer"
FORMAT_VERSION = 1
META_NAME = "textcl_transformer.json"


class _PersistenceMixin:
    """Settings, weights and the model folder; uses the state set by the main class."""

    def settings(self) -> dict[str, Any]:
        """Constructor settings (JSON-able; not the adapters or the model path)."""
        return {
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "mlm_probability": self.mlm_probability,
            "seed": self.seed,
            "epochs": self.epochs,
            "weight_decay": self.weight_decay,
            "grad_clip": self.grad_clip,
            "vocab_size": self.vocab_size,
            "min_frequency": self.min_frequency,
            "lowercase": self.lowercase,
            "grow_every": self.grow_every,
            "grow_min_count": self.grow_min_count,
            "grow_max_new": self.grow_max_new,
            "config": dict(self.model_config),
        }

    def state_dict(self) -> dict[str, Tensor]:
        """The masked LM's weights."""
        model, _ = self._require()
        return model.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore :meth:`state_dict` output (the vocabulary size must match)."""
        model, _ = self._require()
        model.load_state_dict(state)

    def save(self, folder: str | Path) -> Path:
        """Write ``model.safetensors`` + ``config.json``, the tokenizer files and
        ``textcl_transformer.json`` (format version, settings, progress) to ``folder``."""
        model, tok = self._require()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with _no_hf_progress_bars():  # a checkpoint each window: no bar on the terminal
            model.save_pretrained(str(folder))
            tok.save_pretrained(str(folder))
        if not (folder / "model.safetensors").exists():
            raise RuntimeError(f"save_pretrained wrote no model.safetensors in {folder}")
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "settings": self.settings(),
            "windows_seen": self.windows_seen,
            "tweets_seen": self.tweets_seen,
            "added_words": list(self.added_words),
        }
        (folder / META_NAME).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return folder

    @classmethod
    def load(
        cls, folder: str | Path, adapters: Sequence[Adapter] = (), **overrides: Any
    ) -> ContinualTransformer:
        """Load a model written by :meth:`save` (``overrides`` replace saved settings)."""
        folder = Path(folder)
        meta_path = folder / META_NAME
        if not meta_path.exists():
            raise FileNotFoundError(
                f"{folder} is not a textcl transformer checkpoint (no {META_NAME})"
            )
        meta = read_format_json(meta_path, FORMAT)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{meta_path} has format version {meta.get('format_version')!r}; this textcl "
                f"reads version {FORMAT_VERSION}"
            )
        settings = {**meta.get("settings", {}), **overrides}
        obj = cls(model_path=folder, adapters=adapters, **settings)
        obj.windows_seen = int(meta.get("windows_seen", 0))
        obj.tweets_seen = int(meta.get("tweets_seen", 0))
        obj.added_words = list(meta.get("added_words", []))
        return obj


@contextmanager
def _no_hf_progress_bars() -> Iterator[None]:
    """Silence transformers' progress bars inside the block (restored afterwards)."""
    from transformers.utils import logging as hf_logging

    active = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if active:
            hf_logging.enable_progress_bar()
