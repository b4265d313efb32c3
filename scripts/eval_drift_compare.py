"""Rank stability of ``compare_corpora`` (two-corpora drift) across seeds.

Splits the sample stream at the planted shift (2026-03-11) into two corpora (period 1 /
period 2, ~100k tokens each), takes as targets the 3 planted shifted words (crash, cloud,
virus) plus the 20 most frequent stable background words (alphabetic, >= 4 letters), and
runs ``compare_corpora`` with several seed sets (ensembles). Prints

* the ranking of the first ensemble beside a single-seed (no-ensemble) run,
* for every ensemble and every single seed: are the 3 shifted words the top 3?
* rank stability (Spearman over all targets, and over the stable words only, where
  the ranking is hardest) between ensembles, between single seeds, and for the naive
  cosine-only score of single seeds.

Usage: python scripts/eval_drift_compare.py [--seed-sets "1,2,3;4,5,6;7,8,9"] [--json F]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from textcl.drift.compare import compare_corpora, corpora_from_stream, read_corpus
from textcl.paths import sample_stream_path, sample_truth_path


def spearman(a: dict[str, float], b: dict[str, float], keys: list[str]) -> float:
    return float(spearmanr([a[k] for k in keys], [b[k] for k in keys]).statistic)


def pairwise(runs: list[dict[str, float]], keys: list[str]) -> tuple[float, float]:
    rhos = [spearman(x, y, keys) for x, y in combinations(runs, 2)]
    return float(np.mean(rhos)), float(np.min(rhos))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed-sets", default="1,2,3;4,5,6;7,8,9")
    ap.add_argument("--stable", type=int, default=20, help="number of stable targets")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    args = ap.parse_args()
    seed_sets = [tuple(int(s) for s in part.split(",")) for part in args.seed_sets.split(";")]

    truth = json.loads(sample_truth_path().read_text())
    shifted = [s["word"] for s in truth["shifted_words"]]
    boundary = truth["shifted_words"][0]["periods"][1]["start"]
    tmp = Path(tempfile.mkdtemp(prefix="eval_drift_"))
    a, b = corpora_from_stream(sample_stream_path(), boundary, tmp)
    da, db = read_corpus(a), read_corpus(b)
    ca = Counter(w for d in da for w in d)
    cb = Counter(w for d in db for w in d)
    bg = [w for w in truth["background_words"] if w.isalpha() and len(w) >= 4 and w not in shifted]
    bg.sort(key=lambda w: (-min(ca[w], cb[w]), w))
    stable = bg[: args.stable]
    targets = shifted + stable
    print(
        f"corpora: A {len(da)} docs / {sum(map(len, da))} tokens, "
        f"B {len(db)} docs / {sum(map(len, db))} tokens (split at {boundary})"
    )
    print(f"targets: {len(shifted)} shifted {shifted} + {len(stable)} stable")
    print(f"stable: {', '.join(stable)}")

    t0 = time.perf_counter()
    base = compare_corpora(a, b, targets, seeds=(seed_sets[0][0],), docs_a=da, docs_b=db)
    t_base = time.perf_counter() - t0
    ens = []
    t0 = time.perf_counter()
    for seeds in seed_sets:
        ens.append(compare_corpora(a, b, targets, seeds=seeds, docs_a=da, docs_b=db))
    t_ens = (time.perf_counter() - t0) / len(seed_sets)
    print(f"time: single seed {t_base:.1f} s, ensemble of {len(seed_sets[0])} {t_ens:.1f} s")

    first = ens[0]["targets"]
    print(f"\nranking: ensemble seeds {seed_sets[0]}  |  baseline single seed {seed_sets[0][0]}")
    print(f"{'#':>3} {'term':<12} {'score':>6} {'sd':>6}   | {'term':<12} {'score':>6}")
    for i, (r, q) in enumerate(zip(first, base["targets"], strict=True)):
        m1 = "*" if r["term"] in shifted else " "
        m2 = "*" if q["term"] in shifted else " "
        print(
            f"{i + 1:>3} {r['term']:<11}{m1} {r['score']:>6.3f} {r['score_sd']:>6.3f}   |"
            f" {q['term']:<11}{m2} {q['score']:>6.3f}"
        )
    print("(* = planted shifted word)")

    def top3_ok(scores: dict[str, float]) -> bool:
        return set(sorted(scores, key=lambda t: -scores[t])[:3]) == set(shifted)

    ens_scores = [{r["term"]: r["score"] for r in e["targets"]} for e in ens]
    single: list[dict[str, float]] = []
    single_cos: list[dict[str, float]] = []
    seeds_flat: list[int] = []
    for e, seeds in zip(ens, seed_sets, strict=True):
        for i, s in enumerate(seeds):
            seeds_flat.append(s)
            single.append({r["term"]: r["per_seed"][i] for r in e["targets"]})
    for s in seeds_flat:  # per-seed cosine is not kept in the ensemble result
        one = compare_corpora(a, b, targets, seeds=(s,), docs_a=da, docs_b=db)
        single_cos.append({r["term"]: r["cosine"] for r in one["targets"]})

    print("\nshifted words are the top 3:")
    for seeds, sc in zip(seed_sets, ens_scores, strict=True):
        print(f"  ensemble {seeds}: {top3_ok(sc)}")
    ok_single = sum(top3_ok(sc) for sc in single)
    ok_cos = sum(top3_ok(sc) for sc in single_cos)
    print(f"  single seeds (score): {ok_single}/{len(single)}")
    print(f"  single seeds (cosine only, naive baseline): {ok_cos}/{len(single_cos)}")

    rows = [
        ("ensembles (score)", ens_scores),
        ("single seeds (score)", single),
        ("single seeds (cosine only)", single_cos),
    ]
    print("\nrank stability, Spearman mean / min over pairs:")
    print(f"  {'':<28} {'all targets':>14} {'stable only':>14}")
    summary = {}
    for name, runs in rows:
        m_all, lo_all = pairwise(runs, targets)
        m_st, lo_st = pairwise(runs, stable)
        summary[name] = {"all": [m_all, lo_all], "stable": [m_st, lo_st]}
        print(f"  {name:<28} {m_all:>6.3f} / {lo_all:>5.3f} {m_st:>6.3f} / {lo_st:>5.3f}")
    shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(
            json.dumps({"ensembles": ens, "baseline": base, "stability": summary}, indent=1)
        )


if __name__ == "__main__":
    main()
