"""Feeding new labels back: train the continual learner and keep the rows for replay."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import TYPE_CHECKING

from torch import Tensor

from textcl.cl.rows import Inputs, n_rows

if TYPE_CHECKING:
    from textcl.cl.buffers import Buffer
    from textcl.cl.trainer import ContinualTrainer, FitReport


class LabelFeedback:
    """Train ``trainer`` on each batch of newly labelled tweets and store them for replay.

    ``buffer`` (optional) receives the rows so that they are rehearsed later: online
    buffers through ``buffer.add``, others (herding) through ``buffer.add_task``. When the
    buffer already belongs to one of the trainer's adapters (``Replay(buffer)``), the
    adapter stores the rows itself and they are not added twice.
    """

    def __init__(self, trainer: ContinualTrainer, buffer: Buffer | None = None) -> None:
        self.trainer = trainer
        self.buffer = buffer
        self.labelled = 0
        self.rounds = 0
        self.per_task: Counter[Hashable | None] = Counter()
        self.per_class: Counter[int] = Counter()
        self.reports: list[FitReport] = []

    def _buffer_is_trainers(self) -> bool:
        return any(getattr(a, "buffer", None) is self.buffer for a in self.trainer.adapters)

    def add(self, x: Inputs, y: Tensor, task: Hashable | None = None) -> FitReport:
        """Learn from labelled ``(x, y)`` (one row per tweet); returns the fit report."""
        n = n_rows(x)
        if n != len(y):
            raise ValueError(f"{n} inputs but {len(y)} labels")
        if n == 0:
            raise ValueError("no labelled example to learn from")
        report = self.trainer.fit_task(x, y, task)
        if self.buffer is not None and not self._buffer_is_trainers():
            if self.buffer.online:
                self.buffer.add(x, y, task)
            else:
                self.buffer.add_task(self.trainer, x, y, task)
        self.labelled += n
        self.rounds += 1
        self.per_task[task] += n
        if y.dim() == 1:
            self.per_class.update(int(v) for v in y.tolist())
        else:
            self.per_class.update({i: int(c) for i, c in enumerate(y.sum(0).tolist()) if c})
        self.reports.append(report)
        return report
