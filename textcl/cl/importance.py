"""Per-parameter importance estimates from per-example gradients (EWC's Fisher, MAS)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from textcl.cl.rows import Inputs, n_rows, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer

ExampleLoss = Callable[[Tensor, Tensor], Tensor]


def _sample(trainer: ContinualTrainer, x: Inputs, y: Tensor, limit: int) -> tuple[Inputs, Tensor]:
    if n_rows(x) <= limit:
        return x, y
    idx = torch.randperm(n_rows(x), generator=trainer.generator)[:limit].to(y.device)
    return take(x, idx), y[idx]


def per_example_gradient_stat(
    trainer: ContinualTrainer,
    x: Inputs,
    y: Tensor,
    task: Hashable | None,
    example_loss: ExampleLoss,
    reduce: str = "square",
    max_examples: int = 1024,
    chunk: int = 128,
) -> dict[str, Tensor]:
    """Mean over examples of ``g**2`` (``reduce="square"``) or ``|g|`` (``"abs"``).

    ``g`` is the gradient of ``example_loss(logits_row, target_row)`` for one example.
    Per-example gradients come from ``torch.func.vmap``; models that vmap cannot trace
    fall back to one backward pass per example. The model is in eval mode (no dropout).
    """
    model = trainer.model
    was_training = model.training
    model.eval()
    x, y = _sample(trainer, x, y, max_examples)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    sums = {n: torch.zeros_like(p) for n, p in model.named_parameters() if p.requires_grad}
    try:
        _vmap_stats(trainer, x, y, task, example_loss, reduce, chunk, names, sums)
    except (RuntimeError, NotImplementedError):
        for n in sums:
            sums[n].zero_()
        _loop_stats(trainer, x, y, task, example_loss, reduce, names, sums)
    model.train(was_training)
    count = max(n_rows(x), 1)
    return {n: s / count for n, s in sums.items()}


def _reduce(g: Tensor, reduce: str) -> Tensor:
    return g.pow(2) if reduce == "square" else g.abs()


def _vmap_stats(trainer, x, y, task, example_loss, reduce, chunk, names, sums) -> None:
    from torch.func import functional_call, grad, vmap

    model: nn.Module = trainer.model
    params = {n: p.detach() for n, p in model.named_parameters() if n in sums}
    buffers = dict(model.named_buffers())
    kwargs = {"task": task} if trainer.task_aware else {}

    def one(p: dict[str, Tensor], xi: Inputs, yi: Tensor) -> Tensor:
        xb = {k: v.unsqueeze(0) for k, v in xi.items()} if isinstance(xi, dict) else xi.unsqueeze(0)
        logits = functional_call(model, (p, buffers), (xb,), kwargs)
        return example_loss(logits, yi.unsqueeze(0))

    per_example = vmap(grad(one), in_dims=(None, 0, 0))
    for start in range(0, n_rows(x), chunk):
        idx = torch.arange(start, min(start + chunk, n_rows(x)), device=y.device)
        grads = per_example(params, take(x, idx), y[idx])
        for n in names:
            sums[n] += _reduce(grads[n], reduce).sum(0)


def _loop_stats(trainer, x, y, task, example_loss, reduce, names, sums) -> None:
    model: nn.Module = trainer.model
    params = [p for n, p in model.named_parameters() if n in sums]
    for i in range(n_rows(x)):
        idx = torch.tensor([i], device=y.device)
        loss = example_loss(trainer.forward(take(x, idx), task), y[idx])
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        for n, g in zip(names, grads, strict=True):
            if g is not None:
                sums[n] += _reduce(g, reduce)
