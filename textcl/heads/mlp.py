"""An MLP over fixed input features (e.g. cached sentence embeddings) plus a head."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor, nn

from textcl.heads.incremental import IncrementalClassifier
from textcl.heads.multihead import MultiHeadClassifier

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}


class MLPClassifier(nn.Module):
    """``body`` (Linear + activation [+ dropout] per hidden size) followed by ``head``.

    Without ``head`` an :class:`IncrementalClassifier` with ``n_classes`` (default 0)
    classes is used. A :class:`MultiHeadClassifier` head must have an ``nn.Identity``
    body and ``in_features`` equal to the last hidden size (the MLP is the shared body);
    call ``forward(x, task=...)`` then. Keyword arguments of ``forward`` go to the head.
    ``linear(in, out)`` builds each hidden layer (``nn.Linear`` by default; a Bayesian
    layer in ``textcl.cl.bayes.BayesianMLP``).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (256,),
        n_classes: int | None = None,
        head: nn.Module | None = None,
        dropout: float = 0.0,
        activation: str = "relu",
        linear: Callable[[int, int], nn.Module] = nn.Linear,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if head is not None and n_classes is not None:
            raise ValueError("pass either n_classes or head, not both")
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            if size <= 0:
                raise ValueError(f"hidden sizes must be positive, got {list(hidden)}")
            layers += [linear(width, size), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        self.in_features = in_features
        self.feature_dim = width
        self.body: nn.Module = nn.Sequential(*layers) if layers else nn.Identity()
        self.head: nn.Module = (
            head if head is not None else self._default_head(width, n_classes or 0)
        )
        _check_head(self.head, width)

    def _default_head(self, width: int, n_classes: int) -> nn.Module:
        """The head used when none is given: a growing one."""
        return IncrementalClassifier(width, n_classes)

    @property
    def version(self) -> int:
        """The head's ``version`` (0 for heads without one); changes when it grows."""
        return int(getattr(self.head, "version", 0))

    def features(self, x: Tensor) -> Tensor:
        """Penultimate representation ``body(x)``, ``[n, feature_dim]``."""
        return self.body(x)

    def forward(self, x: Tensor, **kw: Any) -> Tensor:
        """``head(features(x), **kw)``."""
        return self.head(self.features(x), **kw)


def _check_head(head: nn.Module, width: int) -> None:
    if isinstance(head, MultiHeadClassifier) and not isinstance(head.body, nn.Identity):
        raise ValueError("a MultiHeadClassifier head must have an nn.Identity body")
    expected = getattr(head, "in_features", width)
    if (
        isinstance(head, IncrementalClassifier | MultiHeadClassifier | nn.Linear)
        and expected != width
    ):
        raise ValueError(f"head expects {expected} input features but the body gives {width}")
