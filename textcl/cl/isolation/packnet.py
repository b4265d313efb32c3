"""PackNet (Mallya & Lazebnik 2018): iterative pruning packs tasks into one MLP.

:class:`PackNetMLP` is a shared MLP body plus one linear head per task; every body
weight has an owner (the index of the task that kept it, or :data:`FREE`). The
:class:`PackNet` adapter trains only free weights while a task is learned (weights of
earlier tasks are used but never change), then at the task's end keeps the largest
``keep`` share of the free weights for it, zeroes the rest (free again for later tasks)
and retrains the kept ones. Predicting task *t* reads only weights owned by tasks <= *t*.

Biases, as in the paper, are trained with the first task only and then frozen: they are
shared by every task, so a later change would alter earlier tasks' outputs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.isolation.base import (
    FREE,
    ParameterReport,
    TaskCost,
    TaskModel,
    check_sizes,
    freeze,
    freeze_bias,
    make_activation,
    new_linear,
    numel,
)
from textcl.cl.rows import Inputs, n_rows, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class PackNetMLP(TaskModel):
    """Shared MLP body (``hidden`` sizes, at least one) with per-weight owners, and one
    linear head per task. ``packed`` tasks have their weights; the last task is *open*
    (uses every weight) until :meth:`pack` is called, and a new task can be added only
    when none is open (pair the model with the :class:`PackNet` adapter)."""

    def __init__(
        self, in_features: int, hidden: Sequence[int] = (256,), activation: str = "relu"
    ) -> None:
        super().__init__()
        sizes = check_sizes(in_features, hidden, need_hidden=True)
        widths = (in_features, *sizes)
        self.in_features = in_features
        self.hidden = sizes
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in itertools.pairwise(widths)
        )
        for i, layer in enumerate(self.layers):
            owner = torch.full(layer.weight.shape, FREE, dtype=torch.int16)
            self.register_buffer(f"owner{i}", owner)
        self.activation = make_activation(activation)
        self.heads = nn.ModuleDict()
        self.packed = 0

    @property
    def owners(self) -> list[Tensor]:
        """Per layer, the owner of each weight (task index, or ``FREE``)."""
        return [getattr(self, f"owner{i}") for i in range(len(self.layers))]

    @property
    def open_task(self) -> int | None:
        """Index of the task whose weights are not packed yet, or ``None``."""
        return self.packed if self.packed < len(self._tasks) else None

    def _check_add(self, task: Hashable) -> None:
        if self.open_task is not None:
            raise RuntimeError(
                f"task {self._tasks[self.open_task]!r} is not packed: pair PackNetMLP with "
                "the PackNet adapter (or call pack()) before adding a task"
            )

    def _grow(self, key: str, n_classes: int) -> None:
        if self._tasks:  # biases belong to the first task; earlier heads to theirs
            for layer in self.layers:
                freeze_bias(layer)
            freeze(self.heads)
        self.heads[key] = new_linear(self.hidden[-1], n_classes, self._like())

    def weights(self, index: int) -> list[Tensor]:
        """Body weights task ``index`` reads: all of them while it is open, else those
        owned by tasks ``<= index`` (the others read as 0)."""
        if index >= self.packed:
            return [layer.weight for layer in self.layers]
        return [
            torch.where((owner >= 0) & (owner <= index), layer.weight, 0.0)
            for layer, owner in zip(self.layers, self.owners, strict=True)
        ]

    def forward(self, x: Tensor, task: Hashable) -> Tensor:
        """Logits of ``task``'s head, ``[n, n_classes(task)]``."""
        index = self.task_index(task)
        h = x
        for layer, weight in zip(self.layers, self.weights(index), strict=True):
            h = self.activation(F.linear(h, weight, layer.bias))
        return self.heads[str(self._tasks[index])](h)

    @torch.no_grad()
    def pack(self, keep: float) -> list[int]:
        """Give the open task the ``keep`` share (per layer) of the free weights with the
        largest magnitude and zero the other free weights; returns the kept count per
        layer."""
        index = self.open_task
        if index is None:
            raise RuntimeError("no open task to pack")
        if not 0.0 < keep <= 1.0:
            raise ValueError(f"keep must be in (0, 1], got {keep}")
        kept = []
        for layer, owner in zip(self.layers, self.owners, strict=True):
            free = owner == FREE
            n_keep = math.floor(keep * int(free.sum()) + 0.5)
            magnitude = layer.weight.abs().masked_fill(~free, -1.0).flatten()
            top = torch.topk(magnitude, n_keep).indices
            owner.view(-1)[top] = index
            layer.weight.masked_fill_(owner == FREE, 0.0)
            kept.append(n_keep)
        self.packed += 1
        return kept

    def parameter_report(self) -> ParameterReport:
        """Per task: the body weights it owns and its head (the first task also the
        biases); free weights are shared; the owner map costs ``ceil(log2(tasks + 1))``
        bits per weight."""
        owners = self.owners
        biases = sum(layer.bias.numel() for layer in self.layers)
        costs, read = [], biases
        for index, task in enumerate(self._tasks):
            owned = sum(int((o == index).sum()) for o in owners)
            if index == self.open_task:
                owned = sum(int((o == FREE).sum()) for o in owners)
            head = numel(self.heads[str(task)].parameters())
            read += owned
            new = owned + head + (biases if index == 0 else 0)
            costs.append(TaskCost(task, new_parameters=new, used_parameters=read + head))
        free = 0 if self.open_task is not None else sum(int((o == FREE).sum()) for o in owners)
        n_weights = sum(o.numel() for o in owners)
        bits = n_weights * math.ceil(math.log2(len(self._tasks) + 1))
        return ParameterReport(costs, shared_parameters=free + (0 if self._tasks else biases),
                               bookkeeping_bits=bits)

    def _extra(self) -> dict[str, Any]:
        return {"packed": self.packed}

    def _restore_extra(self, extra: Mapping[str, Any]) -> None:
        self.packed = int(extra.get("packed", 0))


