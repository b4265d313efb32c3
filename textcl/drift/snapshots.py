"""Drift of query terms over a series of word2vec snapshots (``textcl stream`` output)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import orjson
from gensim.models.keyedvectors import KeyedVectors

from textcl.drift.align import align_to, shared_anchors
from textcl.drift.measures import (
    Space,
    cosine_change,
    jaccard,
    local_neighbourhood_change,
    mover_scores,
)
from textcl.embed.word2vec import load_keyed_vectors

__all__ = ["load_snapshots", "shared_space", "snapshot_drift"]


def _window_of(kv: KeyedVectors, default: int) -> int:
    tag = getattr(kv, "tag", None)
    if isinstance(tag, dict) and isinstance(tag.get("window"), int):
        return tag["window"]
    return default


def load_snapshots(snapshot_dir: Path, dtype: str | None = "float32") -> list[KeyedVectors]:
    """Read the ``.npz`` snapshots of ``snapshot_dir`` sorted by window (tags kept);
    ``dtype=None`` keeps the stored precision (float16 snapshots: half the memory).

    Files come from ``index.jsonl`` when present (its ``file`` fields), else every
    ``*.npz`` in the folder. Raises ``FileNotFoundError`` when there is none.
    """
    snapshot_dir = Path(snapshot_dir)
    if not snapshot_dir.is_dir():
        raise FileNotFoundError(
            f"{snapshot_dir}: no such folder (give OUT/snapshots of a textcl stream run)"
        )
    if (snapshot_dir / "snapshots").is_dir() and not (snapshot_dir / "index.jsonl").exists():
        snapshot_dir = snapshot_dir / "snapshots"  # an OUT dir of `textcl stream`
    files: list[Path] = []
    index = snapshot_dir / "index.jsonl"
    if index.exists():
        for line in index.read_bytes().splitlines():
            if line.strip():
                name = orjson.loads(line).get("file")
                if name and (snapshot_dir / name).exists():
                    files.append(snapshot_dir / name)
    if not files:
        files = sorted(snapshot_dir.glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"no snapshots (*.npz) in {snapshot_dir}")
    snaps = [load_keyed_vectors(f, dtype) for f in files]
    for i, (kv, f) in enumerate(zip(snaps, files, strict=True)):
        if not isinstance(getattr(kv, "tag", None), dict):
            kv.tag = {"window": i, "file": f.name}
    order = sorted(range(len(snaps)), key=lambda i: (_window_of(snaps[i], i), i))
    return [snaps[i] for i in order]


def shared_space(snapshots: list[KeyedVectors]) -> bool:
    """Whether the snapshots come from one continually-trained model (no alignment needed).

    True when every snapshot carries ``ContinualWord2Vec.snapshot`` metadata
    (``tweets_seen`` / ``updates``), with non-decreasing counters and one vector size,
    or when every ``meta`` says ``{"shared_space": True}``.
    """
    metas = [getattr(kv, "meta", None) for kv in snapshots]
    if not metas or not all(isinstance(m, dict) for m in metas):
        return False
    if all(m.get("shared_space") is True for m in metas):
        return True
    if any(m.get("shared_space") is False or m.get("aligned") for m in metas):
        return False
    if len({kv.vector_size for kv in snapshots}) != 1:
        return False
    try:
        seen = [int(m["tweets_seen"]) for m in metas]
        ups = [int(m["updates"]) for m in metas]
    except (KeyError, TypeError, ValueError):
        return False
    return seen == sorted(seen) and ups == sorted(ups)


def _aligned_series(snapshots: list[KeyedVectors], min_count: float) -> list[KeyedVectors]:
    """Each snapshot rotated onto the (already aligned) previous one."""
    out = [snapshots[0]]
    for kv in snapshots[1:]:
        anchors = shared_anchors(out[-1], kv, min_count=min_count)
        if len(anchors) < 2:
            anchors = shared_anchors(out[-1], kv)
        out.append(align_to(out[-1], kv, anchors=anchors))
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def snapshot_drift(
    snapshots: list[KeyedVectors],
    terms: list[str],
    topn: int = 10,
    movers: int = 20,
    min_count: float = 5.0,
    align: bool | None = None,
    candidates: int = 2000,
    mover_terms: int = 0,
    ignore: Collection[str] | None = None,
) -> dict[str, Any]:
    """Neighbours and change of ``terms`` per snapshot, plus the top movers.

    ``mover_terms``: also report the series of that many top movers (not in ``terms``).
    ``ignore``: terms never ranked as movers (see :func:`mover_scores`).

    ``candidates`` bounds how many of the most frequent terms are ranked as movers.

    ``align=None`` aligns (chained Procrustes) unless :func:`shared_space` says the
    snapshots share one continually-trained space. Neighbours are drawn from words with
    count >= ``min_count``. Per term and window: ``neighbours`` ([word, sim]),
    ``count``, ``jaccard_prev`` / ``jaccard_first`` / ``jaccard_last`` (Jaccard@topn with
    the previous window, the term's first and its last window), ``cosine_prev`` /
    ``cosine_first`` (1 - cos of the term vector) and ``lnc_prev`` / ``lnc_first``
    (Hamilton's local neighbourhood change);
    ``None`` where the term is absent. ``movers``: see :func:`mover_scores`.
    """
    if not snapshots:
        raise ValueError("no snapshots")
    do_align = (not shared_space(snapshots)) if align is None else bool(align)
    series = _aligned_series(snapshots, min_count) if do_align else list(snapshots)
    # unit vectors are computed when used: a long series keeps only its stored vectors
    spaces = [Space(kv, min_count, cache=False) for kv in series]
    windows = []
    for i, kv in enumerate(snapshots):
        tag = getattr(kv, "tag", None)
        windows.append(dict(tag) if isinstance(tag, dict) else {"window": i})
    ranked = mover_scores(
        spaces, topn=topn, min_count=min_count, candidates=candidates, ignore=ignore
    )
    if mover_terms > 0:
        chosen = set(terms)
        extra = [r["term"] for r in ranked if r["term"] not in chosen][:mover_terms]
        terms = [*terms, *extra]
    per_window_nb = [sp.neighbours(terms, topn) for sp in spaces]

    out_terms: dict[str, Any] = {}
    for term in terms:
        rows = []
        first: int | None = None
        prev: int | None = None
        last: int | None = None
        for t, sp in enumerate(spaces):
            nb = per_window_nb[t].get(term)
            row: dict[str, Any] = {
                "window": windows[t].get("window", t),
                "start": windows[t].get("start"),
                "count": _r(sp.count(term)),
                "neighbours": [[w, round(s, 4)] for w, s in nb] if nb is not None else [],
            }
            for ref_name, ref in (("prev", prev), ("first", first)):
                if nb is None or ref is None:
                    row[f"jaccard_{ref_name}"] = None
                    row[f"cosine_{ref_name}"] = None
                    row[f"lnc_{ref_name}"] = None
                    continue
                ref_nb = [w for w, _ in per_window_nb[ref][term]]
                cur_nb = [w for w, _ in nb]
                rsp = spaces[ref]
                row[f"jaccard_{ref_name}"] = _r(jaccard(ref_nb, cur_nb))
                row[f"cosine_{ref_name}"] = _r(
                    cosine_change(rsp.row(term), sp.row(term))
                )
                row[f"lnc_{ref_name}"] = _r(
                    local_neighbourhood_change(rsp, sp, term, ref_nb, cur_nb)
                )
            rows.append(row)
            if nb is not None:
                last = t
                prev = t
                if first is None:
                    first = t
            else:
                prev = None
        if last is not None:  # overlap with the term's last window: when did it arrive?
            last_nb = [w for w, _ in per_window_nb[last][term]]
            for t, row in enumerate(rows):
                nb = per_window_nb[t].get(term)
                row["jaccard_last"] = (
                    None if nb is None else _r(jaccard([w for w, _ in nb], last_nb))
                )
        else:
            for row in rows:
                row["jaccard_last"] = None
        out_terms[term] = {"present": first is not None, "windows": rows}

    for r in ranked:
        r["split_window"] = windows[r.pop("split")].get("window")
    return {
        "mode": "snapshots",
        "aligned": do_align,
        "settings": {"topn": topn, "min_count": min_count, "movers": movers},
        "windows": windows,
        "terms": out_terms,
        "movers": ranked[:movers],
    }
