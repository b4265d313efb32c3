"""A classifier over sparse hashed n-gram rows (:mod:`textcl.features.hashed`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from textcl.features.hashed import densify
from textcl.heads.incremental import IncrementalClassifier
from textcl.heads.mlp import MLPClassifier


class HashedRows(nn.Module):
    """``{"ids", "weights"}`` rows to dense ``[n, n_features]`` (no parameters)."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.n_features = n_features

    def forward(self, x: dict[str, Tensor]) -> Tensor:
        return densify(x, self.n_features)


class HashedTextClassifier(MLPClassifier):
    """An :class:`MLPClassifier` whose input is sparse hashed rows.

    ``hidden=()`` (the default) is a linear model over the hashed n-grams: multinomial
    logistic regression whose :class:`~textcl.heads.IncrementalClassifier` head grows when
    an unseen label arrives. Its logits are computed from the rows' own terms (a gather
    of ``max_terms`` weight columns, not a dense ``n_features`` product), so scoring
    thousands of tweets costs little. Replay memories store the sparse rows.
    """

    def __init__(self, n_features: int, hidden: Sequence[int] = (), dropout: float = 0.0,
                 activation: str = "relu") -> None:
        super().__init__(n_features, hidden, n_classes=0, dropout=dropout,
                         activation=activation)
        self.rows = HashedRows(n_features)

    def features(self, x: dict[str, Tensor]) -> Tensor:  # type: ignore[override]
        """Penultimate representation of sparse rows, ``[n, feature_dim]``."""
        return self.body(self.rows(x))

    def forward(self, x: dict[str, Tensor], **kw: Any) -> Tensor:  # type: ignore[override]
        """Logits ``[n, n_classes]``."""
        head = self.head
        if not isinstance(self.body, nn.Identity) or not isinstance(head, IncrementalClassifier):
            return super().forward(x, **kw)
        if head.n_classes == 0:
            return head(x["weights"].new_zeros(len(x["weights"]), self.in_features))
        # each logit sums weight x column over the row's terms, class by class, so the
        # known classes' logits stay bit-identical when the head grows (contract-tested);
        # a gather of the rows' columns: its backward is half embedding_bag's here
        logits = (head.weight[:, x["ids"]] * x["weights"]).sum(-1).t()
        if head.bias is not None:
            logits = logits + head.bias
        return logits * head.logit_scale + head.logit_shift
