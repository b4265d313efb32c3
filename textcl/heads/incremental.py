"""A linear classification head whose set of classes grows over time."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

INIT_STD = 0.01
"""Standard deviation of the normal init of new class rows (biases start at 0)."""


class IncrementalClassifier(nn.Module):
    """Linear head for class-incremental learning with a label vocabulary.

    Weights are stored in blocks, one per growth event (``weight_blocks`` /
    ``bias_blocks``), and ``forward`` evaluates each block on its own. Growing therefore
    never touches the computation of existing classes: their logits for the same input are
    bit-identical before and after an expansion. New rows are drawn from
    ``N(0, INIT_STD**2)`` with zero bias, so new classes start near-neutral.

    Growth adds parameters: rebuild the optimizer (or add the new parameters to it) after
    growth. ``version`` increases by one on every change of the parameter set, so a
    trainer can compare it with the value it saw when it built its optimizer.

    Per-class buffers ``logit_scale`` (ones) and ``logit_shift`` (zeros) are applied as
    ``logits * logit_scale + logit_shift``; bias correction (BiC) sets them through
    :meth:`set_correction`.
    """

    def __init__(self, in_features: int, initial_classes: int = 0, bias: bool = True) -> None:
        super().__init__()
        if in_features <= 0:
            raise ValueError(f"in_features must be positive, got {in_features}")
        if initial_classes < 0:
            raise ValueError(f"initial_classes must be >= 0, got {initial_classes}")
        self.in_features = in_features
        self.has_bias = bias
        self.version = 0
        self.weight_blocks = nn.ParameterList()
        self.bias_blocks = nn.ParameterList()
        self.register_buffer("logit_scale", torch.ones(0))
        self.register_buffer("logit_shift", torch.zeros(0))
        self._classes: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        if initial_classes:
            self._add_classes(list(range(initial_classes)), None)
        self.version = 0

    # ----------------------------------------------------------------- vocabulary
    @property
    def n_classes(self) -> int:
        """Number of classes (output units)."""
        return len(self._classes)

    @property
    def classes(self) -> list[Hashable]:
        """Class names in output order (a copy)."""
        return list(self._classes)

    def encode(self, labels: Sequence[Hashable] | Tensor, grow: bool = True, *,
               generator: torch.Generator | None = None) -> Tensor:
        """Map labels to class indices (LongTensor), adding unseen labels as new classes
        (their rows drawn from ``generator``, default torch's global one).

        With ``grow=False`` an unseen label raises ``KeyError`` naming it. A tensor of
        labels is read through ``.tolist()``.
        """
        items = labels.tolist() if isinstance(labels, Tensor) else list(labels)
        unseen = list(dict.fromkeys(lab for lab in items if lab not in self._index))
        if unseen and not grow:
            known = self._classes[:20]
            more = "..." if len(self._classes) > 20 else ""
            raise KeyError(
                f"unknown label {unseen[0]!r}; known classes: {known!r}{more} "
                "(pass grow=True to add it)"
            )
        if unseen:
            self._add_classes(unseen, generator)
        return torch.tensor([self._index[lab] for lab in items], dtype=torch.long)

    def decode(self, indices: Iterable[int] | Tensor) -> list[Hashable]:
        """Class names of the given indices."""
        items = indices.tolist() if isinstance(indices, Tensor) else list(indices)
        return [self._classes[int(i)] for i in items]

    def grow(self, n_new: int, *, generator: torch.Generator | None = None) -> None:
        """Add ``n_new`` output units, named by their integer index."""
        if n_new <= 0:
            raise ValueError(f"n_new must be positive, got {n_new}")
        start = self.n_classes
        names = list(range(start, start + n_new))
        clash = [name for name in names if name in self._index]
        if clash:
            raise ValueError(
                f"cannot name new classes by index: {clash[0]!r} is already the name of "
                f"class {self._index[clash[0]]}; use encode() with explicit labels"
            )
        self._add_classes(names, generator)

    def _add_classes(self, names: list[Hashable], generator: torch.Generator | None) -> None:
        ref = self.logit_scale
        dtype = self.weight_blocks[0].dtype if len(self.weight_blocks) else ref.dtype
        n_new = len(names)
        w = torch.empty(n_new, self.in_features, dtype=dtype)
        w.normal_(0.0, INIT_STD, generator=generator)
        self.weight_blocks.append(nn.Parameter(w.to(ref.device)))
        if self.has_bias:
            self.bias_blocks.append(
                nn.Parameter(torch.zeros(n_new, dtype=dtype, device=ref.device))
            )
        self.logit_scale = torch.cat([self.logit_scale, ref.new_ones(n_new)])
        self.logit_shift = torch.cat([self.logit_shift, ref.new_zeros(n_new)])
        for name in names:
            self._index[name] = len(self._classes)
            self._classes.append(name)
        self.version += 1

    # ----------------------------------------------------------------- parameters
    @property
    def weight(self) -> Tensor:
        """All class rows as one ``[n_classes, in_features]`` tensor (differentiable copy)."""
        if not len(self.weight_blocks):
            return self.logit_scale.new_zeros(0, self.in_features)
        return torch.cat(list(self.weight_blocks))

    @property
    def bias(self) -> Tensor | None:
        """All biases as one ``[n_classes]`` tensor, or None without bias."""
        if not self.has_bias:
            return None
        if not len(self.bias_blocks):
            return self.logit_scale.new_zeros(0)
        return torch.cat(list(self.bias_blocks))

    def _row_blocks(self) -> list[tuple[int, nn.Parameter]]:
        out, start = [], 0
        for w in self.weight_blocks:
            out.append((start, w))
            start += w.shape[0]
        return out

    def set_input_weights(self, weight: Tensor) -> None:
        """Replace the weights with ``weight`` of shape ``[n_classes, m]``, setting
        ``in_features`` to ``m`` (for a layer below that gained or lost units).

        Block structure and biases are kept; ``version`` increases.
        """
        if weight.dim() != 2 or weight.shape[0] != self.n_classes:
            raise ValueError(f"expected a [{self.n_classes}, m] weight, got {tuple(weight.shape)}")
        sizes = [w.shape[0] for w in self.weight_blocks]
        parts = torch.split(weight.detach(), sizes) if sizes else ()
        self.weight_blocks = nn.ParameterList(nn.Parameter(p.clone()) for p in parts)
        self.in_features = weight.shape[1]
        self.version += 1

    def consolidate(self) -> None:
        """Merge all weight blocks into one (faster with many blocks; from then on old
        logits are no longer bit-stable across growth). Increases ``version``."""
        if len(self.weight_blocks) <= 1:
            return
        w, b = self.weight.detach(), self.bias
        self.weight_blocks = nn.ParameterList([nn.Parameter(w.clone())])
        if b is not None:
            self.bias_blocks = nn.ParameterList([nn.Parameter(b.detach().clone())])
        self.version += 1

    # ----------------------------------------------------------------- corrections
    def set_correction(
        self, class_indices: Sequence[int] | slice, scale: float, shift: float
    ) -> None:
        """Set ``logit_scale``/``logit_shift`` of the chosen classes (BiC correction)."""
        idx = class_indices if isinstance(class_indices, slice) else list(class_indices)
        self.logit_scale[idx] = scale
        self.logit_shift[idx] = shift

    def reset_correction(self) -> None:
        """Reset every class's correction to scale 1, shift 0."""
        self.logit_scale.fill_(1.0)
        self.logit_shift.fill_(0.0)

    @torch.no_grad()
    def align_weights(self, old_classes: int) -> float:
        """Weight Aligning (Zhao et al., 2020): scale rows ``old_classes..n-1`` by
        ``gamma = mean ||w_old|| / mean ||w_new||`` and return gamma.

        Only weights are rescaled, as in the paper; biases are left alone. Returns 1.0
        without change when there are no old or no new classes (or new rows are zero).
        """
        if not 0 <= old_classes <= self.n_classes:
            raise ValueError(f"old_classes must be in [0, {self.n_classes}], got {old_classes}")
        if old_classes == 0 or old_classes == self.n_classes:
            return 1.0
        norms = self.weight.norm(dim=1)
        new_mean = norms[old_classes:].mean()
        if new_mean == 0:
            return 1.0
        gamma = (norms[:old_classes].mean() / new_mean).item()
        for start, w in self._row_blocks():
            lo = max(old_classes - start, 0)
            if lo < w.shape[0]:
                w[lo:] *= gamma
        return gamma

    # ----------------------------------------------------------------- forward
    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[n, n_classes]``, with the per-class correction applied."""
        if self.n_classes == 0:
            raise RuntimeError(
                "IncrementalClassifier has no classes yet: call encode(labels) or grow(n) first"
            )
        biases = list(self.bias_blocks) if self.has_bias else [None] * len(self.weight_blocks)
        parts = [F.linear(x, w, b) for w, b in zip(self.weight_blocks, biases, strict=True)]
        logits = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        return logits * self.logit_scale + self.logit_shift

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, n_classes={self.n_classes}, bias={self.has_bias}"
