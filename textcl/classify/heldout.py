"""Labelled tweets kept out of training, by window, to measure forgetting as the stream goes.

Which tweets are held out depends only on their id (a CRC-32 share), so every run and every
method holds out the same ones. Each window keeps at most ``per_window`` of them and the
store at most ``max_rows`` in all (the oldest window goes first). At a window end the model
is scored on every earlier window's rows; a window's forgetting is the accuracy the model
had on it when the window ended (just after learning it) minus its accuracy now, and the
run's forgetting is the mean over windows weighted by their rows (minus the backward
transfer of Lopez-Paz & Ranzato; negative when later windows helped). ``max_forgetting``
uses the best accuracy the window ever had instead (Chaudhry et al.), which small windows
inflate: a 2-tweet window that was once right counts as fully forgotten when it flips.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from textcl.cl.rows import Inputs, concat, n_rows, take

Predict = Callable[[Inputs], list[str | None]]


def held_out(tweet_id: str, share: float) -> bool:
    """Whether the tweet ``tweet_id`` is held out (a fixed share of ids)."""
    return share > 0 and zlib.crc32(tweet_id.encode("utf-8")) % 10_000 < share * 10_000


class HeldOut:
    """Per-window held-out rows; accuracy on each and forgetting (see the module doc)."""

    def __init__(self, share: float = 0.1, per_window: int = 200, max_rows: int = 5000) -> None:
        if not 0 <= share < 1:
            raise ValueError(f"held-out share must be in [0, 1), got {share}")
        self.share = share
        self.per_window = per_window
        self.max_rows = max_rows
        self.rows: dict[int, tuple[Inputs, list[str]]] = {}
        self.first: dict[int, float] = {}
        self.best: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.dropped = 0
        self._joined: tuple[tuple[tuple[int, ...], int], Inputs, list[str]] | None = None

    def holds(self, tweet_id: str) -> bool:
        return held_out(tweet_id, self.share)

    def __len__(self) -> int:
        return sum(len(labels) for _, labels in self.rows.values())

    def add(self, window: int, x: Inputs, labels: list[str]) -> None:
        """Keep held-out rows of ``window`` (beyond ``per_window``: counted, not kept)."""
        have = self.rows.get(window)
        room = self.per_window - (len(have[1]) if have else 0)
        if room < len(labels):
            self.dropped += len(labels) - max(room, 0)
        if room <= 0:
            return
        x = take(x, torch.arange(min(room, n_rows(x))))
        labels = labels[:room]
        self.rows[window] = (concat([have[0], x]), have[1] + labels) if have else (x, labels)
        while len(self) > self.max_rows and len(self.rows) > 1:
            oldest = min(self.rows)
            self.dropped += len(self.rows.pop(oldest)[1])
            for scores in (self.first, self.best, self.last):
                scores.pop(oldest, None)

    def evaluate(self, current: int, predict: Predict) -> dict[str, Any]:
        """Score every window before ``current`` (and ``current`` itself, whose best
        accuracy starts now); the mean accuracy and forgetting over the earlier ones."""
        windows = [w for w in self.rows if w <= current]
        if windows:  # one prediction over all the rows, then split by window
            x, gold = self._all(windows)
            hits = np.fromiter((p == g for p, g in zip(predict(x), gold, strict=True)),
                               dtype=np.float64, count=len(gold))
            sizes = np.array([len(self.rows[w][1]) for w in windows])
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            for window, accuracy in zip(windows, (np.add.reduceat(hits, starts) / sizes)
                                        .tolist(), strict=True):
                self.last[window] = accuracy
                self.first.setdefault(window, accuracy)
                self.best[window] = max(self.best.get(window, accuracy), accuracy)
        earlier = [w for w in self.rows if w < current and w in self.last]
        weights = {w: len(self.rows[w][1]) for w in earlier}
        total = sum(weights.values())
        if not total:
            return {"windows": 0, "rows": 0, "accuracy": None, "forgetting": None,
                    "max_forgetting": None}

        def mean(scores: dict[int, float]) -> float:
            return round(sum(scores[w] * n for w, n in weights.items()) / total, 4)

        now = mean(self.last)
        return {"windows": len(earlier), "rows": total, "accuracy": now,
                "forgetting": round(mean(self.first) - now, 4),
                "max_forgetting": round(mean(self.best) - now, 4)}

    def _all(self, windows: list[int]) -> tuple[Inputs, list[str]]:
        """The rows and labels of ``windows``, concatenated (kept until rows change)."""
        key = (tuple(windows), len(self))
        if self._joined is None or self._joined[0] != key:
            x = concat([self.rows[w][0] for w in windows])
            self._joined = (key, x, [g for w in windows for g in self.rows[w][1]])
        return self._joined[1], self._joined[2]

    def state_dict(self) -> dict[str, Any]:
        rows = {str(w): {"x": x, "labels": labels} for w, (x, labels) in self.rows.items()}
        return {"rows": rows,
                "first": {str(w): v for w, v in self.first.items()},
                "best": {str(w): v for w, v in self.best.items()},
                "last": {str(w): v for w, v in self.last.items()}, "dropped": self.dropped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = {int(w): (r["x"], list(r["labels"])) for w, r in state["rows"].items()}
        self.first = {int(w): float(v) for w, v in state["first"].items()}
        self.best = {int(w): float(v) for w, v in state["best"].items()}
        self.last = {int(w): float(v) for w, v in state["last"].items()}
        self.dropped = int(state["dropped"])
