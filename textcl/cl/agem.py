"""Averaged Gradient Episodic Memory (Chaudhry et al. 2019)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from textcl.cl.adapter import StepBatch
from textcl.cl.buffers import Buffer
from textcl.cl.replay import BufferAdapter
from textcl.cl.rows import Inputs

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class AGEM(BufferAdapter):
    """Project each step's gradient so it does not increase the loss on stored examples.

    ``g_ref`` is the gradient on ``ref_batch`` rows sampled from ``buffer``; when
    ``g . g_ref < 0`` the step uses ``g - (g . g_ref / g_ref . g_ref) g_ref``. The buffer is
    filled from each task's examples when the task ends.
    """

    name = "agem"

    def __init__(self, buffer: Buffer, ref_batch: int = 256) -> None:
        super().__init__(buffer)
        self.ref_batch = ref_batch
        self.projections = 0
        self.steps = 0

    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if not len(self.buffer):
            return
        self.steps += 1
        params = [p for p in trainer.parameters() if p.grad is not None]
        x, y, tasks = self.buffer.sample(self.ref_batch)
        ref = type(batch)(x, y, tasks[0], tasks)
        was = trainer.model.training
        loss, _ = trainer.batch_loss(ref)
        trainer.model.train(was)
        ref_grads = torch.autograd.grad(loss, params, allow_unused=True)
        pairs = [(p.grad, r) for p, r in zip(params, ref_grads, strict=True) if r is not None]
        dot = sum((g * r).sum() for g, r in pairs)
        if dot >= 0:
            return
        ref_norm = sum((r * r).sum() for _, r in pairs)
        if ref_norm <= 0:
            return
        scale = dot / ref_norm
        with torch.no_grad():
            for g, r in pairs:
                g.sub_(scale * r)
        self.projections += 1

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y, task: Any) -> None:
        self.buffer.add_task(trainer, x, y, task)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "projections": self.projections, "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.projections = int(state.get("projections", 0))
        self.steps = int(state.get("steps", 0))
