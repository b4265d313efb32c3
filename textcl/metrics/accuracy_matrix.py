"""Accuracy matrix for continual learning and its summary metrics.

``R[i, j]`` is the score (accuracy, F1, ... in [0, 1]) on task j's test set measured after
training on task i. Definitions follow Lopez-Paz & Ranzato (2017, GEM) for ACC, BWT and FWT
and Chaudhry et al. (2018, RWalk) for average forgetting. Every metric also works on a
partially filled matrix: it is computed on the last row holding any value, skipping cells
that were never measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textcl.metrics.plot import plot_matrix


def _finite_mean(values: Sequence[float], what: str) -> float:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        raise ValueError(f"cannot compute {what}: the cells it needs were never recorded")
    return float(np.mean(finite))


def _nullable(values: np.ndarray) -> list[Any]:
    """NaN -> None, recursively, so the result is valid JSON."""
    if values.ndim > 1:
        return [_nullable(row) for row in values]
    return [float(v) if math.isfinite(v) else None for v in values]


def _from_nullable(values: Any) -> np.ndarray:
    """Inverse of :func:`_nullable` (numpy turns None into NaN for float arrays)."""
    return np.array(values, dtype=float)


class AccuracyMatrix:
    """Scores ``R[i, j]`` of task j after training on task i, plus continual-learning metrics."""

    def __init__(
        self,
        task_names: Sequence[str],
        baseline: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        names = [str(n) for n in task_names]
        if not names:
            raise ValueError("need at least one task")
        if len(set(names)) != len(names):
            raise ValueError(f"task names must be unique: {names}")
        self.task_names: list[str] = names
        self.R: np.ndarray = np.full((len(names), len(names)), np.nan)
        self.baseline: np.ndarray | None = None
        if baseline is not None:
            b = np.asarray(baseline, dtype=float)
            if b.shape != (len(names),):
                raise ValueError(f"baseline needs {len(names)} values, got shape {b.shape}")
            self.baseline = b.copy()

    # ------------------------------------------------------------------ recording
    @property
    def num_tasks(self) -> int:
        """Number of tasks T."""
        return len(self.task_names)

    def _index(self, task: int | str) -> int:
        if isinstance(task, str):
            try:
                return self.task_names.index(task)
            except ValueError:
                raise KeyError(f"unknown task {task!r}; known: {self.task_names}") from None
        if not 0 <= task < self.num_tasks:
            raise IndexError(f"task index {task} out of range for {self.num_tasks} tasks")
        return int(task)

    @staticmethod
    def _check_score(score: float) -> float:
        value = float(score)
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError(f"score must be a finite number in [0, 1], got {score!r}")
        return value

    def record(self, after: int | str, task: int | str, score: float) -> None:
        """Store ``R[after, task] = score`` (task index or name; score in [0, 1])."""
        self.R[self._index(after), self._index(task)] = self._check_score(score)

    def set_baseline(self, task: int | str, score: float) -> None:
        """Store the score on ``task`` of the model before any training (used by FWT)."""
        if self.baseline is None:
            self.baseline = np.full(self.num_tasks, np.nan)
        self.baseline[self._index(task)] = self._check_score(score)

    @property
    def last_row(self) -> int | None:
        """Index of the last row holding any value (the current task), or None if empty."""
        rows = np.flatnonzero(np.isfinite(self.R).any(axis=1))
        return int(rows[-1]) if rows.size else None

    def _last(self) -> int:
        last = self.last_row
        if last is None:
            raise ValueError("no scores recorded yet")
        return last

    # ------------------------------------------------------------------ metrics
    def average_accuracy(self, after: int | str | None = None) -> float:
        """ACC = mean_{j <= i} R[i, j] with i = ``after`` (default: the last recorded row)."""
        i = self._last() if after is None else self._index(after)
        return _finite_mean(list(self.R[i, : i + 1]), f"average accuracy after task {i}")

    def backward_transfer(self) -> float:
        """BWT = 1/(T-1) Σ_{j<T-1} (R[T-1, j] − R[j, j]); negative means forgetting.

        T-1 is the last recorded row; 0.0 while fewer than two tasks were trained.
        """
        last = self._last()
        if last < 1:
            return 0.0
        diffs = [self.R[last, j] - self.R[j, j] for j in range(last)]
        return _finite_mean(diffs, "backward transfer")

    def forward_transfer(self) -> float:
        """FWT = 1/(T-1) Σ_{j>=1} (R[j-1, j] − baseline[j]): zero-shot gain from earlier tasks.

        Uses every j >= 1 whose ``R[j-1, j]`` was recorded; raises ValueError without a baseline.
        """
        if self.baseline is None:
            raise ValueError(
                "forward transfer needs a baseline: call set_baseline(task, score) with the "
                "score of the untrained model on each task"
            )
        if self.num_tasks < 2:
            return 0.0
        diffs = [self.R[j - 1, j] - self.baseline[j] for j in range(1, self.num_tasks)]
        return _finite_mean(diffs, "forward transfer (needs R[j-1, j] and baseline[j])")

    def per_task_forgetting(self) -> np.ndarray:
        """f_j = max_{i in [j, last-1]} R[i, j] − R[last, j] for each j < last (length ``last``).

        Positive: task j lost accuracy since its best; negative: later training improved it.
        NaN where task j was never measured at the needed rows.
        """
        last = self._last()
        out = np.full(last, np.nan)
        for j in range(last):
            earlier = self.R[j:last, j]
            if np.isfinite(earlier).any() and math.isfinite(self.R[last, j]):
                out[j] = np.nanmax(earlier) - self.R[last, j]
        return out

    def forgetting(self) -> float:
        """Average forgetting (Chaudhry et al. 2018) = mean_{j<last} f_j; 0.0 with one task."""
        per_task = self.per_task_forgetting()
        if per_task.size == 0:
            return 0.0
        return _finite_mean(list(per_task), "forgetting")

    def learning_accuracy(self) -> float:
        """Mean of the diagonal R[j, j]: how well each task is learnt just after training on it."""
        last = self._last()
        return _finite_mean(list(np.diag(self.R)[: last + 1]), "learning accuracy")

    def summary(self) -> dict[str, float | None]:
        """``acc``, ``bwt``, ``fwt``, ``forgetting``, ``learning_acc``; None where not computable
        (``fwt`` without a baseline, everything on an empty matrix)."""
        metrics: dict[str, Callable[[], float]] = {
            "acc": self.average_accuracy,
            "bwt": self.backward_transfer,
            "fwt": self.forward_transfer,
            "forgetting": self.forgetting,
            "learning_acc": self.learning_accuracy,
        }
        out: dict[str, float | None] = {}
        for key, fn in metrics.items():
            try:
                out[key] = fn()
            except ValueError:
                out[key] = None
        return out

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: names, matrix and baseline (None for NaN) and the summary."""
        return {
            "task_names": list(self.task_names),
            "matrix": _nullable(self.R),
            "baseline": None if self.baseline is None else _nullable(self.baseline),
            "metrics": self.summary(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AccuracyMatrix:
        """Rebuild from :meth:`to_dict` output (the stored ``metrics`` are recomputed, not read)."""
        out = cls(d["task_names"])
        matrix = _from_nullable(d["matrix"])
        if matrix.shape != out.R.shape:
            raise ValueError(f"matrix shape {matrix.shape} does not match {out.num_tasks} tasks")
        out.R = matrix
        if d.get("baseline") is not None:
            out.baseline = _from_nullable(d["baseline"])
            if out.baseline.shape != (out.num_tasks,):
                raise ValueError("baseline length does not match the number of tasks")
        return out

    def save_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as indented JSON; return the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return out

    @classmethod
    def load_json(cls, path: str | Path) -> AccuracyMatrix:
        """Read a file written by :meth:`save_json`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def heatmap(self, path: str | Path, title: str | None = None) -> Path:
        """Write a PNG heatmap (rows: after task i, columns: task j); return the path."""
        return plot_matrix(self.R, self.task_names, path, title)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AccuracyMatrix):
            return NotImplemented
        if self.task_names != other.task_names:
            return False
        if (self.baseline is None) != (other.baseline is None):
            return False
        same_base = self.baseline is None or np.array_equal(
            self.baseline, other.baseline, equal_nan=True
        )
        return same_base and np.array_equal(self.R, other.R, equal_nan=True)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"AccuracyMatrix(tasks={self.task_names}, last_row={self.last_row})"
