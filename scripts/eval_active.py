"""Active-learning evaluation: accuracy against the number of labels, per strategy.

    python scripts/eval_active.py [--labels informativeness,info_type] [--seeds 0,1,2]
                                  [--initial 10] [--step 10] [--max-labels 200]
                                  [--out out/eval_active]

Pool-based rounds on CrisisLex T26, one event at a time (each event is a stream window):
70% of the event's tweets are the unlabelled pool, 30% the test set. Every strategy starts
from the same ``--initial`` random labels; each round a logistic regression over frozen
all-MiniLM-L6-v2 features (cached, see ``scripts/cache_features.py``) is fitted, scored on
the test set, and ``--step`` more tweets are chosen and labelled. Curves are averaged over
the 26 events and the seeds. The background corpus for representativeness is TweetEval's
everyday tweets (all tasks' training texts). The goal: some strategy reaches random's
final accuracy (at ``--max-labels``) with at least 40% fewer labels.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from textcl.active import (
    Candidates,
    Context,
    KCenterGreedy,
    Selector,
    TermLogOdds,
    Uncertainty,
)
from textcl.datasets import TWEETEVAL_TASKS, crisislex_events, tweeteval_task
from textcl.features import SentenceEncoder, cached_features
from textcl.paths import shared_data_dir
from textcl.text.tokenize import TweetTokenizer

Chooser = Callable[[Candidates, Context, int], list[int]]


def selector_chooser(selector: Selector) -> Chooser:
    def choose(pool: Candidates, context: Context, k: int) -> list[int]:
        selector.budget = k
        return [p.index for p in selector.select(pool, context)]

    return choose


def strategies() -> dict[str, Chooser]:
    """Strategy name -> chooser(pool candidates, context, k) -> pool indices."""

    def random(pool: Candidates, context: Context, k: int) -> list[int]:
        rng = np.random.default_rng(context.seed)
        return rng.choice(len(pool), size=min(k, len(pool)), replace=False).tolist()

    def kcenter(pool: Candidates, context: Context, k: int) -> list[int]:
        return KCenterGreedy().select(pool, k, context)

    return {
        "random": random,
        "entropy": selector_chooser(Selector([Uncertainty("entropy")], 0, dedup=None)),
        "margin": selector_chooser(Selector([Uncertainty("margin")], 0, dedup=None)),
        "margin+dedup": selector_chooser(Selector([Uncertainty("margin")], 0)),
        "kcenter": kcenter,
        "representative": selector_chooser(Selector([TermLogOdds()], 0, diversity=0.5)),
        "margin+representative": selector_chooser(
            Selector([(Uncertainty("margin"), 1.0), (TermLogOdds(), 0.5)], 0, diversity=0.3)
        ),
    }


def fit_predict(x: np.ndarray, y: np.ndarray, n_classes: int, x_pool: np.ndarray,
                x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities on the pool and predictions on the test set."""
    classes = np.unique(y)
    if len(classes) == 1:  # one class labelled so far: predict it everywhere
        probs = np.zeros((len(x_pool), n_classes))
        probs[:, classes[0]] = 1.0
        return probs, np.full(len(x_test), classes[0])
    model = LogisticRegression(C=10.0, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y)
    probs = np.zeros((len(x_pool), n_classes))
    probs[:, model.classes_] = model.predict_proba(x_pool)
    return probs, model.predict(x_test)


