"""Contextual vectors from :class:`~textcl.transformer.model.ContinualTransformer`.

One mean-pooled vector per text (:meth:`sentence_embeddings`) or one per occurrence of a
term (:meth:`term_embeddings`), both from the last hidden state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


class _EmbeddingMixin:
    """Embedding helpers; uses ``encode`` and the model of the main class."""

    @torch.no_grad()
    def _hidden(self, enc: dict[str, Tensor]) -> Tensor:
        model, _ = self._require()
        model.eval()
        base = model.base_model
        ids = enc["input_ids"].to(self.device)
        att = enc["attention_mask"].to(self.device)
        return base(input_ids=ids, attention_mask=att).last_hidden_state

    def sentence_embeddings(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """One vector per text: the last hidden state mean-pooled over the attention mask."""
        model, _ = self._require()
        dim = model.config.hidden_size
        out = [np.zeros((0, dim), dtype=np.float32)]
        for start in range(0, len(texts), batch_size):
            enc = self.encode(texts[start : start + batch_size])
            hidden = self._hidden(enc)
            mask = enc["attention_mask"].to(hidden.device, hidden.dtype).unsqueeze(-1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(pooled.float().cpu().numpy())
        return np.concatenate(out)

    def term_embeddings(
        self, texts: Sequence[str], term: str, batch_size: int = 128
    ) -> np.ndarray:
        """Contextual vectors of ``term``'s occurrences in ``texts``, ``[occurrences, d]``.

        An occurrence is a case-insensitive whole-word match (not inside a longer word);
        its vector is the mean of the last hidden states of the sub-tokens covering it.
        Texts without the term, and occurrences cut off by ``max_length``, are skipped.
        """
        model, _ = self._require()
        pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
        spans = [(t, [m.span() for m in pattern.finditer(t)]) for t in texts]
        spans = [(t, s) for t, s in spans if s]
        vectors: list[Tensor] = []
        for start in range(0, len(spans), batch_size):
            part = spans[start : start + batch_size]
            enc = self.encode([t for t, _ in part], offsets=True)
            hidden = self._hidden(enc).float().cpu()
            offsets = enc["offset_mapping"]
            special = enc["special_tokens_mask"].bool()
            for row, (_, occurrences) in enumerate(part):
                lo, hi = offsets[row, :, 0], offsets[row, :, 1]
                for a, b in occurrences:
                    cover = (lo < b) & (hi > a) & ~special[row]
                    if cover.any():
                        vectors.append(hidden[row][cover].mean(0))
        if not vectors:
            return np.zeros((0, model.config.hidden_size), dtype=np.float32)
        return torch.stack(vectors).numpy()
