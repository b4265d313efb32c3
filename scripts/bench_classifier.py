"""Stream classifiers on CrisisLex T26 in time order: textcl's defaults against the baselines.

    python scripts/bench_classifier.py [--tasks informativeness,information_type,event_type]
                                       [--variants] [--throughput-runs 3] [--out DIR]

Every labelled tweet of the 26 events, in time order, in daily windows, through the
``[classifier]`` consumer of ``textcl stream`` (the library ``Pipeline``, other consumers
off), scored test-then-train (prequential): each tweet is predicted before it is learned.
10% of the tweets (by id) are held out; after each window the model is scored on the
held-out tweets of every window so far: ``earlier acc`` is that accuracy at the end,
``forgetting`` the mean drop since each window ended (weighted by its tweets).

Rows, measured in the same run on the same tweets, features and held-out split:

- ``textcl default``: the shipped ``[classifier]`` settings (class-balanced replay);
- ``textcl naive``: the same model and steps with no adapter;
- ``river logreg``: river's online logistic regression (one-vs-rest, SGD) on the same
  hashed features, learning tweet by tweet (the peer streaming library);
- ``retrain each window``: scikit-learn logistic regression (SGD, log loss, 5 epochs)
  trained from scratch on every labelled tweet so far at each window end (the cost of not
  learning continually), predicting the next window.

``--variants`` adds rows for other adapter mixes. Then the throughput of ``textcl stream``
(the default pipeline: word2vec, keywords, drift report) with and without one classifier,
as separate processes in turn. Goals (issue: stream classifiers): the default within 3
points of the retrained model's prequential accuracy at >= 10x less training time,
forgetting <= 50% of naive's; throughput with the classifier >= 0.7x of without.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from textcl.classify.heldout import held_out
from textcl.classify.scores import ClassCounts
from textcl.config import PipelineConfig, config_from_dict
from textcl.features.hashed import HashedNgrams
from textcl.input.crisislex import read_crisislex
from textcl.paths import shared_data_dir
from textcl.pipeline import Pipeline
from textcl.text.tokenize import TweetTokenizer
from textcl.types import Tweet
from textcl.window import BatchEvent, Windower

TASKS = ("informativeness", "information_type", "event_type")
VARIANTS = {
    "textcl reservoir replay": {"adapters": ["replay"]},
    "textcl class-balanced, replay 8": {"replay_batch": 8},
    "textcl no replay, slow biases": {"adapters": [], "bias_lr_scale": 0.02},
    "textcl class-balanced + lwf": {"adapters": ["class_balanced", "lwf"]},
    "textcl ewc (lambda 1)": {"adapters": ["ewc"], "ewc_lambda": 1.0},
    "textcl ewc (lambda 1), gradient": {"adapters": ["ewc"], "ewc_lambda": 1.0,
                                        "penalty_step": "gradient"},
    "textcl si": {"adapters": ["si"]},
    "textcl si, gradient": {"adapters": ["si"], "penalty_step": "gradient"},
    "textcl agem": {"adapters": ["agem"]},
}


def textcl_run(t26: Path, tasks: list[str], overrides: dict[str, Any], out: Path) -> dict:
    """The [classifier] consumer alone through the pipeline; its summary and metrics."""
    data = PipelineConfig().model_dump()
    for name in ("keywords", "word2vec", "drift"):
        data[name]["enabled"] = False
    data["output"]["checkpoint"] = False
    data["classifier"].update({"labels": tasks, "predictions": False, **overrides})
    summary = Pipeline(config_from_dict(data, "bench")).run(t26, out)
    result = {}
    for task in tasks:
        info = summary["consumers"]["classifier"]["classifiers"][task]
        metrics = [json.loads(line) for line in
                   (out / "classifier" / task / "metrics.jsonl").read_text().splitlines()]
        earlier = metrics[-1]["earlier_windows"]
        result[task] = {"accuracy": info["accuracy"], "macro_f1": info["macro_f1"],
                        "earlier": earlier["accuracy"], "forgetting": earlier["forgetting"],
                        "train_s": info["train_seconds"], "memory": info["memory"],
                        "learned": info["learned"]}
    return result


class Stream:
    """T26 as the pipeline windows it: per window, its tweets and tokens."""

    def __init__(self, t26: Path) -> None:
        config = PipelineConfig()
        tokenizer = TweetTokenizer(config.tokenizer_options())
        windower = Windower(config.window.batch_size, config.window.every)
        tweets = [t for t in read_crisislex(t26) if isinstance(t, Tweet)]
        self.windows: list[list[Tweet]] = []
        current: dict[int, list[Tweet]] = defaultdict(list)
        for event in [e for t in tweets for e in windower.push(t)] + list(windower.finish()):
            if isinstance(event, BatchEvent):
                current[event.window] += event.tweets
        self.windows = [current[w] for w in sorted(current)]
        hashed = HashedNgrams(config.classifier.hash_features, config.classifier.ngrams)
        flat = [t for w in self.windows for t in w]
        self.rows = hashed.sparse(tokenizer.tokenize_many([t.text for t in flat]))
        self.index = {t.id: i for i, t in enumerate(flat)}


def _scores(rows: list[tuple[str | None, str]]) -> ClassCounts:
    counts = ClassCounts()
    for predicted, gold in rows:
        counts.add(predicted, gold)
    return counts


def _forgetting(first: dict[int, float], final: dict[int, float],
                sizes: dict[int, int]) -> tuple[float, float]:
    """Final accuracy on earlier windows' held-out tweets and the mean drop (weighted)."""
    windows = [w for w in final if w in first and w < max(final)]
    total = sum(sizes[w] for w in windows)
    now = sum(final[w] * sizes[w] for w in windows) / total
    drop = sum((first[w] - final[w]) * sizes[w] for w in windows) / total
    return round(now, 4), round(drop, 4)


