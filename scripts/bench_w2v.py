#!/usr/bin/env python
"""Benchmark textcl's ContinualWord2Vec against gensim (throughput, latency, memory, forgetting).

Sections (``--only`` picks some):

1. ``crisislex``: CrisisLex T26 (time order) + T6, 1000-tweet micro-batches, same tokens and
   settings for (a) gensim naive online (``build_vocab(update=True)`` + ``train`` per
   batch, stopped after ``--naive-seconds``), (b) gensim one batch pass (``build_vocab`` on
   everything + 1 epoch), (c) textcl streaming. Goals: (c) >= 0.8 x (b), (c) >= 20 x (a).
   (b) and (c) run interleaved ``--reps`` times (best kept: the machine is shared); (a) once.
2. ``synthetic``: a >= 1M-tweet generated stream (Zipfian background + a steady flow of
   brand-new words, > 500k distinct words) through ``max_vocab``: p50/p99 batch latency of
   the first vs last 10% of batches (goal <= 1.5) and RSS over time (goal: flat once full).
3. ``forgetting``: planted shift scenarios; learning-rate schedules, replay and anchoring
   compared on topic-head neighbour overlap (forgetting) and shifted-word speed
   (plasticity).
4. ``sample``: data/sample_stream ground truth (shifted words per period, event words),
   with and without replay / anchoring.

Run: ``python scripts/bench_w2v.py [--data DIR] [--quick] [--sg 0|1] [--tokenizer auto|regex]
[--only crisislex ...]``.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from textcl.embed.planted import topic_stream
from textcl.embed.word2vec import ContinualWord2Vec
from textcl.input.readers import read_tweets
from textcl.paths import sample_stream_path, sample_truth_path, shared_data_dir
from textcl.text.tokenize import TweetTokenizer


# ============================================================================ helpers
def rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class RssSampler:
    """Samples RSS in a background thread; ``peak`` is the max seen."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib())
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mib())


def get_tokenizer(kind: str = "auto") -> tuple[Callable[[list[str]], list[list[str]]], str]:
    """textcl's TweetTokenizer (``kind="auto"``) or, with ``"regex"``, a plain regex one."""
    if kind != "regex":
        return TweetTokenizer().tokenize_many, "textcl TweetTokenizer"
    pat = re.compile(r"https?://\S+|[#@]?\w+(?:'\w+)?")

    def simple(texts: list[str]) -> list[list[str]]:
        return [pat.findall(t.lower()) for t in texts]

    return simple, "regex tokenizer"


def table(rows: list[list[str]], header: list[str]) -> str:
    cols = [header, *rows]
    widths = [max(len(str(r[i])) for r in cols) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*["-" * w for w in widths])]
    out += [line.format(*r) for r in rows]
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ============================================================================ 1. CrisisLex
def read_crisislex(data: Path) -> list[str]:
    """Texts of every T26 + T6 tweet in time order, through textcl's own CrisisLex reader."""
    root = data / "crisislex"
    if not root.is_dir():
        sys.exit(f"error: no crisislex/ folder under {data}; pass --data or set TEXTCL_DATA")
    return [tweet.text for tweet in read_tweets(root, "crisislex")]


