"""Per-batch classification scores for numpy arrays, torch tensors or plain sequences."""

from __future__ import annotations

from typing import Any

import numpy as np


def _as_labels(values: Any) -> np.ndarray:
    """Return class labels as a 1-D numpy array; 2-D inputs (logits/probabilities) are argmaxed."""
    if hasattr(values, "detach"):  # torch.Tensor, without importing torch
        values = values.detach().cpu().numpy()
    arr = np.asarray(values)
    if arr.ndim == 2:
        arr = arr.argmax(axis=-1)
    if arr.ndim != 1:
        raise ValueError(f"expected labels (1-D) or scores (2-D), got shape {arr.shape}")
    return arr


def _pair(pred: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    p, t = _as_labels(pred), _as_labels(target)
    if p.shape != t.shape:
        raise ValueError(f"pred and target differ in length: {p.shape[0]} vs {t.shape[0]}")
    if p.size == 0:
        raise ValueError("cannot score an empty batch")
    return p, t


def accuracy(pred: Any, target: Any) -> float:
    """Fraction of ``pred == target``; ``pred`` may be labels or a 2-D array of class scores."""
    p, t = _pair(pred, target)
    return float(np.mean(p == t))


def macro_f1(pred: Any, target: Any, labels: Any = None) -> float:
    """Unweighted mean of per-class F1 (``sklearn.metrics.f1_score``, ``average="macro"``).

    Classes with no predicted and no true samples count as F1 = 0 only when listed in
    ``labels``; by default the classes present in ``pred`` or ``target`` are used.
    """
    from sklearn.metrics import f1_score

    p, t = _pair(pred, target)
    return float(f1_score(t, p, labels=labels, average="macro", zero_division=0))
