"""Graded synthetic semantic change on real tweets: ``compare_corpora`` against SGNS+OP.

Builds a pool of real tweets (CrisisLex T26 + T6 and every TweetEval ``*_text.txt``,
read with textcl's readers, tokenised with ``TweetTokenizer``, exact duplicates
dropped), shuffles it with a seed and cuts two corpora A and B of ``--tokens`` tokens
each from it: without injection nothing changes between them. Then picks ``--targets``
target words (alphabetic, >= 3 letters, not spaCy stop words, at least ``--min-freq``
occurrences in both corpora), each with a distinct donor word of similar frequency (the
candidates are sampled, sorted by frequency and paired with their neighbour in that
order), gives each target a share ``p`` out of ``--levels`` evenly spaced values in
``[0, 1]`` (0 included) and, in B only, swaps that share of the target's occurrences
with the donor and the same share of the donor's with the target
(:func:`textcl.drift.compare.inject_change`): at ``p`` the target's contexts in B are
a ``p``-mix of the donor's. The truth is ``p``.

Scored in the same run, per split:

* ``textcl defaults``: ``compare_corpora`` with no settings passed (what ``textcl drift
  --compare A B --targets T`` does),
* ``textcl old 50d/5ep``: the same with the former built-in settings (50 dimensions,
  5 epochs, window 5),
* ``SGNS+OP baseline``: plain skip-gram (20 epochs, 100 dimensions, window 10,
  ``min_count`` 5), B rotated onto A by orthogonal Procrustes over all shared words
  (rows length-normalised and mean-centred), score = cosine distance, averaged over 5
  seeds.

Prints the Spearman correlation of each score with ``p``, the ratio to the baseline,
seconds per method, mean +- sd over ``--splits`` splits, and PASS/FAIL for "textcl
defaults >= baseline" (on the mean). ``--quick``: one split.

Usage: python scripts/eval_semantic_change.py [--splits 3] [--quick] [--json F]
[--variant 'NAME={"score": "cosine"}' ...]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import Word2Vec
from scipy.linalg import orthogonal_procrustes
from scipy.stats import spearmanr

from textcl.drift.compare import compare_corpora, inject_change
from textcl.input.readers import read_tweets
from textcl.paths import shared_data_dir
from textcl.text.tokenize import TweetTokenizer

WORD = re.compile(r"[a-z]{3,}")
OLD_SETTINGS = {"vector_size": 50, "epochs": 5, "window": 5}
BASELINE = {"epochs": 20, "vector_size": 100, "window": 10, "seeds": (1, 2, 3, 4, 5)}


def load_pool(data_dir: Path) -> list[list[str]]:
    """Tokenised real tweets: CrisisLex T26 + T6 and TweetEval texts, duplicates dropped."""
    texts = [t.text for t in read_tweets(data_dir / "crisislex", "crisislex")]
    for path in sorted((data_dir / "tweeteval").rglob("*_text.txt")):
        texts += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    seen: set[tuple[str, ...]] = set()
    pool = []
    for doc in TweetTokenizer().tokenize_many(texts):
        key = tuple(doc)
        if doc and key not in seen:
            seen.add(key)
            pool.append(doc)
    return pool


def split_pool(
    pool: Sequence[list[str]], tokens: int, rng: np.random.Generator
) -> tuple[list[list[str]], list[list[str]]]:
    """Two disjoint random corpora of about ``tokens`` tokens each."""
    order = rng.permutation(len(pool))
    a: list[list[str]] = []
    b: list[list[str]] = []
    na = nb = 0
    for i in order:
        doc = pool[i]
        if na < tokens:
            a.append(doc)
            na += len(doc)
        elif nb < tokens:
            b.append(doc)
            nb += len(doc)
        else:
            break
    return a, b


def pick_pairs(
    a: Sequence[list[str]],
    b: Sequence[list[str]],
    n: int,
    min_freq: int,
    rng: np.random.Generator,
) -> list[tuple[str, str]]:
    """``n`` (target, donor) pairs of similar frequency among words frequent in A and B."""
    from spacy.lang.en.stop_words import STOP_WORDS

    ca = Counter(w for d in a for w in d)
    cb = Counter(w for d in b for w in d)
    freq = {
        w: min(ca[w], cb[w])
        for w in ca
        if WORD.fullmatch(w)
        and w not in STOP_WORDS
        and w != "http"
        and min(ca[w], cb[w]) >= min_freq
    }
    words = sorted(freq)
    chosen: list[str] = []
    for i in rng.permutation(len(words)):
        w = words[i]
        if all(w[:4] != c[:4] for c in chosen):  # no two forms of one word (flood/floods)
            chosen.append(w)
        if len(chosen) == 2 * n:
            break
    if len(chosen) < 2 * n:
        raise ValueError(f"only {len(chosen)} candidate words; lower --min-freq or --targets")
    chosen.sort(key=lambda w: (freq[w], w))
    pairs = []
    for k in range(n):
        x, y = chosen[2 * k], chosen[2 * k + 1]
        pairs.append((x, y) if rng.random() < 0.5 else (y, x))
    return pairs


def graded_shares(n: int, levels: int, rng: np.random.Generator) -> list[float]:
    """``n`` shares from ``levels`` evenly spaced values in [0, 1], in random order."""
    grid = np.linspace(0.0, 1.0, levels)
    shares = np.resize(grid, n)
    return [float(x) for x in rng.permutation(shares)]


def _normalised(m: np.ndarray) -> np.ndarray:
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    return m - m.mean(axis=0)


def sgns_op_cosine(
    a: Sequence[list[str]],
    b: Sequence[list[str]],
    targets: Sequence[str],
    seeds: Sequence[int],
    epochs: int,
    vector_size: int,
    window: int,
    min_count: int = 5,
) -> dict[str, float]:
    """The standard baseline: SGNS per corpus, orthogonal Procrustes, cosine distance."""
    dist: dict[str, list[float]] = {t: [] for t in targets}
    for seed in seeds:
        kv = []
        for docs in (a, b):
            model = Word2Vec(
                sentences=list(docs),
                vector_size=vector_size,
                window=window,
                min_count=min_count,
                sg=1,
                negative=5,
                epochs=epochs,
                workers=1,
                seed=seed,
            )
            kv.append(model.wv)
        ka, kb = kv
        shared = [w for w in ka.index_to_key if w in kb.key_to_index]
        ma = _normalised(ka[shared])
        mb = _normalised(kb[shared])
        r, _ = orthogonal_procrustes(mb, ma)
        mb = mb @ r
        row = {w: i for i, w in enumerate(shared)}
        for t in targets:
            if t in row:
                u, v = ma[row[t]], mb[row[t]]
                dist[t].append(float(1.0 - u @ v / (np.linalg.norm(u) * np.linalg.norm(v))))
    return {t: float(np.mean(d)) for t, d in dist.items() if len(d) == len(seeds)}


def _spearman(scores: dict[str, float], truth: dict[str, float]) -> float:
    keys = [t for t in truth if t in scores]
    return float(spearmanr([scores[t] for t in keys], [truth[t] for t in keys]).statistic)


def run_split(
    pool: Sequence[list[str]], seed: int, args: argparse.Namespace
) -> dict[str, Any]:
    """One random split: build A and B, inject graded change into B, score every method."""
    rng = np.random.default_rng(seed)
    a, b0 = split_pool(pool, args.tokens, rng)
    pairs = pick_pairs(a, b0, args.targets, args.min_freq, rng)
    shares = graded_shares(len(pairs), args.levels, rng)
    b = inject_change(b0, pairs, shares, seed=seed)
    targets = [t for t, _ in pairs]
    truth = dict(zip(targets, shares, strict=True))
    out: dict[str, Any] = {
        "seed": seed,
        "tokens_a": sum(map(len, a)),
        "tokens_b": sum(map(len, b)),
        "pairs": [[t, d, p] for (t, d), p in zip(pairs, shares, strict=True)],
        "methods": {},
    }
    here = Path("corpus")

    def textcl(**settings: Any) -> tuple[dict[str, float], dict[str, Any]]:
        res = compare_corpora(here / "a", here / "b", targets, docs_a=a, docs_b=b, **settings)
        return {r["term"]: r["score"] for r in res["targets"]}, res["settings"]

    runs: list[tuple[str, Any]] = [
        ("textcl defaults", lambda: textcl()),
        ("textcl old 50d/5ep", lambda: textcl(**OLD_SETTINGS)),
        (
            "SGNS+OP baseline",
            lambda: (
                sgns_op_cosine(
                    a,
                    b,
                    targets,
                    BASELINE["seeds"],
                    BASELINE["epochs"],
                    BASELINE["vector_size"],
                    BASELINE["window"],
                ),
                BASELINE,
            ),
        ),
    ]
    for name, extra in args.variant:
        runs.append((name, lambda extra=extra: textcl(**extra)))
    for name, fn in runs:
        t0 = time.perf_counter()
        scores, settings = fn()
        secs = time.perf_counter() - t0
        out["methods"][name] = {
            "spearman": _spearman(scores, truth),
            "seconds": secs,
            "scored": len(scores),
            "settings": {k: v for k, v in settings.items() if k != "workers"},
        }
    return out


def _variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, spec = text.partition("=")
    if not name or not spec:
        raise argparse.ArgumentTypeError(f"{text!r}: use NAME=JSON")
    return name, json.loads(spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=3, help="random corpus splits (seeds 0..)")
    ap.add_argument("--quick", action="store_true", help="one split only")
    ap.add_argument("--tokens", type=int, default=150_000, help="tokens per corpus")
    ap.add_argument("--targets", type=int, default=40, help="target words (each with a donor)")
    ap.add_argument("--levels", type=int, default=8, help="evenly spaced shares in [0, 1]")
    ap.add_argument("--min-freq", type=int, default=40, help="least count in A and in B")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        type=_variant,
        metavar="NAME=JSON",
        help='extra compare_corpora row, e.g. \'cos={"score": "cosine"}\'',
    )
    args = ap.parse_args()
    splits = 1 if args.quick else args.splits

    t0 = time.perf_counter()
    pool = load_pool(shared_data_dir())
    print(
        f"pool: {len(pool)} distinct tweets, {sum(map(len, pool))} tokens "
        f"(CrisisLex T26+T6, TweetEval; {time.perf_counter() - t0:.1f} s)"
    )
    results = []
    for seed in range(splits):
        res = run_split(pool, seed, args)
        results.append(res)
        pairs = res["pairs"]
        print(
            f"\nsplit {seed}: A {res['tokens_a']} tokens, B {res['tokens_b']} tokens, "
            f"{len(pairs)} targets, shares {sorted({p for *_, p in pairs})[:3]}..1.0"
        )
        print("  " + ", ".join(f"{t}<-{d}:{p:.2f}" for t, d, p in pairs[:8]) + ", ...")
        base = res["methods"]["SGNS+OP baseline"]["spearman"]
        print(f"  {'method':<20} {'spearman':>9} {'vs base':>8} {'seconds':>8}  settings")
        for name, m in res["methods"].items():
            s = m["settings"]
            desc = (
                f"{s['vector_size']}d, {s['epochs']} epochs, window {s['window']}"
                + (f", {len(s['seeds'])} seeds" if "seeds" in s else "")
            )
            print(
                f"  {name:<20} {m['spearman']:>9.3f} {m['spearman'] / base:>8.2f}"
                f" {m['seconds']:>8.1f}  {desc}"
            )

    names = list(results[0]["methods"])
    print(f"\nsummary over {splits} split(s): Spearman with the injected share p")
    print(f"  {'method':<20} {'mean':>7} {'sd':>6} {'vs base':>8} {'seconds':>8}")
    summary = {}
    base_vals = np.array([r["methods"]["SGNS+OP baseline"]["spearman"] for r in results])
    for name in names:
        vals = np.array([r["methods"][name]["spearman"] for r in results])
        secs = float(np.mean([r["methods"][name]["seconds"] for r in results]))
        summary[name] = {"mean": float(vals.mean()), "sd": float(vals.std()), "seconds": secs}
        print(
            f"  {name:<20} {vals.mean():>7.3f} {vals.std():>6.3f}"
            f" {vals.mean() / base_vals.mean():>8.2f} {secs:>8.1f}"
        )
    ours = summary["textcl defaults"]["mean"]
    base = summary["SGNS+OP baseline"]["mean"]
    wins = sum(
        r["methods"]["textcl defaults"]["spearman"] >= r["methods"]["SGNS+OP baseline"]["spearman"]
        for r in results
    )
    verdict = "PASS" if ours >= base else "FAIL"
    print(
        f"\ngoal textcl defaults >= baseline: {verdict} ({ours:.3f} vs {base:.3f}; "
        f"ahead in {wins}/{splits} splits)"
    )
    if args.json:
        args.json.write_text(json.dumps({"splits": results, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
