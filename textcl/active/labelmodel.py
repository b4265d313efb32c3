"""A classifier that learns from the labels people give to selected tweets.

Features are hashed word unigrams and bigrams (no vocabulary to fit, stable across runs and
machines); the head is an ``IncrementalClassifier`` (a new label adds an output unit)
trained by a ``ContinualTrainer`` with replay of earlier labels, so every round of labels
is learned without forgetting the previous ones. Saved as safetensors + JSON; nothing is
ever unpickled.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textcl.checkpoint import read_format_json
from textcl.cl import ContinualTrainer, FitReport, Replay, ReservoirBuffer, TrainConfig
from textcl.heads import IncrementalClassifier

FORMAT = "textcl-label-model/1"


class LabelModelError(ValueError):
    """A label-model folder that textcl cannot read (another version, damaged files)."""


@dataclass(frozen=True)
class LearnReport:
    """What one :meth:`LabelModel.learn` round did.

    ``new`` / ``relabelled``: ids learned for the first time / with a changed label;
    ``skipped``: rows already known with the same label (or repeated in the round);
    ``prequential``: accuracy of the model on this round's labels *before* learning them
    (``None`` while it knows fewer than two classes); ``fit``: the training report
    (``None`` when nothing was new).
    """

    new: int
    relabelled: int
    skipped: int
    prequential: float | None
    fit: FitReport | None


def hashed_features(tokens: Sequence[Sequence[str]], n_features: int) -> torch.Tensor:
    """L2-normalised counts of hashed unigrams and bigrams, one row per tweet."""
    from sklearn.feature_extraction.text import HashingVectorizer

    def grams(doc: Sequence[str]) -> list[str]:
        return list(doc) + [f"{a} {b}" for a, b in itertools.pairwise(doc)]

    vectorizer = HashingVectorizer(
        n_features=n_features, analyzer=grams, alternate_sign=False, norm="l2"
    )
    return torch.from_numpy(vectorizer.transform(list(tokens)).toarray().astype(np.float32))


class LabelModel:
    """Learn labels round after round; give class probabilities for uncertainty sampling."""

    def __init__(self, n_features: int = 4096, memory: int = 2000, epochs: int = 30,
                 lr: float = 0.05, seed: int = 0) -> None:
        self.n_features = n_features
        self.memory = memory
        self.epochs = epochs
        self.lr = lr
        self.seed = seed
        self.labelled: list[dict[str, Any]] = []
        self.rounds = 0
        self._build()

    def _build(self) -> None:
        torch.manual_seed(self.seed)
        self.head = IncrementalClassifier(self.n_features)
        self.buffer = ReservoirBuffer(self.memory, seed=self.seed)
        self.trainer = ContinualTrainer(
            self.head, [Replay(self.buffer)],
            TrainConfig(epochs=self.epochs, batch_size=16, lr=self.lr, seed=self.seed),
        )

    @property
    def classes(self) -> list[str]:
        """Label names in output-unit order."""
        return [str(c) for c in self.head.classes]

    def learn(self, ids: Sequence[str], tokens: Sequence[Sequence[str]],
              labels: Sequence[str]) -> LearnReport:
        """Train on one round of labelled tweets (replaying earlier rounds' labels).

        Each tweet id is learned once: a label seen before for the same id is skipped, a
        changed label replaces the old one. Before training, the model predicts the new
        labels (test-then-train): ``LearnReport.prequential`` is that accuracy (a class
        the model has never seen counts as a miss), ``None`` before it knows two classes.
        """
        if not len(labels):
            raise ValueError("no labelled tweets to learn from")
        known = {r["id"]: n for n, r in enumerate(self.labelled)}
        fresh: dict[str, tuple[list[str], str]] = {}
        for i, t, v in zip(ids, tokens, labels, strict=True):
            n = known.get(i)
            if n is not None and self.labelled[n]["label"] == str(v):
                continue
            fresh[i] = (list(t), str(v))  # the last row of an id wins
        if not fresh:
            return LearnReport(new=0, relabelled=0, skipped=len(labels), prequential=None,
                               fit=None)
        new_ids = list(fresh)
        x = hashed_features([fresh[i][0] for i in new_ids], self.n_features)
        names = [fresh[i][1] for i in new_ids]
        prequential = None
        if self.head.n_classes >= 2:
            predicted = self.trainer.scores(x).argmax(dim=1).tolist()
            prequential = float(np.mean([self.classes[p] == v for p, v in
                                         zip(predicted, names, strict=True)]))
        y = self.head.encode(names)
        fit = self.trainer.fit_task(x, y, None)
        self.rounds += 1
        relabelled = [i for i in new_ids if i in known]
        drop = {known[i] for i in relabelled}
        self.labelled = [r for n, r in enumerate(self.labelled) if n not in drop]
        self.labelled += [{"id": i, "tokens": fresh[i][0], "label": fresh[i][1],
                           "round": self.rounds} for i in new_ids]
        return LearnReport(new=len(new_ids) - len(relabelled), relabelled=len(relabelled),
                           skipped=len(labels) - len(new_ids), prequential=prequential,
                           fit=fit)

    def probs(self, tokens: Sequence[Sequence[str]]) -> np.ndarray:
        """Class probabilities, one row per tweet (empty columns before any label)."""
        if self.head.n_classes == 0:
            return np.zeros((len(tokens), 0))
        scores = self.trainer.scores(hashed_features(tokens, self.n_features))
        return torch.softmax(scores, dim=1).numpy()

    def accuracy(self) -> float:
        """Accuracy on every label given so far (how well the rounds are retained)."""
        if not self.labelled:
            return float("nan")
        x = hashed_features([r["tokens"] for r in self.labelled], self.n_features)
        y = self.head.encode([r["label"] for r in self.labelled], grow=False)
        return self.trainer.evaluate(x, y)

    # -- persistence -------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``head.safetensors``, ``labelled.jsonl`` and ``meta.json`` atomically."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.head.consolidate()
        tensors = {"weight": self.head.weight.detach().contiguous()}
        if self.head.bias is not None:
            tensors["bias"] = self.head.bias.detach().contiguous()
        tmp = folder / "head.safetensors.tmp"
        save_file(tensors, str(tmp))
        tmp.replace(folder / "head.safetensors")
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.labelled)
        (folder / "labelled.jsonl.tmp").write_text(lines, encoding="utf-8")
        (folder / "labelled.jsonl.tmp").replace(folder / "labelled.jsonl")
        meta = {"format": FORMAT, "n_features": self.n_features, "memory": self.memory,
                "epochs": self.epochs, "lr": self.lr, "seed": self.seed,
                "classes": self.classes, "rounds": self.rounds, "labelled": len(self.labelled)}
        (folder / "meta.json.tmp").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        (folder / "meta.json.tmp").replace(folder / "meta.json")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> LabelModel:
        """Read a folder written by :meth:`save`; anything else is refused with the reason."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = Path(folder)
        meta = read_format_json(
            folder / "meta.json", FORMAT, LabelModelError,
            f"{folder}: no meta.json; not a textcl label model "
            "(create one with `textcl label LABELS --model DIR`)",
        )
        model = cls(meta["n_features"], meta["memory"], meta["epochs"], meta["lr"], meta["seed"])
        try:
            tensors = load_file(str(folder / "head.safetensors"))
        except (OSError, SafetensorError) as exc:
            raise LabelModelError(f"{folder / 'head.safetensors'}: unreadable ({exc})") from None
        rows = []
        for n, line in enumerate((folder / "labelled.jsonl").read_text("utf-8").splitlines(), 1):
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise LabelModelError(f"{folder / 'labelled.jsonl'}:{n}: not valid JSON") from None
        weight = tensors.get("weight")
        if weight is None or tuple(weight.shape) != (len(meta["classes"]), meta["n_features"]):
            raise LabelModelError(f"{folder}: head.safetensors does not match meta.json "
                                  f"({len(meta['classes'])} classes x {meta['n_features']})")
        if len(rows) != meta["labelled"]:
            raise LabelModelError(f"{folder}: labelled.jsonl has {len(rows)} rows, meta.json "
                                  f"says {meta['labelled']}")
        if meta["classes"]:
            model.head.encode(meta["classes"])
            with torch.no_grad():
                model.head.weight_blocks[0].copy_(weight)
                if "bias" in tensors and len(model.head.bias_blocks):
                    model.head.bias_blocks[0].copy_(tensors["bias"])
        model.labelled, model.rounds = rows, int(meta["rounds"])
        if rows:  # refill the replay memory exactly as the labels arrived
            x = hashed_features([r["tokens"] for r in rows], model.n_features)
            model.buffer.add(x, model.head.encode([r["label"] for r in rows], grow=False))
        model.trainer.task_index = model.rounds
        return model
