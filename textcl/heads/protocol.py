"""What :class:`~textcl.cl.ContinualTrainer` expects of a classifier head.

Every head is an ``nn.Module`` mapping features ``[n, in_features]`` to logits and
carrying ``version``, which grows by one whenever its parameter set changes (the trainer
rebuilds its optimizer then). A class-incremental head also has a label vocabulary and
grows when an unseen label arrives; a task-incremental head has one output layer per task.
The contract tests (``tests/test_heads_contract.py``) check every exported head.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Head(Protocol):
    """A classifier (head or whole model) the continual trainer can train.

    ``version``: increases on every change of the parameter set. ``state_dict()`` /
    ``load_state_dict()``: a head built the same way and grown to the same shape, then
    loaded, gives bit-identical logits.
    """

    version: int

    def __call__(self, x: Tensor, *args: Any, **kwargs: Any) -> Tensor: ...

    def parameters(self, recurse: bool = True) -> Iterable[torch.nn.Parameter]: ...

    def state_dict(self, *args: Any, **kwargs: Any) -> Mapping[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any: ...


@runtime_checkable
class GrowingHead(Head, Protocol):
    """A class-incremental head: a label vocabulary that grows.

    ``encode(labels)`` maps labels to class indices, adding unseen ones as new classes
    (``grow=False``: an unseen label raises ``KeyError``); growing never changes the
    logits of the classes already there.
    """

    @property
    def n_classes(self) -> int: ...

    def grow(self, n_new: int, *, generator: torch.Generator | None = None) -> None: ...

    def encode(self, labels: Sequence[Hashable] | Tensor, grow: bool = True) -> Tensor: ...

    def decode(self, indices: Iterable[int] | Tensor) -> list[Hashable]: ...


@runtime_checkable
class TaskHead(Head, Protocol):
    """A task-incremental head: one output layer per task, called ``head(x, task)``."""

    def add_task(self, task: Hashable, n_classes: int) -> None: ...

    def n_classes(self, task: Hashable) -> int: ...


def growing_head(model: torch.nn.Module) -> GrowingHead | None:
    """The class-incremental head of ``model`` (itself or its ``.head``), if it has one."""
    head = getattr(model, "head", model)
    return head if isinstance(head, GrowingHead) else None
