"""Mean-field Gaussian Bayesian layers and an MLP built of them (the model VCL trains).

Every weight and bias has a mean and a log-variance. In training mode a layer draws its
outputs by the local reparameterisation trick (Kingma et al. 2015): the pre-activation of
each row is Gaussian with mean ``x W_mu^T + b_mu`` and variance ``x^2 exp(W_logvar)^T +
exp(b_logvar)``, so one noise draw per output unit and row replaces one per weight. In
eval mode the layers use their means (deterministic); ``BayesianMLP(predict_samples=S)``
averages the logits of ``S`` noisy passes instead. Noise comes from torch's global
generator (as dropout's does).

These modules live here rather than in ``textcl.heads``: the trainer treats the layers of
``textcl.heads`` as mode-free, and these read their train/eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textcl.heads.incremental import IncrementalClassifier
from textcl.heads.mlp import MLPClassifier

INIT_LOGVAR = -6.0
"""Initial log-variance of every weight (standard deviation 0.05, about the size of the
means of a 384-wide layer; the KL term widens what the data do not pin down)."""

GaussianPair = tuple[str, nn.Parameter, nn.Parameter]


def sample_linear(
    x: Tensor, w_mu: Tensor, w_logvar: Tensor, b_mu: Tensor | None, b_logvar: Tensor | None
) -> Tensor:
    """One draw of ``x W^T + b`` for ``W ~ N(w_mu, exp(w_logvar))`` (local reparameterisation)."""
    mean = F.linear(x, w_mu, b_mu)
    var = F.linear(x * x, w_logvar.exp(), None if b_logvar is None else b_logvar.exp())
    return mean + (var + 1e-16).sqrt() * torch.randn_like(mean)


def gaussian_kl(mu: Tensor, logvar: Tensor, prior_mu: Tensor, prior_logvar: Tensor) -> Tensor:
    """``KL(N(mu, e^logvar) || N(prior_mu, e^prior_logvar))`` summed over elements."""
    ratio = (logvar - prior_logvar).exp()
    shift = (mu - prior_mu).pow(2) * (-prior_logvar).exp()
    return 0.5 * (ratio + shift - 1.0 - (logvar - prior_logvar)).sum()


class BayesianLinear(nn.Module):
    """A linear layer with a factorised Gaussian over its weights and bias.

    Means start as ``nn.Linear``'s weights do; log-variances at ``init_logvar``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init_logvar: float = INIT_LOGVAR) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"sizes must be positive, got {in_features}, {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound,
                                                                                      bound))
        self.weight_logvar = nn.Parameter(torch.full((out_features, in_features), init_logvar))
        self.bias_mu: nn.Parameter | None = None
        self.bias_logvar: nn.Parameter | None = None
        if bias:
            self.bias_mu = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
            self.bias_logvar = nn.Parameter(torch.full((out_features,), init_logvar))

    def forward(self, x: Tensor) -> Tensor:
        """A sampled output in training mode, the mean output in eval mode."""
        if self.training:
            return sample_linear(x, self.weight_mu, self.weight_logvar, self.bias_mu,
                                 self.bias_logvar)
        return F.linear(x, self.weight_mu, self.bias_mu)

    def gaussian_pairs(self) -> list[GaussianPair]:
        """``(name of the mean, mean, log-variance)`` of each Gaussian parameter."""
        pairs = [("weight_mu", self.weight_mu, self.weight_logvar)]
        if self.bias_mu is not None and self.bias_logvar is not None:
            pairs.append(("bias_mu", self.bias_mu, self.bias_logvar))
        return pairs

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias_mu is not None}")