def bench_crisislex(args: argparse.Namespace) -> bool:
    from gensim.models import Word2Vec

    data = Path(args.data)
    tokenize, tok_name = get_tokenizer(args.tokenizer)
    tokens = tokenize(read_crisislex(data))
    n = len(tokens)
    bs = args.batch
    batches = [tokens[i : i + bs] for i in range(0, n, bs)]
    n_words = sum(len(t) for t in tokens)
    learn = ContinualWord2Vec().config()
    print(
        f"\n== 1. CrisisLex T26+T6: {n} tweets, {n_words} tokens, {len(batches)} batches of {bs}"
        f" ({tok_name}); sg={args.sg} vector_size=100 window=5 negative=5 min_count=1 workers=2;"
        f" textcl at its default learning settings (alpha {learn['alpha']},"
        f" lr_schedule {learn['lr_schedule']}, epochs {learn['epochs']},"
        f" replay_ratio {learn['replay_ratio']})"
    )
    common = dict(
        vector_size=100, window=5, negative=5, min_count=1, sample=1e-3, sg=args.sg, seed=1
    )

    # (b) and (c), interleaved and repeated (best of --reps: the machine is shared)
    b_runs: list[tuple[float, float]] = []
    c_runs: list[float] = []
    for _ in range(args.reps):
        gc.collect()
        t0 = time.perf_counter()
        g = Word2Vec(workers=2, **common)
        g.build_vocab(tokens)
        t1 = time.perf_counter()
        g.train(tokens, total_examples=n, epochs=1)
        t2 = time.perf_counter()
        b_runs.append((t2 - t0, t2 - t1))

        gc.collect()
        m = ContinualWord2Vec(workers=2, max_vocab=200_000, **common)
        run_lat = []
        t0 = time.perf_counter()
        for b in batches:
            s = time.perf_counter()
            m.update(b)
            run_lat.append(time.perf_counter() - s)
        c_runs.append(time.perf_counter() - t0)
        m.close()
        if c_runs[-1] == min(c_runs):
            lat = run_lat
    b_total = min(t for t, _ in b_runs)
    b_train = min(t for _, t in b_runs)
    c_total = min(c_runs)
    g_vocab = len(g.wv)
    print(
        f"(b) runs: {', '.join(f'{t:.2f}s' for t, _ in b_runs)};"
        f" (c) runs: {', '.join(f'{t:.2f}s' for t in c_runs)} (best of {args.reps} used)"
    )

    # (a) gensim naive online, limited in time
    gc.collect()
    a = Word2Vec(workers=2, **common)
    done = 0
    a_bv = a_tr = 0.0
    t0 = time.perf_counter()
    for i, b in enumerate(batches):
        s = time.perf_counter()
        a.build_vocab(b, update=i > 0)
        s2 = time.perf_counter()
        a.train(b, total_examples=len(b), epochs=1)
        a_bv += s2 - s
        a_tr += time.perf_counter() - s2
        done += len(b)
        if time.perf_counter() - t0 > args.naive_seconds:
            break
    a_total = time.perf_counter() - t0
    a_batches = i + 1
    last_bv = s2 - s

    tps_a, tps_b, tps_c = done / a_total, n / b_total, n / c_total
    tps_b_train = n / b_train
    rows = [
        [
            "(a) gensim naive online",
            f"{done}",
            f"{a_total:.1f}",
            f"{tps_a:,.0f}",
            f"vocab {len(a.wv)}; build_vocab {a_bv:.1f}s train {a_tr:.1f}s; last batch "
            f"build_vocab {last_bv * 1000:.0f} ms"
            + (
                ""
                if a_batches == len(batches)
                else f"; stopped after {a_batches}/{len(batches)} batches"
            ),
        ],
        [
            "(b) gensim one batch pass",
            f"{n}",
            f"{b_total:.1f}",
            f"{tps_b:,.0f}",
            f"vocab {g_vocab}; build_vocab {b_total - b_train:.1f}s + train {b_train:.1f}s"
            f" (train only: {tps_b_train:,.0f} tweets/s)",
        ],
        [
            "(c) textcl streaming",
            f"{n}",
            f"{c_total:.1f}",
            f"{tps_c:,.0f}",
            f"vocab {m.vocab_size}; batch p50 {np.percentile(lat, 50) * 1000:.0f} ms"
            f" p99 {np.percentile(lat, 99) * 1000:.0f} ms; table builds {m.table_builds}",
        ],
    ]
    print(table(rows, ["method", "tweets", "seconds", "tweets/s", "notes"]))
    r_cb, r_ca = tps_c / tps_b, tps_c / tps_a
    print(f"ratio (c)/(b) = {r_cb:.2f}   (c)/(b train only) = {tps_c / tps_b_train:.2f}")
    print(
        f"ratio (c)/(a) = {r_ca:.1f}"
        + (
            " (a) measured on its first batches only: optimistic for (a)"
            if a_batches < len(batches)
            else ""
        )
    )
    print(
        f"  (a) spends {a_tr:.1f}s in gensim's training routine alone: a streaming model that"
        f" trained as fast as (a) does would reach (c)/(a) = {a_total / a_tr:.1f} at most"
    )
    ok1, ok2 = r_cb >= 0.8, r_ca >= 20
    print(f"{verdict(ok1)}: (c) >= 0.8 x (b)")
    print(f"{verdict(ok2)}: (c) >= 20 x (a)")
    for w in ("earthquake", "flood", "fire"):
        if w in m.wv.key_to_index and w in g.wv.key_to_index:
            print(f"  neighbours of {w!r}: textcl {[x for x, _ in m.most_similar(w, 5)]}")
            print(f"  {' ' * (len(w) + 17)}gensim {[x for x, _ in g.wv.most_similar(w, topn=5)]}")
    return ok1 and ok2


