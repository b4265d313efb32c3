"""Stream consumer that picks, in every window, the tweets most worth a person's label.

In ``textcl stream`` (``[selection] enabled``) it writes ``OUT/selection/selection.jsonl``
and ``selection.csv`` (with an empty ``label`` column: list the file in ``[classifier]
label_files`` and the labels people fill in are learned as the stream goes on); the live
classifier's probabilities add uncertainty to the picks, and with ``relearn`` the picks
go to a :class:`~textcl.active.relearn.RelearnMemory` that word2vec, the transformer and
the classifiers replay.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from pydantic import Field

from textcl.consumers.spec import BuildContext, ConsumerSpec, Rows
from textcl.input.timeparse import to_iso
from textcl.outputs import open_output
from textcl.section import Section
from textcl.text.retweet import copy_key
from textcl.types import Batch, Window

if TYPE_CHECKING:
    import numpy as np

    from textcl.active.labelmodel import LabelModel
    from textcl.active.relearn import RelearnMemory

Probabilities = Callable[[list[str], list[list[str]]], "np.ndarray | None"]

PICKED_KEYS = 10_000  # picks remembered to recognise copies of a tweet labelled later
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

    def __init__(self, out_dir: Path | None, budget: int = 20, background: Counter | None = None,
                 model: LabelModel | None = None, diversity: float = 0.3,
                 max_pool: int = 20_000, seed: int = 0,
                 probabilities: Probabilities | None = None,
                 relearn: RelearnMemory | None = None,
                 relearn_fill: Literal["picks", "representative", "random"] = "representative",
                 ) -> None:
        from textcl.active import Novelty, Selector, TermLogOdds, Uncertainty
        from textcl.keywords.tracker import default_ignore

        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.budget = budget
        self.fixed_background = background
        self.running_background: Counter[str] = Counter()
        self.model = model
        if model is not None and probabilities is None:
            probabilities = _label_model_probabilities(model)
        self.probabilities = probabilities
        self.relearn = relearn
        self.relearn_fill = relearn_fill
        # labels of the classifiers that re-learn: the representative fill keeps their mix
        self.strata: list[str] = []
        # tweets the model already has a label for are not picked again
        self.labelled_ids = frozenset(r["id"] for r in model.labelled) if model else frozenset()
        self.skipped_labelled = 0
        # labels that arrive while the stream runs (the dashboard, label files): a tweet
        # labelled, or a copy of it (same words), is not offered again
        self.is_labelled: Callable[[str], bool] | None = None
        self._picked_keys: dict[str, str] = {}  # id -> words of the last PICKED_KEYS picks
        self.uncertain_windows = 0
        self.max_pool = max_pool
        self.seed = seed
        quiet = default_ignore()  # special tokens and stop words say nothing about a window
        novelty = (Novelty(ignore=quiet), 0.25)
        uncertainty = (Uncertainty("entropy"), 1.0)
        terms = (TermLogOdds(ignore=quiet), 1.0)
        # with and without class probabilities (a classifier that knows < 2 classes has none)
        self.selectors = {
            (background, probs): Selector(
                [s for s, on in ((terms, background), (novelty, True), (uncertainty, probs))
                 if on], budget, diversity=diversity, seed=seed)
            for background in (True, False) for probs in (True, False)
        }
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._tokens: list[list[str]] = []
        self._times: list[str] = []
        self._labels: list[dict[str, str]] = []
        self._labelled_tokens: list[list[str]] = []
        self.selected = 0
        self.left_out = 0
        self.windows = 0
        self._jsonl: IO[bytes] | None = None
        self._csv_file: IO[bytes] | None = None
        if self.out_dir is not None:  # None: pick (and re-learn) without writing
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = open_output(self.out_dir / "selection.jsonl")
            self._csv_file = open_output(self.out_dir / "selection.csv")
            if self._csv_file.tell() == 0:
                self._csv_file.write((",".join(CSV_FIELDS) + "\r\n").encode("utf-8"))

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
            self._labels.append(dict(tweet.labels))

    def end_window(self, window: Window) -> None:
        self.windows += 1
        if self._ids:
            self._select(window)
        for tokens in self._tokens + self._labelled_tokens:
            self.running_background.update(tokens)
        self._ids, self._texts, self._tokens, self._times = [], [], [], []
        self._labels, self._labelled_tokens = [], []

    def _select(self, window: Window) -> None:
        import numpy as np

        from textcl.active import Candidates, Context

        self._drop_labelled()
        if not self._ids:
            return
        probs = self.probabilities(self._texts, self._tokens) if self.probabilities else None
        if probs is not None:
            probs = np.asarray(probs, dtype=np.float64)
            self.uncertain_windows += 1
        candidates = Candidates(self._ids, self._texts, self._tokens, probs=probs)
        background = self.fixed_background or self.running_background
        total = None
        if not background:  # the first window: contrast it with ordinary text (wordfreq)
            background, total = self._embedded_background()
        context = Context(background_counts=background or None, background_total=total,
                          seed=self.seed * 100_003 + window.index)
        selector = self.selectors[(bool(background), probs is not None)]
        picks = selector.select(candidates, context)
        rows = []
        for pick in picks:
            row = {"window": window.index, "window_start": to_iso(window.start),
                   "id": pick.id, "created_at": self._times[pick.index], "text": pick.text,
                   "total": round(pick.total, 4), "reason": pick.reason,
                   "scores": {k: round(v, 4) for k, v in pick.scores.items()}}
            rows.append(row)
        self.selected += len(rows)
        for pick in picks:
            self._picked_keys[pick.id] = copy_key(self._tokens[pick.index])
        while len(self._picked_keys) > PICKED_KEYS:
            self._picked_keys.pop(next(iter(self._picked_keys)))
        if self._jsonl is not None and self._csv_file is not None:
            self._jsonl.write(b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode()
                                       for r in rows))
            self._write_csv(rows)
            self._jsonl.flush()
            self._csv_file.flush()
        if self.relearn is not None:
            picked = [p.index for p in picks]
            if self.relearn_fill == "representative":
                picked = self._representative_sample(candidates, context, len(picked), window)
            self._remember(window, picked)

    def _drop_labelled(self) -> None:
        """Take out of the pool the tweets labelled since they arrived, and their copies."""
        if self.is_labelled is None:
            return
        labelled = {key for tweet_id, key in self._picked_keys.items()
                    if self.is_labelled(tweet_id)}
        keep = [i for i, tweet_id in enumerate(self._ids)
                if not self.is_labelled(tweet_id) and copy_key(self._tokens[i]) not in labelled]
        if len(keep) == len(self._ids):
            return
        dropped = set(range(len(self._ids))) - set(keep)
        self.skipped_labelled += len(dropped)
        self._labelled_tokens += [self._tokens[i] for i in sorted(dropped)]
        for name in ("_ids", "_texts", "_tokens", "_times", "_labels"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in keep])

    def _write_csv(self, rows: list[dict[str, Any]]) -> None:
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, CSV_FIELDS)
        for row in rows:
            writer.writerow({**row, "scores": json.dumps(row["scores"]), "label": ""})
        self._csv_file.write(buffer.getvalue().encode("utf-8"))

    def _representative_sample(self, candidates: Any, context: Any, n: int,
                      window: Window) -> list[int]:
        """``n`` distinct tweets that together cover the window's frequent, distinctive
        terms (log-odds against the background) in proportion, shared between the labels
        of ``strata`` as the window shares them: see :mod:`textcl.active.coverage`."""
        import numpy as np

        from textcl.active import TermLogOdds
        from textcl.active.coverage import stratified_coverage, term_weights
        from textcl.keywords.tracker import default_ignore

        if context.background_counts is None:
            return []
        scorer = TermLogOdds(ignore=default_ignore())

        def weigh(rows: list[int]) -> dict[str, float]:
            part = candidates.subset(rows)
            return term_weights(part.tokens, scorer.term_z(part, context))

        strata = [tuple(labels.get(name) for name in self.strata) for labels in self._labels]
        rng = np.random.default_rng(self.seed * 100_003 + window.index)
        return stratified_coverage(self._tokens, weigh, n, strata, rng)

    def _remember(self, window: Window, picked: list[int]) -> None:
        """The chosen tweets (``random``: as many drawn at random) go to the relearn memory."""
        from textcl.active.relearn import RelearnItem

        assert self.relearn is not None
        if self.relearn_fill == "random":
            import numpy as np

            rng = np.random.default_rng(self.seed * 100_003 + window.index)
            picked = sorted(rng.choice(len(self._ids), size=len(picked), replace=False).tolist())
        self.relearn.add([
            RelearnItem(self._ids[i], window.index, self._texts[i], list(self._tokens[i]),
                        dict(self._labels[i]))
            for i in picked
        ])

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
                "uncertainty": self.probabilities is not None,
                "uncertain_windows": self.uncertain_windows,
                **({"relearn": {**self.relearn.summary(), "fill": self.relearn_fill}}
                   if self.relearn is not None else {})}

    def close(self, out_dir: Path | None) -> None:
        for handle in (self._jsonl, self._csv_file):
            if handle is not None:
                handle.close()
        if out_dir is not None and self.out_dir is not None and self.relearn is not None:
            # what the stream's models were re-learning at the end
            with (self.out_dir / "relearn.jsonl").open("w", encoding="utf-8") as handle:
                for item in self.relearn.items:
                    row = {"id": item.id, "window": item.window, "text": item.text}
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    def state_dict(self) -> dict[str, Any]:
        """Everything, the open window's pool included (a checkpoint may fall inside it)."""
        state = {"background": dict(self.running_background), "selected": self.selected,
                 "windows": self.windows, "left_out": self.left_out,
                 "skipped_labelled": self.skipped_labelled,
                 "uncertain_windows": self.uncertain_windows,
                 "picked_keys": dict(self._picked_keys),
                 "pool": {"ids": list(self._ids), "texts": list(self._texts),
                          "tokens": [list(t) for t in self._tokens],
                          "times": list(self._times), "labels": list(self._labels),
                          "labelled_tokens": [list(t) for t in self._labelled_tokens]}}
        if self.relearn is not None:
            state["relearn"] = self.relearn.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.running_background = Counter(state["background"])
        self.selected, self.windows = state["selected"], state["windows"]
        self.left_out = int(state.get("left_out", 0))
        self.skipped_labelled = int(state.get("skipped_labelled", 0))
        pool = state.get("pool", {})
        self._ids, self._texts = list(pool.get("ids", [])), list(pool.get("texts", []))
        self._tokens = [list(t) for t in pool.get("tokens", [])]
        self._times = list(pool.get("times", []))
        self._labels = [dict(x) for x in pool.get("labels", [{} for _ in self._ids])]
        self.uncertain_windows = int(state.get("uncertain_windows", 0))
        self._picked_keys = dict(state.get("picked_keys", {}))
        if self.relearn is not None and "relearn" in state:
            self.relearn.load_state_dict(state["relearn"])
        self._labelled_tokens = [list(t) for t in pool.get("labelled_tokens", [])]


