"""Piggyback (Mallya et al. 2018): per-task binary masks over a frozen MLP backbone.

The backbone's weights never change (random by default, or copied from a given MLP);
each task learns a real-valued score per body weight, thresholded to a binary mask
(gradients pass straight through the threshold), plus its own linear head. When the
next task is added, the previous task's scores are thresholded once and kept as bits,
so a finished task costs 1 bit per body weight plus its head. Backbone biases are
frozen and shared too.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from textcl.cl.isolation.base import (
    OpenMask,
    ParameterReport,
    SealedMask,
    TaskCost,
    TaskModel,
    check_sizes,
    freeze,
    make_activation,
    new_linear,
    numel,
)


def backbone_layers(backbone: nn.Module | Sequence[nn.Linear]) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``backbone`` in order (a module's, or a sequence)."""
    modules = backbone.modules() if isinstance(backbone, nn.Module) else backbone
    return [m for m in modules if isinstance(m, nn.Linear)]


class PiggybackMLP(TaskModel):
    """A frozen MLP backbone, one binary mask per body weight and task, one head per task.

    Without ``backbone`` the body is a freshly initialised MLP (``hidden`` sizes); with
    one (a module such as ``MLPClassifier(...).body``, or a sequence of ``nn.Linear``),
    its linear layers are copied and ``hidden`` is read from them. A new task's scores
    start at ``init_score`` (above ``threshold``: the mask starts full). Mind weight decay
    on the scores: it pulls them toward 0, below the threshold, i.e. it prunes.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] | None = None,
        backbone: nn.Module | Sequence[nn.Linear] | None = None,
        threshold: float = 5e-3,
        init_score: float = 1e-2,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        layers = self._layers(in_features, hidden, backbone)
        self.in_features = in_features
        self.hidden = tuple(layer.out_features for layer in layers)
        self.threshold = threshold
        self.init_score = init_score
        for i, layer in enumerate(layers):
            self.register_buffer(f"weight{i}", layer.weight.detach().clone())
            bias = None if layer.bias is None else layer.bias.detach().clone()
            self.register_buffer(f"bias{i}", bias)
        self.n_layers = len(layers)
        self.activation = make_activation(activation)
        self.masks = nn.ModuleDict()
        self.heads = nn.ModuleDict()

    @staticmethod
    def _layers(
        in_features: int, hidden: Sequence[int] | None,
        backbone: nn.Module | Sequence[nn.Linear] | None,
    ) -> list[nn.Linear]:
        if backbone is None:
            sizes = check_sizes(in_features, (256,) if hidden is None else hidden, True)
            widths = (in_features, *sizes)
            return [nn.Linear(a, b) for a, b in itertools.pairwise(widths)]
        layers = backbone_layers(backbone)
        widths = [in_features, *(layer.out_features for layer in layers)]
        if not layers or any(
            layer.in_features != w for layer, w in zip(layers, widths, strict=False)
        ):
            raise ValueError(f"the backbone's linear layers do not chain from {in_features}")
        if hidden is not None and tuple(hidden) != tuple(widths[1:]):
            raise ValueError(f"hidden {list(hidden)} differs from the backbone's {widths[1:]}")
        return layers

    @property
    def weights(self) -> list[Tensor]:
        """The backbone's weights (frozen buffers)."""
        return [getattr(self, f"weight{i}") for i in range(self.n_layers)]

    @property
    def biases(self) -> list[Tensor | None]:
        """The backbone's biases (frozen buffers)."""
        return [getattr(self, f"bias{i}") for i in range(self.n_layers)]

    @property
    def open_task(self) -> Hashable | None:
        """The task whose scores are still real-valued (being learned), or ``None``."""
        if self._tasks and isinstance(self.masks[str(self._tasks[-1])], OpenMask):
            return self._tasks[-1]
        return None

    def seal(self) -> None:
        """Threshold the open task's scores into stored bits (done when a task is added)."""
        task = self.open_task
        if task is not None:
            key = str(task)
            self.masks[key] = SealedMask(self.masks[key].bits(self.threshold))
            self.version += 1

    def _grow(self, key: str, n_classes: int) -> None:
        self.seal()
        freeze(self.heads)
        like = self._like()
        self.masks[key] = OpenMask([w.shape for w in self.weights], self.init_score, like)
        self.heads[key] = new_linear(self.hidden[-1], n_classes, like)

    def binary_masks(self, task: Hashable) -> list[Tensor]:
        """``task``'s mask per layer (booleans, detached)."""
        return [b.clone() for b in self.masks[self.key(task)].bits(self.threshold)]

    def forward(self, x: Tensor, task: Hashable) -> Tensor:
        """Logits of ``task``: the backbone with its masks, then its head."""
        key = self.key(task)
        h = x
        masks = self.masks[key].masks(self.threshold, self.weights[0].dtype)
        for weight, bias, mask in zip(self.weights, self.biases, masks, strict=True):
            h = self.activation(F.linear(h, weight * mask, bias))
        return self.heads[key](h)

    def parameter_report(self) -> ParameterReport:
        """Per task: its head (new), the backbone weights its mask keeps plus the biases
        and head (used), one mask bit per body weight; the backbone is shared."""
        n_weights = sum(w.numel() for w in self.weights)
        n_biases = sum(b.numel() for b in self.biases if b is not None)
        costs = []
        for task in self._tasks:
            head = numel(self.heads[str(task)].parameters())
            on = sum(int(b.sum()) for b in self.binary_masks(task))
            costs.append(TaskCost(task, new_parameters=head, used_parameters=on + n_biases + head,
                                  mask_bits=n_weights))
        return ParameterReport(costs, shared_parameters=n_weights + n_biases)

    def _extra(self) -> dict[str, Any]:
        return {"open": self.open_task is not None}

    def _prepare_load(self, extra: Mapping[str, Any]) -> None:
        super()._prepare_load(extra)
        if not extra.get("open", True):
            self.seal()
