"""Benchmark textcl's TweetTokenizer on the CrisisLex T26 + T6 tweets.

Usage: python scripts/bench_tokenize.py [--data DIR] [--repeats N] [--spacy-n N]

DIR defaults to $TEXTCL_DATA, else ../shared/data relative to the project root.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from textcl.input.readers import read_tweets
from textcl.paths import shared_data_dir
from textcl.text.tokenize import TweetTokenizer

TARGET = 50_000  # tweets/s


def load_crisislex(data: Path) -> list[str]:
    """Texts of the CrisisLex T26 + T6 stream, in time order, through textcl's own reader."""
    root = data / "crisislex"
    if not root.is_dir():
        sys.exit(f"error: no crisislex/ folder under {data}; pass --data or set TEXTCL_DATA")
    return [tweet.text for tweet in read_tweets(root, "crisislex")]


def best_time(fn: Callable[[Sequence[str]], object], texts: Sequence[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder")
    ap.add_argument("--repeats", type=int, default=3, help="best of N runs (default 3)")
    ap.add_argument("--spacy-n", type=int, default=10_000, help="tweets for spaCy (slow)")
    args = ap.parse_args()

    texts = load_crisislex(args.data or shared_data_dir(required=False))

    tok = TweetTokenizer()
    findall = re.compile(r"\w+|[^\w\s]").findall

    import spacy  # imported late: it is slow to import

    nlp_tok = spacy.blank("en").tokenizer
    spacy_texts = texts[: args.spacy_n]

    runs = [
        ("textcl TweetTokenizer", texts, tok.tokenize_many),
        ("regex \\w+|[^\\w\\s]", texts, lambda ts: [findall(t.lower()) for t in ts]),
        ("spacy.blank('en')", spacy_texts, lambda ts: [nlp_tok(t) for t in ts]),
    ]
    rates: dict[str, float] = {}
    rows = []
    for name, sample, fn in runs:
        seconds = best_time(fn, sample, args.repeats)
        rates[name] = len(sample) / seconds
        rows.append((name, len(sample), seconds))

    ours = rates["textcl TweetTokenizer"]
    print(f"{'tokenizer':<24}{'tweets':>9}{'seconds':>10}{'tweets/s':>12}{'vs textcl':>11}")
    for name, n, seconds in rows:
        rate = rates[name]
        print(f"{name:<24}{n:>9,}{seconds:>10.3f}{rate:>12,.0f}{rate / ours:>10.2f}x")
    verdict = "PASS" if ours >= TARGET else "FAIL"
    print(
        f"target >= {TARGET:,} tweets/s: {verdict} ({ours:,.0f} tweets/s, best of {args.repeats})"
    )


if __name__ == "__main__":
    main()
