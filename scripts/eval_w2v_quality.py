"""Neighbour quality of ContinualWord2Vec on real tweets, against a well-trained gensim model.

Data: CrisisLex T26 + T6 (~88k tweets), read in time order by textcl's own reader
(``read_tweets(<data>/crisislex, "crisislex")``) and tokenised by ``TweetTokenizer()``
(its defaults). The stream sees the tweets once, in ``--batch``-tweet micro-batches.

Reference: gensim ``Word2Vec`` trained for 5 epochs (gensim's default schedule) on the same
token lists, with the stream's ``vector_size``, ``window``, ``min_count``, ``negative``,
``sample`` and ``sg``, seed 1, one worker (deterministic).

Probe set (fixed, documented): the ``--probes`` (500) most frequent words of the
reference vocabulary that are not spaCy English stop words, not textcl's special tokens
(``http``, ``@user``, ``<num>``, ``rt``, ``amp``, ``via``), not pure punctuation and at
least 2 characters long. At the default settings every probe word is in every compared
model; a model missing one scores 0 on it (the number missing is printed).

Measure: top-10 neighbour agreement, the mean over probe words of
``|top10(model) & top10(reference)| / 10`` (cosine neighbours, the probe word excluded).

Rows: a second 5-epoch gensim seed (ceiling), gensim one pass (epochs=1, the baseline
that the stream must beat), textcl's stream at its defaults, textcl's previous default
(one pass per batch, lr warm-up from 0.025) and any ``--config NAME=JSON`` rows.
Goal: textcl defaults >= 2 x gensim one pass.

Usage: python scripts/eval_w2v_quality.py [--data DIR] [--batch 1000] [--probes 500]
[--sg 1] [--seeds 1] [--config 'name={"epochs": 2}' ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import Word2Vec
from gensim.models.keyedvectors import KeyedVectors

from textcl.embed.word2vec import ContinualWord2Vec
from textcl.input.readers import read_tweets
from textcl.paths import shared_data_dir
from textcl.text.tokenize import TweetTokenizer, _stopwords

SPECIAL = frozenset({"http", "@user", "<num>", "rt", "amp", "via"})
TOPN = 10
GOAL = 2.0
# the stream's settings that the gensim models share (ContinualWord2Vec's defaults)
SHARED = ("vector_size", "window", "min_count", "negative", "sample")
# textcl's default before this evaluation (one training pass per batch)
PREVIOUS_DEFAULT: dict[str, Any] = {
    "epochs": 1,
    "lr_schedule": "warmup",
    "alpha": 0.025,
    "min_alpha": 0.0025,
    "replay_ratio": 0.0,
    "revisit": 0.0,
}


def load_sentences(data: Path) -> list[list[str]]:
    """Token lists of every CrisisLex T26 + T6 tweet, in time order (empty ones dropped)."""
    root = data / "crisislex"
    if not root.is_dir():
        sys.exit(f"error: no crisislex/ folder under {data}; pass --data or set TEXTCL_DATA")
    tokenize = TweetTokenizer()
    sents = tokenize.tokenize_many(t.text for t in read_tweets(root, "crisislex"))
    return [s for s in sents if s]


def stream_defaults() -> dict[str, Any]:
    """The constructor defaults of ContinualWord2Vec (its ``config()``)."""
    return ContinualWord2Vec().config()


def shared_settings() -> dict[str, Any]:
    """The stream's default settings that the gensim models use too."""
    d = stream_defaults()
    kw = {k: d[k] for k in SHARED}
    kw["min_count"] = round(kw["min_count"])  # gensim wants an integer
    return kw


def gensim_model(sents: list[list[str]], epochs: int, seed: int, sg: int) -> KeyedVectors:
    """gensim Word2Vec with the stream's architecture settings, one worker."""
    kw = shared_settings()
    model = Word2Vec(sents, sg=sg, epochs=epochs, seed=seed, workers=1, **kw)
    return model.wv


def probe_words(reference: KeyedVectors, n: int) -> list[str]:
    """The ``n`` most frequent reference words that are content words (see module doc)."""
    stop = _stopwords() | SPECIAL
    out = []
    for w in reference.index_to_key:  # gensim sorts its vocabulary by frequency
        if w in stop or len(w) < 2 or not any(c.isalnum() for c in w):
            continue
        out.append(w)
        if len(out) == n:
            break
    return out


def neighbours(kv: KeyedVectors, word: str) -> set[str]:
    if word not in kv.key_to_index:
        return set()
    return {w for w, _ in kv.most_similar(word, topn=TOPN)}


def agreement(reference: KeyedVectors, kv: KeyedVectors, probes: list[str]) -> tuple[float, int]:
    """Mean top-10 overlap with ``reference`` over ``probes`` and the probes ``kv`` lacks."""
    missing = sum(w not in kv.key_to_index for w in probes)
    scores = [len(neighbours(reference, w) & neighbours(kv, w)) / TOPN for w in probes]
    return float(np.mean(scores)), missing


