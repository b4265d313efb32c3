"""Replay adapters: rehearse stored examples, or generated features of old classes."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor

from textcl.cl.adapter import Adapter, StepBatch, hashable_key
from textcl.cl.buffers import Buffer
from textcl.cl.rows import Inputs, concat, concat_targets

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


def mix(batch: StepBatch, x: Inputs, y: Tensor, tasks: list[Hashable | None]) -> StepBatch:
    """``batch`` with extra rows appended (their tasks kept per row)."""
    return StepBatch(
        concat([batch.x, x]),
        concat_targets([batch.y, y]),
        batch.task,
        batch.task_of_rows() + list(tasks),
        batch.n_new,
    )


class BufferAdapter(Adapter):
    """An adapter that owns a replay buffer (its memory and state are the buffer's)."""

    def __init__(self, buffer: Buffer) -> None:
        self.buffer = buffer

    def memory_size(self) -> int:
        return len(self.buffer)

    def state_dict(self) -> dict[str, Any]:
        return {"buffer": self.buffer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffer.load_state_dict(state["buffer"])


class Replay(BufferAdapter):
    """Experience replay: each step trains on ``batch_size`` stored rows besides the new ones.

    Online buffers (reservoir, class-balanced) take the new rows after each step of a
    task's first epoch (so each example is offered once); others
    (herding) choose exemplars when a task ends. ``batch_size=None`` replays as many rows
    as the step's new batch.
    """

    name = "replay"

    def __init__(self, buffer: Buffer, batch_size: int | None = None) -> None:
        super().__init__(buffer)
        self.batch_size = batch_size
        self.uses_task_rows = not buffer.online  # herding picks exemplars at task end

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        if not len(self.buffer):
            return batch
        x, y, tasks = self.buffer.sample(self.batch_size or batch.n_new)
        return mix(batch, x, y, tasks)

    def after_step(self, trainer: ContinualTrainer, batch: StepBatch) -> None:
        if self.buffer.online and trainer.epoch == 0:  # each example is offered once
            n = batch.n_new  # the step's own rows come first (replayed ones after)
            x = {k: v[:n] for k, v in batch.x.items()} if isinstance(batch.x, dict) else (
                batch.x[:n]
            )
            self.buffer.add(x, batch.y[:n], batch.task)

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        if not self.buffer.online:
            self.buffer.add_task(trainer, x, y, task)


class GenerativeReplay(Adapter):
    """Deep Generative Replay (Shin et al. 2017) in feature space, storing no tweet.

    After each task a class-conditional Gaussian is fitted to each (task, class)'s input
    features (running sums, so a class seen again in a later window refines its model);
    each step then adds ``batch_size`` pseudo-features of old classes, drawn with classes
    equally likely. ``covariance="full"`` uses a shrunk full covariance
    (``(1-shrinkage) S + shrinkage * mean(diag S) I``); ``"diag"`` keeps variances only.
    Inputs must be feature tensors (e.g. cached sentence embeddings), single-label.
    """

    name = "generative_replay"

    def __init__(
        self,
        batch_size: int | None = None,
        covariance: Literal["full", "diag"] = "full",
        shrinkage: float = 0.1,
        seed: int = 0,
    ) -> None:
        self.batch_size = batch_size
        self.covariance = covariance
        self.shrinkage = shrinkage
        self.generator = torch.Generator().manual_seed(seed)
        self.stats: dict[tuple[Hashable, int], dict[str, Tensor]] = {}
        self._samplers: list[tuple[tuple[Hashable, int], Tensor, Tensor]] = []

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        if isinstance(x, dict) or y.dim() != 1:
            raise TypeError("GenerativeReplay needs feature-tensor inputs and class indices")
        x64 = x.detach().double().cpu()
        for c in torch.unique(y).tolist():
            rows = x64[(y == c).cpu()]
            key = (task, int(c))
            s = self.stats.setdefault(key, {"n": torch.zeros((), dtype=torch.float64),
                                            "sum": torch.zeros(x.shape[1], dtype=torch.float64),
                                            "outer": torch.zeros(x.shape[1], x.shape[1],
                                                                 dtype=torch.float64)})
            s["n"] += len(rows)
            s["sum"] += rows.sum(0)
            s["outer"] += rows.T @ rows
        self._fit()

    def _fit(self) -> None:
        self._samplers = []
        for key, s in self.stats.items():
            n = float(s["n"])
            mean = s["sum"] / n
            cov = s["outer"] / n - torch.outer(mean, mean)
            if self.covariance == "diag":
                scale = cov.diagonal().clamp(min=1e-8).sqrt()
            else:
                ridge = cov.diagonal().mean() * self.shrinkage
                cov = (1 - self.shrinkage) * cov + ridge * torch.eye(len(mean), dtype=cov.dtype)
                scale = torch.linalg.cholesky(cov + 1e-8 * torch.eye(len(mean), dtype=cov.dtype))
            self._samplers.append((key, mean.float(), scale.float()))

    def sample(self, n: int) -> tuple[Tensor, Tensor, list[Hashable]]:
        """``n`` pseudo-examples: features, class indices and tasks."""
        which = torch.randint(len(self._samplers), (n,), generator=self.generator)
        dim = self._samplers[0][1].shape[0]
        noise = torch.randn(n, dim, generator=self.generator)
        xs = torch.empty(n, dim)
        ys = torch.empty(n, dtype=torch.long)
        tasks: list[Hashable] = []
        for i, k in enumerate(which.tolist()):
            (task, c), mean, scale = self._samplers[k]
            z = noise[i]
            xs[i] = mean + (scale * z if scale.dim() == 1 else scale @ z)
            ys[i] = c
            tasks.append(task)
        return xs, ys, tasks

    def augment(self, trainer: ContinualTrainer, batch: StepBatch) -> StepBatch:
        if not self._samplers:
            return batch
        x, y, tasks = self.sample(self.batch_size or batch.n_new)
        return mix(batch, x.to(trainer.device), y.to(trainer.device), tasks)

    def memory_size(self) -> int:
        """Stored floats divided by the feature width (a full covariance is ``dim`` rows)."""
        per_class = 1 + (len(self._samplers[0][1]) if self.covariance == "full" and
                         self._samplers else 1)
        return len(self.stats) * per_class

    def state_dict(self) -> dict[str, Any]:
        return {"keys": list(self.stats), "stats": list(self.stats.values()),
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        keys = [hashable_key(k) for k in state["keys"]]
        self.stats = dict(zip(keys, state["stats"], strict=True))
        if self.stats:
            self._fit()
        if "generator" in state:
            self.generator.set_state(state["generator"])
