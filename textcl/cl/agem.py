"""Averaged Gradient Episodic Memory (Chaudhry et al. 2019)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from textcl.cl.adapter import StepBatch
from textcl.cl.buffers import Buffer
from textcl.cl.gem import flat_grad, loss_gradient, write_flat_grad
from textcl.cl.replay import BufferAdapter
from textcl.cl.rows import Inputs

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class AGEM(BufferAdapter):
    """Project each step's gradient so it does not increase the loss on stored examples.

    ``g_ref`` is the gradient on ``ref_batch`` rows sampled from ``buffer`` (``None``: as
    many as the step's new rows); when ``g . g_ref < 0`` the step uses
    ``g - (g . g_ref / g_ref . g_ref) g_ref``. The buffer is filled from each task's
    examples when the task ends. The reference's forward and backward pass is A-GEM's
    whole cost (256 rows cost about two plain steps of 32): ``refresh_every=k`` computes
    it on every k-th step only and reuses it in between. On CrisisLex (``bench_cl.py``)
    k = 4 halves the cost and keeps A-GEM's accuracy when the classes stay the same
    (domain-incremental), but loses accuracy when new classes arrive, where the memory's
    gradient changes fast; so the default recomputes it every step.
    """

    name = "agem"

    def __init__(self, buffer: Buffer, ref_batch: int | None = 256, refresh_every: int = 1
                 ) -> None:
        super().__init__(buffer)
        if refresh_every < 1:
            raise ValueError(f"refresh_every must be >= 1, got {refresh_every}")
        self.ref_batch = ref_batch
        self.refresh_every = refresh_every
        self.projections = 0
        self.steps = 0
        self._ref: Tensor | None = None  # the reference gradient while it is reused

    def _reference(self, trainer: ContinualTrainer, batch: StepBatch, params: list[Tensor]
                   ) -> Tensor:
        cached = self._ref
        if (cached is not None and (self.steps - 1) % self.refresh_every
                and len(cached) == sum(p.numel() for p in params)):
            return cached
        x, y, tasks = self.buffer.sample(self.ref_batch or batch.n_new or len(batch.y))
        loss, _ = trainer.batch_loss(type(batch)(x, y, tasks[0], tasks))
        ref = loss_gradient(loss, params)
        self._ref = ref if self.refresh_every > 1 else None  # kept only to be reused
        return ref

    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if not len(self.buffer):
            return
        self.steps += 1
        params = [p for p in trainer.parameters() if p.grad is not None]
        ref_grad = self._reference(trainer, batch, params)
        g = flat_grad(params)
        dot = g @ ref_grad
        if dot >= 0:
            return
        ref_norm = ref_grad @ ref_grad
        if ref_norm <= 0:
            return
        with torch.no_grad():
            write_flat_grad(params, g.sub_(ref_grad, alpha=float(dot / ref_norm)))
        self.projections += 1

    def before_task(self, trainer: ContinualTrainer, x: Inputs, y, task: Any) -> None:
        self._ref = None  # heads may grow; the next step computes a fresh reference

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y, task: Any) -> None:
        self.buffer.add_task(trainer, x, y, task)
        self._ref = None

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "projections": self.projections, "steps": self.steps,
                "ref": self._ref}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.projections = int(state.get("projections", 0))
        self.steps = int(state.get("steps", 0))
        self._ref = state.get("ref")