# ============================================================================ 2. synthetic
def synthetic_stream(
    n_tweets: int, batch: int, seed: int, n_background: int = 50_000, new_per_tweet: float = 0.6
) -> Iterator[list[list[str]]]:
    """Batches of tokens: Zipf background, recurring "emerging" words, brand-new words.

    Per tweet: ~12 background tokens (Zipf s=1.1 over ``n_background`` words), one token
    drawn from a sliding set of emerging words (each lives ~20 batches, so many reach
    ``min_count`` and must be admitted, pushing the vocabulary to ``max_vocab``), and
    with probability ``new_per_tweet`` a never-seen-before word.
    """
    rng = np.random.default_rng(seed)
    bg = np.array([f"w{i}" for i in range(n_background)], dtype=object)
    p = 1.0 / np.arange(1, n_background + 1) ** 1.1
    cum = np.cumsum(p / p.sum())
    per = 12
    emerging_per_batch = 300
    life = 20
    fresh = 0
    for start in range(0, n_tweets, batch):
        bno = start // batch
        m = min(batch, n_tweets - start)
        ids = np.searchsorted(cum, rng.random((m, per)))
        ids = np.minimum(ids, n_background - 1)
        rows = bg[ids].tolist()
        lo = max(0, bno - life + 1) * emerging_per_batch
        hi = (bno + 1) * emerging_per_batch
        em = rng.integers(lo, hi, size=m)
        has_new = rng.random(m) < new_per_tweet
        for j, row in enumerate(rows):
            row.append(f"e{em[j]}")
            if has_new[j]:
                row.append(f"n{fresh}")
                fresh += 1
        yield rows


def cache_reference(sg: int) -> None:
    """gensim's own training routine, same 5000 tweets, vocabulary padded with singletons:
    the per-word cost grows with vocabulary size (negatives hit cold rows)."""
    from gensim.models import Word2Vec

    rng = np.random.default_rng(0)
    core = np.array([f"w{i}" for i in range(10_000)], dtype=object)
    p = 1.0 / np.arange(1, 10_001) ** 1.1
    batch = core[rng.choice(10_000, size=(5000, 12), p=p / p.sum())].tolist()
    cells = []
    for extra in (0, 20_000, 90_000):
        g = Word2Vec(vector_size=100, sg=sg, min_count=1, workers=1, seed=1)
        g.build_vocab(batch + [[f"x{j}"] for j in range(extra)])
        best = math.inf
        for _ in range(3):
            t = time.perf_counter()
            eff, _ = g.train(batch, total_examples=len(batch), epochs=1)
            best = min(best, (time.perf_counter() - t) / eff * 1e6)
        cells.append(f"vocab {len(g.wv):,}: {best:.2f} us/word")
    print("reference, gensim Word2Vec.train (1 worker) on identical tweets: " + "; ".join(cells))


