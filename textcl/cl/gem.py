"""Gradient Episodic Memory (Lopez-Paz & Ranzato 2017): the full quadratic program.

Each step's gradient ``g`` is replaced by the closest ``z`` (in L2) that does not increase
the loss of any past task's stored examples: ``min ||z - g||^2`` subject to
``<z, g_k> >= 0`` for every past task ``k``. Its dual has one variable per past task,
``min_v 1/2 v' (G G') v + (G g)' v`` with ``v >= margin``, and ``z = g + G' v``; it is
solved exactly as a non-negative least-squares problem of that size (scipy). A-GEM
(``textcl.cl.agem``) is the cheap one-constraint approximation.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from textcl.cl.adapter import StepBatch, hashable_key
from textcl.cl.buffers import Buffer
from textcl.cl.replay import BufferAdapter
from textcl.cl.rows import Inputs, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


def flat_grad(params: list[Tensor], grads: list[Tensor | None] | None = None) -> Tensor:
    """One vector of the gradients of ``params`` (``.grad`` unless given; zeros where none)."""
    grads = [p.grad for p in params] if grads is None else grads
    return torch.cat([
        (g if g is not None else torch.zeros_like(p)).reshape(-1)
        for p, g in zip(params, grads, strict=True)
    ])


def loss_gradient(loss: Tensor, params: list[Tensor]) -> Tensor:
    """The gradient of ``loss`` with respect to ``params`` as one vector (``.grad`` is left
    alone)."""
    return flat_grad(params, list(torch.autograd.grad(loss, params, allow_unused=True)))


def write_flat_grad(params: list[Tensor], vector: Tensor) -> None:
    """Set every parameter's ``.grad`` from one vector (the inverse of :func:`flat_grad`)."""
    offset = 0
    for p in params:
        n = p.numel()
        part = vector[offset : offset + n].view_as(p)
        if p.grad is None:
            p.grad = part.clone()
        else:
            p.grad.copy_(part)
        offset += n


def project_gem(g: Tensor, memories: Tensor, margin: float = 0.5) -> Tensor:
    """The GEM projection of gradient ``g`` (``[P]``) against past-task gradients
    ``memories`` (``[t, P]``): ``g + memories' v`` with ``v >= margin`` minimising the
    dual. Solved in float64 as NNLS over ``t`` variables (exact also when two memories'
    gradients are parallel)."""
    from scipy.optimize import nnls  # only needed when a step violates

    G = memories.double()
    P = (G @ G.T).numpy()
    t = len(P)
    # v = u + margin, u >= 0: minimise 1/2 u'Pu + c'u with c = Gg + P margin. With
    # P = A'A (A = sqrt(lambda) U' over P's non-zero eigenvalues; c lies in P's range)
    # that is 1/2 ||A u - b||^2 + const with A'b = -c.
    c = (G @ g.double()).numpy() + P @ np.full(t, margin)
    lam, U = np.linalg.eigh(P)
    keep = lam > 1e-12 * max(float(lam.max()), 1e-300)
    root = np.sqrt(lam[keep])
    A = root[:, None] * U[:, keep].T
    b = -(U[:, keep].T @ c) / root
    u, _ = nnls(A, b)
    v = torch.from_numpy(u + margin)
    return (g.double() + G.T @ v).to(g.dtype)


class GEM(BufferAdapter):
    """Gradient Episodic Memory with an exact quadratic program per violating step.

    The buffer is filled from each task's rows when the task ends (any ``Buffer``; its
    rows remember the task that stored them). At every step the gradient of each past
    task's stored rows is computed (up to ``rows_per_task`` of them, all by default);
    when the step's gradient has a negative inner product with any of them the gradient
    is projected (see :func:`project_gem`). ``margin`` is the paper's memory strength.
    Tasks are told apart by the order they were learned in, so a domain- or
    class-incremental run (task ``None`` throughout) still keeps one constraint per task.
    """

    name = "gem"

    def __init__(
        self, buffer: Buffer, margin: float = 0.5, rows_per_task: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(buffer)
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.margin = margin
        self.rows_per_task = rows_per_task
        self.generator = torch.Generator().manual_seed(seed)
        self.steps = 0
        self.projections = 0
        self._groups: list[tuple[Hashable, Inputs, Tensor]] | None = None

    def _memory_groups(self) -> list[tuple[Hashable, Inputs, Tensor]]:
        """Stored rows grouped by the task that stored them: (task key, x, y)."""
        if self._groups is None:
            x, y, tags = self.buffer.contents()
            rows: dict[Hashable, list[int]] = {}
            for i, tag in enumerate(tags):
                rows.setdefault(hashable_key(tag), []).append(i)
            self._groups = [
                (tag[1], take(x, torch.tensor(idx)), y[torch.tensor(idx)])
                for tag, idx in sorted(rows.items(), key=lambda kv: kv[0][0])
            ]
        return self._groups

    def _task_gradient(self, trainer: ContinualTrainer, params: list[Tensor], task: Hashable,
                       x: Inputs, y: Tensor) -> Tensor:
        if self.rows_per_task is not None and len(y) > self.rows_per_task:
            idx = torch.randperm(len(y), generator=self.generator)[: self.rows_per_task]
            x, y = take(x, idx), y[idx]
        return loss_gradient(trainer.loss_fn(trainer.forward(x, task), y), params)

    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if not len(self.buffer):
            return
        self.steps += 1
        params = [p for p in trainer.parameters() if p.grad is not None]
        g = flat_grad(params)
        memories = torch.stack([
            self._task_gradient(trainer, params, task, x, y)
            for task, x, y in self._memory_groups()
        ])
        if bool(((memories @ g) < 0).any()):
            with torch.no_grad():
                write_flat_grad(params, project_gem(g, memories, self.margin))
            self.projections += 1

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        # rows are tagged (task index, task key): the index keeps tasks apart when the
        # key is None (one shared head), the key picks the head of a task-aware model
        self.buffer.add_task(trainer, x, y, (trainer.task_index, task))
        self._groups = None

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "steps": self.steps, "projections": self.projections,
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.steps = int(state.get("steps", 0))
        self.projections = int(state.get("projections", 0))
        if "generator" in state:
            self.generator.set_state(state["generator"])
        self._groups = None
