"""``ContinualTransformer``: a masked language model that keeps adapting, window by window.

Training runs through :class:`textcl.cl.ContinualTrainer`, so the continual-learning
adapters of :mod:`textcl.cl` (EWC, MAS, SI, replay, A-GEM, ...) plug in unchanged::

    from textcl.cl import EWC, Replay, ReservoirBuffer

    lm = ContinualTransformer(adapters=[Replay(ReservoirBuffer(2000)), EWC(lam=10.0)])
    for window in windows:                       # lists of tweet texts
        lm.update(window)                        # one fit_task per call
    vectors = lm.term_embeddings(texts, "crash")

Each text is padded to ``max_length`` and masked *before* it enters the trainer (BERT's
80/10/10 rule, a seeded generator), so the trainer's inputs are
``{"input_ids", "attention_mask"}`` rows of one fixed width and its targets are ``[n, L]``
label rows (``-100`` where nothing is predicted); a replay buffer therefore stores and
replays rows with their masks. Without ``model_path`` a tiny BERT and a WordPiece tokenizer
are built from the first window's texts.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import AddedToken
from torch import Tensor, nn
from transformers import (
    AutoModelForMaskedLM,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from textcl.checkpoint import read_format_json
from textcl.cl.adapter import Adapter
from textcl.cl.regime import TrainConfig
from textcl.cl.rows import Inputs, n_rows, take, to_device
from textcl.cl.trainer import ContinualTrainer, FitReport
from textcl.transformer.tokenizer import train_wordpiece

FORMAT = "textcl-transformer"
FORMAT_VERSION = 1
META_NAME = "textcl_transformer.json"
IGNORE = -100

DEFAULT_CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "type_vocab_size": 1,
    "attn_implementation": "eager",  # vmap-friendly, and as fast as SDPA at this size
}

_WORD = re.compile(r"#?\w+")


# ----------------------------------------------------------------------- trainer glue
class MaskedLMModule(nn.Module):
    """``module({"input_ids", "attention_mask"}) -> logits [n, L, V]`` around a masked LM.

    ``version`` goes up whenever the vocabulary grows, so the trainer rebuilds its optimizer
    around the new embedding parameters.
    """

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model
        self.version = 0

    def forward(self, x: Inputs) -> Tensor:
        if isinstance(x, Tensor):
            return self.model(input_ids=x).logits
        return self.model(
            input_ids=x["input_ids"], attention_mask=self.additive_mask(x["attention_mask"])
        ).logits

    def additive_mask(self, attention_mask: Tensor) -> Tensor:
        """The ``[n, 1, 1, L]`` additive mask (0 to attend, dtype minimum for padding).

        A prepared 4-D mask is used as-is by Hugging Face models, which skips their
        data-dependent "is there any padding" check, so ``torch.func.vmap`` can trace the
        model (per-example gradients for EWC/MAS instead of a slow per-example loop).
        """
        dtype = next(self.model.parameters()).dtype
        keep = attention_mask[:, None, None, :].to(dtype)
        return (1.0 - keep) * torch.finfo(dtype).min


def _trim(x: Inputs) -> Inputs:
    """Drop the trailing columns that are padding in every row (same result, less work)."""
    if not isinstance(x, dict) or "attention_mask" not in x:
        return x
    width = int(x["attention_mask"].sum(1).max().item()) if n_rows(x) else 0
    width = max(width, 1)
    if width >= x["attention_mask"].shape[1]:
        return x
    return {k: v[:, :width] for k, v in x.items()}


def mlm_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy over the predicted (non ``-100``) positions.

    ``logits`` is ``[n, L', V]`` with ``L' <= L`` (trailing padding trimmed), ``labels``
    ``[n, L]``. A batch with no predicted position has loss 0 (not NaN).
    """
    labels = labels[:, : logits.shape[1]]
    total = nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(),
        labels.reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )
    return total / (labels != IGNORE).sum().clamp(min=1)


class MLMTrainer(ContinualTrainer):
    """A :class:`ContinualTrainer` whose targets are MLM label rows ``[n, L]``.

    There are no class heads to grow; ``evaluate`` returns the mean masked-LM loss (lower
    is better). Prediction helpers (``scores``/``predict``) are not meaningful here.
    """

    def forward(self, x: Inputs, task: Hashable | None = None) -> Tensor:
        return self.model(_trim(x))

    def loss_fn(self, logits: Tensor, y: Tensor) -> Tensor:
        return mlm_loss(logits, y)

    def _grow_heads(self, y: Tensor, task: Hashable | None, n_classes: int | None) -> None:
        self.model.to(self.device)

    @torch.no_grad()
    def evaluate(
        self, x: Inputs, y: Tensor, task: Hashable | None = None, batch_size: int = 256
    ) -> float:
        """Mean masked-LM loss per predicted token on ``(x, y)``."""
        self.model.eval()
        x, y = to_device(x, self.device), y.to(self.device)
        total, count = 0.0, 0
        for start in range(0, len(y), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(y)), device=y.device)
            logits = self.forward(take(x, idx))
            labels = y[idx][:, : logits.shape[1]]
            n = int((labels != IGNORE).sum())
            total += float(mlm_loss(logits, labels)) * n
            count += n
        return total / count if count else float("nan")


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