def run_stream(
    sents: list[list[str]], batch: int, seed: int, **kw: Any
) -> tuple[KeyedVectors, float]:
    """Stream ``sents`` through a ContinualWord2Vec; its final snapshot and update seconds."""
    model = ContinualWord2Vec(seed=seed, **kw)
    seconds = 0.0
    for i in range(0, len(sents), batch):
        t = time.perf_counter()
        model.update(sents[i : i + batch])
        seconds += time.perf_counter() - t
    kv = model.snapshot()
    model.close()
    return kv, seconds


def parse_config(text: str) -> tuple[str, dict[str, Any]]:
    name, _, body = text.partition("=")
    if not body:
        raise argparse.ArgumentTypeError(f"--config wants NAME=JSON, got {text!r}")
    kw = json.loads(body)
    if not isinstance(kw, dict):
        raise argparse.ArgumentTypeError("--config JSON must be an object")
    return name, kw


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--data", default=None, help="shared data folder (default: textcl.paths)")
    ap.add_argument("--batch", type=int, default=1000, help="tweets per micro-batch")
    ap.add_argument("--probes", type=int, default=500, help="size of the probe set")
    ap.add_argument("--sg", type=int, default=None, help="1 skip-gram, 0 CBOW (default: stream's)")
    ap.add_argument("--seeds", type=int, default=1, help="textcl seeds averaged per row")
    ap.add_argument(
        "--config",
        type=parse_config,
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="extra textcl row with these constructor arguments, e.g. 'e2={\"epochs\": 2}'",
    )
    ap.add_argument(
        "--no-previous", action="store_true", help="skip the previous-default textcl row"
    )
    args = ap.parse_args(argv)
    data = shared_data_dir() if args.data is None else Path(args.data)
    sg = stream_defaults()["sg"] if args.sg is None else args.sg

    t0 = time.perf_counter()
    sents = load_sentences(data)
    n_tok = sum(map(len, sents))
    secs = time.perf_counter() - t0
    print(f"CrisisLex T26+T6: {len(sents):,} tweets, {n_tok:,} tokens ({secs:.0f}s)")

    timed: dict[str, float] = {}

    def fit(epochs: int, seed: int) -> KeyedVectors:
        t = time.perf_counter()
        kv = gensim_model(sents, epochs, seed, sg)
        timed[f"{epochs}-{seed}"] = time.perf_counter() - t
        return kv

    reference = fit(5, 1)
    probes = probe_words(reference, args.probes)
    print(
        f"reference: gensim Word2Vec 5 epochs, seed 1, sg={sg}, "
        + ", ".join(f"{k}={v}" for k, v in shared_settings().items())
        + f"; probe set: {len(probes)} most frequent content words"
        f" ({', '.join(probes[:8])}, ..., {probes[-1]})"
    )
    rows: list[tuple[str, float, int, float]] = []
    ceiling = agreement(reference, fit(5, 2), probes)
    rows.append(("gensim 5 epochs, seed 2 (ceiling)", *ceiling, timed["5-2"]))
    one_pass = agreement(reference, fit(1, 2), probes)
    rows.append(("gensim one pass, seed 2 (baseline)", *one_pass, timed["1-2"]))

    configs: list[tuple[str, dict[str, Any]]] = [("textcl stream, defaults", {})]
    if not args.no_previous:
        configs.append(("textcl stream, previous default", PREVIOUS_DEFAULT))
    configs += [(f"textcl stream, {name}", kw) for name, kw in args.config]
    scores: dict[str, float] = {}
    for name, kw in configs:
        res = []
        for seed in range(1, args.seeds + 1):
            kv, seconds = run_stream(sents, args.batch, seed, sg=sg, **kw)
            res.append((*agreement(reference, kv, probes), seconds))
        r = np.array(res, dtype=float)
        scores[name] = float(r[:, 0].mean())
        rows.append((name, float(r[:, 0].mean()), int(r[:, 1].max()), float(r[:, 2].mean())))

    base = one_pass[0]
    print(
        f"top-{TOPN} neighbour agreement with the reference over {len(probes)} probe words;"
        f" textcl: {args.batch}-tweet batches, mean of {args.seeds} seed(s)"
    )
    print(f"{'model':<52}{'agreement':>10}{'/ one pass':>12}{'missing':>9}{'seconds':>9}")
    for name, score, missing, seconds in rows:
        print(f"{name:<52}{score:>10.3f}{score / base:>11.2f}x{missing:>9}{seconds:>9.1f}")
    for name, kw in configs[1:]:
        if kw:
            print(f"  {name}: {json.dumps(kw)}")
    ratio = scores["textcl stream, defaults"] / base
    ok = ratio >= GOAL
    print(
        f"{'PASS' if ok else 'FAIL'}: textcl defaults / gensim one pass = {ratio:.2f}"
        f" (goal >= {GOAL:.0f}x); ceiling {ceiling[0]:.3f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
