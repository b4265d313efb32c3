"""Training-regime knobs that change how much a network forgets.

Mirzadeh et al. (2020, "Understanding the role of training regimes in continual learning")
found that dropout, a large initial learning rate decayed from task to task, and small
batches widen the minima a task ends in, so later tasks disturb it less. All of these are
plain settings here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn


@dataclass
class TrainConfig:
    """How each task is trained.

    - ``epochs``, ``batch_size``: passes over a task's data and examples per step
      (smaller batches forget less).
    - ``lr``, ``optimizer`` (``adam``, ``adamw``, ``sgd``), ``momentum``, ``weight_decay``.
    - ``lr_schedule`` within a task: ``constant``, ``linear`` (to 0), ``cosine``;
      ``warmup_steps`` ramps up first.
    - ``lr_task_decay``: the learning rate of task *t* is ``lr * lr_task_decay**t``
      (Mirzadeh et al.: start high, decay across tasks).
    - ``grad_clip``: max gradient norm, or None.
    - ``multi_label``: sigmoid + binary cross-entropy over multi-hot targets.
    - ``reset_optimizer``: a fresh optimizer state per task (always when a head grew).
    - ``seed``: shuffling and sampling.
    - ``bias_lr_scale``: the learning rate of biases (1-d parameters) relative to the
      weights'; below 1, class priors move slowly (river's intercept rate is 1/50 of its
      weights' rate), so a burst of one class does not swing every prediction to it.
    - ``stream_task_memory``: in stream use (``ContinualTrainer.learn``), the rows of the
      open task kept for its consolidation at ``end_task`` (a uniform sample).

    Dropout lives in the model (``MLPClassifier(dropout=...)``).
    """

    epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    lr_schedule: Literal["constant", "linear", "cosine"] = "constant"
    warmup_steps: int = 0
    lr_task_decay: float = 1.0
    grad_clip: float | None = None
    multi_label: bool = False
    reset_optimizer: bool = True
    seed: int = 0
    stream_task_memory: int = 1024
    bias_lr_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise ValueError(f"optimizer {self.optimizer!r}: use adam, adamw or sgd")
        if self.lr_schedule not in ("constant", "linear", "cosine"):
            raise ValueError(f"lr_schedule {self.lr_schedule!r}: use constant, linear or cosine")

    def task_lr(self, task_index: int) -> float:
        """Learning rate at the start of task ``task_index`` (0-based)."""
        return self.lr * self.lr_task_decay**task_index

    def build_optimizer(self, params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        """The optimizer named by ``optimizer`` (biases in their own group when
        ``bias_lr_scale`` is not 1)."""
        groups: list[dict] = [{"params": list(params)}]
        if self.bias_lr_scale != 1.0:
            groups = [{"params": [p for p in params if p.dim() > 1]},
                      {"params": [p for p in params if p.dim() <= 1],
                       "lr_scale": self.bias_lr_scale}]
            groups = [g for g in groups if g["params"]]
        if self.optimizer == "sgd":
            return torch.optim.SGD(
                groups, lr=lr, momentum=self.momentum, weight_decay=self.weight_decay
            )
        cls = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
        return cls(groups, lr=lr, weight_decay=self.weight_decay)

    def lr_factor(self, step: int, total: int) -> float:
        """Multiplier of the task's learning rate at ``step`` of ``total``."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(total - self.warmup_steps, 1)
        done = min((step - self.warmup_steps) / span, 1.0)
        if self.lr_schedule == "linear":
            return 1.0 - done
        if self.lr_schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * done))
        return 1.0