def baseline_run(stream: Stream, task: str, kind: str) -> dict:
    """River's online logistic regression, or scikit-learn retrained at every window end."""
    predicted: list[tuple[str | None, str]] = []
    first: dict[int, float] = {}
    sizes: dict[int, int] = {}
    held: dict[int, list[tuple[int, str]]] = {}
    train_s = 0.0
    seen_rows: list[int] = []
    seen_labels: list[str] = []
    model: Any = None
    if kind == "river":
        from river import linear_model, multiclass, optim

        model = multiclass.OneVsRestClassifier(
            linear_model.LogisticRegression(optimizer=optim.SGD(0.5)))

    def predict(rows: list[int]) -> list[str | None]:
        if kind == "river":
            return [model.predict_one(x) for x in _dicts(stream, rows)]
        if model is None:
            return [None] * len(rows)
        return [str(p) for p in model.predict(stream.rows[rows])]

    for w, tweets in enumerate(stream.windows):
        labelled = [(stream.index[t.id], t.labels[task], t.id) for t in tweets
                    if t.labels.get(task)]
        train = [(r, y) for r, y, i in labelled if not held_out(i, 0.1)]
        held_rows = [(r, y) for r, y, i in labelled if held_out(i, 0.1)]
        if kind == "river":
            xs = _dicts(stream, [r for r, _ in train])
            for x, (_, y) in zip(xs, train, strict=True):
                predicted.append((model.predict_one(x), y))
                started = time.perf_counter()
                model.learn_one(x, y)
                train_s += time.perf_counter() - started
        else:
            guesses = predict([r for r, _ in train]) if train else []
            predicted += list(zip(guesses, [y for _, y in train], strict=True))
            seen_rows += [r for r, _ in train]
            seen_labels += [y for _, y in train]
            if len(set(seen_labels)) >= 2:
                from sklearn.linear_model import SGDClassifier

                started = time.perf_counter()
                model = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=5, tol=None,
                                      random_state=0).fit(stream.rows[seen_rows], seen_labels)
                train_s += time.perf_counter() - started
        if held_rows:
            held[w] = held_rows
            sizes[w] = len(held_rows)
            guesses = predict([r for r, _ in held_rows])
            first[w] = float(np.mean([g == y for g, (_, y) in zip(guesses, held_rows,
                                                                   strict=True)]))
    final = {}
    for w, rows in held.items():
        guesses = predict([r for r, _ in rows])
        final[w] = float(np.mean([g == y for g, (_, y) in zip(guesses, rows, strict=True)]))
    counts = _scores(predicted)
    earlier, forgetting = _forgetting(first, final, sizes)
    return {"accuracy": round(counts.accuracy, 4), "macro_f1": round(counts.macro_f1, 4),
            "earlier": earlier, "forgetting": forgetting, "train_s": round(train_s, 3),
            "memory": "all" if kind == "retrain" else 0, "learned": counts.total}


def _dicts(stream: Stream, rows: list[int]) -> list[dict[int, float]]:
    """The hashed rows as ``{feature: weight}`` dicts (river's input)."""
    matrix = stream.rows[rows]
    ptr, cols, vals = matrix.indptr, matrix.indices.tolist(), matrix.data.tolist()
    return [dict(zip(cols[ptr[i]:ptr[i + 1]], vals[ptr[i]:ptr[i + 1]], strict=True))
            for i in range(matrix.shape[0])]


