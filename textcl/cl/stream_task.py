"""Stream use of :class:`~textcl.cl.trainer.ContinualTrainer`: learn labelled rows as they
arrive inside an open task (a window), consolidate when the task ends.

    trainer.start_task()          # adapters snapshot what the model knows
    trainer.learn(x, y)           # as often as labels arrive
    trainer.end_task()            # adapters consolidate (importance, exemplars, ...)

``learn`` opens a task when none is open; ``boundary()`` closes one and opens the next
(before a head grows with named labels, so adapters never see the parameter set change
inside a task).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from textcl.cl.adapter import StepBatch
from textcl.cl.buffers import ReservoirBuffer
from textcl.cl.rows import Inputs, n_rows, take, to_device

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class StreamTask:
    """An open stream task: its key, the rows it learned, a uniform sample of them (kept
    only when an adapter consolidates on them: ``keep_rows``)."""

    def __init__(self, task: Hashable | None, memory: int, seed: int,
                 keep_rows: bool = True) -> None:
        self.task = task
        self.learned = 0
        self.seed = seed
        self.keep_rows = keep_rows
        self.rows = ReservoirBuffer(memory, seed=seed)

    def keep(self, x: Inputs, y: Tensor) -> None:
        self.learned += len(y)
        if self.keep_rows:
            self.rows.add(x, y)

    def state_dict(self) -> dict[str, Any]:
        return {"task": self.task, "learned": self.learned, "seed": self.seed,
                "keep_rows": self.keep_rows, "rows": self.rows.state_dict()}

    @classmethod
    def from_state(cls, state: dict[str, Any], memory: int) -> StreamTask:
        task = cls(state["task"], memory, int(state["seed"]), bool(state["keep_rows"]))
        task.learned = int(state["learned"])
        task.rows.load_state_dict(state["rows"])
        return task


class StreamMixin:
    """``start_task`` / ``learn`` / ``boundary`` / ``end_task`` of the trainer."""

    _stream: StreamTask | None

    @property
    def task_open(self: ContinualTrainer) -> bool:
        """True between :meth:`start_task` and :meth:`end_task`."""
        return self._stream is not None

    def start_task(self: ContinualTrainer, task: Hashable | None = None) -> None:
        """Open a stream task (e.g. a window): the adapters snapshot what the model knows
        (LwF's teacher, the classes before growth). Their ``before_task`` gets
        ``x = y = None``: a stream task's data is not known when it opens."""
        if self._stream is not None:
            raise RuntimeError("a stream task is open: end_task() first")
        self.task = task
        seed = self.config.seed * 1_000_003 + self.task_index
        keep = any(a.uses_task_rows for a in self.adapters)
        self._stream = StreamTask(task, self.config.stream_task_memory, seed, keep)
        for adapter in self.adapters:
            adapter.before_task(self, None, None, task)  # type: ignore[arg-type]

    def learn(self: ContinualTrainer, x: Inputs, y: Tensor,
              n_classes: int | None = None) -> float:
        """Train on newly labelled rows inside the open stream task (opened here when
        none is): ``epochs`` passes in steps of ``batch_size``, every adapter's step hooks
        included; returns the mean task loss.

        When the head must grow (an unseen class), the task ends first (the adapters
        consolidate what it learned), a new one opens, and the head grows: adapters never
        see the parameter set change inside a task. The rows are kept (up to
        ``stream_task_memory``, a reservoir sample) for :meth:`end_task`.
        """
        x, y = to_device(x, self.device), y.to(self.device)
        if n_rows(x) != len(y):
            raise ValueError(f"{n_rows(x)} inputs but {len(y)} labels")
        if len(y) == 0:
            raise ValueError("no labelled rows to learn from")
        if self._stream is None:
            self.start_task(self.task)
        if self._must_grow(y, n_classes):
            self.boundary()
            self._grow_heads(y, self.task, n_classes)
        stream = self._stream
        assert stream is not None
        cfg = self.config
        # reset_optimizer: a fresh optimizer when a task opens, kept within it
        optimizer = self._optimizer(cfg.lr, fresh=cfg.reset_optimizer and not stream.learned)
        losses: list[float] = []
        mode = self.mode_matters()  # a walk over every module, only when it changes results
        if mode and not self.model.training:
            self.model.train()
        for epoch in range(cfg.epochs):
            self.epoch = epoch
            order = torch.randperm(len(y), generator=self.generator).to(self.device)
            for start in range(0, len(y), cfg.batch_size):
                idx = order[start : start + cfg.batch_size]
                batch = StepBatch(take(x, idx), y[idx], self.task, n_new=len(idx))
                losses.append(self.train_step(batch, optimizer))
        if mode:
            self.model.eval()  # as after fit_task: ready to predict
        stream.keep(x, y)
        return sum(losses) / len(losses)

    def boundary(self: ContinualTrainer) -> None:
        """Close the open stream task (consolidating it when it learned anything) and open
        the next: call it before growing the head with named labels
        (``head.encode``), so adapters never see the parameter set change in a task."""
        task = self.task
        if self._stream is not None and self._stream.learned:
            self.end_task()
        self._stream = None
        self.start_task(task)

    def end_task(self: ContinualTrainer) -> int:
        """Close the open stream task: the adapters consolidate (importance, exemplars,
        weight aligning) on the rows kept of it. Returns the rows the task learned."""
        stream, self._stream = self._stream, None
        if stream is None or not stream.learned:
            return 0
        if stream.keep_rows:
            x, y, _ = stream.rows.contents()
        else:  # no adapter reads the rows
            x, y = None, None
        for adapter in self.adapters:
            adapter.after_task(self, x, y, self.task)  # type: ignore[arg-type]
        self.seen_tasks.append(self.task)
        self.task_index += 1
        return stream.learned

    def _must_grow(self: ContinualTrainer, y: Tensor, n_classes: int | None) -> bool:
        head = getattr(self.model, "head", self.model)
        if self.task_aware:
            return self.task not in head.tasks
        if not hasattr(head, "grow"):
            return False
        needed = n_classes or (y.shape[1] if self.config.multi_label else int(y.max()) + 1)
        return needed > head.n_classes
