"""The full training state of :class:`~textcl.transformer.model.ContinualTransformer`.

:meth:`training_state` holds everything a resumed run needs to train on exactly as an
uninterrupted one: the tokenizer (grown words included), the weights, the optimizer's
moments, the adapters' state (EWC importances, replay buffers), the trainer's batch-order
generator, the masking generator and the private random state that dropout draws from.
Only tensors and plain values, so :mod:`textcl.checkpoint` stores it (tensors in its
``arrays.npz``, atomically, never pickled).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from transformers import AutoTokenizer, PreTrainedTokenizerBase

# keys that loading from a folder adds to a tokenizer's settings: not part of its state
_LOAD_ONLY_KEYS = ("is_local", "local_files_only", "name_or_path")


def tokenizer_files(tok: PreTrainedTokenizerBase) -> dict[str, str]:
    """The files ``save_pretrained`` writes for ``tok``, as ``{name: text}``.

    The padding and truncation the last call left on the backend tokenizer are dropped
    (each call sets its own; a tokenizer loaded with them would carry them as settings).
    """
    with tempfile.TemporaryDirectory() as folder:
        tok.save_pretrained(folder)
        files = {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(folder).iterdir())}
    if "tokenizer.json" in files:
        backend = json.loads(files["tokenizer.json"])
        backend["truncation"] = backend["padding"] = None
        files["tokenizer.json"] = json.dumps(backend, ensure_ascii=False)
    return files


def tokenizer_from_files(files: dict[str, str]) -> PreTrainedTokenizerBase:
    """The tokenizer of :func:`tokenizer_files` output (saving it again gives the same files)."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            if Path(name).name != name:
                raise ValueError(f"unexpected tokenizer file name {name!r}")
            (Path(folder) / name).write_text(text, encoding="utf-8")
        tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    for key in _LOAD_ONLY_KEYS:
        getattr(tok, "init_kwargs", {}).pop(key, None)
    return tok


def _optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    saved = optimizer.state_dict()
    return {"state": {str(k): v for k, v in saved["state"].items()},
            "param_groups": saved["param_groups"]}


class _StateMixin:
    """Training state and the private random state of training (see the module doc)."""

    def _init_train_rng(self) -> None:
        """Dropout draws from a random state of its own, seeded from ``seed``: training does
        not depend on (nor disturb) torch's global generator, and resumes exactly."""
        self._train_rng: Tensor = torch.Generator().manual_seed(self.seed + 1).get_state()
        self._train_cuda_rng: Tensor | None = None

    @contextmanager
    def _train_rng_active(self) -> Iterator[None]:
        """Inside the block torch's generator(s) are the training random state."""
        cuda = self.device.type == "cuda"
        index = (self.device.index if self.device.index is not None
                 else torch.cuda.current_device()) if cuda else None
        with torch.random.fork_rng(devices=[index] if cuda else []):
            torch.set_rng_state(self._train_rng)
            if cuda:
                if self._train_cuda_rng is None:
                    torch.cuda.manual_seed(self.seed + 1)
                else:
                    torch.cuda.set_rng_state(self._train_cuda_rng, index)
            try:
                yield
            finally:
                self._train_rng = torch.get_rng_state()
                if cuda:
                    self._train_cuda_rng = torch.cuda.get_rng_state(index)

    def training_state(self) -> dict[str, Any]:
        """Everything to go on training exactly where this model is (see the module doc)."""
        state: dict[str, Any] = {
            "built": self.built,
            "windows_seen": self.windows_seen,
            "tweets_seen": self.tweets_seen,
            "added_words": list(self.added_words),
            "mask_generator": self._mask_generator.get_state(),
            "train_rng": self._train_rng.clone(),
        }
        if self._train_cuda_rng is not None:
            state["train_cuda_rng"] = self._train_cuda_rng.clone()
        if not self.built:
            return state
        _, tok = self._require()
        trainer = self.trainer
        assert trainer is not None
        # kept only when the next round goes on with it (no reset, no vocabulary growth)
        current = (trainer.optimizer is not None and not trainer.config.reset_optimizer
                   and trainer._opt_version == trainer._model_version())
        state |= {
            "tokenizer": tokenizer_files(tok),
            "trainer": trainer.state_dict(),
            "version": trainer.model.version,
            "optimizer": _optimizer_state(trainer.optimizer) if current else None,
        }
        return state

    def load_training_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`training_state` output into a model built with the same settings."""
        self.windows_seen = int(state["windows_seen"])
        self.tweets_seen = int(state["tweets_seen"])
        self.added_words = list(state["added_words"])
        self._mask_generator.set_state(state["mask_generator"])
        self._train_rng = state["train_rng"].clone()
        cuda_rng = state.get("train_cuda_rng")
        self._train_cuda_rng = None if cuda_rng is None else cuda_rng.clone()
        if not state["built"]:
            return
        self.tokenizer = tokenizer_from_files(state["tokenizer"])
        size = len(self.tokenizer)
        if self.model is None:
            self._build(())
        elif self.model.get_input_embeddings().weight.shape[0] != size:
            self.model.resize_token_embeddings(size, mean_resizing=False)
            self.model.config.vocab_size = size
        trainer = self.trainer
        assert trainer is not None
        trainer.load_state_dict(state["trainer"])
        trainer.model.version = int(state["version"])
        saved = state.get("optimizer")
        trainer.optimizer, trainer._opt_version = None, None
        if saved is not None:
            optimizer = trainer.config.build_optimizer(trainer.parameters(), trainer.config.lr)
            optimizer.load_state_dict({
                "state": {int(k): v for k, v in saved["state"].items()},
                "param_groups": saved["param_groups"],
            })
            trainer.optimizer, trainer._opt_version = optimizer, trainer._model_version()
