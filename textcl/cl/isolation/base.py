"""What the parameter-isolation models share: task bookkeeping for ``ContinualTrainer``,
state dicts that carry their task list, and the per-task parameter report."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from textcl.cl.adapter import hashable_key
from textcl.heads.mlp import ACTIVATIONS


@dataclass(frozen=True)
class TaskCost:
    """What one task costs.

    ``new_parameters``: real-valued parameters trained for the task and stored with it
    (its column, its head, the weights it owns). ``used_parameters``: real-valued
    parameters its prediction reads, shared ones included. ``mask_bits``: bits of binary
    masks stored for it. ``grown_units``: hidden units added to the body while it was
    learned (CPG).
    """

    task: Hashable
    new_parameters: int
    used_parameters: int
    mask_bits: int = 0
    grown_units: int = 0


@dataclass(frozen=True)
class ParameterReport:
    """A model's storage: per-task costs, real-valued parameters that belong to no task
    (a frozen backbone, PackNet's free weights) and bookkeeping bits (PackNet's owner map)."""

    tasks: list[TaskCost] = field(default_factory=list)
    shared_parameters: int = 0
    bookkeeping_bits: int = 0

    @property
    def total_parameters(self) -> int:
        """Real-valued parameters stored in all."""
        return self.shared_parameters + sum(t.new_parameters for t in self.tasks)

    @property
    def total_bits(self) -> int:
        """Mask and bookkeeping bits stored in all."""
        return self.bookkeeping_bits + sum(t.mask_bits for t in self.tasks)

    def storage_bytes(self, bytes_per_parameter: int = 4) -> float:
        """Bytes needed to store the model (parameters at ``bytes_per_parameter``)."""
        return self.total_parameters * bytes_per_parameter + self.total_bits / 8

    def as_dict(self) -> dict[str, Any]:
        """Plain values (tasks as ``str``) for a JSON report."""
        out = asdict(self)
        out["tasks"] = [{**asdict(t), "task": str(t.task)} for t in self.tasks]
        return out | {"total_parameters": self.total_parameters, "total_bits": self.total_bits}


def make_activation(name: str) -> nn.Module:
    """The activation layer called ``name`` (as in ``MLPClassifier``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {list(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def check_sizes(in_features: int, hidden: Sequence[int], need_hidden: bool) -> tuple[int, ...]:
    """``hidden`` as a tuple, after checking every size is positive."""
    sizes = tuple(int(h) for h in hidden)
    if in_features <= 0 or any(h <= 0 for h in sizes):
        raise ValueError(f"sizes must be positive, got {in_features} and {list(sizes)}")
    if need_hidden and not sizes:
        raise ValueError("need at least one hidden layer")
    return sizes


def numel(params: Any) -> int:
    """Number of elements of an iterable of tensors."""
    return sum(p.numel() for p in params)


class TaskModel(nn.Module):
    """Base of the isolation models: ``add_task`` / ``tasks`` / ``version`` for
    ``ContinualTrainer`` (which then calls ``model(x, task=...)``).

    ``version`` increases whenever parameters are added or frozen, so the trainer
    rebuilds its optimizer. The state dict carries the task list: ``load_state_dict``
    first adds the saved tasks the model lacks, so a fresh model (with none or some of
    the tasks) loads a saved one. Task keys name modules (``str(task)``), so they must not
    contain ``"."`` nor be empty.
    """

    def __init__(self) -> None:
        super().__init__()
        self._tasks: list[Hashable] = []
        self._classes: list[int] = []
        self.version = 0

    # -- tasks ----------------------------------------------------------------------
    @property
    def tasks(self) -> list[Hashable]:
        """Task keys in the order they were added (a copy)."""
        return list(self._tasks)

    def n_classes(self, task: Hashable) -> int:
        """Number of classes of ``task``."""
        return self._classes[self.task_index(task)]

    def task_index(self, task: Hashable) -> int:
        """Position of ``task`` in :attr:`tasks`; ``KeyError`` for an unknown task."""
        try:
            return self._tasks.index(task)
        except ValueError:
            raise KeyError(
                f"unknown task {task!r}; known tasks: {self._tasks!r}; "
                f"call add_task({task!r}, n_classes) first"
            ) from None

    def key(self, task: Hashable) -> str:
        """The module key of a known ``task``."""
        return str(self._tasks[self.task_index(task)])

    def add_task(self, task: Hashable, n_classes: int) -> None:
        """Add ``task`` with ``n_classes`` outputs (earlier tasks' parameters freeze); a
        no-op if it exists with that class count, ``ValueError`` if with another."""
        if n_classes <= 0:
            raise ValueError(f"n_classes must be positive, got {n_classes}")
        if task in self._tasks:
            known = self.n_classes(task)
            if known != n_classes:
                raise ValueError(f"task {task!r} already has {known} classes, not {n_classes}")
            return
        self._check_add(task)
        self._append(task, n_classes)

    def _append(self, task: Hashable, n_classes: int) -> None:
        key = str(task)
        if not key or "." in key or hasattr(nn.ModuleDict(), key):
            raise ValueError(f"task {task!r} cannot be used as a module name")
        if key in (str(t) for t in self._tasks):
            raise ValueError(f"task {task!r} has the same key {key!r} as a known task")
        self._grow(key, n_classes)
        self._tasks.append(task)
        self._classes.append(int(n_classes))
        self.version += 1

    def _check_add(self, task: Hashable) -> None:
        """Raise when a task cannot be added now."""

    def _grow(self, key: str, n_classes: int) -> None:
        """Add the new task's parameters and freeze what must not change any more."""
        raise NotImplementedError

    def _like(self) -> dict[str, Any]:
        """``device`` and ``dtype`` of the model's first floating-point tensor."""
        for t in (*self.parameters(), *self.buffers()):
            if t.is_floating_point():
                return {"device": t.device, "dtype": t.dtype}
        return {}

    def parameter_report(self) -> ParameterReport:
        """Parameters stored per task and shared."""
        raise NotImplementedError

    # -- state ----------------------------------------------------------------------
    def _extra(self) -> dict[str, Any]:
        """Plain values beyond the task list that the state must carry."""
        return {}

    def _restore_extra(self, extra: Mapping[str, Any]) -> None:
        """Apply :meth:`_extra` output (the tasks exist by then)."""

    def get_extra_state(self) -> dict[str, Any]:
        """The task list (and subclass values) saved under ``_extra_state``."""
        return {"tasks": list(self._tasks), "n_classes": list(self._classes), **self._extra()}

    def set_extra_state(self, state: Any) -> None:
        """Restore :meth:`get_extra_state` output (the tasks were added before)."""
        self._restore_extra(state)

    def _saved_tasks(self, extra: Mapping[str, Any]) -> list[tuple[Hashable, int]]:
        """The saved ``(task, n_classes)`` list, after checking this model's tasks are
        its prefix."""
        saved = [hashable_key(t) for t in extra["tasks"]]
        classes = [int(n) for n in extra["n_classes"]]
        pairs = list(zip(saved, classes, strict=True))
        mine = list(zip(self._tasks, self._classes, strict=True))
        if mine != pairs[: len(mine)]:
            raise ValueError(f"the model has tasks {mine!r}, the state {saved!r} ({classes})")
        return pairs

    def _prepare_load(self, extra: Mapping[str, Any]) -> None:
        """Add the saved tasks this model lacks (and any structure they imply)."""
        for task, n in self._saved_tasks(extra)[len(self._tasks) :]:
            self._append(task, n)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load a state dict, first adding the saved tasks this model lacks."""
        extra = state_dict.get("_extra_state")
        if extra is not None:
            self._prepare_load(extra)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)


def freeze(module: nn.Module) -> None:
    """``requires_grad = False`` on every parameter of ``module``."""
    for p in module.parameters():
        p.requires_grad_(False)


def freeze_bias(layer: nn.Linear) -> None:
    """Stop training ``layer``'s bias."""
    if layer.bias is not None:
        layer.bias.requires_grad_(False)


def new_linear(in_f: int, out_f: int, like: dict[str, Any], bias: bool = True) -> nn.Linear:
    """An ``nn.Linear`` on the device and dtype in ``like`` (see ``TaskModel._like``)."""
    layer = nn.Linear(in_f, out_f, bias=bias)
    return layer.to(**like) if like else layer



# -- binary masks (Piggyback, CPG) ------------------------------------------------------
FREE = -1  # owner of a weight no task has kept (PackNet, CPG)


class Binarize(torch.autograd.Function):
    """``scores > threshold`` as 0/1 in the forward pass, identity in the backward pass
    (the straight-through estimator)."""

    @staticmethod
    def forward(ctx: Any, scores: Tensor, threshold: float) -> Tensor:
        return (scores > threshold).to(scores.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


class OpenMask(nn.Module):
    """The real-valued mask scores (one tensor per layer) of the task being learned."""

    def __init__(self, shapes: Sequence[torch.Size], init: float, like: dict[str, Any]) -> None:
        super().__init__()
        self.scores = nn.ParameterList(nn.Parameter(torch.full(s, init, **like)) for s in shapes)

    def masks(self, threshold: float, dtype: torch.dtype) -> list[Tensor]:
        """Per layer, the 0/1 mask (gradients reach the scores straight through)."""
        return [Binarize.apply(s, threshold).to(dtype) for s in self.scores]

    def bits(self, threshold: float) -> list[Tensor]:
        """Per layer, the mask as booleans (detached)."""
        return [(s.detach() > threshold) for s in self.scores]


class SealedMask(nn.Module):
    """A finished task's masks, stored as booleans."""

    def __init__(self, bits: Sequence[Tensor]) -> None:
        super().__init__()
        self.n = len(bits)
        for i, b in enumerate(bits):
            self.register_buffer(f"bits{i}", b.clone())

    def masks(self, threshold: float, dtype: torch.dtype) -> list[Tensor]:
        """Per layer, the 0/1 mask."""
        return [b.to(dtype) for b in self.bits(threshold)]

    def bits(self, threshold: float) -> list[Tensor]:
        """Per layer, the stored booleans."""
        return [getattr(self, f"bits{i}") for i in range(self.n)]