def run_event(feats: np.ndarray, labels: np.ndarray, texts: list[str], tokens: list[list[str]],
              n_classes: int, background: Counter, choose: Chooser, seed: int,
              args: argparse.Namespace) -> list[float]:
    """Test accuracy after each round (at initial, initial + step, ..., max labels)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    cut = round(0.7 * len(labels))
    pool_idx, test_idx = order[:cut], order[cut:]
    labelled = list(rng.choice(len(pool_idx), size=args.initial, replace=False))
    accs = []
    while True:
        lab_rows = pool_idx[labelled]
        rest = np.setdiff1d(np.arange(len(pool_idx)), labelled)
        probs, pred = fit_predict(feats[lab_rows], labels[lab_rows], n_classes,
                                  feats[pool_idx[rest]], feats[test_idx])
        accs.append(float((pred == labels[test_idx]).mean()))
        if len(labelled) >= args.max_labels or not len(rest):
            return accs
        rows = pool_idx[rest]
        pool = Candidates(
            ids=[str(i) for i in rows], texts=[texts[i] for i in rows],
            tokens=[tokens[i] for i in rows], embeddings=feats[rows], probs=probs,
        )
        context = Context(background_counts=background, labelled_embeddings=feats[lab_rows],
                          seed=seed * 1000 + len(labelled))
        k = min(args.step, args.max_labels - len(labelled))
        labelled += [int(rest[i]) for i in choose(pool, context, k)]


def labels_to_reach(curve: np.ndarray, grid: np.ndarray, target: float) -> int | None:
    hits = np.nonzero(curve >= target - 1e-12)[0]
    return int(grid[hits[0]]) if len(hits) else None


def plot(curves: dict[str, np.ndarray], grid: np.ndarray, title: str, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for name, curve in curves.items():
        ax.plot(grid, curve, label=name, lw=2.5 if name == "random" else 1.5,
                color="black" if name == "random" else None)
    ax.axhline(curves["random"][-1], color="grey", ls=":", lw=1)
    ax.set_xlabel("labelled tweets per event")
    ax.set_ylabel("test accuracy (mean over events and seeds)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default="informativeness,info_type")
    parser.add_argument("--strategies", default="", help="comma list; empty = all")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--initial", type=int, default=10)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--max-labels", type=int, default=200)
    parser.add_argument("--events", type=int, default=0, help="first N events only (0 = all)")
    parser.add_argument("--out", default="out/eval_active")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    chooser = strategies()
    if args.strategies:
        chooser = {k: v for k, v in chooser.items() if k in [*args.strategies.split(","), "random"]}
    data = shared_data_dir()
    events = crisislex_events(data / "crisislex" / "T26")
    if args.events:
        events = events[: args.events]
    encoder = SentenceEncoder()
    tokenize = TweetTokenizer()
    background: Counter = Counter()
    for name in TWEETEVAL_TASKS:
        for text in tweeteval_task(data / "tweeteval", name).train_texts:
            background.update(set(tokenize(text)))
    grid = np.arange(args.initial, args.max_labels + 1, args.step)
    report: dict = {"settings": vars(args), "labels": {}}
    lines = []
    for label in args.labels.split(","):
        names = sorted({v for e in events for v in e.labels["information_type"]})
        curves: dict[str, list[list[float]]] = {k: [] for k in chooser}
        started = time.perf_counter()
        for event in events:
            feats = cached_features(event.texts, encoder)
            if label == "informativeness":
                y = np.array([v == "Related and informative" for v in event.labels[label]], int)
                n_classes = 2
            else:
                y = np.array([names.index(v) for v in event.labels["information_type"]])
                n_classes = len(names)
            tokens = [tokenize(t) for t in event.texts]
            for seed in seeds:
                for name, choose in chooser.items():
                    curves[name].append(run_event(feats, y, event.texts, tokens, n_classes,
                                                  background, choose, seed, args))
        mean = {k: np.mean(np.array(v), axis=0) for k, v in curves.items()}
        target = mean["random"][-1]
        rows = {}
        print(f"\n== {label}: {len(events)} events x {len(seeds)} seeds, "
              f"{time.perf_counter() - started:.0f}s; random reaches {target:.3f} "
              f"with {grid[-1]} labels")
        for name, curve in mean.items():
            need = labels_to_reach(curve, grid, target)
            saving = None if need is None else 1 - need / grid[-1]
            rows[name] = {"curve": curve.tolist(), "final": float(curve[-1]),
                          "labels_to_reach_random_final": need, "saving": saving}
            print(f"  {name:22s} final {curve[-1]:.3f}  reaches random's final with "
                  f"{need if need is not None else '-':>4} labels"
                  + (f" ({100 * saving:.0f}% fewer)" if saving is not None else ""))
        best = max((r["saving"] or -1, k) for k, r in rows.items() if k != "random")
        ok = best[0] >= 0.4
        goal = (f"{label}: best {best[1]} saves {100 * best[0]:.0f}% of the labels random "
                f"needs for {target:.3f} (goal >= 40%) -> {'PASS' if ok else 'FAIL'}")
        print("  " + goal)
        plot(mean, grid, f"CrisisLex T26 {label}: accuracy vs labels", out / f"{label}.png")
        report["labels"][label] = {"grid": grid.tolist(), "rows": rows, "goal": goal}
        lines += [f"### {label}", "", "| strategy | accuracy at "
                  f"{grid[-1]} labels | labels to reach random's {target:.3f} | saving |",
                  "|---|---:|---:|---:|"]
        for name, r in rows.items():
            need = r["labels_to_reach_random_final"]
            lines.append(f"| {name} | {r['final']:.3f} | {need if need is not None else '–'} | "
                         + (f"{100 * r['saving']:.0f}%" if r["saving"] is not None else "–")
                         + " |")
        lines += ["", goal, ""]
    (out / "results.json").write_text(json.dumps(report, indent=2))
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print(f"\nwrote {out}/results.md, results.json and learning-curve PNGs")


if __name__ == "__main__":
    main()
