"""Neighbour quality of ContinualWord2Vec's learning-rate schedules on real tweets.

Streams CrisisLex T26 + T6 (88k tweets, time order) in 1000-tweet batches through
ContinualWord2Vec with each ``lr_schedule`` and compares the top-10 neighbours of 200
frequent words with those of a gensim one-pass Word2Vec on the same tokens. The baseline
is how well two gensim seeds agree with each other (the ceiling for this measure).

Usage: python scripts/eval_w2v_quality.py [--data DIR] [--sg 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from gensim.models import Word2Vec

from textcl import ContinualWord2Vec, TweetTokenizer, read_tweets
from textcl.paths import shared_data_dir

SETTINGS = dict(vector_size=100, window=5, negative=5, min_count=3, workers=2)
SCHEDULES = ("warmup", "count", "constant")


def agreement(reference: Word2Vec, words: list[str], neighbours: Callable[[str], list]) -> float:
    """Mean top-10 overlap with the reference model over ``words``."""
    scores = []
    for word in words:
        ref = {w for w, _ in reference.wv.most_similar(word, topn=10)}
        try:
            got = {w for w, _ in neighbours(word)}
        except KeyError:
            got = set()
        scores.append(len(ref & got) / 10)
    return float(np.mean(scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="shared data folder")
    ap.add_argument("--sg", type=int, default=1, help="1 skip-gram, 0 CBOW")
    args = ap.parse_args()
    data = shared_data_dir() if args.data is None else Path(args.data)
    tokenize = TweetTokenizer()
    sents = tokenize.tokenize_many(t.text for t in read_tweets(data / "crisislex", "crisislex"))

    def gensim(seed: int) -> Word2Vec:
        return Word2Vec(sents, sg=args.sg, seed=seed, epochs=1, **SETTINGS)

    reference = gensim(1)
    other = gensim(2)
    words = [w for w in reference.wv.index_to_key[:300] if not w.startswith("<")][50:250]
    rows = [
        (
            "gensim one pass, other seed (baseline)",
            agreement(reference, words, partial(other.wv.most_similar, topn=10)),
            float("nan"),
        )
    ]
    for schedule in SCHEDULES:
        model = ContinualWord2Vec(sg=args.sg, lr_schedule=schedule, **SETTINGS)
        started = time.perf_counter()
        for i in range(0, len(sents), 1000):
            model.update(sents[i : i + 1000])
        seconds = time.perf_counter() - started
        rows.append(
            (
                f"textcl streaming, lr_schedule={schedule}",
                agreement(reference, words, lambda w, m=model: m.most_similar(w, 10)),
                seconds,
            )
        )
    base = rows[0][1]
    print(
        f"CrisisLex T26+T6: {len(sents):,} tweets, sg={args.sg}, top-10 neighbour agreement "
        f"with gensim one pass (seed 1) over {len(words)} frequent words"
    )
    print(f"{'model':<42}{'agreement':>10}{'vs baseline':>13}{'seconds':>9}")
    for name, score, seconds in rows:
        print(f"{name:<42}{score:>10.3f}{score / base:>12.2f}x{seconds:>9.1f}")


if __name__ == "__main__":
    main()
