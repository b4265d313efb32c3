"""Semantic change of target words between two corpora (``textcl drift --compare A B``).

Each corpus is a plain-text file with one document per line, tokenised (space-separated
tokens) or raw; raw lines are tokenised with :class:`TweetTokenizer` (detected per file,
see :func:`read_corpus`). For each seed a gensim skip-gram ``Word2Vec`` is trained on A
and on B, B is rotated onto A (orthogonal Procrustes on shared frequent words, targets
excluded), and each target gets

* ``cosine``: ``1 - cos`` of its vectors after alignment, both minus the mean anchor
  vector (word2vec vectors share a common direction that makes raw cosines high),
* ``jaccard``: Jaccard@topn of its neighbour sets (no alignment needed),
* ``lnc``: Hamilton et al.'s local neighbourhood change (second-order similarities over
  the union of the top ``measure_k`` neighbours, a word missing from one corpus counting
  as similarity 0 there),

and ``score`` (``cosine+lnc`` by default: their mean; or ``cosine`` / ``lnc``) per seed;
the reported score is the mean over seeds (an ensemble: single small-corpus models are
noisy). ``stability`` gives the Spearman correlation of the target rankings between
single seeds.

Settings adapt to the data (:func:`adaptive_settings`): 100 dimensions, window 10 and
as many epochs as make one model see about 3M tokens (20 epochs at 150k tokens, within
5-40). Measured by ``scripts/eval_semantic_change.py`` (graded synthetic change injected
into 150k-token corpora of real tweets, 3 splits, Spearman with the injected share):
these defaults 0.682, plain SGNS + orthogonal Procrustes + cosine with 20 epochs and a
5-seed ensemble 0.664, the former built-in 50d / 5 epochs / window 5 0.681, cosine alone
0.651, lnc alone 0.575.
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
from textcl.text.tokenize import TweetTokenizer

__all__ = [
    "ADAPTIVE",
    "DEFAULT_SEEDS",
    "DEFAULT_W2V",
    "SCORES",
    "adaptive_settings",
    "compare_corpora",
    "corpora_from_stream",
    "inject_change",
    "read_corpus",
    "read_targets",
    "train_corpus",
]

_PLACEHOLDER = re.compile(r"<[a-z]+>")

# fixed Word2Vec settings; epochs, vector_size and window come from adaptive_settings
DEFAULT_W2V: dict[str, Any] = {
    "min_count": 5,
    "sg": 1,
    "negative": 5,
    "sample": 1e-3,
    "workers": 1,
}
# adaptive_settings: epochs = token_passes / tokens of the smaller corpus, clipped
ADAPTIVE: dict[str, int] = {
    "token_passes": 3_000_000,
    "min_epochs": 5,
    "max_epochs": 40,
    "vector_size": 100,
    "window": 10,
}
DEFAULT_SEEDS: tuple[int, ...] = (1, 2, 3)
SCORES: tuple[str, ...] = ("cosine", "lnc", "cosine+lnc")
DEFAULT_SCORE = "cosine+lnc"


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


def adaptive_settings(tokens: int) -> dict[str, int]:
    """``epochs``, ``vector_size`` and ``window`` for corpora of ``tokens`` tokens.

    ``tokens`` is the size of the smaller corpus. Epochs are chosen so that one model
    sees about ``ADAPTIVE["token_passes"]`` tokens in all (small corpora get more
    epochs), within ``[min_epochs, max_epochs]``; see the module docstring for the
    measurements behind the figures.
    """
    a = ADAPTIVE
    epochs = round(a["token_passes"] / max(int(tokens), 1))
    epochs = int(min(max(epochs, a["min_epochs"]), a["max_epochs"]))
    return {"epochs": epochs, "vector_size": int(a["vector_size"]), "window": int(a["window"])}


def train_corpus(docs: Iterable[list[str]], seed: int, **settings: Any) -> KeyedVectors:
    """A gensim Word2Vec trained on ``docs``; its KeyedVectors (``expandos["count"]``).

    ``settings`` override :data:`DEFAULT_W2V` (gensim ``Word2Vec`` keyword arguments).
    """
    params = {**DEFAULT_W2V, **settings, "seed": int(seed)}
    model = Word2Vec(sentences=list(docs), **params)
    return model.wv


def _top(sums: dict[str, float], found: dict[str, int], k: int) -> list[list[Any]]:
    """``[word, mean similarity over the seeds that found it, support]``, best first.

    Ranked by the similarity summed over seeds (a neighbour found by every seed before
    one found once), ties by word.
    """
    ranked = sorted(sums.items(), key=lambda t: (-t[1], t[0]))[:k]
    return [[w, round(s / found[w], 4), int(found[w])] for w, s in ranked]


def _ranks_spearman(a: dict[str, float], b: dict[str, float]) -> float | None:
    keys = sorted(set(a) & set(b))
    if len(keys) < 3:
        return None
    rho = spearmanr([a[k] for k in keys], [b[k] for k in keys]).statistic
    return None if not np.isfinite(rho) else float(rho)


def _resolve_settings(
    tokens: int, epochs: int | None, vector_size: int | None, window: int | None,
    w2v_settings: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """Word2Vec settings: given values win, the rest adaptive; also the adaptive keys."""
    given = {"epochs": epochs, "vector_size": vector_size, "window": window}
    for key, value in given.items():
        if value is None and w2v_settings.get(key) is not None:
            given[key] = w2v_settings[key]
    auto = adaptive_settings(tokens)
    chosen = {k: (auto[k] if v is None else int(v)) for k, v in given.items()}
    adaptive = [k for k, v in given.items() if v is None]
    return {**DEFAULT_W2V, **w2v_settings, **chosen}, adaptive


def _centred_cosine(sa: Space, sb: Space, mean: np.ndarray, term: str) -> float:
    """``1 - cos`` of the term's unit vector in A and aligned vector in B, both minus
    the mean unit anchor vector of A (the common direction every vector shares)."""
    return cosine_change(sa.row(term) - mean, sb.kv[term] - mean)


def compare_corpora(
    a: Path,
    b: Path,
    targets: list[str],
    seeds: Sequence[int] = DEFAULT_SEEDS,
    topn: int = 10,
    measure_k: int = 25,
    tokenized: bool | None = None,
    docs_a: list[list[str]] | None = None,
    docs_b: list[list[str]] | None = None,
    epochs: int | None = None,
    vector_size: int | None = None,
    window: int | None = None,
    score: str = DEFAULT_SCORE,
    **w2v_settings: Any,
) -> dict[str, Any]:
    """Score how much each target changes from corpus ``a`` to corpus ``b``.

    ``epochs`` / ``vector_size`` / ``window`` left at None (here and in
    ``w2v_settings``) are chosen from the smaller corpus' size by
    :func:`adaptive_settings`; other ``w2v_settings`` are gensim ``Word2Vec`` arguments.
    ``score``: one of :data:`SCORES`. Returns ``{"mode": "compare", "corpora": {...},
    "settings": {..., "adaptive": [keys chosen from the size]}, "seeds": [...],
    "targets": [{"term", "score", "score_sd", "cosine", "jaccard", "lnc", "count_a",
    "count_b", "neighbors_a", "neighbors_b", "per_seed"}...], "missing": [...],
    "stability": {...}}``; targets sorted by ``score`` (higher = more change). Neighbours
    are ``[word, similarity, support]``: the mean cosine similarity over the seeds whose
    top ``topn`` held the word, and how many seeds that was. Targets below
    ``min_count`` in either corpus are listed in ``missing`` with their counts.
    ``docs_a`` / ``docs_b`` pass already-tokenised documents (then files are not read).
    """
    if not seeds:
        raise ValueError("at least one seed is needed")
    if score not in SCORES:
        raise ValueError(f"score {score!r}: use one of {', '.join(SCORES)}")
    da = docs_a if docs_a is not None else read_corpus(a, tokenized)
    db = docs_b if docs_b is not None else read_corpus(b, tokenized)
    tokens_a, tokens_b = int(sum(map(len, da))), int(sum(map(len, db)))
    settings, adaptive = _resolve_settings(
        min(tokens_a, tokens_b), epochs, vector_size, window, w2v_settings
    )
    train = {k: v for k, v in settings.items() if k != "seed"}
    min_count = float(settings["min_count"])
    targets = list(dict.fromkeys(targets))

    per_seed: dict[str, list[dict[str, float]]] = {t: [] for t in targets}
    nb_sum: dict[str, list[dict[str, float]]] = {t: [{}, {}] for t in targets}
    nb_found: dict[str, list[dict[str, int]]] = {t: [{}, {}] for t in targets}
    counts: dict[str, tuple[float, float]] = {}
    for seed in seeds:
        ka = train_corpus(da, seed, **train)
        kb = train_corpus(db, seed, **train)
        anchors = shared_anchors(ka, kb, min_count=min_count, exclude=targets)
        kb_al = align_to(ka, kb, anchors=anchors)
        sa, sb = Space(ka, min_count), Space(kb_al, min_count)
        mean = sa.unit[[sa.index[w] for w in anchors]].mean(axis=0)
        present = [t for t in targets if t in sa.index and t in sb.index]
        k = max(topn, measure_k)
        nba, nbb = sa.neighbours(present, k), sb.neighbours(present, k)
        for t in targets:
            counts[t] = (sa.count(t), sb.count(t))
        for t in present:
            wa = [w for w, _ in nba[t]]
            wb = [w for w, _ in nbb[t]]
            cos = _centred_cosine(sa, sb, mean, t)
            jac = jaccard(wa[:topn], wb[:topn])
            lnc = local_neighbourhood_change(
                sa, sb, t, wa[:measure_k], wb[:measure_k], missing_as_zero=True
            )
            lnc_or = 1.0 - jac if lnc is None else lnc
            value = {"cosine": cos, "lnc": lnc_or, "cosine+lnc": (cos + lnc_or) / 2.0}[score]
            per_seed[t].append(
                {
                    "seed": int(seed),
                    "cosine": cos,
                    "jaccard": jac,
                    "lnc": np.nan if lnc is None else lnc,
                    "score": value,
                }
            )
            for side, nbs in ((0, nba[t]), (1, nbb[t])):
                for w, s in nbs[:topn]:
                    nb_sum[t][side][w] = nb_sum[t][side].get(w, 0.0) + s
                    nb_found[t][side][w] = nb_found[t][side].get(w, 0) + 1

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
                "neighbors_a": _top(nb_sum[t][0], nb_found[t][0], topn),
                "neighbors_b": _top(nb_sum[t][1], nb_found[t][1], topn),
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
            "tokens_a": tokens_a,
            "tokens_b": tokens_b,
        },
        "settings": {
            **train,
            "topn": topn,
            "measure_k": measure_k,
            "score": score,
            "adaptive": adaptive,
        },
        "seeds": [int(s) for s in seeds],
        "targets": rows,
        "missing": missing,
        "stability": stability,
    }


def inject_change(
    docs: Sequence[Sequence[str]],
    pairs: Sequence[tuple[str, str]],
    shares: Sequence[float],
    seed: int = 0,
) -> list[list[str]]:
    """Simulated graded semantic change: a copy of ``docs`` with word pairs partly swapped.

    For each ``(target, donor)`` pair with share ``p`` a random ``p`` of the target's
    occurrences become the donor and the same share of the donor's occurrences become the
    target, so the target's contexts are a ``p``-mix of its own and the donor's (with
    similar frequencies). Words must be distinct across pairs; deterministic under
    ``seed``.
    """
    if len(pairs) != len(shares):
        raise ValueError("one share per pair is needed")
    words = [w for pair in pairs for w in pair]
    if len(set(words)) != len(words):
        raise ValueError("a word appears in more than one pair (or a pair repeats a word)")
    if any(not 0.0 <= p <= 1.0 for p in shares):
        raise ValueError("shares must lie in [0, 1]")
    where: dict[str, list[tuple[int, int]]] = {w: [] for w in words}
    for i, doc in enumerate(docs):
        for j, w in enumerate(doc):
            if w in where:
                where[w].append((i, j))
    out = [list(doc) for doc in docs]
    rng = np.random.default_rng(seed)
    for (target, donor), share in zip(pairs, shares, strict=True):
        for src, dst in ((target, donor), (donor, target)):
            occ = where[src]
            k = round(share * len(occ))
            for n in rng.choice(len(occ), size=k, replace=False):
                i, j = occ[n]
                out[i][j] = dst
    return out


def corpora_from_stream(
    source: Path, boundary: str, out_dir: Path, tokenised: bool = False
) -> tuple[Path, Path]:
    """Split a tweet stream at ``boundary`` (ISO time) into two one-tweet-per-line corpora.

    Writes ``out_dir/a.txt`` (before) and ``out_dir/b.txt`` (at or after); raw texts
    (newlines flattened) unless ``tokenised``.
    """
    from textcl.input.readers import read_tweets
    from textcl.input.timeparse import parse_time

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
