"""CPG (Hung et al. 2019): compacting, picking and growing in one MLP body.

:class:`CPGMLP` extends PackNet's body (every weight has an owner task, or is free) with
Piggyback's masks: task *t* learns a binary mask over the weights owned by tasks < *t*
(real-valued scores, a threshold and a straight-through gradient) to *pick* the old
weights it reuses, while it trains the free weights. The :class:`CPG` adapter then

1. *grows* the body when the free pool of a layer is below ``min_free`` (or, with a
   ``target``, when the task's training accuracy is below it): ``grow`` new units per
   hidden layer, all of their weights free, and the task trains on;
2. *compacts*: keeps the largest ``keep`` share of the free weights for the task (PackNet's
   pruning), seals its mask into bits, frees the rest and retrains the kept weights.

Task *t* reads the weights owned by tasks < *t* through its mask, its own weights, and
nothing of later tasks: not their weights, not units grown after it (its prediction runs
at the widths the body had when it was compacted, so it stays bit-identical).

Biases, as in PackNet, are trained with the first task and then frozen; units grown
later keep a zero bias (they learn through their weights).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textcl.cl.isolation.base import (
    FREE,
    OpenMask,
    ParameterReport,
    SealedMask,
    TaskCost,
    new_linear,
    numel,
)
from textcl.cl.isolation.packnet import PackNet, PackNetMLP
from textcl.cl.rows import Inputs

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


class CPGMLP(PackNetMLP):
    """PackNet body with per-task masks over earlier tasks' weights, growable hidden
    layers and one linear head per task (pair it with the :class:`CPG` adapter).

    A new task's mask scores start at ``init_score`` (above ``threshold``: it starts
    picking every old weight). ``starts[t]`` / ``ends[t]`` are the hidden sizes when task
    *t* was added / compacted.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (256,),
        threshold: float = 5e-3,
        init_score: float = 1e-2,
        activation: str = "relu",
    ) -> None:
        super().__init__(in_features, hidden, activation)
        self.threshold = threshold
        self.init_score = init_score
        self.masks = nn.ModuleDict()
        self.starts: list[tuple[int, ...]] = []
        self.ends: list[tuple[int, ...]] = []

    # -- structure ------------------------------------------------------------------
    def _grow(self, key: str, n_classes: int) -> None:
        first = not self._tasks
        self.starts.append(self.hidden)
        super()._grow(key, n_classes)
        if not first:  # the first task has no earlier weights to pick
            shapes = [layer.weight.shape for layer in self.layers]
            self.masks[key] = OpenMask(shapes, self.init_score, self._like())

    def widths(self, index: int) -> tuple[int, ...]:
        """Hidden sizes task ``index`` reads (the current ones while it is open)."""
        return self.ends[index] if index < self.packed else self.hidden

    def free_share(self) -> float:
        """The smallest share of free weights over the hidden layers."""
        return min(float((o == FREE).float().mean()) for o in self.owners)

    @torch.no_grad()
    def grow(self, units: int | Sequence[int]) -> None:
        """Add ``units`` hidden units (one count, or one per layer) for the open task: their
        weights are free, their biases 0, their outgoing weights 0 (so the open task's
        output does not change), and earlier tasks never read them."""
        index = self.open_task
        if index is None:
            raise RuntimeError("grow needs an open task (add one first)")
        adds = [units] * len(self.layers) if isinstance(units, int) else list(units)
        if len(adds) != len(self.layers) or any(a < 0 for a in adds):
            raise ValueError(f"need {len(self.layers)} non-negative unit counts, got {units}")
        if not any(adds):
            return
        like = self._like()
        new_hidden = tuple(h + a for h, a in zip(self.hidden, adds, strict=True))
        ins = (self.in_features, *new_hidden[:-1])
        for i, (layer, owner) in enumerate(zip(self.layers, self.owners, strict=True)):
            o, n_in = layer.weight.shape
            fresh = new_linear(ins[i], new_hidden[i], like)  # new rows: default init
            fresh.weight[:o, n_in:] = 0.0  # old units do not read new ones (yet)
            fresh.weight[:o, :n_in] = layer.weight
            fresh.bias[o:] = 0.0
            fresh.bias[:o] = layer.bias
            fresh.bias.requires_grad_(layer.bias.requires_grad)
            grown = torch.full(fresh.weight.shape, FREE, dtype=owner.dtype, device=owner.device)
            grown[:o, :n_in] = owner
            self.layers[i] = fresh
            setattr(self, f"owner{i}", grown)
        key = str(self._tasks[index])
        head = self.heads[key]
        wider = new_linear(new_hidden[-1], head.out_features, like)
        wider.weight.zero_()
        wider.weight[:, : head.in_features] = head.weight
        wider.bias.copy_(head.bias)
        self.heads[key] = wider
        self.hidden = new_hidden
        self.version += 1

    def _resize(self, target: Sequence[int]) -> None:
        """Grow the open task's body to the hidden sizes ``target``."""
        adds = [int(t) - h for t, h in zip(target, self.hidden, strict=True)]
        if any(a < 0 for a in adds):
            raise ValueError(f"cannot shrink hidden sizes {self.hidden} to {tuple(target)}")
        self.grow(adds)

    def _seal(self, index: int) -> None:
        """Store task ``index``'s mask as bits and its widths (it is compacted)."""
        key = str(self._tasks[index])
        if key in self.masks and isinstance(self.masks[key], OpenMask):
            self.masks[key] = SealedMask(self.masks[key].bits(self.threshold))
        self.ends.append(self.hidden)
        self.version += 1

    @torch.no_grad()
    def pack(self, keep: float) -> list[int]:
        """Compact the open task: PackNet's pruning of the free weights (it keeps the
        ``keep`` share with the largest magnitude), then its mask is sealed."""
        index = self.open_task
        kept = super().pack(keep)
        assert index is not None
        self._seal(index)
        return kept

    # -- prediction -----------------------------------------------------------------
    def binary_masks(self, task: Hashable) -> list[Tensor]:
        """``task``'s mask per layer (booleans over the body as it was when ``task`` was
        added; only positions of earlier tasks' weights matter); ``[]`` for the first."""
        key = self.key(task)
        if key not in self.masks:
            return []
        return [b.clone() for b in self.masks[key].bits(self.threshold)]

    def old_weights(self, task: Hashable) -> list[Tensor]:
        """Per layer, where the weights owned by tasks before ``task`` are (booleans over
        the body as it was when ``task`` was added)."""
        index = self.task_index(task)
        return [((o >= 0) & (o < index))[: s, : n]
                for o, s, n in zip(self.owners, self.starts[index],
                                   (self.in_features, *self.starts[index][:-1]), strict=True)]

    def weights(self, index: int) -> list[Tensor]:
        """The body weights task ``index`` reads, at its widths: its own (the free ones
        while it is open), earlier tasks' through its mask, 0 elsewhere."""
        sizes = self.widths(index)
        ins = (self.in_features, *sizes[:-1])
        key = str(self._tasks[index])
        masks = (self.masks[key].masks(self.threshold, self.layers[0].weight.dtype)
                 if key in self.masks else None)
        out = []
        for i, (layer, owner) in enumerate(zip(self.layers, self.owners, strict=True)):
            w, o = layer.weight[: sizes[i], : ins[i]], owner[: sizes[i], : ins[i]]
            mine = o == (index if index < self.packed else FREE)
            weight = torch.where(mine, w, 0.0)
            if masks is not None:
                mask = masks[i]
                pad = (0, w.shape[1] - mask.shape[1], 0, w.shape[0] - mask.shape[0])
                mask = F.pad(mask, pad) if any(pad) else mask
                weight = torch.where((o >= 0) & (o < index), w * mask, weight)
            out.append(weight)
        return out

    def forward(self, x: Tensor, task: Hashable) -> Tensor:
        """Logits of ``task``'s head, ``[n, n_classes(task)]``."""
        index = self.task_index(task)
        sizes = self.widths(index)
        h = x
        for layer, weight, size in zip(self.layers, self.weights(index), sizes,
                                       strict=True):
            h = self.activation(F.linear(h, weight, layer.bias[:size]))
        return self.heads[str(self._tasks[index])](h)

    # -- report and state -----------------------------------------------------------
    def parameter_report(self) -> ParameterReport:
        """Per task: the body weights it owns (all free ones while it is open), its head,
        the biases of its units (the first task: the initial ones; later: those it grew)
        (new); plus the old weights its mask picks and every bias it reads (used); one
        mask bit per weight of earlier tasks; the units it grew. Free weights are shared;
        the owner map costs ``ceil(log2(tasks + 1))`` bits per weight."""
        owners = self.owners
        costs = []
        for index, task in enumerate(self._tasks):
            mark = FREE if index == self.open_task else index
            owned = sum(int((o == mark).sum()) for o in owners)
            old = self.old_weights(task)
            bits = sum(int(b.sum()) for b in old)
            picked = sum(int((b & m).sum()) for b, m in
                         zip(old, self.binary_masks(task), strict=False))
            grown = sum(self.widths(index)) - sum(self.starts[index])
            biases = grown + (sum(self.starts[0]) if index == 0 else 0)
            head = numel(self.heads[str(task)].parameters())
            costs.append(TaskCost(
                task, new_parameters=owned + head + biases,
                used_parameters=owned + picked + sum(self.widths(index)) + head,
                mask_bits=bits, grown_units=grown))
        free = 0 if self.open_task is not None else sum(int((o == FREE).sum()) for o in owners)
        shared = free + (0 if self._tasks else sum(self.hidden))
        n_weights = sum(o.numel() for o in owners)
        bits = n_weights * math.ceil(math.log2(len(self._tasks) + 1))
        return ParameterReport(costs, shared_parameters=shared, bookkeeping_bits=bits)

    def _extra(self) -> dict[str, Any]:
        return {"packed": self.packed, "hidden": list(self.hidden),
                "starts": [list(s) for s in self.starts], "ends": [list(e) for e in self.ends]}

    def _prepare_load(self, extra: Mapping[str, Any]) -> None:
        pairs = self._saved_tasks(extra)
        packed = int(extra["packed"])
        ends = [tuple(int(v) for v in e) for e in extra["ends"]]
        for index, (task, n) in enumerate(pairs):
            if index >= len(self._tasks):
                self._append(task, n)
            if index >= self.packed:  # open here: grow as the saved task did
                self._resize(ends[index] if index < packed else extra["hidden"])
                if index < packed:
                    self._seal(index)
                    self.packed += 1

    def _restore_extra(self, extra: Mapping[str, Any]) -> None:
        super()._restore_extra(extra)
        self.starts = [tuple(int(v) for v in s) for s in extra["starts"]]
        self.ends = [tuple(int(v) for v in e) for e in extra["ends"]]


