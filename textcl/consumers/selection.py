"""Stream consumer that picks, in every window, the tweets most worth a person's label."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textcl.active import Candidates, Context, Novelty, Selector, TermLogOdds, Uncertainty
from textcl.input.timeparse import to_iso
from textcl.types import Batch, Window

if TYPE_CHECKING:
    from textcl.active.labelmodel import LabelModel

CSV_FIELDS = ["window", "window_start", "id", "created_at", "text", "total", "reason",
              "scores", "label"]


class SelectionConsumer:
    """Collect each window's tweets, then select ``budget`` of them.

    Representativeness is the weighted log-odds of the window's terms against a background:
    the given ``background`` counts, or else every earlier window of the stream (so a
    window is contrasted with what came before it). With a ``model`` (see
    ``textcl label``), its uncertainty joins in. Picks are appended to
    ``selection.jsonl`` and ``selection.csv`` (with an empty ``label`` column to fill in)
    as each window closes. A window's pool is capped at ``max_pool`` tweets (the first
    ones); the number left out is counted in the summary.
    """

    name = "selection"

    def __init__(self, out_dir: Path, budget: int = 20, background: Counter | None = None,
                 model: LabelModel | None = None, diversity: float = 0.3,
                 max_pool: int = 20_000, seed: int = 0) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.budget = budget
        self.fixed_background = background
        self.running_background: Counter[str] = Counter()
        self.model = model
        # tweets the model already has a label for are not picked again
        self.labelled_ids = frozenset(r["id"] for r in model.labelled) if model else frozenset()
        self.skipped_labelled = 0
        self.max_pool = max_pool
        self.seed = seed
        from textcl.keywords.tracker import default_ignore

        quiet = default_ignore()  # special tokens and stop words say nothing about a window
        others: list[tuple[Any, float]] = [(Novelty(ignore=quiet), 0.25)]
        if model is not None and model.head.n_classes >= 2:
            others.append((Uncertainty("entropy"), 1.0))
        self.selector = Selector([(TermLogOdds(ignore=quiet), 1.0), *others], budget,
                                 diversity=diversity,
                                 seed=seed)
        # a window with no terms at all has no background to contrast with
        self.first_selector = Selector(others, budget, diversity=diversity, seed=seed)
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._tokens: list[list[str]] = []
        self._times: list[str] = []
        self._labelled_tokens: list[list[str]] = []
        self.selected = 0
        self.left_out = 0
        self.windows = 0
        self._jsonl = (self.out_dir / "selection.jsonl").open("w", encoding="utf-8")
        self._csv_file = (self.out_dir / "selection.csv").open("w", encoding="utf-8",
                                                                newline="")
        self._csv = csv.DictWriter(self._csv_file, CSV_FIELDS)
        self._csv.writeheader()

    def update(self, batch: Batch) -> None:
        for tweet, tokens in zip(batch.tweets, batch.tokens, strict=True):
            if tweet.id in self.labelled_ids:  # not a candidate, still part of the stream
                self.skipped_labelled += 1
                self._labelled_tokens.append(tokens)
                continue
            if len(self._ids) >= self.max_pool:
                self.left_out += 1
                continue
            self._ids.append(tweet.id)
            self._texts.append(tweet.text)
            self._tokens.append(tokens)
            self._times.append(to_iso(tweet.created_at))

    def end_window(self, window: Window) -> None:
        self.windows += 1
        if self._ids:
            self._select(window)
        for tokens in self._tokens + self._labelled_tokens:
            self.running_background.update(tokens)
        self._ids, self._texts, self._tokens, self._times = [], [], [], []
        self._labelled_tokens = []

    def _select(self, window: Window) -> None:
        probs = None
        if self.model is not None and self.model.head.n_classes >= 2:
            probs = self.model.probs(self._tokens)
        candidates = Candidates(self._ids, self._texts, self._tokens, probs=probs)
        background = self.fixed_background or self.running_background
        total = None
        if not background:  # the first window: contrast it with ordinary text (wordfreq)
            background, total = self._embedded_background()
        context = Context(background_counts=background or None, background_total=total,
                          seed=self.seed * 100_003 + window.index)
        selector = self.selector if background else self.first_selector
        for pick in selector.select(candidates, context):
            row = {"window": window.index, "window_start": to_iso(window.start),
                   "id": pick.id, "created_at": self._times[pick.index], "text": pick.text,
                   "total": round(pick.total, 4), "reason": pick.reason,
                   "scores": {k: round(v, 4) for k, v in pick.scores.items()}}
            self._jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
            self._csv.writerow({**row, "scores": json.dumps(row["scores"]), "label": ""})
            self.selected += 1
        self._jsonl.flush()
        self._csv_file.flush()

    def _embedded_background(self) -> tuple[Counter[str], int]:
        """Pseudo-counts of this window's terms in wordfreq's ordinary text (out of 1e9)."""
        from textcl.keywords.background import wordfreq_background

        reference = wordfreq_background()
        scale = 1_000_000_000
        terms = {t for doc in self._tokens for t in doc}
        counts = Counter({t: max(1, round(reference.rate(t) * scale)) for t in terms})
        return counts, max(scale, int(sum(counts.values())))

    def summary(self) -> dict[str, Any]:
        return {"windows": self.windows, "selected": self.selected, "budget": self.budget,
                "pool_left_out": self.left_out, "already_labelled": self.skipped_labelled,
                "background": "given" if self.fixed_background
                else "earlier windows (the first: wordfreq's ordinary text)",
                "uncertainty": self.model is not None and self.model.head.n_classes >= 2}

    def close(self, out_dir: Path | None) -> None:
        self._jsonl.close()
        self._csv_file.close()

    def state_dict(self) -> dict[str, Any]:
        """Everything, the open window's pool included (a checkpoint may fall inside it)."""
        return {"background": dict(self.running_background), "selected": self.selected,
                "windows": self.windows, "left_out": self.left_out,
                "skipped_labelled": self.skipped_labelled,
                "pool": {"ids": list(self._ids), "texts": list(self._texts),
                         "tokens": [list(t) for t in self._tokens], "times": list(self._times),
                         "labelled_tokens": [list(t) for t in self._labelled_tokens]}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.running_background = Counter(state["background"])
        self.selected, self.windows = state["selected"], state["windows"]
        self.left_out = int(state.get("left_out", 0))
        self.skipped_labelled = int(state.get("skipped_labelled", 0))
        pool = state.get("pool", {})
        self._ids, self._texts = list(pool.get("ids", [])), list(pool.get("texts", []))
        self._tokens = [list(t) for t in pool.get("tokens", [])]
        self._times = list(pool.get("times", []))
        self._labelled_tokens = [list(t) for t in pool.get("labelled_tokens", [])]
