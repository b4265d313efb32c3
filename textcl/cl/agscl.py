"""Adaptive Group Sparsity based Continual Learning (AGS-CL, Jung et al. 2020).

A group is a hidden unit's incoming weights and bias. After each task a unit's importance
is its mean absolute activation on the task's rows, divided by the layer's largest, added
to what earlier tasks gave it (``omega <- decay * omega + a / max(a)``); a unit is
important when ``omega > threshold``. While a task trains, after every optimizer step a
proximal (closed-form, group soft-threshold) step at the step's learning rate ``lr``
applies the two group-sparsity terms, each group weighted by ``sqrt(|g|)`` (the usual
group-lasso weight, ``|g|`` the group's size):

- ``mu * sum sqrt(|g|) ||w_g||`` over unimportant units:
  ``w_g <- w_g * max(0, 1 - lr * mu * sqrt(|g|) / ||w_g||)``, which zeroes the units a task
  does not need and frees them for later tasks (before the first task ends every unit is
  unimportant, so the first task is learned sparsely);
- ``lam * sum omega_g sqrt(|g|) ||w_g - w_g_old||`` over important units: the same
  shrinkage of the drift ``w_g - w_g_old``, so an important unit moves only when the loss
  pulls harder than its importance.

With Adam (the trainer's default) a step moves each weight by about ``lr``, so a group by
at most about ``lr * sqrt(|g|)``: ``mu`` and ``lam * omega`` are then fractions of a full
step, and from about 1 on a group cannot move at all (the useful range is below 1).

When a task ends, the units that are unimportant are re-initialised (fresh incoming weights)
and their outgoing weights into important units of the next hidden layer, and into every
row of the head, are set to zero, so re-initialising or later training them leaves the
old tasks' outputs unchanged (the paper's freezing of important units' inputs, in a simple
form). For a shared head (domain- or class-incremental), ``protect_head`` also applies the
drift term to the head's columns read from important units of the last hidden layer
(grouped per unit, over the rows the head had when the task ended); the columns of free
units stay unconstrained, so later tasks can read them (and, with one head shared by all
tasks, what freed units learn reaches the old tasks' outputs too: with a shared head a
small ``mu`` forgets less). Hidden layers are the ``nn.Linear`` layers of the model's
``body`` (``MLPClassifier``); the head may grow between tasks. A model without such a body
has no units to regularise, and the adapter then does nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.rows import Inputs, n_rows, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer

SKIP = (nn.Dropout, nn.Identity)


def hidden_layers(model: nn.Module) -> list[tuple[nn.Linear, nn.Module | None]]:
    """The body's ``nn.Linear`` layers in order, each with the module that follows it
    (its activation; ``None`` when there is none)."""
    body = getattr(model, "body", None)
    if not isinstance(body, nn.Sequential):
        return []
    mods = list(body)
    out: list[tuple[nn.Linear, nn.Module | None]] = []
    for i, m in enumerate(mods):
        if isinstance(m, nn.Linear):
            after = [n for n in mods[i + 1 :] if not isinstance(n, SKIP)]
            act = after[0] if after and not isinstance(after[0], nn.Linear) else None
            out.append((m, act))
    return out


def head_weights(model: nn.Module, width: int) -> dict[str, nn.Parameter]:
    """The head's 2-d weights that read the last hidden layer (``width`` columns)."""
    head = getattr(model, "head", None)
    if head is None:
        return {}
    return {name: p for name, p in head.named_parameters() if p.dim() == 2 and p.shape[1] == width}


@torch.no_grad()
def mean_activation(model: nn.Module, x: Tensor, chunk: int = 512) -> list[Tensor]:
    """Mean absolute activation of every hidden unit over the rows of ``x``, per layer."""
    body = model.body
    layers = hidden_layers(model)
    watch = {id(act if act is not None else lin): i for i, (lin, act) in enumerate(layers)}
    sums = [torch.zeros(lin.out_features, device=lin.weight.device) for lin, _ in layers]
    for start in range(0, len(x), chunk):
        h = x[start : start + chunk]
        for m in body:
            h = m(h)
            i = watch.get(id(m))
            if i is not None:
                sums[i] += h.abs().sum(0)
    return [s / max(len(x), 1) for s in sums]


def shrink(sq_norms: Tensor, threshold: Tensor) -> Tensor:
    """Group soft-threshold factors ``max(0, 1 - threshold / ||g||)`` from squared norms."""
    return (1.0 - threshold * sq_norms.clamp_min(1e-24).rsqrt()).clamp_min(0.0)


