"""Class-incremental bias correction (BiC, weight aligning) and iCaRL's nearest-mean rule.

A head that learns new classes from many new examples and few replayed old ones ends up
biased towards the new classes. These adapters correct that after each task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from textcl.cl.adapter import Adapter
from textcl.cl.buffers import Buffer, HerdingBuffer
from textcl.cl.rows import Inputs, n_rows, take

if TYPE_CHECKING:
    from textcl.cl.trainer import ContinualTrainer


def _growing_head(trainer: ContinualTrainer) -> nn.Module:
    head = getattr(trainer.model, "head", trainer.model)
    if not hasattr(head, "set_correction"):
        raise TypeError(
            "bias correction needs a growing head (textcl.heads.IncrementalClassifier)"
        )
    return head


class WeightAligning(Adapter):
    """Weight Aligning (Zhao et al. 2020): after a task, scale the new classes' weight rows so
    their mean norm equals the old classes'. Needs no extra data."""

    name = "weight_aligning"
    uses_task_rows = False

    def __init__(self) -> None:
        self.old_classes = 0
        self.gammas: list[float] = []

    def before_task(self, trainer, x, y, task) -> None:
        self.old_classes = _growing_head(trainer).n_classes

    def after_task(self, trainer, x, y, task) -> None:
        head = _growing_head(trainer)
        if 0 < self.old_classes < head.n_classes:
            self.gammas.append(float(head.align_weights(self.old_classes)))

    def state_dict(self) -> dict[str, Any]:
        return {"old_classes": self.old_classes, "gammas": list(self.gammas)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.old_classes = int(state.get("old_classes", 0))
        self.gammas = [float(g) for g in state.get("gammas", [])]


class BiC(Adapter):
    """Bias Correction (Wu et al. 2019): a two-parameter linear layer on the new classes'
    logits, fitted on a small held-out set balanced between old and new classes.

    Before training, ``val_per_class`` examples of every new class are held out of the task;
    afterwards ``alpha, beta`` are fitted by cross-entropy on those plus as many stored
    examples per old class from ``buffer``, with the model frozen, and set on the head as
    ``logits[:, new] * alpha + beta``. List ``BiC`` after the ``Replay`` that owns the buffer.
    """

    name = "bic"

    def __init__(self, buffer: Buffer, val_per_class: int = 20, steps: int = 200,
                 lr: float = 0.01) -> None:
        self.buffer = buffer
        self.val_per_class = val_per_class
        self.steps = steps
        self.lr = lr
        self.old_classes = 0
        self.val: tuple[Inputs, Tensor] | None = None
        self.params: list[tuple[float, float]] = []

    def before_task(self, trainer, x, y, task) -> None:
        head = _growing_head(trainer)
        self.old_classes = head.n_classes
        head.reset_correction()

    def prepare(self, trainer, x, y, task) -> tuple[Inputs, Tensor]:
        self.val = None
        if self.old_classes == 0:
            return x, y
        held: list[Tensor] = []
        for c in torch.unique(y).tolist():
            if c < self.old_classes:
                continue
            rows = torch.nonzero(y == c).flatten()
            rows = rows[torch.randperm(len(rows), generator=trainer.generator)]
            if len(rows) > 2 * self.val_per_class:
                held.append(rows[: self.val_per_class])
        if not held:
            return x, y
        hold = torch.cat(held)
        keep = torch.ones(len(y), dtype=torch.bool, device=y.device)
        keep[hold] = False
        self.val = (take(x, hold), y[hold])
        return take(x, torch.nonzero(keep).flatten()), y[keep]

    def after_task(self, trainer, x, y, task) -> None:
        head = _growing_head(trainer)
        if self.val is None or not len(self.buffer) or head.n_classes <= self.old_classes:
            return
        bx, by, _ = self.buffer.contents()
        old_rows = []
        for c in torch.unique(by).tolist():
            if c < self.old_classes:
                rows = torch.nonzero(by == c).flatten()[: self.val_per_class]
                old_rows.append(rows)
        if not old_rows:
            return
        idx = torch.cat(old_rows)
        vx, vy = self.val
        with torch.no_grad():
            logits = torch.cat([trainer.forward(take(bx, idx)), trainer.forward(vx)])
        target = torch.cat([by[idx], vy])
        alpha = torch.ones((), requires_grad=True)
        beta = torch.zeros((), requires_grad=True)
        opt = torch.optim.Adam([alpha, beta], lr=self.lr)
        new = slice(self.old_classes, head.n_classes)
        for _ in range(self.steps):
            corrected = torch.cat(
                [logits[:, : self.old_classes], logits[:, new] * alpha + beta], dim=1
            )
            loss = nn.functional.cross_entropy(corrected, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        a, b = float(alpha.detach()), float(beta.detach())
        head.set_correction(new, a, b)
        self.params.append((a, b))


class NearestMeanOfExemplars(Adapter):
    """iCaRL's classifier: predict the class whose exemplar mean (in the model's normalised
    feature space) is nearest. Means are recomputed after every task from ``buffer``."""

    name = "nme"

    def __init__(self, buffer: Buffer) -> None:
        self.buffer = buffer
        self.means: Tensor | None = None
        self.classes: Tensor | None = None

    def after_task(self, trainer, x, y, task) -> None:
        if not len(self.buffer):
            return
        bx, by, _ = self.buffer.contents()
        feats = HerdingBuffer.features(trainer, bx)
        classes = torch.unique(by)
        means = torch.stack([feats[by == c].mean(0) for c in classes])
        self.means = nn.functional.normalize(means, dim=1)
        self.classes = classes

    def scores(self, trainer, x, task) -> Tensor | None:
        if self.means is None or self.classes is None:
            return None
        head = getattr(trainer.model, "head", trainer.model)
        n_classes = int(getattr(head, "n_classes", int(self.classes.max()) + 1))
        feats = HerdingBuffer.features(trainer, x)
        sims = feats @ self.means.T
        out = torch.full((n_rows(x), n_classes), -1e4, device=sims.device)
        out[:, self.classes] = sims
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"means": self.means, "classes": self.classes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.means, self.classes = state["means"], state["classes"]
