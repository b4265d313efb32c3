"""One continual classifier on a tweet stream: test-then-train on every labelled tweet.

Labelled tweets are handled in the stream's order, ``chunk`` at a time: the chunk is
predicted by the model as it is (those predictions are the prequential score), then
learned with the trainer's adapters (replay, LwF, EWC ...). An unseen label first closes
the trainer's stream task (the adapters consolidate) and then adds an output unit. A
window end closes the task too, and scores the model on the held-out tweets of every
window so far (forgetting). Tweets whose label comes later (from a label file) wait in a
bounded memory of recent tweets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from textcl.cl.rows import Inputs, concat, n_rows, take
from textcl.cl.trainer import ContinualTrainer
from textcl.classify.features import FeatureSpace
from textcl.classify.heldout import HeldOut
from textcl.classify.labels import RecentTweets
from textcl.classify.scores import PrequentialScores


@dataclass(frozen=True)
class Prediction:
    """A labelled tweet as the model saw it before learning it."""

    id: str
    window: int
    label: str
    predicted: str | None
    p: float | None
    late: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "window": self.window, "label": self.label,
                "predicted": self.predicted, "p": self.p, "late": self.late}


class StreamClassifier:
    """Learns ``label`` from a stream (see the module doc).

    Args:
        name: the classifier's name (outputs, summary).
        label: the label name read from records and label files.
        space: the feature space (hashed n-grams, sentence vectors).
        trainer: a :class:`ContinualTrainer` over a model with a growing head, built on
            ``space.model(...)``.
        chunk: labelled tweets predicted, then learned, at a time.
        heldout: the held-out store (forgetting); ``HeldOut(share=0)`` holds nothing out.
        wait: unlabelled tweets remembered for late labels (0: none).
        seed: the generator of new output units.
    """

    def __init__(self, name: str, label: str, space: FeatureSpace, trainer: ContinualTrainer,
                 chunk: int = 8, heldout: HeldOut | None = None, wait: int = 0,
                 seed: int = 0) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1, got {chunk}")
        self.name = name
        self.label = label
        self.space = space
        self.trainer = trainer
        self.head = trainer.model.head
        self.chunk = chunk
        self.heldout = heldout if heldout is not None else HeldOut()
        self.recent = RecentTweets(wait) if wait > 0 else None
        self.scores = PrequentialScores()
        self.generator = torch.Generator().manual_seed(seed)
        self.learned = 0
        self.late = 0
        self.train_seconds = 0.0  # learning and consolidating (not predicting)
        self.unready = 0  # labelled tweets that came before the features could be made
        self.window_learned = 0
        self.window_held = 0
        self.growth: list[dict[str, Any]] = []  # drained by the caller
        self.relearn: Any = None  # a RelearnMemory, see attach_relearn
        self._relearn_label: Callable[[Any], str | None] | None = None
        self._relearn_rng = np.random.default_rng(seed)
        self.relearned = 0

    # ------------------------------------------------------------------ stream
    def observe(self, ids: Sequence[str], texts: Sequence[str],
                tokens: Sequence[Sequence[str]], labels: Sequence[str | None],
                window: int) -> list[Prediction]:
        """Handle one micro-batch: hold out, test-then-train, remember the unlabelled."""
        labelled = [i for i, value in enumerate(labels) if value]
        waiting = ([i for i, value in enumerate(labels) if not value]
                   if self.recent is not None else [])
        needed = labelled + waiting
        if not needed:
            return []
        if not self.space.ready():  # e.g. the stream's transformer is not built yet
            self.unready += len(labelled)
            return []
        x = self.space.transform([texts[i] for i in needed], [tokens[i] for i in needed])
        train, held = [], []
        for k, i in enumerate(labelled):
            (held if self.heldout.holds(ids[i]) else train).append(k)
        if held:
            self.heldout.add(window, take(x, torch.tensor(held)),
                             [str(labels[labelled[k]]) for k in held])
            self.window_held += len(held)
        if self.recent is not None:
            for k, i in enumerate(waiting, start=len(labelled)):
                self.recent.add(ids[i], window, take(x, torch.tensor([k])))
        if not train:
            return []
        rows = take(x, torch.tensor(train))
        return self._test_then_train(rows, [str(labels[labelled[k]]) for k in train],
                                     [ids[labelled[k]] for k in train], window, late=False)

    def late_labels(self, pairs: Sequence[tuple[str, str]], window: int) -> list[Prediction]:
        """Labels that arrived after their tweets: ``(id, label)``; returns the
        predictions of those whose tweet is still remembered (the others are not)."""
        if self.recent is None:
            return []
        found = [(tweet_id, value, self.recent.get(tweet_id)) for tweet_id, value in pairs]
        found = [(i, v, item) for i, v, item in found if item is not None]
        if not found:
            return []
        x = concat([item[1] for _, _, item in found])
        held = [k for k, (i, _, _) in enumerate(found) if self.heldout.holds(i)]
        for k in held:
            self.heldout.add(found[k][2][0], take(x, torch.tensor([k])), [found[k][1]])
        train = [k for k in range(len(found)) if k not in set(held)]
        if not train:
            return []
        self.late += len(train)
        return self._test_then_train(take(x, torch.tensor(train)),
                                     [found[k][1] for k in train],
                                     [found[k][0] for k in train], window, late=True)

    def remembers(self, tweet_id: str) -> bool:
        """Whether a late label for ``tweet_id`` can still be learned."""
        return self.recent is not None and tweet_id in self.recent.items

    def _test_then_train(self, x: Inputs, names: list[str], ids: list[str], window: int,
                         late: bool) -> list[Prediction]:
        out = []
        for start in range(0, n_rows(x), self.chunk):
            idx = torch.arange(start, min(start + self.chunk, n_rows(x)))
            part, gold = take(x, idx), names[start : start + self.chunk]
            predicted, confidence = self._predict(part)
            for tweet_id, label, guess, p in zip(ids[start:], gold, predicted, confidence,
                                                 strict=False):
                self.scores.add(guess, label)
                out.append(Prediction(tweet_id, window, label, guess, p, late))
            self._learn(part, gold, window)
        return out

    def attach_relearn(self, memory: Any, label_of: Callable[[Any], str | None]) -> None:
        """Re-learn tweets drawn from ``memory`` (``memory.share`` per new labelled tweet)
        along with every chunk: those ``label_of`` finds a label for, held-out ones never."""
        self.relearn, self._relearn_label = memory, label_of

    def _relearn_rows(self, n_new: int) -> tuple[Inputs | None, list[str]]:
        assert self.relearn is not None and self._relearn_label is not None
        items = self.relearn.draw(f"classifier {self.name}", n_new, self._relearn_rng)
        labelled = [(i, self._relearn_label(i)) for i in items if not self.heldout.holds(i.id)]
        labelled = [(i, value) for i, value in labelled if value]
        if not labelled:
            return None, []
        self.relearned += len(labelled)
        x = self.space.transform([i.text for i, _ in labelled], [i.tokens for i, _ in labelled])
        return x, [value for _, value in labelled]

    def _learn(self, x: Inputs, names: list[str], window: int) -> None:
        started = time.perf_counter()
        n_new = len(names)
        if self.relearn is not None:
            extra, extra_names = self._relearn_rows(len(names))
            if extra is not None:
                x, names = concat([x, extra]), names + extra_names
        known = set(self.head.classes)
        unseen = [name for name in dict.fromkeys(names) if name not in known]
        if unseen:
            self.trainer.boundary()  # the adapters consolidate before the head grows
        y = self.head.encode(names, generator=self.generator)
        for name in unseen:
            self.growth.append({"window": window, "class": name,
                                "classes": self.head.classes.index(name) + 1})
        self.trainer.learn(x, y)
        self.train_seconds += time.perf_counter() - started
        self.learned += n_new
        self.window_learned += n_new

    def _predict(self, x: Inputs) -> tuple[list[str | None], list[float | None]]:
        if self.head.n_classes == 0:
            return [None] * n_rows(x), [None] * n_rows(x)
        probs = torch.softmax(self.trainer.scores(x), dim=1)
        p, index = probs.max(dim=1)
        return self._names(index), [round(v, 4) for v in p.tolist()]

    def _names(self, index: torch.Tensor) -> list[str | None]:
        classes = [str(c) for c in self.head.classes]
        return [classes[i] for i in index.tolist()]

    def predict_names(self, x: Inputs) -> list[str | None]:
        """The predicted label of each row (``None`` before any class is known)."""
        if self.head.n_classes == 0:
            return [None] * n_rows(x)
        return self._names(self.trainer.scores(x).argmax(dim=1))

    def probabilities(self, texts: Sequence[str],
                      tokens: Sequence[Sequence[str]]) -> torch.Tensor | None:
        """Class probabilities ``[n, n_classes]`` of tweets, or ``None`` before the
        model knows two classes (for uncertainty sampling)."""
        if self.head.n_classes < 2 or not texts:
            return None
        x = self.space.transform(texts, tokens)
        return torch.softmax(self.trainer.scores(x), dim=1)

    def end_window(self, window: int) -> dict[str, Any]:
        """Close window ``window``: consolidate (the trainer's task ends), score the
        held-out tweets of the windows so far; the window's row of scores."""
        started = time.perf_counter()
        self.trainer.end_task()
        self.train_seconds += time.perf_counter() - started
        row = {
            "learned": self.window_learned,
            "held_out": self.window_held,
            "classes": self.head.n_classes,
            **self.scores.close_window(),
            "earlier_windows": self.heldout.evaluate(window, self.predict_names),
        }
        self.window_learned = self.window_held = 0
        self.space.flush()
        return row

    # ------------------------------------------------------------------ state
    def summary(self) -> dict[str, Any]:
        overall = self.scores.overall
        return {"label": self.label, "features": self.space.kind, "learned": self.learned,
                "late": self.late, "classes": [str(c) for c in self.head.classes],
                "accuracy": _round(overall.accuracy), "macro_f1": _round(overall.macro_f1),
                "held_out": len(self.heldout),
                "adapters": [type(a).__name__ for a in self.trainer.adapters],
                "memory": self.trainer.memory_size(), "relearned": self.relearned,
                "before_features": self.unready,
                "embedded": getattr(self.space, "embedded", None),
                "train_seconds": round(self.train_seconds, 3)}

    def state_dict(self) -> dict[str, Any]:
        head = self.head
        state: dict[str, Any] = {
            "classes": [str(c) for c in head.classes],
            "blocks": [int(w.shape[0]) for w in head.weight_blocks],
            "trainer": self.trainer.state_dict(),
            "scores": self.scores.state_dict(),
            "heldout": self.heldout.state_dict(),
            "generator": self.generator.get_state(),
            "counts": [self.learned, self.late, self.window_learned, self.window_held,
                       self.unready],
            "growth": list(self.growth),
            "relearn": {"rng": self._relearn_rng.bit_generator.state,
                        "relearned": self.relearned},
        }
        if self.recent is not None:
            items = list(self.recent.items.items())
            state["recent"] = {
                "ids": [i for i, _ in items], "windows": [w for _, (w, _) in items],
                "x": concat([row for _, (_, row) in items]) if items else None,
                "expired": self.recent.expired,
            }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output into a classifier built the same way."""
        if self.head.n_classes:
            raise RuntimeError("load into a freshly built classifier (its head has classes)")
        classes, start = list(state["classes"]), 0
        for size in state["blocks"]:  # the same blocks, so the weights fit
            self.head.encode(classes[start : start + size], generator=self.generator)
            start += size
        self.trainer.load_state_dict(state["trainer"])
        self.scores.load_state_dict(state["scores"])
        self.heldout.load_state_dict(state["heldout"])
        self.generator.set_state(state["generator"])
        (self.learned, self.late, self.window_learned, self.window_held,
         self.unready) = state["counts"]
        self.growth = list(state["growth"])
        self._relearn_rng.bit_generator.state = state["relearn"]["rng"]
        self.relearned = int(state["relearn"]["relearned"])
        recent = state.get("recent")
        if self.recent is not None and recent is not None:
            self.recent.items.clear()
            for k, (tweet_id, window) in enumerate(zip(recent["ids"], recent["windows"],
                                                       strict=True)):
                self.recent.items[tweet_id] = (int(window), take(recent["x"],
                                                                 torch.tensor([k])))
            self.recent.expired = int(recent["expired"])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
