"""The drift report of a ``textcl stream`` run, from its snapshots and outputs.

:func:`write_stream_drift` reads ``OUT/snapshots`` (word2vec), ``OUT/keywords.jsonl``
(the terms to follow when none are configured), ``OUT/transformer/drift.jsonl`` (the
contextual series) and the classifiers' ``OUT/classifier/*/accuracy.png``, and writes
``OUT/drift/report.{html,md,json}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textcl.config import PipelineConfig

__all__ = ["mover_ignore", "write_stream_drift"]


def write_stream_drift(config: PipelineConfig, out: Path) -> dict[str, Any]:
    """Drift report over the run's snapshots in ``out/drift``; returns a short summary
    (the report's path relative to ``out``, so two copies of a run summarise alike)."""
    from textcl.drift import load_snapshots, snapshot_drift, write_report
    from textcl.keywords.history import leading_keywords

    if len(list((out / "snapshots").glob("*.npz"))) < 2:  # e.g. a run of zero tweets
        return {"report": None, "reason": "fewer than 2 snapshots"}
    snapshots = load_snapshots(out / "snapshots", dtype=None)
    cfg = config.drift
    terms = cfg.terms or config.word2vec.probe_terms
    follow = not terms  # no terms given: the stream's own keywords and movers
    if follow:
        terms = leading_keywords(out / "keywords.jsonl", cfg.auto_terms)
    if len(snapshots) < 2:
        return {"report": None, "reason": "fewer than 2 snapshots"}
    result = snapshot_drift(
        snapshots,
        terms,
        topn=cfg.topn,
        movers=cfg.movers,
        min_count=cfg.min_count,
        candidates=cfg.candidates,
        mover_terms=cfg.auto_movers if follow else 0,
        ignore=mover_ignore(config),
    )
    contextual = _contextual_drift(out / "transformer" / "drift.jsonl")
    if contextual:
        result["contextual"] = contextual
    result["figures"] = [  # each stream classifier's scores over the run
        (f"classifier {png.parent.name}: test-then-train accuracy, macro-F1, forgetting",
         str(png)) for png in sorted((out / "classifier").glob("*/accuracy.png"))
    ]
    paths = write_report(result, out / "drift")
    return {
        "report": paths["html"].relative_to(out).as_posix(),  # relative to OUT
        "top_movers": [m["term"] for m in result["movers"][:10]],
    }


def mover_ignore(config: PipelineConfig) -> frozenset[str]:
    """Terms never ranked as movers: special tokens, English stop words, and with the
    embedded background the common words of its languages (``de``, ``la``, ...)."""
    from textcl.keywords.tracker import default_ignore

    ignore = default_ignore()
    if config.keywords.background == "wordfreq":
        from textcl.keywords.background import wordfreq_background

        kw = config.keywords
        ignore |= wordfreq_background(tuple(kw.languages), kw.hashtag_share).common()
    return ignore


def _contextual_drift(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Per-term series of the transformer consumer's window-to-window contextual drift."""
    if not path.exists():
        return {}
    series: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for term, info in row["terms"].items():
            series.setdefault(term, []).append(
                {"window": row["window"], "start": row["start"], **info}
            )
    return series
