"""Build each parameter-isolation method as ``(model, adapters)`` for
``ContinualTrainer(model, adapters, config)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from textcl.cl.adapter import Adapter
from textcl.cl.isolation.base import TaskModel
from textcl.cl.isolation.cpg import CPG, CPGMLP
from textcl.cl.isolation.packnet import PackNet, PackNetMLP
from textcl.cl.isolation.piggyback import PiggybackMLP
from textcl.cl.isolation.pnn import ProgressiveNet

Method = tuple[TaskModel, list[Adapter]]


def make_progressive(
    in_features: int, hidden: Sequence[int] = (64,), activation: str = "relu"
) -> Method:
    """Progressive network with ``hidden`` sizes per column; no adapter needed."""
    return ProgressiveNet(in_features, hidden, activation), []


def make_packnet(
    in_features: int,
    hidden: Sequence[int] = (256,),
    keep: float | Sequence[float] = 0.5,
    retrain_epochs: int = 1,
    retrain_lr_scale: float = 1.0,
    activation: str = "relu",
) -> Method:
    """PackNet body with the :class:`PackNet` adapter (which the model needs)."""
    return PackNetMLP(in_features, hidden, activation), [
        PackNet(keep, retrain_epochs, retrain_lr_scale)]


def make_piggyback(
    in_features: int,
    hidden: Sequence[int] | None = (256,),
    backbone: nn.Module | Sequence[nn.Linear] | None = None,
    threshold: float = 5e-3,
    init_score: float = 1e-2,
    activation: str = "relu",
) -> Method:
    """Piggyback masks over a frozen backbone (random unless ``backbone`` is given, whose
    sizes then win over ``hidden``); no adapter needed."""
    if backbone is not None:
        hidden = None
    return PiggybackMLP(in_features, hidden, backbone, threshold, init_score, activation), []


def make_cpg(
    in_features: int,
    hidden: Sequence[int] = (256,),
    keep: float | Sequence[float] = 0.5,
    retrain_epochs: int = 1,
    retrain_lr_scale: float = 1.0,
    grow: int = 32,
    min_free: float = 0.05,
    target: float | None = None,
    grow_epochs: int | None = None,
    max_grows: int = 1,
    threshold: float = 5e-3,
    init_score: float = 1e-2,
    activation: str = "relu",
) -> Method:
    """CPG body (PackNet's owners, Piggyback's masks over earlier tasks' weights, growable
    hidden layers) with the :class:`CPG` adapter (which the model needs)."""
    model = CPGMLP(in_features, hidden, threshold, init_score, activation)
    return model, [CPG(keep, retrain_epochs, retrain_lr_scale, grow, min_free, target,
                       grow_epochs, max_grows)]


ISOLATION_METHODS: dict[str, Callable[..., Method]] = {
    "pnn": make_progressive,
    "packnet": make_packnet,
    "piggyback": make_piggyback,
    "cpg": make_cpg,
}


def make_isolation(method: str, in_features: int, **options: Any) -> Method:
    """``(model, adapters)`` of ``method`` (a key of :data:`ISOLATION_METHODS`);
    ``options`` go to its factory."""
    if method not in ISOLATION_METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {list(ISOLATION_METHODS)}")
    return ISOLATION_METHODS[method](in_features, **options)
