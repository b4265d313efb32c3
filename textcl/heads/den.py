"""Dynamically Expandable Networks (Yoon et al., 2018) over fixed input features.

:func:`fit_task_den` learns one new task on an :class:`ExpandableMLP` in DEN's three
steps: selective retraining, dynamic expansion (only when the loss stays above ``tau``)
and split/duplicate of drifted units. Simplification: step (a) retrains the whole
network under an L1 penalty (which drives unused weights toward zero) rather than
searching the sparse subnetwork first; the group-lasso penalty of step (b) is a plain
(sub)gradient term.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from textcl.heads.expandable import ExpandableMLP

__all__ = ["DENReport", "ExpandableMLP", "fit_task_den"]

Penalty = Callable[[ExpandableMLP], Tensor]


@dataclass
class DENReport:
    """What :func:`fit_task_den` did; unit counts are per hidden layer."""

    loss_before_expansion: float
    expanded: bool
    units_added: list[int]
    units_pruned: list[int]
    units_split: int
    final_loss: float
    hidden_sizes: list[int]


def _l1(model: ExpandableMLP) -> Tensor:
    total = model.head.weight.abs().sum()
    for layer in model.layers:
        total = total + layer.weight.abs().sum()
    return total


def _train(
    model: ExpandableMLP,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    penalty: Penalty,
    generator: torch.Generator,
) -> None:
    """Adam on cross-entropy + penalty; the optimizer is built here, after any growth."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator).to(x.device)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx]) + penalty(model)
            opt.zero_grad()
            loss.backward()
            opt.step()


@torch.no_grad()
def _mean_loss(model: ExpandableMLP, x: Tensor, y: Tensor) -> float:
    was_training = model.training
    model.eval()
    loss = F.cross_entropy(model(x), y).item()
    model.train(was_training)
    return loss


def _prune_new(model: ExpandableMLP, old_sizes: list[int], threshold: float) -> list[int]:
    """Remove new units (index >= old size) whose group norm is below ``threshold``."""
    pruned = []
    for i, old in enumerate(old_sizes):
        norms = model.group_norms(i).detach()[old:]
        weak = (torch.nonzero(norms < threshold).flatten() + old).tolist()
        model.prune_units(i, weak)
        pruned.append(len(weak))
    return pruned


def fit_task_den(
    model: ExpandableMLP,
    x: Tensor,
    y: Tensor,
    *,
    tau: float = 0.3,
    k: int = 16,
    sigma: float = 0.5,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 64,
    l1: float = 1e-5,
    group_lambda: float = 1e-3,
    prune_threshold: float = 1e-2,
    seed: int = 0,
) -> DENReport:
    """Learn a new task ``(x, y)`` with DEN; ``y`` holds class indices (the head grows
    to fit them).

    (a) snapshot, then train with cross-entropy + ``l1`` * L1 for ``epochs``; (b) if the
    mean training loss exceeds ``tau``, add ``k`` units per hidden layer, train again
    with a group-lasso penalty (``group_lambda``) on the new units' incoming weights,
    then prune new units whose group norm is below ``prune_threshold`` (old units are
    never pruned); (c) split units that drifted more than ``sigma`` from the snapshot
    and fine-tune one epoch if any was split. Shuffling and new weights draw from a
    generator seeded with ``seed``; parameters are replaced, so rebuild any optimizer.
    """
    if x.dim() != 2 or y.dim() != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"need x [n, d] and y [n] with n > 0, got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    if y.dtype != torch.long or int(y.min()) < 0:
        raise ValueError("y must be a LongTensor of non-negative class indices")
    gen = torch.Generator().manual_seed(seed)
    needed = int(y.max()) + 1
    if needed > model.head.n_classes:
        model.head.grow(needed - model.head.n_classes, generator=gen)

    def sparse(m: ExpandableMLP) -> Tensor:
        return l1 * _l1(m)

    train = dict(lr=lr, batch_size=batch_size, generator=gen)
    reference = model.snapshot()
    _train(model, x, y, epochs=epochs, penalty=sparse, **train)
    loss_before = _mean_loss(model, x, y)

    n_layers = len(model.layers)
    added, pruned = [0] * n_layers, [0] * n_layers
    expanded = loss_before > tau
    if expanded:
        old_sizes = model.hidden_sizes
        added = [len(r) for r in model.expand(k, generator=gen)]

        def grouped(m: ExpandableMLP) -> Tensor:
            groups = sum(m.group_norms(i)[old:].sum() for i, old in enumerate(old_sizes))
            return sparse(m) + group_lambda * groups

        _train(model, x, y, epochs=epochs, penalty=grouped, **train)
        pruned = _prune_new(model, old_sizes, prune_threshold)

    n_split = model.split_drifted(reference, sigma)
    if n_split:
        _train(model, x, y, epochs=1, penalty=sparse, **train)
    return DENReport(
        loss_before_expansion=loss_before,
        expanded=expanded,
        units_added=added,
        units_pruned=pruned,
        units_split=n_split,
        final_loss=_mean_loss(model, x, y),
        hidden_sizes=model.hidden_sizes,
    )
