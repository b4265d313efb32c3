"""Semantic change of target words between two corpora (``textcl drift --compare A B``).

Each corpus is a plain-text file with one document per line, tokenised (space-separated
tokens) or raw; raw lines are tokenised with :class:`TweetTokenizer` (detected per file,
see :func:`read_corpus`). For each seed a gensim ``Word2Vec`` is trained on A and on B,
B is rotated onto A (orthogonal Procrustes on shared frequent words, targets excluded),
and each target gets

* ``cosine``: ``1 - cos`` of its vectors after alignment,
* ``jaccard``: Jaccard@topn of its neighbour sets (no alignment needed),
* ``lnc``: Hamilton et al.'s local neighbourhood change (second-order similarities),

and ``score = (cosine + lnc) / 2`` per seed, with ``lnc`` over the union of the top
``measure_k`` (25) neighbours, words missing from one corpus counting as similarity 0
there; the reported score is the mean over seeds (an ensemble: single small-corpus
models are noisy). Measured on the sample stream (period 1 vs 2, ~100k tokens each, 3
shifted + 20 stable targets, 4 seeds): Spearman between single seeds 0.97 for this
score (lnc@25 alone 0.97, cosine alone 0.90, Jaccard@10 0.83, (cosine + 1 - Jaccard@10)/2
0.82); the 3 shifted words came top in 4/4 seeds (cosine alone: 1/4). ``stability`` gives the
Spearman correlation of the target rankings between single seeds (how noisy one model
is); ``scripts/eval_drift_compare.py`` measures it between seed ensembles.

Settings for small corpora (~150k tokens): few dimensions (50), 5 epochs (10 were less
stable: 0.92 single-seed Spearman),
``min_count=5``, skip-gram with negative sampling, one worker (repeatable per seed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import Word2Vec
from gensim.models.keyedvectors import KeyedVectors
from scipy.stats import spearmanr

from textcl.drift.align import align_to, shared_anchors
from textcl.drift.measures import Space, cosine_change, jaccard, local_neighbourhood_change
from textcl.stream.tokenize import TweetTokenizer

__all__ = [
    "DEFAULT_W2V",
    "compare_corpora",
    "corpora_from_stream",
    "read_corpus",
    "read_targets",
    "train_corpus",
]

_PLACEHOLDER = re.compile(r"<[a-z]+>")

DEFAULT_W2V: dict[str, Any] = {
    "vector_size": 50,
    "window": 5,
    "min_count": 5,
    "sg": 1,
    "negative": 5,
    "sample": 1e-3,
    "epochs": 5,
    "workers": 1,
}


def _is_tokenised(lines: Sequence[str], tok: TweetTokenizer) -> bool:
    """Lines already look like TweetTokenizer output (>= 90% unchanged by it)."""
    sample = [ln for ln in lines[:2000] if ln.strip()]
    if not sample:
        return True
    # placeholders such as "<num>" are tokenizer output too: leave them out of the test
    plain = [_PLACEHOLDER.sub(" ", ln) for ln in sample]
    same = sum(1 for ln in plain if ln.split() == tok(ln))
    return same >= 0.9 * len(sample)


def read_corpus(path: Path, tokenized: bool | None = None) -> list[list[str]]:
    """Documents of ``path`` (one per line) as token lists; empty lines are skipped.

    ``tokenized=None`` detects: if at least 90% of the first 2000 lines are unchanged by
    :class:`TweetTokenizer` (lower-case, tokens separated by spaces) the file is split
    on whitespace (keeping special tokens such as ``<num>``), else every line is
    tokenised.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    tok = TweetTokenizer()
    if tokenized is None:
        tokenized = _is_tokenised(lines, tok)
    docs = [ln.split() for ln in lines] if tokenized else tok.tokenize_many(lines)
    return [d for d in docs if d]


