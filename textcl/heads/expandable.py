"""An MLP whose hidden layers can gain, lose and split units (for DEN)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textcl.heads.incremental import IncrementalClassifier


def _linear(weight: Tensor, bias: Tensor) -> nn.Linear:
    out_f, in_f = weight.shape
    layer = nn.utils.skip_init(nn.Linear, in_f, out_f, device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


def _rewire_inputs(cur: Tensor, ref: Tensor, split: Tensor) -> Tensor:
    """Input columns after the layer below split units ``split``: the originals' columns
    go back to the reference on rows the reference has (zero on later rows); each
    duplicate gets a new column holding the current weights."""
    out = cur.clone()
    out[:, split] = 0.0
    out[: ref.shape[0], split] = ref[:, split].to(out)
    return torch.cat([out, cur[:, split]], dim=1)


def _head_weight(reference: dict[str, Tensor]) -> Tensor:
    prefix = "head.weight_blocks."
    blocks = {int(k[len(prefix) :]): v for k, v in reference.items() if k.startswith(prefix)}
    if not blocks:
        raise KeyError("reference lacks the head's weights; take it with snapshot()")
    return torch.cat([blocks[i] for i in sorted(blocks)])


class ExpandableMLP(nn.Module):
    """ReLU MLP ``in_features -> hidden... -> IncrementalClassifier`` that can grow.

    Hidden layers are the ``nn.Linear`` modules in ``layers``; the output layer ``head``
    is an :class:`IncrementalClassifier`, so classes can be added too. Every structural
    change replaces parameters and increases ``version``: rebuild the optimizer then.
    """

    def __init__(
        self, in_features: int, hidden: Sequence[int] = (64, 64), n_classes: int = 2
    ) -> None:
        super().__init__()
        if not hidden or any(h <= 0 for h in hidden):
            raise ValueError(f"need at least one positive hidden size, got {list(hidden)}")
        self.in_features = in_features
        self.layers = nn.ModuleList()
        width = in_features
        for size in hidden:
            self.layers.append(nn.Linear(width, size))
            width = size
        self.head = IncrementalClassifier(width, n_classes)
        self.version = 0

    @property
    def hidden_sizes(self) -> list[int]:
        """Number of units of each hidden layer."""
        return [layer.out_features for layer in self.layers]

    def features(self, x: Tensor) -> Tensor:
        """Output of the last hidden layer."""
        for layer in self.layers:
            x = F.relu(layer(x))
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[n, n_classes]``."""
        return self.head(self.features(x))

    def snapshot(self) -> dict[str, Tensor]:
        """A detached copy of the state dict (``state_dict()`` alone shares storage)."""
        return {k: v.detach().clone() for k, v in self.state_dict().items()}

    def group_norms(self, layer: int) -> Tensor:
        """L2 norm of each unit's incoming weights in hidden ``layer`` (differentiable)."""
        return self.layers[layer].weight.norm(dim=1)

    def _set_inputs(self, layer: int, weight: Tensor) -> None:
        """Replace the input weights of the consumer of hidden ``layer``'s units."""
        if layer + 1 < len(self.layers):
            nxt = self.layers[layer + 1]
            self.layers[layer + 1] = _linear(weight, nxt.bias.detach())
        else:
            self.head.set_input_weights(weight)

    def _consumer_weight(self, layer: int) -> Tensor:
        if layer + 1 < len(self.layers):
            return self.layers[layer + 1].weight.detach()
        return self.head.weight.detach()

    @torch.no_grad()
    def expand(self, k: int, *, generator: torch.Generator | None = None) -> list[range]:
        """Add ``k`` units to every hidden layer; return the unit indices added per layer.

        A new unit's incoming weights (from all units below, new ones included) are drawn
        like ``nn.Linear``'s, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, with zero bias;
        the weights from new units into the next layer's existing units and into the head
        are zero, so the network's function is unchanged right after expansion.
        """
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        added: list[range] = []
        prev_new = 0
        for i, layer in enumerate(self.layers):
            w, b = layer.weight.detach(), layer.bias.detach()
            out_f, in_f = w.shape
            fan_in = in_f + prev_new
            bound = 1.0 / math.sqrt(fan_in)
            new_w = torch.empty(k, fan_in, dtype=w.dtype).uniform_(
                -bound, bound, generator=generator
            )
            old_rows = torch.cat([w, w.new_zeros(out_f, prev_new)], dim=1)
            weight = torch.cat([old_rows, new_w.to(w.device)])
            self.layers[i] = _linear(weight, torch.cat([b, b.new_zeros(k)]))
            added.append(range(out_f, out_f + k))
            prev_new = k
        head_w = self.head.weight.detach()
        self.head.set_input_weights(torch.cat([head_w, head_w.new_zeros(head_w.shape[0], k)], 1))
        self.version += 1
        return added

    @torch.no_grad()
    def prune_units(self, layer: int, units: Sequence[int]) -> None:
        """Remove ``units`` from hidden ``layer`` (their incoming rows and outgoing columns)."""
        n = self.layers[layer].out_features
        drop = set(units)
        if not drop:
            return
        bad = [u for u in drop if not 0 <= u < n]
        if bad:
            raise IndexError(f"units {sorted(bad)} out of range for a layer of {n} units")
        if len(drop) == n:
            raise ValueError(f"cannot remove all {n} units of hidden layer {layer}")
        keep = torch.tensor([u for u in range(n) if u not in drop], dtype=torch.long)
        lin = self.layers[layer]
        keep = keep.to(lin.weight.device)
        self.layers[layer] = _linear(lin.weight.detach()[keep], lin.bias.detach()[keep])
        self._set_inputs(layer, self._consumer_weight(layer)[:, keep])
        self.version += 1

    @torch.no_grad()
    def split_drifted(self, reference: dict[str, Tensor], sigma: float) -> int:
        """DEN's split/duplicate step; returns the number of units split.

        ``reference`` is a :meth:`snapshot` taken before training the new task; units
        present in it are the first rows of each layer (growth only appends, so old units
        must not have been pruned since). A unit drifted when the L2 distance between its
        current incoming weights and bias and the reference (zero for inputs added since)
        exceeds ``sigma``. Such a unit is duplicated: the duplicate, appended to the layer,
        takes the current incoming weights (reading duplicates below in place of their
        originals) and the current outgoing weights; the original gets its reference
        incoming weights and bias back, and its outgoing weights go back to the reference
        on rows the reference has and to zero on rows added since.
        """
        refs = []
        for i, layer in enumerate(self.layers):
            rw, rb = (reference.get(f"layers.{i}.{name}") for name in ("weight", "bias"))
            if rw is None or rb is None:
                raise KeyError(f"reference lacks layers.{i}; take it with snapshot()")
            if rw.shape[0] > layer.out_features or rw.shape[1] > layer.in_features:
                raise ValueError(f"layer {i} is smaller than in the reference; was it pruned?")
            refs.append((rw.to(layer.weight), rb.to(layer.weight)))
        head_ref = _head_weight(reference)
        drifted = []
        for layer, (rw, rb) in zip(self.layers, refs, strict=True):
            n_ref, in_ref = rw.shape
            w, b = layer.weight.detach()[:n_ref], layer.bias.detach()[:n_ref]
            dw = w.clone()
            dw[:, :in_ref] -= rw
            dist = (dw.pow(2).sum(1) + (b - rb).pow(2)).sqrt()
            drifted.append(torch.nonzero(dist > sigma).flatten())
        total = sum(len(d) for d in drifted)
        if total == 0:
            return 0
        below = torch.empty(0, dtype=torch.long, device=refs[0][0].device)
        for i, ((rw, rb), split) in enumerate(zip(refs, drifted, strict=True)):
            lin = self.layers[i]
            w = _rewire_inputs(lin.weight.detach(), rw, below)
            b = lin.bias.detach().clone()
            dup_w, dup_b = w[split].clone(), b[split].clone()
            dup_w[:, below] = 0.0
            w[split] = 0.0
            w[split, : rw.shape[1]] = rw[split]
            b[split] = rb[split]
            self.layers[i] = _linear(torch.cat([w, dup_w]), torch.cat([b, dup_b]))
            below = split
        head_w = self.head.weight.detach()
        self.head.set_input_weights(_rewire_inputs(head_w, head_ref.to(head_w), below))
        self.version += 1
        return total
