"""Re-learning what matters: the selection's picks replayed by word2vec and the classifiers,
against the same number of tweets drawn at random, on CrisisLex T26 in time order.

    python scripts/eval_relearn.py [--memory 1000] [--share 0.2] [--budget 20]
                                   [--tasks informativeness,event_type] [--out DIR]
                                   [--seeds 0,1,2] [--data T26|T6] [--adapters none]

Four runs of ``textcl stream`` (the library pipeline; word2vec, the classifiers and the
selection on; keywords and the drift report off), identical but for the relearn memory:

- ``none``: nothing re-learned (the selection still picks);
- ``random``: each window, ``budget`` tweets of the window drawn at random go to a
  ``memory``-tweet reservoir, and ``share`` x (new tweets) of it are re-learned in every
  update of word2vec and of each classifier;
- ``picks``: the same, filled with the selection's picks (representative of the window
  against the stream before it, novel, uncertain for the classifier);
- ``representative``: as many distinct tweets a window, a greedy sample that covers the
  window's frequent, distinctive terms (log-odds against the stream before it) in
  proportion (``textcl.active.coverage``).

Each fill runs once per ``--seeds`` seed, the seed of the selection, the classifiers and
word2vec (what is picked at random, what is re-learned when, every consumer's own draws),
so that the seeds are whole replicates. ``--adapters none`` takes the classifiers' own
class-balanced replay away, so the relearn memory is all they replay; ``--relearn-to
word2vec`` measures the pipeline's default (the classifiers keep to their own replay).

On ``--data T6`` (six events, ~60k tweets labelled on-topic / off-topic: a stream with
much chatter, where a random draw is often off-topic) the classifier learns ``topic``.

Measures: each classifier's prequential accuracy and macro-F1, its accuracy on the
held-out tweets of earlier windows at the end and its forgetting (see
``scripts/bench_classifier.py``); word2vec's memory of past events: for every event that
ended at least ``--past-days`` days before the stream, the mean cosine similarity between
its 10 commonest hashtags in the final model, minus their mean similarity to 200 random
vocabulary words (how distinct the event's words still are).

The checks compare each fill with ``random`` seed by seed: the mean paired difference and
its 95% t-interval; ``better`` / ``worse`` where the interval lies above / below 0, ``tie``
where it holds 0 (the seeds cannot tell them apart). The script fails when
``representative`` is worse than random on any measure.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from textcl.config import PipelineConfig, config_from_dict
from textcl.embed.word2vec import ContinualWord2Vec
from textcl.paths import shared_data_dir
from textcl.pipeline import Pipeline
from textcl.text.tokenize import TweetTokenizer

FILLS = ("none", "random", "picks", "representative")


def run(t26: Path, fill: str, args: argparse.Namespace, seed: int = 0) -> Path:
    out = args.out / (fill if seed == 0 else f"{fill}-seed{seed}")
    if args.reuse and (out / "summary.json").exists():
        return out
    data = PipelineConfig().model_dump()
    data["keywords"]["enabled"] = False
    data["drift"]["enabled"] = False
    data["output"]["checkpoint"] = False
    data["classifier"].update({"labels": args.tasks, "predictions": False, "seed": seed})
    data["word2vec"]["seed"] += seed  # a seed is a whole replicate: every consumer's draws
    if args.adapters is not None:
        data["classifier"]["adapters"] = args.adapters
    data["selection"].update({"enabled": True, "budget": args.budget, "seed": seed,
                              "relearn": 0 if fill == "none" else args.memory,
                              "relearn_share": args.share,
                              "relearn_to": args.relearn_to,
                              "relearn_fill": "picks" if fill == "none" else fill})
    Pipeline(config_from_dict(data, f"relearn {fill}")).run(t26, out)
    return out


def classifier_scores(out: Path, task: str) -> dict[str, float]:
    summary = json.loads((out / "summary.json").read_text())
    info = summary["consumers"]["classifier"]["classifiers"][task]
    last = json.loads((out / "classifier" / task / "metrics.jsonl").read_text()
                      .splitlines()[-1])["earlier_windows"]
    return {"accuracy": info["accuracy"], "macro_f1": info["macro_f1"],
            "earlier": last["accuracy"], "forgetting": last["forgetting"],
            "relearned": info.get("relearned", 0)}


def past_events(source: Path, days: int) -> dict[str, list[str]]:
    """The 10 commonest hashtags of each event that ended ``days``+ days before the
    stream did (its on-topic tweets where the data says which are on topic)."""
    from collections import Counter

    from textcl.input.crisislex import read_crisislex
    from textcl.types import Tweet

    tokenizer = TweetTokenizer(PipelineConfig().tokenizer_options())
    tags: dict[str, Counter[str]] = {}
    ends: dict[str, datetime] = {}
    for tweet in read_crisislex(source):
        if not isinstance(tweet, Tweet) or tweet.labels.get("topic") == "off-topic":
            continue
        event = tweet.labels["event"]
        tags.setdefault(event, Counter()).update(
            t for t in tokenizer(tweet.text) if t.startswith("#") and len(t) > 3)
        ends[event] = max(ends.get(event, tweet.created_at), tweet.created_at)
    last = max(ends.values())
    return {event: [t for t, _ in tags[event].most_common(10)] for event in sorted(tags)
            if ends[event] <= last - timedelta(days=days)}


def event_memory(out: Path, events: dict[str, list[str]], seed: int = 0) -> tuple[float, int]:
    """Mean over past events of (keyword-keyword cosine - keyword-random-word cosine)."""
    wv = ContinualWord2Vec.load(out / "word2vec.npz").wv
    rng = np.random.default_rng(seed)
    frequent = wv.index_to_key[: min(len(wv.index_to_key), 5000)]
    others = [frequent[i] for i in rng.choice(len(frequent), size=200, replace=False)]
    scores = []
    for words in events.values():
        known = [w for w in words if w in wv.key_to_index]
        if len(known) < 2:
            continue
        within = [wv.similarity(a, b) for i, a in enumerate(known) for b in known[i + 1:]]
        against = [wv.similarity(a, b) for a in known for b in others if b not in known]
        scores.append(float(np.mean(within) - np.mean(against)))
    return (round(float(np.mean(scores)), 4) if scores else float("nan")), len(scores)


def _mean(runs: list[dict[str, float]], key: str) -> float:
    return float(np.mean([r[key] for r in runs]))


def _shown(runs: list[dict[str, float]], key: str, digits: int = 3) -> str:
    """``mean ± half range`` over the seeds' runs (the mean alone for one seed)."""
    values = [r[key] for r in runs]
    mean = float(np.mean(values))
    if len(values) == 1:
        return f"{mean:13.{digits}f}"
    spread = (max(values) - min(values)) / 2
    return f"{mean:7.{digits}f}±{spread:.{digits}f}".rjust(13)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--data", choices=("T26", "T6"), default="T26")
    parser.add_argument("--tasks", default=None,
                        help="labels to classify (T26: informativeness,event_type; T6: topic)")
    parser.add_argument("--past-days", type=int, default=30)
    parser.add_argument("--relearn-to", default="word2vec,classifier",
                        help="the consumers that re-learn (the pipeline's default: word2vec "
                             "and the transformer, which this script leaves off)")
    parser.add_argument("--adapters", default=None,
                        help="the classifiers' own adapters, comma-separated ('none': only "
                             "the relearn memory replays; default: the pipeline's)")
    parser.add_argument("--out", type=Path, default=Path("out/eval_relearn"))
    parser.add_argument("--reuse", action="store_true",
                        help="keep the runs already in --out (only measure)")
    parser.add_argument("--seeds", default="0,1,2",
                        help="seeds of the selection, the classifiers and word2vec: each "
                             "fill runs once per seed; figures are means")
    args = parser.parse_args()
    args.tasks = (args.tasks or ("topic" if args.data == "T6" else
                                 "informativeness,event_type")).split(",")
    source = shared_data_dir() / "crisislex" / args.data
    seeds = [int(x) for x in args.seeds.split(",")]
    if args.adapters is not None:
        args.adapters = [] if args.adapters == "none" else args.adapters.split(",")
    args.relearn_to = args.relearn_to.split(",")
    outs = {fill: [run(source, fill, args, seed) for seed in seeds] for fill in FILLS}
    events = past_events(source, args.past_days)
    print(f"CrisisLex {args.data}, daily windows; relearn memory {args.memory} tweets, share "
          f"{args.share}, {args.budget} picks a window, re-learned by "
          f"{' and '.join(args.relearn_to)}; classifiers' own adapters "
          f"{args.adapters if args.adapters is not None else 'the default'}; means over seeds "
          f"{seeds} (± half the range)")
    results: dict[str, dict] = {fill: {} for fill in FILLS}
    per_seed: dict[str, dict[str, list[float]]] = {fill: {} for fill in FILLS}
    if "classifier" not in args.relearn_to:
        print("\nthe classifiers do not re-learn: every fill leaves them the same")
    for task in args.tasks if "classifier" in args.relearn_to else []:
        print(f"\nclassifier {task}")
        print(f"{'relearn':14s} {'preq acc':>13s} {'macro-F1':>13s} {'earlier':>13s} "
              f"{'forget':>13s} {'relearned':>9s}")
        for fill in FILLS:
            runs = [classifier_scores(out, task) for out in outs[fill]]
            r = results[fill][task] = {k: _mean(runs, k) for k in runs[0]}
            per_seed[fill][f"{task} earlier-window accuracy"] = [x["earlier"] for x in runs]
            per_seed[fill][f"{task} macro-F1"] = [x["macro_f1"] for x in runs]
            print(f"{fill:14s} " + " ".join(_shown(runs, k) for k in
                                            ("accuracy", "macro_f1", "earlier", "forgetting"))
                  + f" {int(r['relearned']):9,}")
    print(f"\nword2vec: how distinct the hashtags of past events still are "
          f"({len(events)} events ended {args.past_days}+ days before the end)")
    for fill in FILLS:
        scores = [{"memory": event_memory(out, events)[0]} for out in outs[fill]]
        results[fill]["word2vec_event_memory"] = _mean(scores, "memory")
        per_seed[fill]["word2vec event memory"] = [x["memory"] for x in scores]
        print(f"{fill:14s} {_shown(scores, 'memory', 4)}")
    print(f"\nagainst random, seed by seed ({len(seeds)} seeds: the mean difference and its "
          f"95% interval; 'tie' where the interval holds 0)")
    verdicts: dict[str, list[str]] = {}
    for fill in ("picks", "representative"):
        for measure, values in per_seed[fill].items():
            verdict, text = compare(values, per_seed["random"][measure])
            verdicts.setdefault(fill, []).append(verdict)
            print(f"{fill:14s} {measure:38s} {text}")
    for fill, found in verdicts.items():
        ok = "worse" not in found
        print(f"{'PASS' if ok else 'FAIL'}: {fill} >= random on every measure "
              f"({found.count('better')} better, {found.count('tie')} tie, "
              f"{found.count('worse')} worse)")
    (args.out / "results.json").write_text(json.dumps({"means": results, "seeds": per_seed},
                                                      indent=1))
    return 0 if "worse" not in verdicts["representative"] else 1


def compare(values: list[float], baseline: list[float]) -> tuple[str, str]:
    """Paired difference over the seeds: ``better`` / ``worse`` where its 95% t-interval
    is all above / below 0, else ``tie`` (one seed: the sign of the difference)."""
    from scipy import stats

    diff = np.asarray(values) - np.asarray(baseline)
    mean = float(diff.mean())
    if len(diff) < 2:
        verdict = "better" if mean > 0 else "worse" if mean < 0 else "tie"
        return verdict, f"{mean:+.4f} ({verdict}, one seed)"
    half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)))
    verdict = "better" if mean - half > 0 else "worse" if mean + half < 0 else "tie"
    return verdict, f"{mean:+.4f} [{mean - half:+.4f}, {mean + half:+.4f}] {verdict}"


if __name__ == "__main__":
    raise SystemExit(main())
