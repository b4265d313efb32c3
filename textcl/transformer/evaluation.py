"""How well :class:`~textcl.transformer.model.ContinualTransformer` models some texts.

:meth:`masked_lm_loss` (fixed-seed masks, comparable between calls) and
:meth:`pseudo_perplexity` (one masked token per forward pass).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from textcl.transformer.training import _trim


class _EvaluationMixin:
    """Evaluation methods; uses ``mask``, ``encode``, the model and trainer of the main class."""

    def masked_lm_loss(self, texts: Sequence[str], seed: int | None = None) -> float:
        """Mean MLM loss per predicted token, with masks from a fresh generator seeded by
        ``seed`` (default: the model's seed), so calls on the same texts are comparable."""
        self._require()
        assert self.trainer is not None
        gen = torch.Generator().manual_seed(self.seed if seed is None else seed)
        x, y = self.mask(texts, generator=gen)
        return self.trainer.evaluate(x, y)

    @torch.no_grad()
    def pseudo_perplexity(
        self, texts: Sequence[str], max_tokens: int = 2000, batch_size: int = 128
    ) -> float:
        """Pseudo-perplexity (Salazar et al. 2020): ``exp`` of the mean negative
        log-likelihood of each token with only that token masked, over at most
        ``max_tokens`` tokens (texts in order). One forward pass per token: small sets."""
        model, tok = self._require()
        model.eval()
        rows: list[Tensor] = []
        targets: list[int] = []
        positions: list[int] = []
        masks: list[Tensor] = []
        enc = self.encode(texts)
        for i in range(len(texts)):
            ids, att = enc["input_ids"][i], enc["attention_mask"][i]
            for pos in (~enc["special_tokens_mask"][i].bool()).nonzero().squeeze(1).tolist():
                if len(targets) >= max_tokens:
                    break
                masked = ids.clone()
                masked[pos] = tok.mask_token_id
                rows.append(masked)
                masks.append(att)
                targets.append(int(ids[pos]))
                positions.append(pos)
        if not targets:
            return float("nan")
        nll = 0.0
        for start in range(0, len(targets), batch_size):
            end = min(start + batch_size, len(targets))
            x = {
                "input_ids": torch.stack(rows[start:end]).to(self.device),
                "attention_mask": torch.stack(masks[start:end]).to(self.device),
            }
            logits = model(**_trim(x)).logits
            pos = torch.tensor(positions[start:end], device=logits.device)
            picked = logits[torch.arange(end - start, device=logits.device), pos]
            logp = torch.log_softmax(picked.float(), -1)
            tgt = torch.tensor(targets[start:end], device=logits.device)
            nll -= float(logp.gather(1, tgt.unsqueeze(1)).sum())
        return math.exp(nll / len(targets))
