"""The adapter protocol: hooks a ``ContinualTrainer`` calls around each task and step.

Adapters are composed by listing them, ``adapters=[Replay(...), LwF(...)]``; each hook runs
in list order. Every hook has a do-nothing default, so an adapter overrides only what it
needs.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torch import Tensor

from textcl.cl.rows import Inputs

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


@dataclass
class StepBatch:
    """One training step's examples. ``tasks`` is per row when replay mixes tasks."""

    x: Inputs
    y: Tensor
    task: Hashable | None
    tasks: list[Hashable] | None = None
    n_new: int = 0

    def task_of_rows(self) -> list[Hashable]:
        """The task of every row."""
        if self.tasks is not None:
            return self.tasks
        return [self.task] * len(self.y)


class Adapter:
    """Base class for continual-learning adapters (EWC, LwF, replay, A-GEM, ...)."""

    name = "adapter"
    # whether after_task reads the task's rows (a stream task keeps a sample of them
    # only when some adapter does)
    uses_task_rows = True

    def before_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        """Called before a task's heads grow; snapshot what the old model knew."""

    def prepare(
        self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any
    ) -> tuple[Inputs, Tensor]:
        """Called after heads grew; may hold data out of training (BiC's validation split)."""
        return x, y

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        """Add rows to a step's batch (replay)."""
        return batch

    def penalty(
        self, trainer: ContinualTrainer, batch: StepBatch, logits: Tensor | None
    ) -> Tensor | None:
        """An extra differentiable loss term for this step (LwF distillation)."""
        return None

    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        """Edit gradients before the optimizer step (quadratic penalties, A-GEM projection)."""

    def before_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        """Called right before the optimizer step, after every gradient edit and clipping
        (the gradients the optimizer will apply; SI's path integral)."""

    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        """Called after the optimizer step (SI path integral, online buffer updates)."""

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        """Called when a task ends (Fisher information, exemplar selection, bias correction)."""

    def scores(self, trainer: ContinualTrainer, x: Inputs, task: Any) -> Tensor | None:
        """Class scores that replace the model's logits at prediction time (iCaRL's NME)."""
        return None

    def memory_size(self) -> int:
        """Stored examples (raw or generated), for memory budgets."""
        return 0

    def state_dict(self) -> dict[str, Any]:
        """Tensors and numbers needed to resume."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""


def hashable_key(key: Any) -> Hashable:
    """A task or class key read back from a checkpoint (JSON turns tuples into lists)."""
    return tuple(hashable_key(k) for k in key) if isinstance(key, list) else key
