"""Prequential (test-then-train) scores: accuracy and macro-F1, running and per window."""

from __future__ import annotations

from collections import Counter
from typing import Any


class ClassCounts:
    """Correct / total and per-class true positives, predictions and gold counts."""

    def __init__(self) -> None:
        self.total = 0
        self.correct = 0
        self.tp: Counter[str] = Counter()
        self.predicted: Counter[str] = Counter()
        self.gold: Counter[str] = Counter()

    def add(self, predicted: str | None, gold: str) -> None:
        """One prediction (``None``: the model knew no class yet, a miss)."""
        self.total += 1
        self.gold[gold] += 1
        if predicted is not None:
            self.predicted[predicted] += 1
        if predicted == gold:
            self.correct += 1
            self.tp[gold] += 1

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def f1(self) -> dict[str, float]:
        """F1 of every class seen as gold."""
        out = {}
        for label, n_gold in self.gold.items():
            tp, n_pred = self.tp[label], self.predicted[label]
            out[label] = 2 * tp / (n_gold + n_pred) if n_gold + n_pred else 0.0
        return out

    @property
    def macro_f1(self) -> float | None:
        scores = self.f1()
        return sum(scores.values()) / len(scores) if scores else None

    def row(self) -> dict[str, Any]:
        """``n``, ``accuracy``, ``macro_f1`` and each class's ``f1`` and ``n``."""
        f1 = self.f1()
        return {"n": self.total, "accuracy": _round(self.accuracy),
                "macro_f1": _round(self.macro_f1),
                "per_label": {k: {"n": self.gold[k], "f1": _round(v)}
                              for k, v in sorted(f1.items())}}

    def state_dict(self) -> dict[str, Any]:
        return {"total": self.total, "correct": self.correct, "tp": dict(self.tp),
                "predicted": dict(self.predicted), "gold": dict(self.gold)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.total, self.correct = int(state["total"]), int(state["correct"])
        self.tp = Counter(state["tp"])
        self.predicted = Counter(state["predicted"])
        self.gold = Counter(state["gold"])


class PrequentialScores:
    """The running scores of a stream and those of the open window."""

    def __init__(self) -> None:
        self.overall = ClassCounts()
        self.window = ClassCounts()

    def add(self, predicted: str | None, gold: str) -> None:
        self.overall.add(predicted, gold)
        self.window.add(predicted, gold)

    def close_window(self) -> dict[str, Any]:
        """The window's row (its own and the running scores); a new window opens."""
        row = {"this_window": self.window.row(), "running": self.overall.row()}
        row["running"].pop("per_label")
        self.window = ClassCounts()
        return row

    def state_dict(self) -> dict[str, Any]:
        return {"overall": self.overall.state_dict(), "window": self.window.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.overall.load_state_dict(state["overall"])
        self.window.load_state_dict(state["window"])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