class BayesianIncrementalHead(IncrementalClassifier):
    """An :class:`IncrementalClassifier` whose class rows are Gaussian.

    ``weight_blocks`` / ``bias_blocks`` hold the means (so bias correction and weight
    aligning act on them); ``weight_logvar_blocks`` / ``bias_logvar_blocks`` the
    log-variances, one block per growth event. New classes get means as the deterministic
    head draws them and log-variance ``init_logvar``.
    """

    def __init__(self, in_features: int, initial_classes: int = 0, bias: bool = True,
                 init_logvar: float = INIT_LOGVAR) -> None:
        super().__init__(in_features, 0, bias)
        self.init_logvar = init_logvar
        self.weight_logvar_blocks = nn.ParameterList()
        self.bias_logvar_blocks = nn.ParameterList()
        if initial_classes:
            self._add_classes(list(range(initial_classes)), None)
        self.version = 0

    def _add_classes(self, names: list[Hashable], generator: torch.Generator | None) -> None:
        super()._add_classes(names, generator)
        w = self.weight_blocks[-1]
        self.weight_logvar_blocks.append(nn.Parameter(torch.full_like(w, self.init_logvar)))
        if self.has_bias:
            b = self.bias_blocks[-1]
            self.bias_logvar_blocks.append(nn.Parameter(torch.full_like(b, self.init_logvar)))

    def forward(self, x: Tensor) -> Tensor:
        """Sampled logits in training mode, the means' logits in eval mode."""
        if not self.training:
            return super().forward(x)
        if self.n_classes == 0:
            raise RuntimeError("BayesianIncrementalHead has no classes yet: grow(n) first")
        n = len(self.weight_blocks)
        b_mu = list(self.bias_blocks) if self.has_bias else [None] * n
        b_lv = list(self.bias_logvar_blocks) if self.has_bias else [None] * n
        parts = [sample_linear(x, *p) for p in zip(self.weight_blocks, self.weight_logvar_blocks,
                                                   b_mu, b_lv, strict=True)]
        logits = parts[0] if n == 1 else torch.cat(parts, dim=-1)
        return logits * self.logit_scale + self.logit_shift

    def consolidate(self) -> None:
        """Merge all blocks (means and log-variances) into one."""
        if len(self.weight_blocks) <= 1:
            return
        lv = torch.cat([p.detach() for p in self.weight_logvar_blocks])
        self.weight_logvar_blocks = nn.ParameterList([nn.Parameter(lv)])
        if self.has_bias:
            blv = torch.cat([p.detach() for p in self.bias_logvar_blocks])
            self.bias_logvar_blocks = nn.ParameterList([nn.Parameter(blv)])
        super().consolidate()

    def set_input_weights(self, weight: Tensor) -> None:
        """Not supported: the log-variances would not follow."""
        raise NotImplementedError("a Bayesian head cannot change its input width")

    def gaussian_pairs(self) -> list[GaussianPair]:
        """``(name of the mean, mean, log-variance)`` of each Gaussian block."""
        pairs = [(f"weight_blocks.{i}", w, lv) for i, (w, lv) in
                 enumerate(zip(self.weight_blocks, self.weight_logvar_blocks, strict=True))]
        if self.has_bias:
            pairs += [(f"bias_blocks.{i}", b, lv) for i, (b, lv) in
                      enumerate(zip(self.bias_blocks, self.bias_logvar_blocks, strict=True))]
        return pairs


class BayesianMLP(MLPClassifier):
    """An :class:`MLPClassifier` whose body layers are :class:`BayesianLinear`.

    Without ``head`` a :class:`BayesianIncrementalHead` with ``n_classes`` (default 0)
    classes is used, which grows for class-incremental learning. Any other head (a
    deterministic ``IncrementalClassifier``, or a ``MultiHeadClassifier`` with an identity
    body for task-incremental use, called ``forward(x, task=...)``) is trained as usual
    and left out of VCL's KL term. ``predict_samples=0`` predicts with the means;
    ``S > 0`` averages the logits of ``S`` sampled passes in eval mode.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (256,),
        n_classes: int | None = None,
        head: nn.Module | None = None,
        activation: str = "relu",
        init_logvar: float = INIT_LOGVAR,
        predict_samples: int = 0,
    ) -> None:
        if predict_samples < 0:
            raise ValueError(f"predict_samples must be >= 0, got {predict_samples}")
        self.init_logvar = init_logvar  # a float: read by _default_head during __init__
        super().__init__(in_features, hidden, n_classes, head, activation=activation,
                         linear=partial(BayesianLinear, init_logvar=init_logvar))
        self.predict_samples = predict_samples

    def _default_head(self, width: int, n_classes: int) -> nn.Module:
        return BayesianIncrementalHead(width, n_classes, init_logvar=self.init_logvar)

    def forward(self, x: Tensor, **kw: Any) -> Tensor:
        """``head(features(x), **kw)``; in eval mode with ``predict_samples`` the mean of
        that many sampled passes."""
        if self.training or self.predict_samples == 0:
            return self.head(self.features(x), **kw)
        with sampling(self):
            total = self.head(self.features(x), **kw)
            for _ in range(self.predict_samples - 1):
                total = total + self.head(self.features(x), **kw)
        return total / self.predict_samples


@contextmanager
def sampling(model: nn.Module) -> Iterator[None]:
    """Make ``model``'s Bayesian layers sample (as in training), leaving other layers' mode."""
    layers = [m for m in model.modules() if hasattr(m, "gaussian_pairs")]
    before = [m.training for m in layers]
    for m in layers:
        m.training = True
    try:
        yield
    finally:
        for m, mode in zip(layers, before, strict=True):
            m.training = mode


def gaussian_parameters(model: nn.Module) -> list[GaussianPair]:
    """Every ``(name of the mean, mean, log-variance)`` of ``model``'s Bayesian layers,
    named as in ``model.named_parameters()``."""
    out: list[GaussianPair] = []
    for prefix, module in model.named_modules():
        pairs = getattr(module, "gaussian_pairs", None)
        if callable(pairs):
            out += [(f"{prefix}.{name}" if prefix else name, mu, lv) for name, mu, lv in pairs()]
    return out
