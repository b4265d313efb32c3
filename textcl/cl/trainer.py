"""``ContinualTrainer``: trains any torch classifier task after task with adapters."""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn

from textcl.cl.adapter import Adapter, StepBatch
from textcl.cl.regime import TrainConfig
from textcl.cl.rows import Inputs, n_rows, take, to_device
from textcl.cl.stream_task import StreamMixin, StreamTask


@dataclass
class FitReport:
    """What one ``fit_task`` call did."""

    task: Hashable | None
    examples: int
    steps: int
    seconds: float
    mean_loss: float
    final_loss: float
    classes: int | None
    held_out: int = 0
    losses: list[float] = field(default_factory=list, repr=False)


def _head(model: nn.Module) -> nn.Module:
    return getattr(model, "head", model)


class ContinualTrainer(StreamMixin):
    """Train ``model`` on a sequence of tasks (or stream windows) with ``adapters``.

    The model maps inputs (a feature tensor, or a dict of tensors for a transformer) to
    logits. When the model (or its ``.head``) has ``add_task`` it is task-incremental and
    is called as ``model(x, task=...)``; when it has ``grow`` it is class-incremental and
    grows to cover the largest label index seen. Labels are class indices (``LongTensor``)
    or, with ``multi_label=True``, multi-hot float rows.
    """

    def __init__(
        self,
        model: nn.Module,
        adapters: Sequence[Adapter] = (),
        config: TrainConfig | None = None,
        device: str | torch.device = "cpu",
        **overrides: Any,
    ) -> None:
        self.model = model.to(device)
        self.adapters = list(adapters)
        self.config = replace(config or TrainConfig(), **overrides)
        self.device = torch.device(device)
        self.task_index = 0
        self.epoch = 0
        self.task: Hashable | None = None
        self.seen_tasks: list[Hashable | None] = []
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.optimizer: torch.optim.Optimizer | None = None
        self._stream: StreamTask | None = None  # the open stream task, see StreamMixin
        self._opt_version: tuple[int, int] | None = None
        self._mode_cache: tuple[tuple[int, int], bool] | None = None  # (version, matters)

    # -- model calls ----------------------------------------------------------------
    @property
    def task_aware(self) -> bool:
        """True when the model has one head per task."""
        return hasattr(_head(self.model), "add_task")

    def forward(self, x: Inputs, task: Hashable | None = None) -> Tensor:
        """Logits of ``x`` (for ``task`` when the model is task-aware)."""
        if self.task_aware:
            return self.model(x, task=task)
        return self.model(x)

    def loss_fn(self, logits: Tensor, y: Tensor) -> Tensor:
        """Cross-entropy (or binary cross-entropy for multi-label targets), mean over rows."""
        if self.config.multi_label:
            width = logits.shape[1]
            y = nn.functional.pad(y, (0, width - y.shape[1])) if y.shape[1] < width else y
            return nn.functional.binary_cross_entropy_with_logits(logits, y.float())
        return nn.functional.cross_entropy(logits, y)

    def batch_loss(self, batch: StepBatch) -> tuple[Tensor, Tensor | None]:
        """Loss of a step's batch, and its logits when all rows share one head."""
        rows = batch.task_of_rows()
        if not self.task_aware or len(set(rows)) == 1:
            logits = self.forward(batch.x, rows[0] if rows else batch.task)
            return self.loss_fn(logits, batch.y), logits
        total = torch.zeros((), device=self.device)
        for task in dict.fromkeys(rows):
            idx = torch.tensor([i for i, t in enumerate(rows) if t == task])
            logits = self.forward(take(batch.x, idx), task)
            total = total + self.loss_fn(logits, batch.y[idx]) * len(idx)
        return total / len(rows), None

    def parameters(self) -> list[nn.Parameter]:
        """Trainable parameters."""
        return [p for p in self.model.parameters() if p.requires_grad]

    # -- training -------------------------------------------------------------------
    def _grow_heads(self, y: Tensor, task: Hashable | None, n_classes: int | None) -> None:
        head = _head(self.model)
        needed = n_classes or (
            y.shape[1] if self.config.multi_label else int(y.max().item()) + 1
        )
        if self.task_aware:
            if task not in head.tasks:
                head.add_task(task, needed)
        elif hasattr(head, "grow") and needed > head.n_classes:
            head.grow(needed - head.n_classes)  # new units from torch's global generator
        self.model.to(self.device)

    def _model_version(self) -> tuple[int, int]:
        return (getattr(_head(self.model), "version", 0), getattr(self.model, "version", 0))

    def mode_matters(self) -> bool:
        """Whether train/eval mode changes what the model computes (dropout, batch norm,
        anything unknown); ``False`` for models built only of mode-free layers, whose
        mode the stream trainer then leaves alone (a walk over every module per step)."""
        version = self._model_version()
        if self._mode_cache is None or self._mode_cache[0] != version:
            matters = not all(_mode_free(m) for m in self.model.modules())
            self._mode_cache = (version, matters)
        return self._mode_cache[1]

    def _optimizer(self, lr: float, fresh: bool | None = None) -> torch.optim.Optimizer:
        """The optimizer at learning rate ``lr``: a new one when ``fresh`` (default:
        ``reset_optimizer``) or when the parameter set changed."""
        version = self._model_version()
        fresh = self.config.reset_optimizer if fresh is None else fresh
        if self.optimizer is None or fresh or version != self._opt_version:
            self.optimizer = self.config.build_optimizer(self.parameters(), lr)
            self._opt_version = version
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        return self.optimizer

    def fit_task(
        self, x: Inputs, y: Tensor, task: Hashable | None = None, n_classes: int | None = None
    ) -> FitReport:
        """Train on one task's (or window's) examples; adapters run around it."""
        started = time.perf_counter()
        cfg = self.config
        x, y = to_device(x, self.device), y.to(self.device)
        if n_rows(x) != len(y):
            raise ValueError(f"{n_rows(x)} inputs but {len(y)} labels")
        if len(y) == 0:
            raise ValueError(f"task {task!r} has no examples")
        self.task = task
        for adapter in self.adapters:
            adapter.before_task(self, x, y, task)
        self._grow_heads(y, task, n_classes)
        n_before = len(y)
        for adapter in self.adapters:
            x, y = adapter.prepare(self, x, y, task)
        base_lr = cfg.task_lr(self.task_index)
        optimizer = self._optimizer(base_lr)
        steps_per_epoch = (len(y) + cfg.batch_size - 1) // cfg.batch_size
        total = steps_per_epoch * cfg.epochs
        losses: list[float] = []
        self.model.train()
        step = 0
        for epoch in range(cfg.epochs):
            self.epoch = epoch
            order = torch.randperm(len(y), generator=self.generator).to(self.device)
            for start in range(0, len(y), cfg.batch_size):
                idx = order[start : start + cfg.batch_size]
                batch = StepBatch(take(x, idx), y[idx], task, n_new=len(idx))
                for group in optimizer.param_groups:
                    group["lr"] = base_lr * cfg.lr_factor(step, total) * group.get(
                        "lr_scale", 1.0)
                losses.append(self.train_step(batch, optimizer))
                step += 1
        self.model.eval()
        for adapter in self.adapters:
            adapter.after_task(self, x, y, task)
        self.seen_tasks.append(task)
        self.task_index += 1
        head = _head(self.model)
        return FitReport(
            task=task,
            examples=len(y),
            steps=step,
            seconds=time.perf_counter() - started,
            mean_loss=sum(losses) / len(losses),
            final_loss=losses[-1],
            classes=getattr(head, "n_classes", None),
            held_out=n_before - len(y),
            losses=losses,
        )

    def fit_window(self, x: Inputs, y: Tensor) -> FitReport:
        """Domain-incremental use: one stream window is one task with a shared head."""
        return self.fit_task(x, y, task=None)

    def augment(self, batch: StepBatch) -> StepBatch:
        """The step's batch after every adapter added its rows (replay)."""
        for adapter in self.adapters:
            batch = adapter.augment(self, batch)
        return batch

    def objective(self, batch: StepBatch) -> tuple[Tensor, Tensor]:
        """The task loss, and the loss plus every adapter's penalty (what is minimised)."""
        loss, logits = self.batch_loss(batch)
        total = loss
        for adapter in self.adapters:
            extra = adapter.penalty(self, batch, logits)
            if extra is not None:
                total = total + extra
        return loss, total

    def train_step(self, batch: StepBatch, optimizer: torch.optim.Optimizer) -> float:
        """One optimizer step with every adapter's hooks; returns the task loss."""
        batch = self.augment(batch)
        for group in optimizer.param_groups:  # zero_grad(set_to_none=True), minus its
            for p in group["params"]:  # dispatch overhead (~60 us a step on a small model)
                p.grad = None
        loss, total = self.objective(batch)
        total.backward()
        for adapter in self.adapters:
            adapter.after_backward(self, batch)
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.parameters(), self.config.grad_clip)
        for adapter in self.adapters:
            adapter.before_step(self, batch)
        optimizer.step()
        for adapter in self.adapters:
            adapter.after_step(self, batch)
        return float(loss.detach())

    # -- prediction -----------------------------------------------------------------
    @torch.no_grad()
    def scores(self, x: Inputs, task: Hashable | None = None, batch_size: int = 1024) -> Tensor:
        """Class scores for ``x``: an adapter's (e.g. nearest-mean) or the model's logits."""
        if self.model.training:  # (a walk over every module: only when needed)
            self.model.eval()
        x = to_device(x, self.device)
        out = []
        for start in range(0, n_rows(x), batch_size):
            part = take(x, torch.arange(start, min(start + batch_size, n_rows(x))))
            scored = None
            for adapter in self.adapters:
                scored = adapter.scores(self, part, task)
                if scored is not None:
                    break
            out.append(scored if scored is not None else self.forward(part, task))
        return torch.cat(out)

    def predict(self, x: Inputs, task: Hashable | None = None) -> Tensor:
        """Class indices (or multi-hot rows for multi-label models)."""
        scores = self.scores(x, task)
        if self.config.multi_label:
            return (scores > 0).long()
        return scores.argmax(dim=1)

    def evaluate(self, x: Inputs, y: Tensor, task: Hashable | None = None) -> float:
        """Accuracy on ``(x, y)``; for multi-label targets, the micro-averaged F1."""
        pred = self.predict(x, task).cpu()
        y = y.cpu()
        if self.config.multi_label:
            width = max(pred.shape[1], y.shape[1])
            pred = nn.functional.pad(pred, (0, width - pred.shape[1]))
            y = nn.functional.pad(y.long(), (0, width - y.shape[1]))
            tp = int((pred * y).sum())
            denom = int(pred.sum() + y.sum())
            return 2 * tp / denom if denom else 1.0
        return float((pred == y).float().mean())

    def memory_size(self) -> int:
        """Examples stored by all adapters."""
        return sum(a.memory_size() for a in self.adapters)

    # -- state ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Model weights, adapter states, progress, the optimizer's state (when it fits
        the current parameters) and an open stream task (tensors and plain values only)."""
        state: dict[str, Any] = {
            "model": self.model.state_dict(),
            "adapters": [a.state_dict() for a in self.adapters],
            "task_index": self.task_index,
            "seen_tasks": list(self.seen_tasks),
            "generator": self.generator.get_state(),  # the batch order goes on as it would
        }
        if self.optimizer is not None and self._opt_version == self._model_version():
            saved = self.optimizer.state_dict()
            state["optimizer"] = {
                "state": {str(k): v for k, v in saved["state"].items()},
                "param_groups": saved["param_groups"],
            }
        if self._stream is not None:
            state["stream"] = self._stream.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (heads must already have the saved size)."""
        self.model.load_state_dict(state["model"])
        for adapter, sub in zip(self.adapters, state["adapters"], strict=True):
            adapter.load_state_dict(sub)
        self.task_index = int(state["task_index"])
        self.seen_tasks = list(state.get("seen_tasks", self.seen_tasks))
        if "generator" in state:
            self.generator.set_state(state["generator"])
        self.optimizer, self._opt_version = None, None
        if "optimizer" in state:
            saved = state["optimizer"]
            optimizer = self._optimizer(self.config.lr, fresh=True)
            optimizer.load_state_dict({
                "state": {int(k): v for k, v in saved["state"].items()},
                "param_groups": saved["param_groups"],
            })
        self._stream = None
        if state.get("stream") is not None:
            self._stream = StreamTask.from_state(state["stream"], self.config.stream_task_memory)
            self.task = self._stream.task


MODE_FREE = (nn.Linear, nn.Embedding, nn.EmbeddingBag, nn.Sequential, nn.ModuleList,
             nn.ModuleDict, nn.ParameterList, nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid,
             nn.Identity, nn.LayerNorm, nn.Flatten)


def _mode_free(module: nn.Module) -> bool:
    """A layer whose own output does not depend on train/eval mode: torch's plain layers,
    or a textcl head or isolation model (none reads ``self.training``; its dropout layers,
    when it has some, are modules of their own and count as mode-dependent)."""
    return isinstance(module, MODE_FREE) or type(module).__module__.startswith(
        ("textcl.heads.", "textcl.cl.isolation."))
