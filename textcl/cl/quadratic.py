"""Quadratic consolidation: EWC, MAS and SI pull important weights back to old values.

All three add ``lam/2 * sum_t Omega_t * (theta - theta_t)**2`` to the loss and differ only
in how the importance ``Omega_t`` is measured. The penalty is kept in expanded form,
``A theta^2 - 2 B theta + C`` with ``A = sum Omega_t`` and ``B = sum Omega_t theta_t``, so any
number of past tasks costs one fused multiply-add per parameter per step: its gradient
``lam (A theta - B)`` is added to ``.grad`` after backward, with no extra autograd graph.
Parameters that grew (new classes, new units) get zero importance in their new slots.

``step="proximal"`` applies the penalty as a proximal step after the optimizer's instead:
``theta <- (theta + c B) / (1 + c A)`` with ``c = lr * lam``, the exact minimiser of
``penalty + |theta - theta'|^2 / (2 lr)``. An explicit gradient step on the penalty
diverges once ``lr * lam * A > 2`` (importance summed over hundreds of windows, at a high
learning rate); the proximal step never does. It is exact forward-backward splitting for
SGD; with an adaptive optimizer it is a pull of the same strength per step.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.importance import per_example_gradient_stat
from textcl.cl.rows import Inputs, pad_to

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class QuadraticConsolidation(Adapter):
    """Shared machinery of EWC, MAS and SI; subclasses implement :meth:`importance`.

    ``mode="separate"`` keeps one penalty per past task (summed exactly, in expanded form);
    ``mode="online"`` keeps one running importance ``A <- gamma * A + Omega`` anchored at the
    latest weights (online EWC, Schwarz et al. 2018).
    """

    name = "quadratic"

    def __init__(
        self, lam: float, mode: Literal["separate", "online"] = "separate", gamma: float = 1.0,
        step: Literal["gradient", "proximal"] = "gradient",
    ) -> None:
        if lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        if mode not in ("separate", "online"):
            raise ValueError(f"mode {mode!r}: use 'separate' or 'online'")
        if step not in ("gradient", "proximal"):
            raise ValueError(f"step {step!r}: use 'gradient' or 'proximal'")
        self.lam = lam
        self.mode = mode
        self.gamma = gamma
        self.step = step
        # the proximal step's factors 1 / (1 + c A) and c B / (1 + c A), and the rates they
        # were computed for
        self._prox: tuple[tuple[float, ...], list[Tensor], list[Tensor]] | None = None
        self.A: dict[str, Tensor] = {}
        self.B: dict[str, Tensor] = {}
        self.C: dict[str, Tensor] = {}
        self._plan: tuple[list[Tensor], list[Tensor], list[Tensor]] | None = None

    def importance(
        self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Hashable | None
    ) -> dict[str, Tensor]:
        """Per-parameter importance of the task just learned."""
        raise NotImplementedError

    def consolidate(self, model: nn.Module, omega: dict[str, Tensor]) -> None:
        """Fold a task's importance and the current weights into the penalty."""
        params = dict(model.named_parameters())
        for name, imp in omega.items():
            theta = params[name].detach()
            a, b, c = (self._slot(store, name, theta) for store in (self.A, self.B, self.C))
            if self.mode == "online":
                a = self.gamma * a + imp
                b, c = a * theta, a * theta * theta
            else:
                a, b, c = a + imp, b + imp * theta, c + imp * theta * theta
            self.A[name], self.B[name], self.C[name] = a, b, c
        self._plan = self._prox = None

    def _slot(self, store: dict[str, Tensor], name: str, theta: Tensor) -> Tensor:
        old = store.get(name)
        if old is None:
            return torch.zeros_like(theta)
        if old.shape != theta.shape:
            old = pad_to(old, theta.shape)
            store[name] = old
        return old

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        self.consolidate(trainer.model, self.importance(trainer, x, y, task))

    def before_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        self._plan = self._prox = None

    def _penalty_plan(self, model: nn.Module) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
        """Parameters with an importance and their A, B tensors, padded to the current
        shapes; built once per task (heads grow between tasks, not during one)."""
        params, a_list, b_list = [], [], []
        for name, p in model.named_parameters():
            if name not in self.A:
                continue
            params.append(p)
            a_list.append(self._slot(self.A, name, p))
            b_list.append(self._slot(self.B, name, p))
            self._slot(self.C, name, p)
        return params, a_list, b_list

    def _current_plan(self, model: nn.Module) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
        plan = self._plan
        if plan is None or any(p.shape != a.shape for p, a in zip(plan[0], plan[1], strict=True)):
            plan = self._plan = self._penalty_plan(model)
            self._prox = None
        return plan

    @torch.no_grad()
    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if not self.A or self.lam == 0 or self.step == "proximal":
            return
        params, a_list, b_list = self._current_plan(trainer.model)
        if any(p.grad is None for p in params):
            keep = [i for i, p in enumerate(params) if p.grad is not None]
            params = [params[i] for i in keep]
            a_list, b_list = [a_list[i] for i in keep], [b_list[i] for i in keep]
        grads = [p.grad for p in params]
        # grad += lam * (A * theta - B), two fused calls over all parameters
        torch._foreach_addcmul_(grads, a_list, params, value=self.lam)
        torch._foreach_add_(grads, b_list, alpha=-self.lam)

    @torch.no_grad()
    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if self.step == "proximal" and self.A and self.lam != 0:
            self._proximal_step(trainer)

    def _proximal_step(self, trainer: ContinualTrainer) -> None:
        """``theta <- theta / (1 + c A) + c B / (1 + c A)``, ``c = lr * lam`` per parameter
        (its optimizer group's rate): two fused calls over all parameters."""
        if trainer.optimizer is None:
            raise ValueError(f"{self.name} with step='proximal' needs the trainer's optimizer "
                             "(its learning rates); use step='gradient' here")
        params, a_list, b_list = self._current_plan(trainer.model)
        group_lr = {id(p): float(g["lr"]) for g in trainer.optimizer.param_groups
                    for p in g["params"]}
        rates = tuple(group_lr.get(id(p), 0.0) for p in params)
        if self._prox is None or self._prox[0] != rates:
            scale, shift = [], []
            for rate, a, b in zip(rates, a_list, b_list, strict=True):
                c = rate * self.lam
                scale.append(1.0 / (1.0 + c * a))
                shift.append(c * b * scale[-1])
            self._prox = (rates, scale, shift)
        _, scale, shift = self._prox
        torch._foreach_mul_(params, scale)
        torch._foreach_add_(params, shift)

    @torch.no_grad()
    def penalty_value(self, model: nn.Module) -> float:
        """The penalty ``lam/2 * sum(A theta^2 - 2 B theta + C)`` at the current weights."""
        total = 0.0
        for name, p in model.named_parameters():
            if name not in self.A:
                continue
            a, b, c = (pad_to(s[name], p.shape) for s in (self.A, self.B, self.C))
            total += float((a * p * p - 2 * b * p + c).sum())
        return 0.5 * self.lam * total

    def state_dict(self) -> dict[str, Any]:
        return {"A": dict(self.A), "B": dict(self.B), "C": dict(self.C)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.A, self.B, self.C = dict(state["A"]), dict(state["B"]), dict(state["C"])


class EWC(QuadraticConsolidation):
    """Elastic Weight Consolidation (Kirkpatrick et al. 2017).

    Importance is the diagonal empirical Fisher: the mean squared per-example gradient of
    the loss at the true labels, over up to ``fisher_examples`` examples of the task.
    """

    name = "ewc"

    def __init__(
        self,
        lam: float = 100.0,
        mode: Literal["separate", "online"] = "separate",
        gamma: float = 1.0,
        fisher_examples: int = 512,
        step: Literal["gradient", "proximal"] = "gradient",
    ) -> None:
        super().__init__(lam, mode, gamma, step)
        self.fisher_examples = fisher_examples

    def importance(self, trainer, x, y, task) -> dict[str, Tensor]:
        return per_example_gradient_stat(
            trainer, x, y, task, trainer.loss_fn, "square", self.fisher_examples
        )


class MAS(QuadraticConsolidation):
    """Memory Aware Synapses (Aljundi et al. 2018).

    Importance is the mean absolute gradient of the squared L2 norm of the model's output,
    needing no labels; importances of all tasks are summed, anchored at the latest weights.
    """

    name = "mas"

    def __init__(self, lam: float = 1.0, examples: int = 1024,
                 step: Literal["gradient", "proximal"] = "gradient") -> None:
        super().__init__(lam, mode="online", gamma=1.0, step=step)
        self.examples = examples

    def importance(self, trainer, x, y, task) -> dict[str, Tensor]:
        def output_norm(logits: Tensor, _y: Tensor) -> Tensor:
            return logits.pow(2).sum()

        return per_example_gradient_stat(
            trainer, x, y, task, output_norm, "abs", self.examples
        )


class SI(QuadraticConsolidation):
    """Synaptic Intelligence (Zenke et al. 2017).

    Along the training path each weight accumulates ``w += -grad * delta`` (its share of
    the loss decrease; ``grad`` is the gradient the optimizer applied, penalty, clipping
    and projections included). At task end ``Omega = w / (Delta**2 + xi)`` with ``Delta``
    the weight's total change over the task. Importances add up across tasks.

    The path term is split around the optimizer step, ``w += grad * theta_old`` just
    before it and ``w -= grad * theta_new`` just after, so no copy of the weights is
    kept: two fused multiply-adds per step.
    """

    name = "si"
    uses_task_rows = False  # its importance is the path integral, not the task's rows

    def __init__(self, c: float = 1.0, xi: float = 0.1,
                 step: Literal["gradient", "proximal"] = "gradient") -> None:
        super().__init__(c, mode="online", gamma=1.0, step=step)
        self.xi = xi
        self._w: dict[str, Tensor] = {}
        self._start: dict[str, Tensor] = {}
        self._clear_step_lists()

    def _clear_step_lists(self) -> None:
        self._params: list[Tensor] = []
        self._w_list: list[Tensor] = []
        # this step's (w, grad, param) triples, between before_step and after_step
        self._step: tuple[list[Tensor], list[Tensor], list[Tensor]] | None = None

    def before_task(self, trainer, x, y, task) -> None:
        super().before_task(trainer, x, y, task)
        self._w, self._start = {}, {}
        self._clear_step_lists()

    def _track(self, trainer: ContinualTrainer) -> None:
        """Start (or, after a restore, resume) the path integral of the trainable weights."""
        named = [(n, p) for n, p in trainer.model.named_parameters() if p.requires_grad]
        for name, p in named:
            if name not in self._start:  # a restored task goes on along its path
                self._start[name] = p.detach().clone()
                self._w[name] = torch.zeros_like(p)
        self._params = [p for _, p in named]
        self._w_list = [self._w[n] for n, _ in named]

    @torch.no_grad()
    def before_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if not self._params:  # first step of the task: the weights before any update
            self._track(trainer)
        params, w_list = self._params, self._w_list
        grads = [p.grad for p in params]
        if any(g is None for g in grads):  # a weight without a gradient does not move
            keep = [i for i, g in enumerate(grads) if g is not None]
            params, w_list = [params[i] for i in keep], [w_list[i] for i in keep]
            grads = [grads[i] for i in keep]
        torch._foreach_addcmul_(w_list, grads, params)  # w += grad * theta_old
        self._step = (w_list, grads, params)

    @torch.no_grad()
    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if self._step is not None:
            w_list, grads, params = self._step
            self._step = None
            torch._foreach_addcmul_(w_list, grads, params, value=-1.0)  # w -= grad * theta_new
        super().after_step(trainer, batch)  # a proximal penalty moves after the path's step

    def state_dict(self) -> dict[str, Any]:
        """The consolidated importances and the open task's path integral so far."""
        return {**super().state_dict(), "w": dict(self._w), "start": dict(self._start)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._w = {k: v.clone() for k, v in state.get("w", {}).items()}
        self._start = {k: v.clone() for k, v in state.get("start", {}).items()}
        self._clear_step_lists()

    def importance(self, trainer, x, y, task) -> dict[str, Tensor]:
        omega = {}
        for name, p in trainer.model.named_parameters():
            if name not in self._w:
                continue
            delta = p.detach() - pad_to(self._start[name], p.shape)
            omega[name] = (self._w[name] / (delta.pow(2) + self.xi)).clamp(min=0)
        return omega