def throughput(t26: Path, runs: int, out: Path) -> dict[str, dict[str, list[float]]]:
    """``textcl stream`` on T26 without and with one classifier, in turn: tweets/s of
    the whole process (start-up included) and of the stream itself (``summary.json``
    ``tweets_per_s``: from the first record to the summary, models built)."""
    pipeline = out / "classifier.toml"
    pipeline.write_text('[classifier]\nlabels = ["informativeness"]\n')
    cli = [sys.executable, "-m", "textcl", "stream", str(t26), "-q"]
    rates: dict[str, dict[str, list[float]]] = {
        name: {"process": [], "stream": []} for name in ("without", "with")}
    for run in range(runs):
        for name, extra in (("without", []), ("with", ["-p", str(pipeline)])):
            folder = out / f"stream-{name}-{run}"
            started = time.perf_counter()
            subprocess.run([*cli, *extra, "-o", str(folder)], check=True,
                           stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            summary = json.loads((folder / "summary.json").read_text())
            rates[name]["process"].append(summary["read"] / seconds)
            rates[name]["stream"].append(summary["tweets_per_s"])
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--throughput-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("out/bench_classifier"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a [classifier] key of the default run (a JSON "
                        "value), e.g. --set chunk=32")
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    t26 = shared_data_dir() / "crisislex" / "T26"
    args.out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, dict]] = defaultdict(dict)
    changed = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    runs = {"textcl default": changed, "textcl naive": {**changed, "adapters": []}}
    if args.variants:
        runs.update(VARIANTS)
    for name, overrides in runs.items():
        for task, result in textcl_run(t26, tasks, overrides,
                                       args.out / name.replace(" ", "_")).items():
            rows[task][name] = result
    stream = Stream(t26)
    for task in tasks:
        rows[task]["river logreg"] = baseline_run(stream, task, "river")
        rows[task]["retrain each window"] = baseline_run(stream, task, "retrain")
    failures = 0
    for task in tasks:
        print(f"\n{task} ({rows[task]['textcl default']['learned']:,} tweets learned, "
              f"{len(stream.windows)} daily windows)")
        print(f"{'method':34s} {'preq acc':>8s} {'macro-F1':>8s} {'earlier':>8s} "
              f"{'forget':>7s} {'train s':>8s} {'memory':>7s}")
        for name, r in rows[task].items():
            print(f"{name:34s} {r['accuracy']:8.3f} {r['macro_f1']:8.3f} {r['earlier']:8.3f} "
                  f"{r['forgetting']:7.3f} {r['train_s']:8.2f} {r['memory']!s:>7s}")
        d, naive, retrain = (rows[task][k] for k in
                             ("textcl default", "textcl naive", "retrain each window"))
        speed = retrain["train_s"] / max(d["train_s"], 1e-9)
        checks = [
            (d["accuracy"] >= retrain["accuracy"] - 0.03,
             f"default accuracy {d['accuracy']:.3f} within 3 points of retrain "
             f"{retrain['accuracy']:.3f}"),
            (speed >= 10, f"training time {speed:.1f}x less than retrain (goal >= 10x)"),
            (d["forgetting"] <= 0.5 * max(naive["forgetting"], 0),
             f"forgetting {d['forgetting']:.3f} <= 50% of naive {naive['forgetting']:.3f} "
             f"({d['forgetting'] / max(naive['forgetting'], 1e-9):.0%})"),
        ]
        for ok, text in checks:
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'}: {text}")
    if args.throughput_runs:
        rates = throughput(t26, args.throughput_runs, args.out)
        print(f"\ntextcl stream on T26 (default pipeline: word2vec, keywords, drift report), "
              f"every tweet labelled, median of {args.throughput_runs} runs in turn")
        ratios = {}
        for kind, label in (("stream", "while streaming"), ("process", "whole process")):
            without, with_ = (statistics.median(rates[k][kind]) for k in ("without", "with"))
            ratios[kind] = with_ / without
            print(f"  {label:16s} without a classifier {without:7,.0f} tweets/s, with one "
                  f"(informativeness) {with_:7,.0f} tweets/s: {ratios[kind]:.2f}x")
        ok = ratios["stream"] >= 0.7
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}: throughput while streaming with the classifier "
              f"{ratios['stream']:.2f}x of without (goal >= 0.7x)")
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
