"""Throughput of the keyword tracker on tokenised CrisisLex (T26 + T6).

Tokenises the tweets once (time order, daily windows of the tweets' own UTC days,
micro-batches of 1000), then times on the same token lists, best of ``--repeat``:

1. ``Counter``: a plain ``collections.Counter`` per window, ``update(tokens)`` per
   tweet (the baseline); also ``Counter.update(chain(...))`` once per batch;
2. river ``sketch.HeavyHitters``, one ``update`` per token (on the first
   ``--river-tweets`` tweets only: it is slow);
3. ``KeywordTracker.update`` per batch + ``end_window`` per day (default settings, the
   embedded ``wordfreq`` background, built once before timing); the "update only" row
   never closes a window, so its counter outgrows ``capacity`` and is pruned repeatedly
   (the flood case), which is slower than normal use; the last row uses the stream's own
   history as the reference (``background = "history"``).

    python scripts/bench_keywords.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from itertools import chain, groupby

from textcl.input.readers import read_tweets
from textcl.keywords import Background, KeywordTracker, wordfreq_background
from textcl.paths import shared_data_dir
from textcl.text.tokenize import TweetTokenizer

GOAL = 200_000

Windows = list[tuple[object, list[list[list[str]]]]]


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def counter_per_tweet(windows: Windows) -> None:
    for _day, batches in windows:
        counts: Counter[str] = Counter()
        for batch in batches:
            for tokens in batch:
                counts.update(tokens)


def counter_chain(windows: Windows) -> None:
    for _day, batches in windows:
        counts: Counter[str] = Counter()
        for batch in batches:
            counts.update(chain.from_iterable(batch))


def river_hh(windows: Windows) -> None:
    from river import sketch

    hh = sketch.HeavyHitters()
    for _day, batches in windows:
        for batch in batches:
            for tokens in batch:
                for token in tokens:
                    hh.update(token)


def tracker_run(
    windows: Windows, background: Background | None, with_windows: bool = True
) -> KeywordTracker:
    tracker = KeywordTracker(background=background)
    for (start, end), batches in windows:  # type: ignore[misc]
        for batch in batches:
            tracker.update(batch)
        if with_windows:
            tracker.end_window(start, end)
    return tracker


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--river-tweets", type=int, default=20_000)
    args = ap.parse_args(argv)

    data = shared_data_dir() / "crisislex"
    t0 = time.perf_counter()
    tweets = sorted(read_tweets(data, "crisislex"), key=lambda t: t.created_at)
    tokens = TweetTokenizer().tokenize_many([t.text for t in tweets])
    windows: Windows = []
    index = list(range(len(tweets)))
    for _day, group in groupby(index, key=lambda i: tweets[i].created_at.date()):
        ids = list(group)
        span = (tweets[ids[0]].created_at, tweets[ids[-1]].created_at)
        batches = [
            [tokens[i] for i in ids[s : s + args.batch]] for s in range(0, len(ids), args.batch)
        ]
        windows.append((span, batches))
    n = len(tweets)
    n_tokens = sum(map(len, tokens))
    print(
        f"CrisisLex T26+T6: {n} tweets, {n_tokens} tokens, {len(windows)} daily windows, "
        f"batches of {args.batch} (read+tokenise {time.perf_counter() - t0:.1f}s)"
    )

    # river on a prefix only
    sub: Windows = []
    left = args.river_tweets
    for span, batches in windows:
        if left <= 0:
            break
        kept = []
        for batch in batches:
            if left <= 0:
                break
            kept.append(batch[:left])
            left -= len(kept[-1])
        sub.append((span, kept))
    n_sub = sum(len(b) for _, bs in sub for b in bs)

    t0 = time.perf_counter()
    background = wordfreq_background()
    print(f"wordfreq background built in {time.perf_counter() - t0:.1f}s (once per process)")

    rows: list[tuple[str, int, float]] = []
    rows.append(
        (
            "Counter.update per tweet (baseline)",
            n,
            best_of(args.repeat, lambda: counter_per_tweet(windows)),
        )
    )
    rows.append(
        ("Counter.update(chain) per batch", n, best_of(args.repeat, lambda: counter_chain(windows)))
    )
    rows.append((f"river HeavyHitters ({n_sub} tweets)", n_sub, best_of(1, lambda: river_hh(sub))))
    rows.append(
        (
            "KeywordTracker.update only",
            n,
            best_of(args.repeat, lambda: tracker_run(windows, background, False)),
        )
    )
    rows.append(
        (
            "KeywordTracker.update + end_window, history",
            n,
            best_of(args.repeat, lambda: tracker_run(windows, None)),
        )
    )
    rows.append(
        (
            "KeywordTracker.update + end_window",
            n,
            best_of(args.repeat, lambda: tracker_run(windows, background)),
        )
    )

    base = n / rows[0][2]
    print(f"{'method':40s} {'tweets':>7s} {'seconds':>8s} {'tweets/s':>10s} {'vs Counter':>10s}")
    for name, count, secs in rows:
        rate = count / secs
        print(f"{name:40s} {count:7d} {secs:8.3f} {rate:10,.0f} {rate / base:9.2f}x")
    rate = n / rows[-1][2]
    verdict = "PASS" if rate >= GOAL else "FAIL"
    print(f"goal >= {GOAL:,} tweets/s (update + end_window): {verdict} ({rate:,.0f})")
    tracker = tracker_run(windows, background)
    print(
        f"final set {len(tracker)} terms in {len(tracker.events())} events "
        f"(capacity {tracker.capacity}), transitions {tracker.transitions}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