def equal_shares(n_tasks: int) -> list[float]:
    """``keep`` per task that gives each of ``n_tasks`` tasks an equal share of the body:
    ``1/n, 1/(n-1), ..., 1``."""
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be at least 1, got {n_tasks}")
    return [1.0 / (n_tasks - i) for i in range(n_tasks)]


class PackNet(Adapter):
    """Train only free weights, pack at each task's end, retrain the kept ones.

    ``keep``: the share of the free weights a task keeps (one value, or one per task, the
    last repeated; :func:`equal_shares` splits the body evenly). ``retrain_epochs``: passes
    over the task's rows after pruning, with a fresh optimizer over the kept weights at
    ``retrain_lr_scale`` times the task's learning rate.

    Frozen weights stay bit-identical: their gradients are zeroed after the backward pass
    and, since weight decay and optimizer moments move weights even without a gradient,
    restored after every optimizer step.
    """

    name = "packnet"

    def __init__(
        self,
        keep: float | Sequence[float] = 0.5,
        retrain_epochs: int = 1,
        retrain_lr_scale: float = 1.0,
    ) -> None:
        shares = [keep] if isinstance(keep, int | float) else list(keep)
        if not shares or any(not 0.0 < k <= 1.0 for k in shares):
            raise ValueError(f"keep must be in (0, 1], got {keep}")
        if retrain_epochs < 0 or retrain_lr_scale <= 0:
            raise ValueError("retrain_epochs must be >= 0 and retrain_lr_scale positive")
        self.keep = [float(k) for k in shares]
        self.retrain_epochs = retrain_epochs
        self.retrain_lr_scale = retrain_lr_scale
        self.uses_task_rows = retrain_epochs > 0
        self.kept: list[list[int]] = []  # per packed task, weights kept per layer
        self._trainable = FREE  # owner value of the weights that may change now
        self._guard: list[tuple[Tensor, Tensor]] | None = None  # (frozen mask, values)

    def keep_share(self, index: int) -> float:
        """The share of free weights task ``index`` keeps."""
        return self.keep[min(index, len(self.keep) - 1)]

    @staticmethod
    def _model(trainer: ContinualTrainer) -> PackNetMLP:
        if not isinstance(trainer.model, PackNetMLP):
            raise TypeError(f"PackNet needs a PackNetMLP, got {type(trainer.model).__name__}")
        return trainer.model

    def _frozen(self, trainer: ContinualTrainer) -> list[tuple[Tensor, Tensor]]:
        """Per layer, the weights that must not change now and their values."""
        if self._guard is None:
            model = self._model(trainer)
            self._guard = [
                (owner != self._trainable, layer.weight.detach().clone())
                for layer, owner in zip(model.layers, model.owners, strict=True)
            ]
        return self._guard

    def before_task(self, trainer: ContinualTrainer, x: Any, y: Any, task: Any) -> None:
        model = self._model(trainer)
        if task in model.tasks and model.task_index(task) < model.packed:
            raise RuntimeError(f"task {task!r} is packed already; PackNet learns a task once")
        self._trainable, self._guard = FREE, None

    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        model = self._model(trainer)
        for layer, (frozen, _) in zip(model.layers, self._frozen(trainer), strict=True):
            if layer.weight.grad is not None:
                layer.weight.grad.masked_fill_(frozen, 0.0)

    @torch.no_grad()
    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        model = self._model(trainer)
        for layer, (frozen, values) in zip(model.layers, self._frozen(trainer), strict=True):
            layer.weight.copy_(torch.where(frozen, values, layer.weight))

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        model = self._model(trainer)
        index = model.task_index(task)
        self.kept.append(model.pack(self.keep_share(index)))
        self._trainable, self._guard = index, None
        try:
            self._retrain(trainer, x, y, task)
        finally:
            self._trainable, self._guard = FREE, None

    def _retrain(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        self._passes(trainer, x, y, task, self.retrain_epochs, self.retrain_lr_scale)

    def _passes(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any,
                epochs: int, lr_scale: float) -> None:
        """``epochs`` passes over the task's rows with a fresh optimizer over the trainable
        parameters at ``lr_scale`` times the task's learning rate (the step hooks run)."""
        if epochs == 0 or x is None or n_rows(x) == 0:
            return
        cfg = trainer.config
        lr = cfg.task_lr(trainer.task_index) * lr_scale
        optimizer = cfg.build_optimizer(trainer.parameters(), lr)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + trainer.task_index)
        trainer.model.train()
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=generator).to(y.device)
            for start in range(0, len(y), cfg.batch_size):
                idx = order[start : start + cfg.batch_size]
                trainer.train_step(StepBatch(take(x, idx), y[idx], task, n_new=len(idx)),
                                   optimizer)
        trainer.model.eval()

    def state_dict(self) -> dict[str, Any]:
        return {"kept": [list(k) for k in self.kept]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.kept = [list(k) for k in state.get("kept", [])]
        self._trainable, self._guard = FREE, None
