"""Row operations on model inputs that are either one tensor or a dict of tensors.

A classifier over cached sentence features takes a ``[n, d]`` tensor; a transformer encoder
takes ``{"input_ids": [n, L], "attention_mask": [n, L]}`` (padded to one fixed length).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

Inputs = Tensor | dict[str, Tensor]


def n_rows(x: Inputs) -> int:
    """Number of examples in ``x``."""
    if isinstance(x, dict):
        return len(next(iter(x.values())))
    return len(x)


def take(x: Inputs, idx: Tensor) -> Inputs:
    """Rows ``idx`` of ``x``."""
    if isinstance(x, dict):
        return {k: v[idx] for k, v in x.items()}
    return x[idx]


def concat(parts: Sequence[Inputs]) -> Inputs:
    """Stack inputs row-wise (dicts must share keys and trailing shapes)."""
    if isinstance(parts[0], dict):
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return torch.cat(list(parts))


def to_device(x: Inputs, device: str | torch.device) -> Inputs:
    """Move inputs to ``device``."""
    if isinstance(x, dict):
        return {k: v.to(device) for k, v in x.items()}
    return x.to(device)


def concat_targets(parts: Sequence[Tensor]) -> Tensor:
    """Stack targets; multi-hot targets of a grown label set are zero-padded to one width."""
    if parts[0].dim() == 1:
        return torch.cat(list(parts))
    width = max(p.shape[1] for p in parts)
    padded = [torch.nn.functional.pad(p, (0, width - p.shape[1])) for p in parts]
    return torch.cat(padded)


def pad_to(t: Tensor, shape: torch.Size | Sequence[int]) -> Tensor:
    """Zero-pad ``t`` at the end of each dimension up to ``shape`` (for grown parameters)."""
    if tuple(t.shape) == tuple(shape):
        return t
    if any(a > b for a, b in zip(t.shape, shape, strict=True)):
        raise ValueError(f"cannot shrink a {tuple(t.shape)} tensor to {tuple(shape)}")
    pads: list[int] = []
    for have, want in reversed(list(zip(t.shape, shape, strict=True))):
        pads += [0, want - have]
    return torch.nn.functional.pad(t, pads)
