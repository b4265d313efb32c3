"""A coreset: a few rows kept of every task (random or k-center), as VCL uses."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal

import torch
from torch import Tensor

from textcl.cl.adapter import hashable_key
from textcl.cl.rows import Inputs, concat, concat_targets, n_rows, take

CoresetMethod = Literal["random", "kcenter"]


def k_center(x: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """Greedy k-center: a random first row, then each time the row farthest from the rows
    chosen so far. Returns ``k`` distinct row indices (all rows when there are fewer)."""
    n = len(x)
    if k >= n:
        return torch.arange(n)
    flat = x.reshape(n, -1).float()
    first = int(torch.randint(n, (1,), generator=generator))
    chosen = [first]
    dist = (flat - flat[first]).pow(2).sum(1)
    for _ in range(k - 1):
        i = int(dist.argmax())
        chosen.append(i)
        dist = torch.minimum(dist, (flat - flat[i]).pow(2).sum(1))
    return torch.tensor(chosen)


class Coreset:
    """``per_task`` rows of each task, chosen when the task ends.

    ``method="random"`` draws a uniform sample; ``"kcenter"`` covers the task's inputs
    (greedy k-center on the feature rows). A task seen again (a stream that returns to a
    task key) adds another ``per_task`` rows.
    """

    def __init__(self, per_task: int, method: CoresetMethod = "random", seed: int = 0) -> None:
        if per_task < 0:
            raise ValueError(f"per_task must be >= 0, got {per_task}")
        if method not in ("random", "kcenter"):
            raise ValueError(f"coreset method {method!r}: use 'random' or 'kcenter'")
        self.per_task = per_task
        self.method = method
        self.generator = torch.Generator().manual_seed(seed)
        self.x: Inputs | None = None
        self.y: Tensor | None = None
        self.tasks: list[Hashable | None] = []

    def __len__(self) -> int:
        return len(self.tasks)

    def select(self, x: Inputs, k: int) -> Tensor:
        """Indices of the ``k`` rows of ``x`` to keep."""
        if self.method == "kcenter" and not isinstance(x, dict):
            return k_center(x.detach().cpu(), k, self.generator)
        return torch.randperm(n_rows(x), generator=self.generator)[:k]

    def add(self, x: Inputs, y: Tensor, task: Hashable | None) -> None:
        """Keep ``per_task`` rows of a task that ended."""
        k = min(self.per_task, n_rows(x))
        if k == 0:
            return
        idx = self.select(x, k).to(y.device)
        xs, ys = take(x, idx), y[idx]
        xs = {key: v.detach().clone() for key, v in xs.items()} if isinstance(xs, dict) else (
            xs.detach().clone())
        self.x = xs if self.x is None else concat([self.x, xs])
        self.y = ys.clone() if self.y is None else concat_targets([self.y, ys])
        self.tasks += [task] * k

    def sample(self, n: int) -> tuple[Inputs, Tensor, list[Hashable | None]]:
        """``n`` rows drawn uniformly without replacement (all of them when fewer)."""
        assert self.x is not None and self.y is not None
        idx = torch.randperm(len(self), generator=self.generator)[: min(n, len(self))]
        return take(self.x, idx.to(self.y.device)), self.y[idx.to(self.y.device)], [
            self.tasks[i] for i in idx.tolist()]

    def contents(self) -> tuple[Inputs, Tensor, list[Hashable | None]]:
        """Every kept row."""
        assert self.x is not None and self.y is not None
        return self.x, self.y, list(self.tasks)

    def state_dict(self) -> dict[str, Any]:
        """Rows, their tasks and the selection generator."""
        return {"x": self.x, "y": self.y, "tasks": list(self.tasks),
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.x, self.y = state["x"], state["y"]
        self.tasks = [hashable_key(t) for t in state["tasks"]]
        self.generator.set_state(state["generator"])
