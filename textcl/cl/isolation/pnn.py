"""Progressive Neural Networks (Rusu et al. 2016) over fixed input features.

Each task gets a new MLP column; earlier columns freeze when it is added, so what they
compute never changes. Column *k*'s layer *l* (its output layer included) also reads,
through one bias-free ``nn.Linear`` lateral adapter per earlier column, that column's
layer *l - 1* activation (the input layer, shared by all columns, has no laterals).
Simplification: the paper's adapters are small MLPs with a learned scale; here they are
plain linear maps. Parameters grow with the tasks: a column, plus laterals from every
earlier column (quadratic in the number of tasks), so keep the columns narrow.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from torch import Tensor, nn

from textcl.cl.isolation.base import (
    ParameterReport,
    TaskCost,
    TaskModel,
    check_sizes,
    freeze,
    make_activation,
    new_linear,
    numel,
)


class _Column(nn.Module):
    """One task's column: ``layers`` (hidden layers then the output layer) and, per
    layer, ``laterals`` from each earlier column's input to that layer."""

    def __init__(
        self, widths: Sequence[int], n_classes: int, earlier: int, like: dict[str, Any]
    ) -> None:
        super().__init__()
        outs = [*widths[1:], n_classes]
        self.layers = nn.ModuleList(
            new_linear(w, o, like) for w, o in zip(widths, outs, strict=True)
        )
        self.laterals = nn.ModuleList(
            nn.ModuleList(new_linear(w, o, like, bias=False) for _ in range(earlier if i else 0))
            for i, (w, o) in enumerate(zip(widths, outs, strict=True))
        )

    def hidden_parameters(self) -> int:
        """Parameters of the hidden layers and their laterals (what later columns read)."""
        return numel(self.layers[:-1].parameters()) + numel(self.laterals[:-1].parameters())


class ProgressiveNet(TaskModel):
    """A progressive network: one MLP column per task (``hidden`` sizes per column).

    ``forward(x, task)`` runs the columns up to ``task``'s and returns that column's
    logits; a task's prediction never reads later columns.
    """

    def __init__(
        self, in_features: int, hidden: Sequence[int] = (64,), activation: str = "relu"
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.hidden = check_sizes(in_features, hidden, need_hidden=False)
        self.activation = make_activation(activation)
        self.columns = nn.ModuleList()

    def _grow(self, key: str, n_classes: int) -> None:
        freeze(self.columns)
        widths = (self.in_features, *self.hidden)
        self.columns.append(_Column(widths, n_classes, len(self.columns), self._like()))

    def column(self, task: Hashable) -> nn.Module:
        """The column of ``task``."""
        return self.columns[self.task_index(task)]

    def _layer(self, col: _Column, i: int, h: Tensor, earlier: list[list[Tensor]]) -> Tensor:
        z = col.layers[i](h)
        for j, lateral in enumerate(col.laterals[i]):
            z = z + lateral(earlier[j][i])
        return z

    def _hidden(self, col: _Column, x: Tensor, earlier: list[list[Tensor]]) -> list[Tensor]:
        """``[x, h1, h2, ...]``: the inputs of each of ``col``'s layers."""
        acts = [x]
        for i in range(len(col.layers) - 1):
            acts.append(self.activation(self._layer(col, i, acts[i], earlier)))
        return acts

    def forward(self, x: Tensor, task: Hashable) -> Tensor:
        """Logits of ``task``'s column, ``[n, n_classes(task)]``."""
        k = self.task_index(task)
        earlier: list[list[Tensor]] = []
        for j in range(k):
            earlier.append(self._hidden(self.columns[j], x, earlier))
        col = self.columns[k]
        acts = self._hidden(col, x, earlier)
        return self._layer(col, len(col.layers) - 1, acts[-1], earlier)

    def parameter_report(self) -> ParameterReport:
        """Per task: its column with its laterals (new) and what its prediction reads
        (the hidden part of every earlier column, plus its own column)."""
        costs, read = [], 0
        for task, col in zip(self._tasks, self.columns, strict=True):
            own = numel(col.parameters())
            costs.append(TaskCost(task, new_parameters=own, used_parameters=read + own))
            read += col.hidden_parameters()
        return ParameterReport(costs)