# ----------------------------------------------------------------------- the model
class ContinualTransformer:
    """A masked-LM (BERT-style) that keeps training on a tweet stream, window by window.

    - ``model_path``: a local folder with a Hugging Face masked LM and its tokenizer (e.g.
      one written by :meth:`save`); nothing is downloaded. Without it a tiny BERT
      (``DEFAULT_CONFIG`` updated with ``config``) and a WordPiece tokenizer of
      ``vocab_size`` are built on the first :meth:`update` from that window's texts
      (or from ``tokenizer`` when given).
    - ``max_length``: every text is truncated/padded to this many tokens.
    - ``batch_size``, ``lr``, ``epochs``, ``weight_decay``, ``grad_clip``: training settings
      (AdamW, one :meth:`ContinualTrainer.fit_task` per :meth:`update`).
    - ``mlm_probability``: share of tokens predicted.
    - ``adapters``: :mod:`textcl.cl` adapters (EWC, replay, ...).
    - ``grow_every``: every ``grow_every``-th window (after the first), :meth:`grow_vocab`
      runs on that window's texts before training (``grow_min_count``, ``grow_max_new``).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        config: dict[str, Any] | None = None,
        max_length: int = 48,
        batch_size: int = 32,
        lr: float = 5e-4,
        mlm_probability: float = 0.15,
        adapters: Sequence[Adapter] = (),
        seed: int = 0,
        device: str | torch.device = "cpu",
        epochs: int = 1,
        weight_decay: float = 0.01,
        grad_clip: float | None = 1.0,
        vocab_size: int = 4000,
        min_frequency: int = 2,
        lowercase: bool = True,
        grow_every: int | None = None,
        grow_min_count: int = 5,
        grow_max_new: int = 200,
        train_config: TrainConfig | None = None,
    ) -> None:
        if max_length < 3:
            raise ValueError(f"max_length must be at least 3, got {max_length}")
        if not 0 < mlm_probability < 1:
            raise ValueError(f"mlm_probability must be in (0, 1), got {mlm_probability}")
        self.max_length = max_length
        self.batch_size = batch_size
        self.lr = lr
        self.mlm_probability = mlm_probability
        self.adapters = list(adapters)
        self.seed = seed
        self.device = torch.device(device)
        self.epochs = epochs
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.lowercase = lowercase
        self.grow_every = grow_every
        self.grow_min_count = grow_min_count
        self.grow_max_new = grow_max_new
        self.model_config = {**DEFAULT_CONFIG, **(config or {})}
        self.train_config = train_config
        self.windows_seen = 0
        self.tweets_seen = 0
        self.added_words: list[str] = []
        self.last_report: FitReport | None = None
        self.model_path = None if model_path is None else Path(model_path)
        self.tokenizer: PreTrainedTokenizerBase | None = tokenizer
        self.model: PreTrainedModel | None = None
        self.trainer: MLMTrainer | None = None
        self._mask_generator = torch.Generator().manual_seed(seed)
        if self.model_path is not None:
            self._load_pretrained(self.model_path)
            self._make_trainer()
        elif tokenizer is not None:
            self._build(())

    # ------------------------------------------------------------------ building
    def _load_pretrained(self, folder: Path) -> None:
        if not folder.is_dir():
            raise FileNotFoundError(f"model folder {folder} does not exist")
        if not (folder / "config.json").exists():
            raise FileNotFoundError(f"model folder {folder} has no config.json")
        self.model = AutoModelForMaskedLM.from_pretrained(str(folder), local_files_only=True)
        if self.tokenizer is None:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        if self.tokenizer.mask_token_id is None or self.tokenizer.pad_token_id is None:
            raise ValueError(f"the tokenizer in {folder} has no [MASK] or [PAD] token")
        loaded = self.model.config
        self.model_config = {k: getattr(loaded, k) for k in DEFAULT_CONFIG if hasattr(loaded, k)}

    def _build(self, texts: Sequence[str]) -> None:
        if self.tokenizer is None:
            self.tokenizer = train_wordpiece(
                texts, self.vocab_size, self.min_frequency, self.lowercase
            )
        tok = self.tokenizer
        cfg = dict(self.model_config)
        cfg.setdefault("max_position_embeddings", max(64, self.max_length))
        config = BertConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, **cfg)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = BertForMaskedLM(config)
        self._make_trainer()

    def _make_trainer(self) -> None:
        assert self.model is not None
        cfg = self.train_config or TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer="adamw",
            weight_decay=self.weight_decay,
            grad_clip=self.grad_clip,
            seed=self.seed,
        )
        self.model.to(self.device)
        self.trainer = MLMTrainer(
            MaskedLMModule(self.model), self.adapters, cfg, device=self.device
        )
        self.model.eval()

    @property
    def built(self) -> bool:
        """True once the model and tokenizer exist."""
        return self.model is not None

    def _require(self) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        if self.model is None or self.tokenizer is None:
            raise RuntimeError("the model is built on the first update(); call update() first")
        return self.model, self.tokenizer

    # ------------------------------------------------------------------ encoding
    def encode(self, texts: Sequence[str], offsets: bool = False) -> dict[str, Tensor]:
        """Token ids, attention mask and special-token mask, padded to ``max_length``."""
        _, tok = self._require()
        enc = tok(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            return_special_tokens_mask=True,
            return_offsets_mapping=offsets,
            return_token_type_ids=False,
        )
        return dict(enc)

    def mask(
        self, texts: Sequence[str], generator: torch.Generator | None = None
    ) -> tuple[dict[str, Tensor], Tensor]:
        """Masked trainer inputs ``{"input_ids", "attention_mask"}`` and labels ``[n, L]``."""
        _, tok = self._require()
        enc = self.encode(texts)
        ids, labels = mask_tokens(
            enc["input_ids"],
            enc["special_tokens_mask"],
            int(tok.mask_token_id),
            len(tok),
            self.mlm_probability,
            generator if generator is not None else self._mask_generator,
            first_regular_id=_first_regular_id(tok),
        )
        return {"input_ids": ids, "attention_mask": enc["attention_mask"]}, labels

    # ------------------------------------------------------------------ training
    def update(self, texts: Sequence[str]) -> float:
        """Continue MLM training on one window (or micro-batch); returns the mean loss.

        Empty texts are dropped; with none left nothing happens and NaN is returned.
        """
        texts = [t for t in texts if t and t.strip()]
        if not texts:
            return float("nan")
        if self.model is None:
            self._build(texts)
        elif self.grow_every and self.windows_seen % self.grow_every == 0:
            self.grow_vocab(texts, self.grow_min_count, self.grow_max_new)
        assert self.trainer is not None
        x, y = self.mask(texts)
        report = self.trainer.fit_task(x, y, task=None)
        self.model.eval()
        self.last_report = report
        self.windows_seen += 1
        self.tweets_seen += len(texts)
        return report.mean_loss

    # ------------------------------------------------------------------ vocabulary
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

    # ------------------------------------------------------------------ embeddings
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

    # ------------------------------------------------------------------ evaluation
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

    # ------------------------------------------------------------------ persistence
    def settings(self) -> dict[str, Any]:
        """Constructor settings (JSON-able; not the adapters or the model path)."""
        return {
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "mlm_probability": self.mlm_probability,
            "seed": self.seed,
            "epochs": self.epochs,
            "weight_decay": self.weight_decay,
            "grad_clip": self.grad_clip,
            "vocab_size": self.vocab_size,
            "min_frequency": self.min_frequency,
            "lowercase": self.lowercase,
            "grow_every": self.grow_every,
            "grow_min_count": self.grow_min_count,
            "grow_max_new": self.grow_max_new,
            "config": dict(self.model_config),
        }

    def state_dict(self) -> dict[str, Tensor]:
        """The masked LM's weights."""
        model, _ = self._require()
        return model.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore :meth:`state_dict` output (the vocabulary size must match)."""
        model, _ = self._require()
        model.load_state_dict(state)

    def save(self, folder: str | Path) -> Path:
        """Write ``model.safetensors`` + ``config.json``, the tokenizer files and
        ``textcl_transformer.json`` (format version, settings, progress) to ``folder``."""
        model, tok = self._require()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with _no_hf_progress_bars():  # a checkpoint each window: no bar on the terminal
            model.save_pretrained(str(folder))
            tok.save_pretrained(str(folder))
        if not (folder / "model.safetensors").exists():
            raise RuntimeError(f"save_pretrained wrote no model.safetensors in {folder}")
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "settings": self.settings(),
            "windows_seen": self.windows_seen,
            "tweets_seen": self.tweets_seen,
            "added_words": list(self.added_words),
        }
        (folder / META_NAME).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return folder

    @classmethod
    def load(
        cls, folder: str | Path, adapters: Sequence[Adapter] = (), **overrides: Any
    ) -> ContinualTransformer:
        """Load a model written by :meth:`save` (``overrides`` replace saved settings)."""
        folder = Path(folder)
        meta_path = folder / META_NAME
        if not meta_path.exists():
            raise FileNotFoundError(
                f"{folder} is not a textcl transformer checkpoint (no {META_NAME})"
            )
        meta = read_format_json(meta_path, FORMAT)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{meta_path} has format version {meta.get('format_version')!r}; this textcl "
                f"reads version {FORMAT_VERSION}"
            )
        settings = {**meta.get("settings", {}), **overrides}
        obj = cls(model_path=folder, adapters=adapters, **settings)
        obj.windows_seen = int(meta.get("windows_seen", 0))
        obj.tweets_seen = int(meta.get("tweets_seen", 0))
        obj.added_words = list(meta.get("added_words", []))
        return obj


@contextmanager
def _no_hf_progress_bars() -> Iterator[None]:
    """Silence transformers' progress bars inside the block (restored afterwards)."""
    from transformers.utils import logging as hf_logging

    active = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if active:
            hf_logging.enable_progress_bar()