class AGSCL(Adapter):
    """AGS-CL: group lasso on unimportant units, group drift penalty on important ones.

    ``mu``: strength of the lasso; ``lam``: strength of the drift term (times each unit's
    importance); ``threshold``: the importance above which a unit counts as important;
    ``decay``: how much of the earlier tasks' importance is kept; ``reinit``: re-initialise
    the unimportant units when a task ends; ``examples``: rows used to measure activations.
    Stores no examples.
    """

    name = "agscl"
    uses_task_rows = True  # importance is measured on the task's rows

    def __init__(
        self,
        mu: float = 0.1,
        lam: float = 0.25,
        threshold: float = 0.1,
        decay: float = 0.5,
        reinit: bool = True,
        protect_head: bool = True,
        examples: int = 1024,
        seed: int = 0,
    ) -> None:
        if mu < 0 or lam < 0:
            raise ValueError(f"mu and lam must be >= 0, got {mu}, {lam}")
        self.mu = mu
        self.lam = lam
        self.threshold = threshold
        self.decay = decay
        self.reinit = reinit
        self.protect_head = protect_head
        self.examples = examples
        self.generator = torch.Generator().manual_seed(seed)
        self.omega: list[Tensor] = []  # importance per hidden layer, [units]
        self.anchor_w: list[Tensor] = []  # weights when the last task ended
        self.anchor_b: list[Tensor | None] = []
        self.head_anchor: dict[str, Tensor] = {}
        self._plan: list[tuple[Tensor, Tensor | None, Tensor, Tensor | None, Tensor]] | None = None
        self._head_plan: list[tuple[Tensor, Tensor, Tensor]] | None = None

    # -- importance -----------------------------------------------------------------
    def important(self) -> list[Tensor]:
        """Per hidden layer, which units are important (boolean masks)."""
        return [o > self.threshold for o in self.omega]

    def _layers(self, model: nn.Module) -> list[tuple[nn.Linear, nn.Module | None]]:
        layers = hidden_layers(model)
        if self.omega and len(self.omega) != len(layers):
            raise ValueError(f"the model has {len(layers)} hidden layers, the state "
                             f"{len(self.omega)}")
        if not self.omega:
            self.omega = [torch.zeros(lin.out_features) for lin, _ in layers]
        self.omega = [o.to(lin.weight.device) for o, (lin, _) in zip(self.omega, layers,
                                                                      strict=True)]
        return layers

    def _strength(self, layer: int, size: int) -> Tensor:
        """Per unit: ``lam * omega`` when important, ``mu`` when not, times
        ``sqrt(size)`` (the usual group-lasso weight of a group of ``size`` weights)."""
        omega = self.omega[layer]
        per_unit = torch.where(omega > self.threshold, self.lam * omega,
                               torch.full_like(omega, self.mu))
        return per_unit * math.sqrt(size)

    # -- the proximal step ----------------------------------------------------------
    def _build_plan(self, model: nn.Module) -> None:
        """Per hidden layer: weight, bias, their centres (old weights of important units,
        zero for the others) and strengths; per protected head weight: the anchored rows'
        centre and column strengths."""
        layers = self._layers(model)
        plan = []
        for i, (lin, _) in enumerate(layers):
            imp = (self.omega[i] > self.threshold).to(lin.weight.dtype)
            w_old = self.anchor_w[i] if self.anchor_w else torch.zeros_like(lin.weight)
            b_old = self.anchor_b[i] if self.anchor_b else None
            cw = w_old.to(lin.weight.device) * imp[:, None]
            cb = None
            if lin.bias is not None:
                base = b_old if b_old is not None else torch.zeros_like(lin.bias)
                cb = base.to(lin.bias.device) * imp
            size = lin.in_features + (lin.bias is not None)
            strength = self._strength(i, size).to(lin.weight.device)
            plan.append((lin.weight, lin.bias, cw, cb, strength))
        self._plan = plan
        head_plan = []
        if self.protect_head and layers and self.head_anchor:
            params = head_weights(model, layers[-1][0].out_features)
            imp = self.omega[-1] > self.threshold
            strength = torch.where(imp, self.lam * self.omega[-1], torch.zeros_like(imp,
                                                                                     dtype=torch.float))
            for name, old in self.head_anchor.items():
                if name in params and len(old):  # (an empty head has no rows to keep)
                    p = params[name]
                    scaled = strength * math.sqrt(len(old))
                    head_plan.append((p, old.to(p.device), scaled.to(p.device)))
        self._head_plan = head_plan

    @staticmethod
    def _lr(trainer: ContinualTrainer, param: Tensor) -> float:
        optimizer = trainer.optimizer
        if optimizer is not None:
            for group in optimizer.param_groups:
                if any(p is param for p in group["params"]):
                    return float(group["lr"])
        return trainer.config.lr

    @torch.no_grad()
    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if self._plan is None:
            self._build_plan(trainer.model)
        assert self._plan is not None and self._head_plan is not None
        for w, b, cw, cb, strength in self._plan:
            lr = self._lr(trainer, w)
            w.sub_(cw)  # in place: the drift from the centre, then shrunk and put back
            d2 = w.pow(2).sum(1)
            if b is not None and cb is not None:
                b.sub_(cb)
                d2 += b.pow(2)
            scale = shrink(d2, lr * strength)
            w.mul_(scale[:, None]).add_(cw)
            if b is not None and cb is not None:
                b.mul_(scale).add_(cb)
        for p, old, strength in self._head_plan:
            lr = self._lr(trainer, p)
            d = p[: old.shape[0]].sub_(old)  # the drift of the anchored rows
            d.mul_(shrink(d.pow(2).sum(0), lr * strength)).add_(old)

    @torch.no_grad()
    def penalty_value(self, model: nn.Module) -> float:
        """The current value of both group-sparsity terms (the head's drift included)."""
        self._build_plan(model)
        assert self._plan is not None and self._head_plan is not None
        total = 0.0
        for w, b, cw, cb, strength in self._plan:
            d2 = (w - cw).pow(2).sum(1)
            if b is not None and cb is not None:
                d2 = d2 + (b - cb).pow(2)
            total += float((strength * d2.sqrt()).sum())
        for p, old, strength in self._head_plan:
            d = p[: old.shape[0]] - old
            total += float((strength * d.pow(2).sum(0).sqrt()).sum())
        return total

    # -- task boundaries ------------------------------------------------------------
    def before_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        self._plan = self._head_plan = None  # the head may grow after this

    @torch.no_grad()
    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        model = trainer.model
        layers = self._layers(model)
        if not layers:
            return
        if x is not None and n_rows(x) and not isinstance(x, dict):
            if n_rows(x) > self.examples:
                idx = torch.randperm(n_rows(x), generator=self.generator)[: self.examples]
                x = take(x, idx.to(x.device))
            was_training = model.training
            model.eval()
            acts = mean_activation(model, x)
            model.train(was_training)
            for i, a in enumerate(acts):
                top = a.max()
                self.omega[i] = self.decay * self.omega[i] + (a / top if top > 0 else a)
        if self.reinit:
            self._reinit_free(model, layers)
        self.anchor_w = [lin.weight.detach().clone() for lin, _ in layers]
        self.anchor_b = [lin.bias.detach().clone() if lin.bias is not None else None
                         for lin, _ in layers]
        width = layers[-1][0].out_features
        self.head_anchor = {n: p.detach().clone() for n, p in head_weights(model, width).items()}
        self._plan = self._head_plan = None

    def _reinit_free(self, model: nn.Module, layers: list[tuple[nn.Linear, nn.Module | None]]
                     ) -> None:
        """Fresh incoming weights for unimportant units; their outgoing weights into the
        next layer's important units and into the head set to zero."""
        important = self.important()
        for i, (lin, _) in enumerate(layers):
            free = (~important[i]).nonzero().flatten().to(lin.weight.device)
            if not len(free):
                continue
            bound = 1.0 / math.sqrt(lin.in_features)
            fresh = torch.empty(len(free), lin.in_features).uniform_(-bound, bound,
                                                                      generator=self.generator)
            lin.weight[free] = fresh.to(lin.weight)
            if lin.bias is not None:
                bias = torch.empty(len(free)).uniform_(-bound, bound, generator=self.generator)
                lin.bias[free] = bias.to(lin.bias)
            if i + 1 < len(layers):
                nxt = layers[i + 1][0].weight
                rows = important[i + 1].nonzero().flatten().to(nxt.device)
                nxt[rows[:, None], free[None, :]] = 0.0
            else:
                for p in head_weights(model, lin.out_features).values():
                    p[:, free] = 0.0

    # -- bookkeeping ----------------------------------------------------------------
    def memory_size(self) -> int:
        """No stored examples."""
        return 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "omega": list(self.omega),
            "anchor_w": list(self.anchor_w),
            "anchor_b": list(self.anchor_b),
            "head_anchor": dict(self.head_anchor),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.omega = [t.clone() for t in state["omega"]]
        self.anchor_w = [t.clone() for t in state["anchor_w"]]
        self.anchor_b = [t.clone() if t is not None else None for t in state["anchor_b"]]
        self.head_anchor = {k: v.clone() for k, v in state["head_anchor"].items()}
        self.generator.set_state(state["generator"])
        self._plan = self._head_plan = None