def bench_synthetic(args: argparse.Namespace) -> bool:
    n_tweets = 200_000 if args.quick else args.synthetic_tweets
    bs = args.batch
    max_vocab = 20_000 if args.quick else 100_000
    print(
        f"\n== 2. synthetic stream: {n_tweets} tweets, batches of {bs}, max_vocab {max_vocab},"
        f" sg={args.sg} vector_size=100 min_count=3 half_life=1M workers=2"
    )
    m = ContinualWord2Vec(
        vector_size=100, window=5, sg=args.sg, min_count=3, max_vocab=max_vocab, workers=2, seed=1
    )
    lat: list[float] = []
    trained: list[int] = []
    book: list[float] = []
    checkpoints = []
    n_batches = (n_tweets + bs - 1) // bs
    marks = {
        int(n_batches * f) - 1 for f in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    }
    distinct = 0
    gen_s = 0.0
    t_start = time.perf_counter()
    with RssSampler() as sampler:
        it = synthetic_stream(n_tweets, bs, seed=3)
        i = 0
        while True:
            s = time.perf_counter()
            b = next(it, None)
            gen_s += time.perf_counter() - s
            if b is None:
                break
            s = time.perf_counter()
            st = m.update(b)
            lat.append(time.perf_counter() - s)
            trained.append(st["trained"])
            book.append(st["seconds"] - st["train_seconds"])
            if i in marks:
                distinct = (
                    int(b[-1][-1][1:]) + 50_000 + 300 * (i + 1) if b[-1][-1][0] == "n" else distinct
                )
                checkpoints.append(
                    [
                        f"{(i + 1) * bs:,}",
                        f"{st['vocab']:,}",
                        f"{st['candidates']:,}",
                        f"{m.maintenance_rows:,}",
                        f"{rss_mib():.0f}",
                        f"{sampler.peak:.0f}",
                    ]
                )
            i += 1
    total = time.perf_counter() - t_start
    m.close()
    print(
        table(
            checkpoints,
            ["tweets", "vocab", "candidates", "maint. rows", "RSS MiB", "peak RSS MiB"],
        )
    )
    k = max(1, len(lat) // 10)
    first, last = np.array(lat[:k]) * 1000, np.array(lat[-k:]) * 1000
    f50, f99, l50, l99 = (np.percentile(x, q) for x in (first, last) for q in (50, 99))
    tw_f, tw_l = np.array(trained[:k]), np.array(trained[-k:])
    us_f, us_l = np.median(first * 1000 / tw_f), np.median(last * 1000 / tw_l)
    print(
        table(
            [
                [
                    "first 10%",
                    f"{k}",
                    f"{f50:.1f}",
                    f"{f99:.1f}",
                    f"{tw_f.mean():,.0f}",
                    f"{us_f:.2f}",
                ],
                [
                    "last 10%",
                    f"{k}",
                    f"{l50:.1f}",
                    f"{l99:.1f}",
                    f"{tw_l.mean():,.0f}",
                    f"{us_l:.2f}",
                ],
                [
                    "last/first",
                    "",
                    f"{l50 / f50:.2f}",
                    f"{l99 / f99:.2f}",
                    f"{tw_l.mean() / tw_f.mean():.2f}",
                    f"{us_l / us_f:.2f}",
                ],
            ],
            ["batches", "n", "p50 ms", "p99 ms", "trained words/batch", "p50 us/trained word"],
        )
    )
    b_f, b_l = np.median(book[:k]) * 1000, np.median(book[-k:]) * 1000
    print(
        f"bookkeeping (update time outside gensim's training routine) p50: first {b_f:.1f} ms,"
        f" last {b_l:.1f} ms, last/first {b_l / b_f:.2f}"
    )
    print(
        f"distinct words seen >= {distinct:,}; update time {sum(lat):.1f}s"
        f" ({n_tweets / sum(lat):,.0f} tweets/s), generation {gen_s:.1f}s, wall {total:.1f}s"
    )
    cache_reference(args.sg)
    # RSS flat once full: compare checkpoints after the vocabulary first reached max_vocab
    full = [float(r[4]) for r in checkpoints if int(r[1].replace(",", "")) >= 0.95 * max_vocab]
    rss_ok = len(full) >= 2 and max(full) - full[0] <= max(0.10 * full[0], 32.0)
    lat_ok = l50 / f50 <= 1.5 and l99 / f99 <= 1.5
    print(f"{verdict(lat_ok)}: last/first p50 and p99 latency <= 1.5")
    print(
        f"{verdict(rss_ok)}: RSS flat once max_vocab reached (growth after full:"
        f" {max(full) - full[0] if full else float('nan'):.0f} MiB, allowed 10% / 32 MiB)"
    )
    print(f"{verdict(distinct > 500_000 or args.quick)}: more than 500k distinct words seen")
    return lat_ok and rss_ok


# ============================================================================ 3. forgetting
# the default before scripts/eval_w2v_quality.py measured it: one pass per batch at
# gensim's rate (the current default, alpha 0.05, learns ~2x more per tweet)
PREVIOUS_DEFAULT = {"alpha": 0.025}

FORGET_CONFIGS: list[tuple[str, dict]] = [
    ("default (alpha 0.05)", {}),
    ("previous default (alpha 0.025)", PREVIOUS_DEFAULT),
    ("default + revisit 0.1", {"revisit": 0.1}),
    ("lr count", {"lr_schedule": "count"}),
    ("lr constant", {"lr_schedule": "constant"}),
    ("replay 0.25", {"replay_ratio": 0.25}),
    ("replay 1.0", {"replay_ratio": 1.0}),
    ("anchor 0.05 top200", {"anchor": 0.05, "anchor_top": 200}),
    ("anchor 0.2 top200", {"anchor": 0.2, "anchor_top": 200}),
    ("anchor 0.2 top200 +pin shift", {"anchor": 0.2, "anchor_top": 200, "pinned": ["shift"]}),
    ("replay 0.25 + anchor 0.05", {"replay_ratio": 0.25, "anchor": 0.05, "anchor_top": 200}),
]


def bench_forgetting(args: argparse.Namespace) -> bool:
    """Planted shift: period 1 has 12 topics; in period 2 topics 0-5 go on, topics 6-11
    vanish and their context words are reused by new topics, and the word ``shift``
    moves from topic 0's to topic 1's context."""
    g_n, n_ctx = 12, 10
    ctx = {g: [f"g{g}c{c}" for c in range(n_ctx)] for g in range(2 * g_n)}
    p1_topics = [(f"t{g}", ctx[g]) for g in range(g_n)] + [("shift", ctx[0])]
    reuse = {
        "half": lambda g: ctx[g][:5] + ctx[g_n + g][:5],
        "all": lambda g: ctx[g] + ctx[g_n + g],
    }
    n = 10_000 if args.quick else 20_000
    seeds = (1, 2) if args.quick else (1, 2, 3)
    p1 = topic_stream(n, 1, p1_topics)
    print(
        f"\n== 3. forgetting vs plasticity (planted): 2 periods x {n} tweets, 12 topics;"
        " period 2: topics t0-t5 go on, t6-t11 vanish and new topics reuse their context"
        " words ('half' or 'all' of them), 'shift' moves from topic 0 to topic 1."
        f" sg={args.quality_sg}, vector_size 32, batches of 1000, workers=1, mean of seeds {seeds}."
        "\n   ovl = top-10 neighbour overlap of topic heads between the end-of-period"
        " snapshots (1 = nothing forgotten); kept = planted context words still in a"
        " vanished head's top-10; shift = batches until 'shift' has >= 5 new context words"
    )

    def top(kv, w: str) -> set[str]:
        return {x for x, _ in kv.most_similar(w, topn=10)}

    for scen, mix in reuse.items():
        p2_topics = [(f"t{g}", ctx[g]) for g in range(g_n // 2)]
        p2_topics += [(f"n{g}", mix(g)) for g in range(g_n // 2, g_n)]
        p2_topics += [("shift", ctx[1])]
        p2 = topic_stream(n, 2, p2_topics)
        rows = []
        for name, kw in FORGET_CONFIGS:
            res = []
            t0 = time.perf_counter()
            for seed in seeds:
                m = ContinualWord2Vec(
                    vector_size=32, sg=args.quality_sg, min_count=3, seed=seed, **kw
                )
                for i in range(0, n, 1000):
                    m.update(p1[i : i + 1000])
                s1 = m.snapshot(1)
                moved_at = n // 1000 + 1
                for i in range(0, n, 1000):
                    m.update(p2[i : i + 1000])
                    if moved_at > n // 1000 and len(set(ctx[1]) & top(m.wv, "shift")) >= 5:
                        moved_at = i // 1000 + 1
                s2 = m.snapshot(2)
                on = [len(top(s1, f"t{g}") & top(s2, f"t{g}")) / 10 for g in range(g_n // 2)]
                off = [len(top(s1, f"t{g}") & top(s2, f"t{g}")) / 10 for g in range(6, g_n)]
                kept = [len(set(ctx[g]) & top(s2, f"t{g}")) for g in range(g_n // 2, g_n)]
                res.append((np.mean(on), np.mean(off), np.mean(kept), moved_at))
            r = np.array(res, dtype=float)
            never = (r[:, 3] > n // 1000).sum()
            rows.append(
                [
                    name,
                    f"{r[:, 0].mean():.2f}",
                    f"{r[:, 1].mean():.2f}",
                    f"{r[:, 2].mean():.1f}",
                    f"{np.median(r[:, 3]):.0f}" if never == 0 else f"never in {never}/{len(seeds)}",
                    f"{(time.perf_counter() - t0) / len(seeds):.1f}",
                ]
            )
        print(f"-- reuse {scen!r} of the vanished topics' context words")
        hdr = ["config", "ovl active", "ovl vanished", "kept/10", "shift batches", "s/run"]
        print(table(rows, hdr))
    return True


# ============================================================================ 4. sample stream
def bench_sample(args: argparse.Namespace) -> bool:
    """Ground truth of data/sample_stream: shifted words and event words, per period."""
    import json
    from datetime import datetime

    stream = sample_stream_path()
    truth = json.loads(sample_truth_path().read_text())
    tweets = sorted(read_tweets(stream), key=lambda t: (t.created_at, t.id))
    tokenize, tok_name = get_tokenizer()
    toks = tokenize([t.text for t in tweets])
    shifted = truth["shifted_words"]
    cut = datetime.fromisoformat(shifted[0]["periods"][0]["end"].replace("Z", "+00:00"))
    i_cut = next(i for i, t in enumerate(tweets) if t.created_at >= cut)
    bs = 500
    common_words = [w for w in truth["background_words"] if not w.startswith("#")]
    print(
        f"\n== 4. sample stream (data/sample_stream): {len(toks)} tweets, period cut at"
        f" tweet {i_cut}, batches of {bs}, {tok_name}, sg={args.quality_sg}, vector_size 100,"
        " min_count 3, workers=1. shifted = planted context words in the top-10 of"
        " crash/cloud/virus (goal >= 5 each); events = mean event keywords in an event"
        " keyword's top-10; ovl = top-10 overlap of the 100 most frequent background words"
        " between the two period snapshots; shift = tweets into period 2 until every"
        " shifted word has >= 5 new context words"
    )

    def top(kv, w: str) -> set[str]:
        if w not in kv.key_to_index:
            return set()
        return {x for x, _ in kv.most_similar(w, topn=10)}

    rows = []
    ok = True
    for name, kw in [
        ("default", {}),
        ("previous default", PREVIOUS_DEFAULT),
        ("lr count", {"lr_schedule": "count"}),
        ("lr constant", {"lr_schedule": "constant"}),
        ("replay 0.25", {"replay_ratio": 0.25}),
        ("anchor 0.05 top200", {"anchor": 0.05, "anchor_top": 200}),
        (
            "anchor 0.05 top200, shifted pinned",
            {"anchor": 0.05, "anchor_top": 200, "pinned": [s["word"] for s in shifted]},
        ),
    ]:
        m = ContinualWord2Vec(vector_size=100, sg=args.quality_sg, min_count=3, seed=1, **kw)
        for i in range(0, i_cut, bs):
            m.update(toks[i : min(i + bs, i_cut)])
        s1 = m.snapshot("period1")
        h1 = [len(set(s["periods"][0]["context_words"]) & top(s1, s["word"])) for s in shifted]
        moved = None
        for i in range(i_cut, len(toks), bs):
            m.update(toks[i : i + bs])
            if moved is None and all(
                len(set(s["periods"][1]["context_words"]) & top(m.wv, s["word"])) >= 5
                for s in shifted
            ):
                moved = min(i + bs, len(toks)) - i_cut
        s2 = m.snapshot("period2")
        h2 = [len(set(s["periods"][1]["context_words"]) & top(s2, s["word"])) for s in shifted]
        ev = [
            np.mean(
                [
                    len(set(e["keywords"]) & top(s2, k))
                    for k in e["keywords"]
                    if k in s2.key_to_index
                ]
            )
            for e in truth["events"]
        ]
        freq = sorted(
            (w for w in common_words if w in s1.key_to_index and w in s2.key_to_index),
            key=lambda w: -m.count(w),
        )[:100]
        ovl = np.mean([len(top(s1, w) & top(s2, w)) / 10 for w in freq])
        ok_cfg = min(h1) >= 5 and min(h2) >= 5
        if name == "default":
            ok = ok_cfg
        rows.append(
            [
                name,
                "/".join(map(str, h1)),
                "/".join(map(str, h2)),
                f"{np.mean(ev):.1f}",
                f"{ovl:.2f}",
                "never" if moved is None else str(moved),
                verdict(ok_cfg),
            ]
        )
    print(
        table(
            rows,
            ["config", "shifted P1", "shifted P2", "events/10", "ovl bg", "shift tweets", ">=5"],
        )
    )
    print(
        f"{verdict(ok)}: default config: every shifted word has >= 5 planted context words in"
        " its top-10 after each period"
    )
    return ok


# ============================================================================ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_data = str(shared_data_dir(required=False))
    ap.add_argument(
        "--data", default=default_data, help="data root (default: $TEXTCL_DATA or ../shared/data)"
    )
    ap.add_argument("--quick", action="store_true", help="shorter synthetic run")
    ap.add_argument(
        "--sg",
        type=int,
        default=0,
        help="throughput sections 1-2: 0 CBOW (default, gensim's default) or 1 skip-gram",
    )
    ap.add_argument(
        "--quality-sg", type=int, default=1, help="quality sections 3-4: 1 skip-gram (default)"
    )
    ap.add_argument(
        "--tokenizer",
        choices=["auto", "regex"],
        default="auto",
        help="auto: textcl TweetTokenizer if importable; regex: lowercase [#@]?word, URLs kept",
    )
    ap.add_argument("--batch", type=int, default=1000, help="tweets per micro-batch")
    ap.add_argument("--naive-seconds", type=float, default=300.0, help="time budget for (a)")
    ap.add_argument("--synthetic-tweets", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions of (b), (c)")
    ap.add_argument(
        "--only",
        action="append",
        choices=["crisislex", "synthetic", "forgetting", "sample"],
        help="run only these sections",
    )
    args = ap.parse_args(argv)
    only = set(args.only or ["crisislex", "synthetic", "forgetting", "sample"])
    print(f"python {sys.version.split()[0]}, cores {os.cpu_count()}, numpy {np.__version__}")
    ok = True
    if "crisislex" in only:
        ok &= bench_crisislex(args)
    if "synthetic" in only:
        ok &= bench_synthetic(args)
    if "forgetting" in only:
        ok &= bench_forgetting(args)
    if "sample" in only:
        ok &= bench_sample(args)
    print("\nALL GOALS PASS" if ok else "\nSOME GOALS FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
