"""Trainer glue: the masked LM as a :class:`textcl.cl.ContinualTrainer` model.

:class:`MaskedLMModule` maps ``{"input_ids", "attention_mask"}`` rows to logits,
:func:`mlm_loss` is the loss over predicted positions and :class:`MLMTrainer` trains on
``[n, L]`` label rows, so the :mod:`textcl.cl` adapters plug in unchanged.
"""

from __future__ import annotations

from collections.abc import Hashable

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

from textcl.cl.rows import Inputs, n_rows, take, to_device
from textcl.cl.trainer import ContinualTrainer
from textcl.transformer.masking import IGNORE


class MaskedLMModule(nn.Module):
    """``module({"input_ids", "attention_mask"}) -> logits [n, L, V]`` around a masked LM.

    ``version`` goes up whenever the vocabulary grows, so the trainer rebuilds its optimizer
    around the new embedding parameters.
    """

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model
        self.version = 0

    def forward(self, x: Inputs) -> Tensor:
        if isinstance(x, Tensor):
            return self.model(input_ids=x).logits
        return self.model(
            input_ids=x["input_ids"], attention_mask=self.additive_mask(x["attention_mask"])
        ).logits

    def additive_mask(self, attention_mask: Tensor) -> Tensor:
        """The ``[n, 1, 1, L]`` additive mask (0 to attend, dtype minimum for padding).

        A prepared 4-D mask is used as-is by Hugging Face models, which skips their
        data-dependent "is there any padding" check, so ``torch.func.vmap`` can trace the
        model (per-example gradients for EWC/MAS instead of a slow per-example loop).
        """
        dtype = next(self.model.parameters()).dtype
        keep = attention_mask[:, None, None, :].to(dtype)
        return (1.0 - keep) * torch.finfo(dtype).min


def _trim(x: Inputs) -> Inputs:
    """Drop the trailing columns that are padding in every row (same result, less work)."""
    if not isinstance(x, dict) or "attention_mask" not in x:
        return x
    width = int(x["attention_mask"].sum(1).max().item()) if n_rows(x) else 0
    width = max(width, 1)
    if width >= x["attention_mask"].shape[1]:
        return x
    return {k: v[:, :width] for k, v in x.items()}


def mlm_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy over the predicted (non ``-100``) positions.

    ``logits`` is ``[n, L', V]`` with ``L' <= L`` (trailing padding trimmed), ``labels``
    ``[n, L]``. A batch with no predicted position has loss 0 (not NaN).
    """
    labels = labels[:, : logits.shape[1]]
    total = nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(),
        labels.reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )
    return total / (labels != IGNORE).sum().clamp(min=1)


class MLMTrainer(ContinualTrainer):
    """A :class:`ContinualTrainer` whose targets are MLM label rows ``[n, L]``.

    There are no class heads to grow; ``evaluate`` returns the mean masked-LM loss (lower
    is better). Prediction helpers (``scores``/``predict``) are not meaningful here.
    """

    def forward(self, x: Inputs, task: Hashable | None = None) -> Tensor:
        return self.model(_trim(x))

    def loss_fn(self, logits: Tensor, y: Tensor) -> Tensor:
        return mlm_loss(logits, y)

    def _grow_heads(self, y: Tensor, task: Hashable | None, n_classes: int | None) -> None:
        self.model.to(self.device)

    @torch.no_grad()
    def evaluate(
        self, x: Inputs, y: Tensor, task: Hashable | None = None, batch_size: int = 256
    ) -> float:
        """Mean masked-LM loss per predicted token on ``(x, y)``."""
        self.model.eval()
        x, y = to_device(x, self.device), y.to(self.device)
        total, count = 0.0, 0
        for start in range(0, len(y), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(y)), device=y.device)
            logits = self.forward(take(x, idx))
            labels = y[idx][:, : logits.shape[1]]
            n = int((labels != IGNORE).sum())
            total += float(mlm_loss(logits, labels)) * n
            count += n
        return total / count if count else float("nan")
