"""Learning without Forgetting (Li & Hoiem 2016): distil the previous model's outputs."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from textcl.cl.adapter import Adapter, StepBatch, hashable_key

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


def distillation(new: Tensor, old: Tensor, temperature: float, multi_label: bool) -> Tensor:
    """KL(softmax(old/T) || softmax(new/T)) * T^2, or BCE to sigmoid(old) for multi-label."""
    if multi_label:
        return nn.functional.binary_cross_entropy_with_logits(new, torch.sigmoid(old))
    t = temperature
    return nn.functional.kl_div(
        nn.functional.log_softmax(new / t, dim=1),
        nn.functional.log_softmax(old / t, dim=1),
        reduction="batchmean",
        log_target=True,
    ) * (t * t)


class LwF(Adapter):
    """Keep the outputs of the model as it was before this task on every step's inputs.

    With a growing head only the old classes' logits are distilled; with one head per task
    every old task's head is distilled on the current inputs. ``weight`` scales the term,
    ``temperature`` softens both distributions.
    """

    name = "lwf"
    uses_task_rows = False

    def __init__(self, weight: float = 1.0, temperature: float = 2.0) -> None:
        self.weight = weight
        self.temperature = temperature
        self.old_model: nn.Module | None = None
        self.old_classes = 0
        self.old_tasks: list[Any] = []
        self._teacher_state: dict[str, Any] | None = None  # restored, built on first use

    def before_task(self, trainer: ContinualTrainer, x, y, task) -> None:
        self._teacher_state = None
        if trainer.task_index == 0:
            return
        self.old_model = copy.deepcopy(trainer.model).eval()
        for p in self.old_model.parameters():
            p.requires_grad_(False)
        head = getattr(trainer.model, "head", trainer.model)
        classes = getattr(head, "n_classes", 0)
        self.old_classes = 0 if callable(classes) else int(classes or 0)
        self.old_tasks = [t for t in getattr(head, "tasks", []) if t != task]

    def _teacher(self, trainer: ContinualTrainer) -> nn.Module | None:
        """The old model; after a restore, rebuilt from the model's structure."""
        if self.old_model is None and self._teacher_state is not None:
            teacher = copy.deepcopy(trainer.model).eval()
            _load_leading(teacher, self._teacher_state)
            for p in teacher.parameters():
                p.requires_grad_(False)
            self.old_model, self._teacher_state = teacher, None
        return self.old_model

    def penalty(
        self, trainer: ContinualTrainer, batch: StepBatch, logits: Tensor | None
    ) -> Tensor | None:
        if self._teacher(trainer) is None or self.weight == 0:
            return None
        multi = trainer.config.multi_label
        if trainer.task_aware:
            if not self.old_tasks:
                return None
            total = torch.zeros((), device=trainer.device)
            for t in self.old_tasks:
                with torch.no_grad():
                    old = self.old_model(batch.x, task=t)
                total = total + distillation(trainer.forward(batch.x, t), old,
                                             self.temperature, multi)
            return self.weight * total / len(self.old_tasks)
        if logits is None:
            logits = trainer.forward(batch.x)
        with torch.no_grad():
            old = self.old_model(batch.x)
        k = min(self.old_classes or old.shape[1], old.shape[1])
        return self.weight * distillation(logits[:, :k], old[:, :k], self.temperature, multi)

    def state_dict(self) -> dict[str, Any]:
        teacher = self.old_model.state_dict() if self.old_model is not None else (
            self._teacher_state)
        return {"old_classes": self.old_classes,
                "old_tasks": [hashable_key(t) for t in self.old_tasks],
                "teacher": dict(teacher) if teacher is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.old_classes = int(state.get("old_classes", 0))
        self.old_tasks = [hashable_key(t) for t in state.get("old_tasks", [])]
        self.old_model, self._teacher_state = None, state.get("teacher")


@torch.no_grad()
def _load_leading(model: nn.Module, state: dict[str, Tensor]) -> None:
    """Load ``state`` into ``model`` whose head may have grown since: a saved tensor fills
    the leading slice of the model's (the old classes' rows); what the head gained since
    keeps the model's values, which distillation of the old classes never reads."""
    own = model.state_dict()
    for key, value in state.items():
        if key not in own:
            raise KeyError(f"the saved LwF teacher has {key!r}, which the model lacks")
        target = own[key]
        if target.shape == value.shape:
            target.copy_(value)
        else:
            target[tuple(slice(0, n) for n in value.shape)].copy_(value)
