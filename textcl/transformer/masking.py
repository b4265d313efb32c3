"""BERT-style masking of token rows: which positions the masked LM must predict.

:func:`mask_tokens` applies the 80/10/10 rule with a seeded generator; labels are
``IGNORE`` (``-100``) where nothing is predicted.
"""

from __future__ import annotations

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

IGNORE = -100


def mask_tokens(
    input_ids: Tensor,
    special_mask: Tensor,
    mask_id: int,
    vocab_size: int,
    probability: float,
    generator: torch.Generator,
    first_regular_id: int = 0,
) -> tuple[Tensor, Tensor]:
    """BERT masking (``DataCollatorForLanguageModeling`` semantics) with a seeded generator.

    Each non-special token is chosen with ``probability``; of those, 80 % become
    ``[MASK]``, 10 % a random regular token, 10 % stay. Every row with a maskable token gets
    at least one prediction target. Returns ``(masked_ids, labels)``; labels are ``-100``
    where nothing is predicted.
    """
    ids = input_ids.clone()
    maskable = ~special_mask.bool()
    chosen = (torch.rand(ids.shape, generator=generator) < probability) & maskable
    # rows left without a target get one at a random maskable position
    empty = ~chosen.any(1) & maskable.any(1)
    if empty.any():
        pick = torch.rand(ids.shape, generator=generator).masked_fill(~maskable, -1.0).argmax(1)
        rows = empty.nonzero().squeeze(1)
        chosen[rows, pick[rows]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    draw = torch.rand(ids.shape, generator=generator)
    to_mask = chosen & (draw < 0.8)
    to_random = chosen & (draw >= 0.8) & (draw < 0.9)
    random_ids = torch.randint(first_regular_id, vocab_size, ids.shape, generator=generator)
    ids[to_mask] = mask_id
    ids[to_random] = random_ids[to_random]
    return ids, labels


def _first_regular_id(tok: PreTrainedTokenizerBase) -> int:
    """The first non-special id when the special tokens take ids ``0..k-1``, else 0."""
    special = sorted(set(tok.all_special_ids))
    if special == list(range(len(special))) and len(tok) > len(special):
        return len(special)
    return 0
