"""Vocabulary growth of :class:`~textcl.transformer.model.ContinualTransformer`.

:meth:`grow_vocab` adds frequent words the tokenizer splits into pieces as whole-word
tokens, each new embedding row the mean of its old pieces' rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import torch
from tokenizers import AddedToken

_WORD = re.compile(r"#?\w+")


class _VocabMixin:
    """Vocabulary growth; uses the model, tokenizer and trainer of the main class."""

    def _candidate_words(self, texts: Sequence[str]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_WORD.findall(text.lower() if self.lowercase else text))
        return counts

    @torch.no_grad()
    def grow_vocab(
        self, texts: Sequence[str], min_count: int = 5, max_new: int = 200
    ) -> list[str]:
        """Add frequent words/hashtags that the tokenizer splits into 2+ pieces.

        Words (``#?\\w+``, lower-cased when the tokenizer lower-cases) seen at least
        ``min_count`` times are added, most frequent first, up to ``max_new``, as
        whole-word tokens (they never match inside a longer word). The embedding matrix
        grows; each new row (input embedding, and output embedding/bias when untied) is the
        mean of the rows of the pieces the word used to be split into. Old rows are
        unchanged. Returns the added words.
        """
        model, tok = self._require()
        vocab = tok.get_vocab()
        chosen: list[tuple[str, list[int]]] = []
        counts = self._candidate_words(texts)
        for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if n < min_count or len(chosen) >= max_new:
                break
            if word in vocab or word.isdigit():
                continue
            pieces = tok(word, add_special_tokens=False)["input_ids"]
            if len(pieces) < 2 or tok.unk_token_id in pieces:
                continue
            chosen.append((word, pieces))
        if not chosen:
            return []
        old_n = model.get_input_embeddings().weight.shape[0]
        added = tok.add_tokens(
            [AddedToken(w, single_word=True, normalized=True) for w, _ in chosen]
        )
        if added != len(chosen):
            raise RuntimeError(f"tokenizer added {added} of {len(chosen)} new words")
        model.resize_token_embeddings(len(tok), mean_resizing=False)
        new_ids = [tok.convert_tokens_to_ids(w) for w, _ in chosen]
        emb = model.get_input_embeddings().weight
        out = model.get_output_embeddings()
        untied = out is not None and out.weight.data_ptr() != emb.data_ptr()
        bias = getattr(out, "bias", None) if out is not None else None
        for (_, pieces), new in zip(chosen, new_ids, strict=True):
            if new < old_n:
                raise RuntimeError(f"new token id {new} collides with an existing row")
            emb[new] = emb[pieces].mean(0)
            if untied:
                out.weight[new] = out.weight[pieces].mean(0)
            if bias is not None and bias.shape[0] > new:
                bias[new] = bias[pieces].mean(0)
        model.config.vocab_size = len(tok)
        assert self.trainer is not None
        self.trainer.model.version += 1  # new embedding parameters: rebuild the optimizer
        self.added_words.extend(w for w, _ in chosen)
        return [w for w, _ in chosen]