def read_targets(path: Path) -> list[str]:
    """Target words, one per line (blank lines and ``#`` comments at line start skipped).

    A line of just a hashtag (``#word`` with no space) is kept as a target.
    """
    out: list[str] = []
    for ln in Path(path).read_text(encoding="utf-8").splitlines():
        w = ln.strip()
        if not w or (w.startswith("#") and (len(w) == 1 or " " in w)):
            continue
        if w not in out:
            out.append(w)
    return out


def train_corpus(docs: Iterable[list[str]], seed: int, **settings: Any) -> KeyedVectors:
    """A gensim Word2Vec trained on ``docs``; its KeyedVectors (``expandos["count"]``)."""
    params = {**DEFAULT_W2V, **settings, "seed": int(seed)}
    model = Word2Vec(sentences=list(docs), **params)
    return model.wv


def _top(acc: dict[str, float], n: int, k: int) -> list[list[Any]]:
    ranked = sorted(acc.items(), key=lambda t: (-t[1], t[0]))[:k]
    return [[w, round(s / n, 4)] for w, s in ranked]


def _ranks_spearman(a: dict[str, float], b: dict[str, float]) -> float | None:
    keys = sorted(set(a) & set(b))
    if len(keys) < 3:
        return None
    rho = spearmanr([a[k] for k in keys], [b[k] for k in keys]).statistic
    return None if not np.isfinite(rho) else float(rho)


