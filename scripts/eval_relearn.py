"""Re-learning what matters: the selection's picks replayed by word2vec and the classifiers,
against the same number of tweets drawn at random, on CrisisLex T26 in time order.

    python scripts/eval_relearn.py [--memory 1000] [--share 0.2] [--budget 20]
                                   [--tasks informativeness,event_type] [--out DIR]

Three runs of ``textcl stream`` (the library pipeline; word2vec, the classifiers and the
selection on; keywords and the drift report off), identical but for the relearn memory:

- ``none``: nothing re-learned (the selection still picks);
- ``random``: each window, ``budget`` tweets of the window drawn at random go to a
  ``memory``-tweet reservoir, and ``share`` x (new tweets) of it are re-learned in every
  update of word2vec and of each classifier;
- ``picks``: the same, filled with the selection's picks (representative of the window
  against the stream before it, novel, uncertain for the classifier).

Measures: each classifier's prequential accuracy and macro-F1, its accuracy on the
held-out tweets of earlier windows at the end and its forgetting (see
``scripts/bench_classifier.py``); word2vec's memory of past events: for every event that
ended at least 30 days before the stream, the mean cosine similarity between its
collection keywords (``*-event_description.json``) in the final model, minus their mean
similarity to 200 random frequent words (how distinct the event's words still are).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from textcl.config import PipelineConfig, config_from_dict
from textcl.embed.word2vec import ContinualWord2Vec
from textcl.paths import shared_data_dir
from textcl.pipeline import Pipeline
from textcl.text.tokenize import TweetTokenizer

FILLS = ("none", "random", "picks")


def run(t26: Path, fill: str, args: argparse.Namespace) -> Path:
    out = args.out / fill
    data = PipelineConfig().model_dump()
    data["keywords"]["enabled"] = False
    data["drift"]["enabled"] = False
    data["output"]["checkpoint"] = False
    data["classifier"].update({"labels": args.tasks, "predictions": False})
    data["selection"].update({"enabled": True, "budget": args.budget,
                              "relearn": 0 if fill == "none" else args.memory,
                              "relearn_share": args.share,
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


def past_events(t26: Path, last: datetime) -> dict[str, list[str]]:
    """Keyword tokens of each event that ended 30+ days before ``last``."""
    tokenizer = TweetTokenizer(PipelineConfig().tokenizer_options())
    events = {}
    for path in sorted(t26.glob("*/*-event_description.json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        start = datetime.fromisoformat(info["time"]["start_day"]).replace(tzinfo=UTC)
        end = start + timedelta(days=int(info["time"].get("duration") or 30))
        if end > last - timedelta(days=30):
            continue
        words = {t for k in info.get("keywords", []) for t in tokenizer(k) if len(t) > 2}
        events[path.parent.name] = sorted(words)
    return events


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--tasks", default="informativeness,event_type")
    parser.add_argument("--out", type=Path, default=Path("out/eval_relearn"))
    args = parser.parse_args()
    args.tasks = args.tasks.split(",")
    t26 = shared_data_dir() / "crisislex" / "T26"
    outs = {fill: run(t26, fill, args) for fill in FILLS}
    last = json.loads((outs["none"] / "summary.json").read_text())["last"]
    events = past_events(t26, datetime.fromisoformat(last.replace("Z", "+00:00")))
    print(f"CrisisLex T26, daily windows; relearn memory {args.memory} tweets, share "
          f"{args.share}, {args.budget} picks a window")
    results: dict[str, dict] = {fill: {} for fill in FILLS}
    for task in args.tasks:
        print(f"\nclassifier {task}")
        print(f"{'relearn':8s} {'preq acc':>8s} {'macro-F1':>8s} {'earlier':>8s} "
              f"{'forget':>7s} {'relearned':>9s}")
        for fill in FILLS:
            r = results[fill][task] = classifier_scores(outs[fill], task)
            print(f"{fill:8s} {r['accuracy']:8.3f} {r['macro_f1']:8.3f} {r['earlier']:8.3f} "
                  f"{r['forgetting']:7.3f} {r['relearned']:9,}")
    print(f"\nword2vec: how distinct the keywords of past events still are "
          f"({len(events)} events ended 30+ days before the end)")
    for fill in FILLS:
        score, n = event_memory(outs[fill], events)
        results[fill]["word2vec_event_memory"] = score
        print(f"{fill:8s} {score:8.4f}  ({n} events with 2+ keywords in the vocabulary)")
    picks, random = results["picks"], results["random"]
    checks = [(picks[t]["earlier"] >= random[t]["earlier"],
               f"{t}: earlier-window accuracy, picks {picks[t]['earlier']:.3f} vs random "
               f"{random[t]['earlier']:.3f}") for t in args.tasks]
    checks += [(picks[t]["macro_f1"] >= random[t]["macro_f1"],
                f"{t}: macro-F1, picks {picks[t]['macro_f1']:.3f} vs random "
                f"{random[t]['macro_f1']:.3f}") for t in args.tasks]
    checks.append((picks["word2vec_event_memory"] >= random["word2vec_event_memory"],
                   f"word2vec event memory, picks {picks['word2vec_event_memory']:.4f} vs "
                   f"random {random['word2vec_event_memory']:.4f}"))
    print()
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}: representative >= random replay: {text}")
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
