"""Variational Continual Learning (Nguyen et al. 2018) for :class:`BayesianMLP` models.

Each task maximises its ELBO: the task loss plus ``kl_weight * KL(q_t || q_{t-1}) / N_t``,
where ``q`` is the mean-field Gaussian over the model's Bayesian weights, ``q_{t-1}`` the
posterior snapshot taken when the previous task ended (the first prior is
``N(0, prior_var)``, and so is the prior of any unit added since, e.g. new classes) and
``N_t`` the task's rows (in stream use: the rows the open task learned so far, counting the
step's own). The KL term's gradient is closed-form and added after backward (as the
quadratic penalties do), which spares an autograd graph over every weight; :meth:`VCL.kl`
gives its value. Deterministic parameters (a non-Bayesian head) are trained as usual; on a
model without Bayesian layers only the coreset acts.

``kl_weight=1`` is the exact ELBO. The default 0.03 tempers the posterior (the KL
reweighting of generalised VCL): with a few hundred steps per task the log-variances move
little from their initial value, so the exact KL acts as a strong uniform pull on every
weight and later tasks underfit.

A coreset of ``coreset_size`` rows per task (random or k-center) is kept, and counted as
memory. ``coreset_use="replay"`` (the default) adds coreset rows of earlier tasks to every
training step, so they enter the likelihood term; it works the same whether tasks are
fitted whole or learned chunk by chunk from a stream, where predictions are made in the
middle of an open task and there is no "before prediction" moment. ``"finetune"`` is the
paper's scheme: when a task ends, the posterior is snapshotted (the next prior, and the
weights the next task starts from) and then fine-tuned on the whole coreset for
prediction; the next task's ``before_task`` puts the snapshot back. The coreset rows are
also in the task's own training data (no split), a small double count.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.bayes import gaussian_kl, gaussian_parameters
from textcl.cl.coreset import Coreset, CoresetMethod
from textcl.cl.replay import mix
from textcl.cl.rows import Inputs, n_rows, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer

CoresetUse = Literal["replay", "finetune"]
Plan = tuple[Tensor, Tensor, Tensor, Tensor, Tensor]  # mean, log-var, prior mean, log-var, 1/var


def pad_with(t: Tensor, shape: torch.Size, value: float) -> Tensor:
    """``t`` in the leading corner of a ``shape`` tensor filled with ``value``."""
    if t.shape == shape:
        return t
    out = torch.full(shape, value, dtype=t.dtype, device=t.device)
    out[tuple(slice(0, n) for n in t.shape)] = t
    return out


class VCL(Adapter):
    """Variational Continual Learning: a KL pull to the last posterior, plus a coreset.

    ``kl_weight=1`` is the exact ELBO; smaller values temper the posterior (learn new
    tasks more freely). ``replay_batch`` coreset rows join each step in replay mode
    (``None``: as many as the step's new rows). ``finetune_epochs`` passes of batch
    ``finetune_batch`` at ``finetune_lr`` (default: the trainer's lr) in fine-tune mode.
    """

    name = "vcl"
    uses_task_rows = True  # the coreset is chosen from the task's rows

    def __init__(
        self,
        prior_var: float = 1.0,
        kl_weight: float = 0.03,
        coreset_size: int = 20,
        coreset_method: CoresetMethod = "random",
        coreset_use: CoresetUse = "replay",
        replay_batch: int | None = None,
        finetune_epochs: int = 10,
        finetune_batch: int = 32,
        finetune_lr: float | None = None,
        seed: int = 0,
    ) -> None:
        if prior_var <= 0:
            raise ValueError(f"prior_var must be positive, got {prior_var}")
        if kl_weight < 0:
            raise ValueError(f"kl_weight must be >= 0, got {kl_weight}")
        if coreset_use not in ("replay", "finetune"):
            raise ValueError(f"coreset_use {coreset_use!r}: use 'replay' or 'finetune'")
        self.prior_logvar0 = math.log(prior_var)
        self.kl_weight = kl_weight
        self.coreset = Coreset(coreset_size, coreset_method, seed)
        self.coreset_use = coreset_use
        self.replay_batch = replay_batch
        self.finetune_epochs = finetune_epochs
        self.finetune_batch = finetune_batch
        self.finetune_lr = finetune_lr
        self.prior_mu: dict[str, Tensor] = {}
        self.prior_logvar: dict[str, Tensor] = {}
        self.task_rows = 0  # N_t of a task fitted whole
        self.stream_rows = 0  # rows an open stream task learned so far
        self.propagated: dict[str, Tensor] | None = None  # fine-tune mode: q~_t
        self._plan: list[Plan] | None = None

    # -- the KL term ----------------------------------------------------------------
    def prior(self, name: str, mu: Tensor) -> tuple[Tensor, Tensor]:
        """The prior mean and log-variance of Gaussian parameter ``name``, padded with the
        initial prior where the parameter grew since the snapshot."""
        pm, plv = self.prior_mu.get(name), self.prior_logvar.get(name)
        if pm is None or plv is None:
            return torch.zeros_like(mu), torch.full_like(mu, self.prior_logvar0)
        if pm.device != mu.device:  # restored on another device
            pm, plv = pm.to(mu.device), plv.to(mu.device)
            self.prior_mu[name], self.prior_logvar[name] = pm, plv
        if pm.shape != mu.shape:
            pm, plv = pad_with(pm, mu.shape, 0.0), pad_with(plv, mu.shape, self.prior_logvar0)
            self.prior_mu[name], self.prior_logvar[name] = pm, plv
        return pm, plv

    def _kl_plan(self, model: nn.Module) -> list[Plan]:
        """Every Gaussian parameter with its prior (mean, log-variance, 1/variance); built
        once per task (heads grow between tasks, not during one)."""
        plan = self._plan
        if plan is None or any(mu.shape != pm.shape for mu, _, pm, _, _ in plan):
            plan = []
            for name, mu, lv in gaussian_parameters(model):
                pm, plv = self.prior(name, mu)
                plan.append((mu, lv, pm, plv, (-plv).exp()))
            self._plan = plan
        return plan

    def kl(self, model: nn.Module) -> Tensor:
        """``KL(q || prior)`` summed over every Bayesian parameter of ``model`` (differentiable)."""
        plan = self._kl_plan(model)
        if not plan:
            return torch.zeros(())
        return sum((gaussian_kl(mu, lv, pm, plv) for mu, lv, pm, plv, _ in plan),
                   torch.zeros((), device=plan[0][0].device))

    def kl_scale(self, batch: StepBatch) -> float:
        """The KL term's weight in this step's loss: ``kl_weight / N_t``."""
        rows = self.task_rows or (self.stream_rows + batch.n_new)
        return self.kl_weight / max(rows, 1)

    @torch.no_grad()
    def after_backward(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        """Add the gradient of ``kl_scale * KL(q || prior)`` in closed form (no autograd
        graph): ``(mu - prior_mu) / prior_var`` for the means and
        ``(var / prior_var - 1) / 2`` for the log-variances."""
        if self.kl_weight == 0:
            return
        plan = [e for e in self._kl_plan(trainer.model) if e[0].requires_grad]
        if not plan:
            return
        w = self.kl_scale(batch)
        mus, lvs, pms, plvs, inv = (list(t) for t in zip(*plan, strict=True))
        for p in mus + lvs:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        shift = torch._foreach_sub(mus, pms)
        torch._foreach_mul_(shift, inv)
        torch._foreach_add_([p.grad for p in mus], shift, alpha=w)
        ratio = torch._foreach_sub(lvs, plvs)
        torch._foreach_exp_(ratio)
        torch._foreach_add_(ratio, -1.0)
        torch._foreach_add_([p.grad for p in lvs], ratio, alpha=0.5 * w)

    # -- task boundaries ------------------------------------------------------------
    def before_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        if self.propagated is not None:  # fine-tune mode: go on from q~_{t-1}
            trainer.model.load_state_dict(self.propagated)
            self.propagated = None
        self.task_rows = n_rows(x) if x is not None else 0
        self.stream_rows = 0
        self._plan = None

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        if self.coreset_use != "replay" or not len(self.coreset):
            return batch
        x, y, tasks = self.coreset.sample(self.replay_batch or batch.n_new)
        return mix(batch, x, y, tasks)

    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if not self.task_rows and trainer.epoch == 0:  # a stream task: count its rows once
            self.stream_rows += batch.n_new

    @torch.no_grad()
    def snapshot(self, model: nn.Module) -> None:
        """Take the current posterior as the prior of the next task."""
        self.prior_mu, self.prior_logvar = {}, {}
        for name, mu, lv in gaussian_parameters(model):
            self.prior_mu[name] = mu.detach().clone()
            self.prior_logvar[name] = lv.detach().clone()
        self._plan = None

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        self.snapshot(trainer.model)
        if x is not None and y is not None:
            self.coreset.add(x, y, task)
        if self.coreset_use == "finetune" and len(self.coreset):
            self.propagated = {k: v.detach().clone()
                               for k, v in trainer.model.state_dict().items()}
            self.finetune(trainer)

    def finetune(self, trainer: ContinualTrainer) -> None:
        """Fine-tune the model on the whole coreset under ``KL(q || snapshot) / |coreset|``."""
        model = trainer.model
        x, y, tasks = self.coreset.contents()
        n = len(self.coreset)
        params = trainer.parameters()
        optimizer = torch.optim.Adam(params, lr=self.finetune_lr or trainer.config.lr)
        model.train()
        for _ in range(self.finetune_epochs):
            order = torch.randperm(n, generator=self.coreset.generator)
            for start in range(0, n, self.finetune_batch):
                idx = order[start : start + self.finetune_batch]
                rows: list[Hashable | None] = [tasks[i] for i in idx.tolist()]
                at = idx.to(y.device)
                batch = StepBatch(take(x, at), y[at], rows[0], rows, len(idx))
                loss, _ = trainer.batch_loss(batch)
                loss = loss + self.kl(model) * (self.kl_weight / n)
                for p in params:
                    p.grad = None
                loss.backward()
                optimizer.step()
        model.eval()

    # -- bookkeeping ----------------------------------------------------------------
    def memory_size(self) -> int:
        """Coreset rows."""
        return len(self.coreset)

    def state_dict(self) -> dict[str, Any]:
        return {
            "prior_mu": dict(self.prior_mu),
            "prior_logvar": dict(self.prior_logvar),
            "coreset": self.coreset.state_dict(),
            "task_rows": self.task_rows,
            "stream_rows": self.stream_rows,
            "propagated": dict(self.propagated) if self.propagated is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.prior_mu = {k: v.clone() for k, v in state["prior_mu"].items()}
        self.prior_logvar = {k: v.clone() for k, v in state["prior_logvar"].items()}
        self.coreset.load_state_dict(state["coreset"])
        self.task_rows = int(state["task_rows"])
        self.stream_rows = int(state["stream_rows"])
        saved = state.get("propagated")
        self.propagated = {k: v.clone() for k, v in saved.items()} if saved is not None else None
        self._plan = None
