"""Streaming linear discriminant analysis over frozen features (Hayes & Kanan 2020).

On fixed sentence embeddings a linear discriminant built from running class means and one
shared covariance cannot forget: every update only adds sufficient statistics, so the
result does not depend on the order tasks arrive in. It replaces the model's logits at
prediction time, like iCaRL's nearest-mean rule, and stores no example.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from textcl.cl.adapter import Adapter, hashable_key
from textcl.cl.rows import Inputs

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class StreamingLDA(Adapter):
    """Class scores ``W x + b`` with ``W = P mu_c``, ``b_c = -mu_c' P mu_c / 2`` and
    ``P = ((1 - shrinkage) S + shrinkage * mean(diag S) I)^-1``, ``S`` the pooled
    within-class covariance.

    Statistics (counts, class sums, sum of outer products) are exact and kept per task key
    for task-aware models (one shared key otherwise). Inputs must be feature tensors.
    """

    name = "slda"

    def __init__(self, shrinkage: float = 0.1) -> None:
        self.shrinkage = shrinkage
        self.stats: dict[Hashable, dict[str, Any]] = {}
        self._fitted: dict[Hashable, tuple[Tensor, Tensor, Tensor]] = {}

    def _key(self, trainer: ContinualTrainer, task: Hashable | None) -> Hashable | None:
        return task if trainer.task_aware else None

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        if isinstance(x, dict) or y.dim() != 1:
            raise TypeError("StreamingLDA needs feature-tensor inputs and class indices")
        key = self._key(trainer, task)
        x64 = x.detach().double().cpu()
        y = y.cpu()
        dim = x64.shape[1]
        s = self.stats.setdefault(key, {"n": {}, "sum": {},
                                        "outer": torch.zeros(dim, dim, dtype=torch.float64)})
        s["outer"] += x64.T @ x64
        for c in torch.unique(y).tolist():
            rows = x64[y == c]
            s["n"][c] = s["n"].get(c, 0) + len(rows)
            s["sum"][c] = s["sum"].get(c, torch.zeros(dim, dtype=torch.float64)) + rows.sum(0)
        self._fit(key)

    def _fit(self, key: Hashable | None) -> None:
        s = self.stats[key]
        classes = sorted(s["n"])
        counts = torch.tensor([s["n"][c] for c in classes], dtype=torch.float64)
        means = torch.stack([s["sum"][c] / s["n"][c] for c in classes])
        total = counts.sum()
        scatter = s["outer"] - (means.T * counts) @ means
        cov = scatter / total
        dim = cov.shape[0]
        ridge = self.shrinkage * cov.diagonal().mean()
        cov = (1 - self.shrinkage) * cov + ridge * torch.eye(dim, dtype=cov.dtype)
        weights = torch.linalg.solve(cov, means.T)  # [dim, C]
        bias = -0.5 * (means * weights.T).sum(1)
        self._fitted[key] = (torch.tensor(classes), weights.float(), bias.float())

    def scores(self, trainer: ContinualTrainer, x: Inputs, task: Any) -> Tensor | None:
        fitted = self._fitted.get(self._key(trainer, task))
        if fitted is None or isinstance(x, dict):
            return None
        classes, weights, bias = fitted
        sims = x.float().cpu() @ weights + bias
        head = getattr(trainer.model, "head", trainer.model)
        n = head.n_classes(task) if callable(getattr(head, "n_classes", None)) else int(
            getattr(head, "n_classes", int(classes.max()) + 1))
        out = torch.full((len(x), max(n, int(classes.max()) + 1)), -1e9)
        out[:, classes] = sims
        return out.to(x.device)

    def memory_size(self) -> int:
        """Stored floats divided by the feature width: ``dim + classes`` per task key."""
        return sum(len(s["n"]) + s["outer"].shape[0] for s in self.stats.values())

    def state_dict(self) -> dict[str, Any]:
        """Per task key: the classes, their counts and sums, the scatter (checkpointable:
        no dict keyed by class)."""
        rows = []
        for st in self.stats.values():
            classes = sorted(st["n"])
            rows.append({"classes": classes, "n": [st["n"][c] for c in classes],
                         "sum": [st["sum"][c] for c in classes], "outer": st["outer"]})
        return {"keys": list(self.stats), "stats": rows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats = {}
        for key, row in zip(state["keys"], state["stats"], strict=True):
            if "classes" not in row:  # the layout before checkpoints could hold it
                self.stats[key] = row
                continue
            self.stats[hashable_key(key)] = {
                "n": dict(zip(row["classes"], row["n"], strict=True)),
                "sum": dict(zip(row["classes"], row["sum"], strict=True)),
                "outer": row["outer"],
            }
        self._fitted = {}
        for key in self.stats:
            self._fit(key)