class CPG(PackNet):
    """Pick (mask) and train while the task is learned; at its end grow if needed, train
    on, then compact (PackNet's pruning and retraining).

    ``keep``, ``retrain_epochs``, ``retrain_lr_scale``: as in :class:`PackNet`.
    ``grow``: hidden units added per layer and growth. Growth happens when a hidden
    layer's free share is below ``min_free``, or when ``target`` is set and the task's
    training accuracy (after its epochs) is below it; then ``grow_epochs`` more passes
    (default: the trainer's ``epochs``), at most ``max_grows`` times per task.
    """

    name = "cpg"

    def __init__(
        self,
        keep: float | Sequence[float] = 0.5,
        retrain_epochs: int = 1,
        retrain_lr_scale: float = 1.0,
        grow: int = 32,
        min_free: float = 0.05,
        target: float | None = None,
        grow_epochs: int | None = None,
        max_grows: int = 1,
    ) -> None:
        super().__init__(keep, retrain_epochs, retrain_lr_scale)
        if grow < 0 or max_grows < 0 or not 0.0 <= min_free <= 1.0:
            raise ValueError("grow and max_grows must be >= 0 and min_free in [0, 1]")
        if grow_epochs is not None and grow_epochs < 0:
            raise ValueError(f"grow_epochs must be >= 0, got {grow_epochs}")
        self.grow = grow
        self.min_free = min_free
        self.target = target
        self.grow_epochs = grow_epochs
        self.max_grows = max_grows
        self.uses_task_rows = True  # growing trains on, compacting retrains
        self.grown: list[int] = []  # per compacted task, units it added per layer

    @staticmethod
    def _model(trainer: ContinualTrainer) -> CPGMLP:
        if not isinstance(trainer.model, CPGMLP):
            raise TypeError(f"CPG needs a CPGMLP, got {type(trainer.model).__name__}")
        return trainer.model

    def needs_growth(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> bool:
        """Whether the free pool is below ``min_free`` or the training accuracy below
        ``target``."""
        if self._model(trainer).free_share() < self.min_free:
            return True
        return self.target is not None and x is not None and (
            trainer.evaluate(x, y, task) < self.target)

    def after_task(self, trainer: ContinualTrainer, x: Inputs, y: Tensor, task: Any) -> None:
        model = self._model(trainer)
        before = model.hidden
        epochs = trainer.config.epochs if self.grow_epochs is None else self.grow_epochs
        for _ in range(self.max_grows if self.grow else 0):
            if not self.needs_growth(trainer, x, y, task):
                break
            model.grow(self.grow)
            self._trainable, self._guard = FREE, None
            self._passes(trainer, x, y, task, epochs, 1.0)
        self.grown.append(model.hidden[0] - before[0])
        super().after_task(trainer, x, y, task)

    def state_dict(self) -> dict[str, Any]:
        return super().state_dict() | {"grown": list(self.grown)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.grown = [int(g) for g in state.get("grown", [])]