def _label_model_probabilities(model: LabelModel) -> Probabilities:
    """Class probabilities of a ``textcl label`` model (``None`` until it knows 2 classes)."""
    return lambda texts, tokens: model.probs(tokens) if model.head.n_classes >= 2 else None


class SelectionSection(Section):
    """Active learning inside ``textcl stream``: ``budget`` tweets a window most worth a
    label (representative of the window against the stream before it, novel, and
    uncertain for the classifier named ``uncertainty_from``: a ``[classifier]`` label,
    empty: the first one), written to ``OUT/selection/selection.csv``.

    ``relearn``: tweets kept for re-learning (0: off); ``relearn_share`` of them replayed
    per new tweet by the consumers in ``relearn_to`` (the classifiers only when listed:
    their own class-balanced replay does better without it); ``relearn_fill`` =
    ``representative`` (as many distinct tweets a window as ``budget``, together covering
    its frequent, distinctive terms in proportion), ``picks`` (the selection) or
    ``random`` (as many drawn at random: the baseline).
    """

    enabled: bool = False
    budget: int = Field(default=20, ge=1)
    diversity: float = Field(default=0.3, ge=0.0)
    max_pool: int = Field(default=20_000, ge=1)
    uncertainty_from: str = ""
    relearn: int = Field(default=0, ge=0)
    relearn_share: float = Field(default=0.2, ge=0.0)
    relearn_fill: Literal["picks", "representative", "random"] = "representative"
    relearn_to: list[Literal["word2vec", "transformer", "classifier"]] = Field(
        default_factory=lambda: ["word2vec", "transformer"])
    seed: int = 0


