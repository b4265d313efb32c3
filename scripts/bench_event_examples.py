"""What the event examples (OUT/events.jsonl's representative tweets and bursts) cost.

    .venv/bin/python scripts/bench_event_examples.py [--runs 5]

The keyword consumer's updates over the sample stream, without an output folder (no
examples kept: the baseline) and with one (each window's 2,000-tweet sample), in turn,
best of ``--runs``; then a default ``textcl stream`` of the same tweets in the same
run, to show the cost as a share of the whole pipeline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from textcl.config import PipelineConfig
from textcl.consumers.keywords import KeywordConsumer
from textcl.input.readers import TweetReader
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline
from textcl.text.tokenize import TweetTokenizer
from textcl.types import Batch, Tweet

BATCH = 500


def updates(tweets: list[Tweet], tokens: list[list[str]], out: Path | None) -> float:
    consumer = KeywordConsumer(out_dir=out)
    started = time.perf_counter()
    for i in range(0, len(tweets), BATCH):
        consumer.update(Batch(i, 0, tweets[i:i + BATCH], tokens[i:i + BATCH]))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tweets = [t for t in TweetReader(sample_stream_path()) if isinstance(t, Tweet)]
    tokens = TweetTokenizer(PipelineConfig().tokenizer_options()).tokenize_many(
        [t.text for t in tweets])
    without, with_ = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            without.append(updates(tweets, tokens, None))
            with_.append(updates(tweets, tokens, Path(folder)))
    extra = (min(with_) - min(without)) / len(tweets)
    with tempfile.TemporaryDirectory() as folder:
        summary = Pipeline(PipelineConfig()).run(sample_stream_path(), Path(folder) / "out")
    per_tweet = summary["seconds"] / summary["processed"]
    print(f"keyword updates over {len(tweets):,} sample tweets, best of {args.runs}: "
          f"without examples {min(without):.3f} s, with {min(with_):.3f} s "
          f"({min(with_) / min(without):.2f}x), {extra * 1e6:.1f} us a tweet more")
    print(f"default textcl stream, same tweets: {per_tweet * 1e6:.0f} us a tweet; the "
          f"examples cost {extra / per_tweet:.1%} of it")


if __name__ == "__main__":
    main()