def compare_corpora(
    a: Path,
    b: Path,
    targets: list[str],
    seeds: Sequence[int] = (1, 2, 3),
    topn: int = 10,
    measure_k: int = 25,
    tokenized: bool | None = None,
    docs_a: list[list[str]] | None = None,
    docs_b: list[list[str]] | None = None,
    **w2v_settings: Any,
) -> dict[str, Any]:
    """Score how much each target changes from corpus ``a`` to corpus ``b``.

    Returns ``{"mode": "compare", "corpora": {...}, "settings": {...}, "seeds": [...],
    "targets": [{"term", "score", "score_sd", "cosine", "jaccard", "lnc", "count_a",
    "count_b", "neighbors_a", "neighbors_b", "per_seed"}...], "missing": [...],
    "stability": {...}}``; targets sorted by ``score`` (higher = more change). Targets
    below ``min_count`` in either corpus are listed in ``missing`` with their counts.
    ``docs_a`` / ``docs_b`` pass already-tokenised documents (then files are not read).
    """
    if not seeds:
        raise ValueError("at least one seed is needed")
    settings = {**DEFAULT_W2V, **w2v_settings}
    min_count = float(settings["min_count"])
    da = docs_a if docs_a is not None else read_corpus(a, tokenized)
    db = docs_b if docs_b is not None else read_corpus(b, tokenized)
    targets = list(dict.fromkeys(targets))

    per_seed: dict[str, list[dict[str, float]]] = {t: [] for t in targets}
    nb_acc_a: dict[str, dict[str, float]] = {t: {} for t in targets}
    nb_acc_b: dict[str, dict[str, float]] = {t: {} for t in targets}
    counts: dict[str, tuple[float, float]] = {}
    for seed in seeds:
        ka = train_corpus(da, seed, **w2v_settings)
        kb = train_corpus(db, seed, **w2v_settings)
        anchors = shared_anchors(ka, kb, min_count=min_count, exclude=targets)
        kb_al = align_to(ka, kb, anchors=anchors)
        sa, sb = Space(ka, min_count), Space(kb_al, min_count)
        present = [t for t in targets if t in sa.index and t in sb.index]
        k = max(topn, measure_k)
        nba, nbb = sa.neighbours(present, k), sb.neighbours(present, k)
        for t in targets:
            counts[t] = (sa.count(t), sb.count(t))
        for t in present:
            wa = [w for w, _ in nba[t]]
            wb = [w for w, _ in nbb[t]]
            cos = cosine_change(sa.unit[sa.index[t]], sb.unit[sb.index[t]])
            jac = jaccard(wa[:topn], wb[:topn])
            lnc = local_neighbourhood_change(
                sa, sb, t, wa[:measure_k], wb[:measure_k], missing_as_zero=True
            )
            per_seed[t].append(
                {
                    "seed": int(seed),
                    "cosine": cos,
                    "jaccard": jac,
                    "lnc": np.nan if lnc is None else lnc,
                    "score": (cos + (1.0 - jac if lnc is None else lnc)) / 2.0,
                }
            )
            for w, s in nba[t][:topn]:
                nb_acc_a[t][w] = nb_acc_a[t].get(w, 0.0) + s
            for w, s in nbb[t][:topn]:
                nb_acc_b[t][w] = nb_acc_b[t].get(w, 0.0) + s

    rows, missing = [], []
    n = len(seeds)
    for t in targets:
        runs = per_seed[t]
        ca, cb = counts.get(t, (0.0, 0.0))
        if len(runs) < n:
            missing.append({"term": t, "count_a": round(ca, 1), "count_b": round(cb, 1)})
            continue
        scores = np.array([r["score"] for r in runs])
        lnc_vals = np.array([r["lnc"] for r in runs], dtype=float)
        rows.append(
            {
                "term": t,
                "score": round(float(scores.mean()), 4),
                "score_sd": round(float(scores.std()), 4),
                "cosine": round(float(np.mean([r["cosine"] for r in runs])), 4),
                "jaccard": round(float(np.mean([r["jaccard"] for r in runs])), 4),
                "lnc": None
                if np.all(np.isnan(lnc_vals))
                else round(float(np.nanmean(lnc_vals)), 4),
                "count_a": round(ca, 1),
                "count_b": round(cb, 1),
                "neighbors_a": _top(nb_acc_a[t], n, topn),
                "neighbors_b": _top(nb_acc_b[t], n, topn),
                "per_seed": [round(float(s), 4) for s in scores],
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["term"]))

    seed_scores = [{r["term"]: r["per_seed"][i] for r in rows} for i in range(n)]
    pairs = []
    for i, j in combinations(range(n), 2):
        rho = _ranks_spearman(seed_scores[i], seed_scores[j])
        pairs.append({"seeds": [int(seeds[i]), int(seeds[j])], "spearman": rho})
    rhos = [p["spearman"] for p in pairs if p["spearman"] is not None]
    stability = {
        "between_single_seeds": pairs,
        "spearman_mean": round(float(np.mean(rhos)), 4) if rhos else None,
        "spearman_min": round(float(np.min(rhos)), 4) if rhos else None,
    }
    return {
        "mode": "compare",
        "corpora": {
            "a": str(a),
            "b": str(b),
            "docs_a": len(da),
            "docs_b": len(db),
            "tokens_a": int(sum(map(len, da))),
            "tokens_b": int(sum(map(len, db))),
        },
        "settings": {**settings, "topn": topn, "measure_k": measure_k},
        "seeds": [int(s) for s in seeds],
        "targets": rows,
        "missing": missing,
        "stability": stability,
    }


def corpora_from_stream(
    source: Path, boundary: str, out_dir: Path, tokenised: bool = False
) -> tuple[Path, Path]:
    """Split a tweet stream at ``boundary`` (ISO time) into two one-tweet-per-line corpora.

    Writes ``out_dir/a.txt`` (before) and ``out_dir/b.txt`` (at or after); raw texts
    (newlines flattened) unless ``tokenised``.
    """
    from textcl.stream.readers import read_tweets
    from textcl.stream.timeparse import parse_time

    cut = parse_time(boundary)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = TweetTokenizer() if tokenised else None
    pa, pb = out_dir / "a.txt", out_dir / "b.txt"
    with pa.open("w", encoding="utf-8") as fa, pb.open("w", encoding="utf-8") as fb:
        for tweet in read_tweets(source):
            text = " ".join(tok(tweet.text)) if tok else " ".join(tweet.text.split())
            if text:
                (fa if tweet.created_at < cut else fb).write(text + "\n")
    return pa, pb