def _build(context: BuildContext) -> SelectionConsumer | None:
    section: SelectionSection = context.section("selection")
    if not section.enabled:
        return None
    from textcl.active.relearn import RelearnMemory

    out = context.out_dir / "selection" if context.out_dir is not None else None
    memory = (RelearnMemory(section.relearn, section.relearn_share, section.seed)
              if section.relearn else None)
    probabilities = None
    classifier = context.built.get("classifier")
    if classifier is not None:
        probabilities = classifier.probabilities_of(section.uncertainty_from or None)
    consumer = SelectionConsumer(out, section.budget, None, None, section.diversity,
                                 section.max_pool, section.seed, probabilities, memory,
                                 section.relearn_fill)
    if classifier is not None:
        consumer.is_labelled = classifier.is_labelled  # type: ignore[attr-defined]
    if memory is not None:
        if classifier is not None and "classifier" in section.relearn_to:
            consumer.strata = list(context.config.classifier.labels)
        for name in section.relearn_to:
            target = context.built.get(name)
            if target is not None:
                target.attach_relearn(memory)  # type: ignore[attr-defined]
    return consumer


def _rows(summary: dict[str, Any]) -> Rows:
    rows = [("selected for labels", f"{summary['selected']:,} ({summary['budget']} a window)")]
    relearn = summary.get("relearn")
    if relearn:
        rows.append(("relearn memory", f"{relearn['tweets']:,} {relearn['fill']}, "
                     f"{sum(relearn['relearned'].values()):,} re-learned"))
    return rows


SPEC = ConsumerSpec(
    name="selection",
    section=SelectionSection,
    build=_build,
    rows=_rows,
    files=lambda summary: ["selection/"],
)
