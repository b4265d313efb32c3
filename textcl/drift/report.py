"""Render a drift result (:func:`snapshot_drift` / :func:`compare_corpora`) as files.

:func:`write_report` writes ``report.json`` (the result as is), ``report.md`` (plots and
tables) and a self-contained ``report.html`` whose PNG plots are embedded as base64 data
URIs; the PNGs are also saved beside it. Plots (:mod:`textcl.drift.report_plots`):

* snapshots mode: ``keywords.png`` (keyword timeline, when the result carries one),
  ``movers.png`` (top movers), ``change.png`` (Jaccard@k with the previous and with the
  last window, per term), ``neighbours_NN_<term>.png`` (neighbour timeline: the
  similarity of each neighbour in the windows where it is in the term's top-k); long
  runs are binned to at most :data:`~textcl.drift.report_plots.MAX_COLUMNS` columns;
* compare mode: ``targets.png`` (score per target with its spread over seeds).

A stream's result may also carry ``keyword_timeline``, ``events`` and ``alarms`` (see
:mod:`textcl.drift.stream_report`), shown as a plot and tables. Every string from the
data (terms, tweets) is HTML-escaped in ``report.html`` and in ``report.md``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import orjson

from textcl.drift import report_plots as plots
from textcl.drift.report_render import Block, Plot, Table, render_html, render_md

__all__ = ["write_report"]

EVENT_TERMS = 12  # terms listed per event
EXAMPLE_CHARS = 160  # characters of an event's example tweet
OWN_PNG = ("neighbours_[0-9][0-9]_*.png", "figure_[0-9][0-9]_*.png")  # per-term, per-figure


def _slug(term: str) -> str:
    """A file-name part for ``term``: ASCII letters and digits, other characters as
    their code points (``❤️`` -> ``u2764``)."""
    parts = []
    for ch in unicodedata.normalize("NFKD", term.lower()):
        if ch.isascii():
            parts.append(ch if ch.isalnum() else "_")
        elif unicodedata.category(ch) not in {"Mn", "Me", "Cf"}:
            parts.append(f"_u{ord(ch):x}_")
    s = re.sub(r"_+", "_", "".join(parts)).strip("_")
    return s[:40].rstrip("_") or "term"


def _nb_text(nbs: list[Any], k: int = 8) -> str:
    return ", ".join(str(x[0] if isinstance(x, list | tuple) else x) for x in nbs[:k])


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _when(iso: str | None, open_as: str = "–") -> str:
    """An ISO time as ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM`` when not at midnight)."""
    if not iso:
        return open_as
    return iso[:10] if iso[11:19] in ("", "00:00:00") else iso[:16].replace("T", " ")


def _clip(text: str, most: int = EXAMPLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _plot(out_dir: Path, caption: str, name: str, fig: Any) -> Plot:
    return Plot(caption, name, plots.save_png(fig, out_dir / name))


def _compare_blocks(result: dict[str, Any], out_dir: Path) -> list[Block]:
    rows = result["targets"]
    blocks: list[Block] = []
    if rows:
        fig = plots.bars_figure(
            [r["term"] for r in rows],
            [r["score"] for r in rows],
            "targets by change (A -> B)",
            err=[r.get("score_sd") or 0.0 for r in rows],
        )
        blocks.append(
            _plot(out_dir, "change score per target (mean over seeds, bar: sd)", "targets.png", fig)
        )
    blocks.append(
        Table(
            "Targets by change",
            ["#", "term", "score", "sd", "cosine", "lnc", "jaccard", "neighbours A", "B"],
            [
                [
                    str(i + 1),
                    r["term"],
                    _fmt(r["score"]),
                    _fmt(r.get("score_sd")),
                    _fmt(r.get("cosine")),
                    _fmt(r.get("lnc")),
                    _fmt(r.get("jaccard")),
                    _nb_text(r["neighbors_a"]),
                    _nb_text(r["neighbors_b"]),
                ]
                for i, r in enumerate(rows)
            ],
        )
    )
    st = result.get("stability", {})
    blocks.append(
        Table(
            "Rank stability between single seeds (Spearman)",
            ["seeds", "spearman"],
            [[str(p["seeds"]), _fmt(p["spearman"])] for p in st.get("between_single_seeds", [])]
            + [["mean", _fmt(st.get("spearman_mean"))]],
        )
    )
    if result.get("missing"):
        blocks.append(
            Table(
                "Targets too rare to score",
                ["term", "count A", "count B"],
                [[m["term"], _fmt(m["count_a"]), _fmt(m["count_b"])] for m in result["missing"]],
            )
        )
    return blocks


def _stream_blocks(result: dict[str, Any], out_dir: Path) -> list[Block]:
    """Keyword timeline, event list and alarms of a stream (when the result has them)."""
    blocks: list[Block] = []
    timeline = result.get("keyword_timeline") or {}
    if timeline.get("terms"):
        blocks.append(
            _plot(
                out_dir,
                "keyword timeline: when the terms held longest were in the keyword set",
                "keywords.png",
                plots.keyword_figure(timeline),
            )
        )
    events = result.get("events") or []
    if events:
        total = result.get("events_total", len(events))
        tweets = any(e.get("example") for e in events)
        blocks.append(
            Table(
                f"Events ({len(events)} of {total}: the largest, by start)",
                ["group", "since", "until", "peak terms", "terms"]
                + (["example tweet"] if tweets else []),
                [
                    [
                        _fmt(e.get("group")),
                        _when(e.get("since")),
                        _when(e.get("until"), "ongoing"),
                        _fmt(e.get("peak")),
                        ", ".join(e["terms"][:EVENT_TERMS])
                        + (", …" if len(e["terms"]) > EVENT_TERMS else ""),
                    ]
                    + ([_clip(e.get("example") or "–")] if tweets else [])
                    for e in events
                ],
            )
        )
    if result.get("alarms"):
        blocks.append(
            Table(
                "Drift alarms",
                ["time", "statistic", "detector", "value"],
                [
                    [
                        _when(a.get("time")),
                        _fmt(a.get("statistic")),
                        _fmt(a.get("detector")),
                        _fmt(a.get("value")),
                    ]
                    for a in result["alarms"]
                ],
            )
        )
    return blocks


def _term_table(term: str, info: dict[str, Any]) -> Table:
    rows = [
        [
            _fmt(r["window"]),
            _fmt(r.get("start")),
            _fmt(r.get("jaccard_prev")),
            _fmt(r.get("jaccard_last")),
            _fmt(r.get("cosine_prev")),
            _fmt(r.get("lnc_prev")),
            _nb_text(r["neighbours"]),
        ]
        for r in info["windows"]
    ]
    return Table(
        f"Term: {term}" + ("" if info.get("present", True) else " (never in vocabulary)"),
        ["window", "start", "J prev", "J last", "cos prev", "lnc prev", "neighbours"],
        rows,
        collapsed=True,
    )


def _snapshot_blocks(result: dict[str, Any], out_dir: Path) -> list[Block]:
    blocks = _stream_blocks(result, out_dir)
    labels = plots.window_labels(result["windows"])
    movers = result["movers"]
    if movers:
        fig = plots.bars_figure(
            [m["term"] for m in movers], [m["score"] for m in movers], "top movers"
        )
        blocks.append(_plot(out_dir, "top movers", "movers.png", fig))
    blocks.append(
        Table(
            "Top movers",
            ["#", "term", "score", "split window", "neighbours before", "neighbours at the end"],
            [
                [
                    str(i + 1),
                    m["term"],
                    _fmt(m["score"]),
                    _fmt(m.get("split_window")),
                    _nb_text(m["neighbors_first"]),
                    _nb_text(m["neighbors_last"]),
                ]
                for i, m in enumerate(movers)
            ],
        )
    )
    present = [
        (i, t, info)
        for i, (t, info) in enumerate(result["terms"].items())
        if info.get("present", True)
    ]
    if present:
        blocks.append(
            _plot(
                out_dir,
                "change over time: neighbour overlap per term",
                "change.png",
                plots.change_figure(result, labels),
            )
        )
    for i, term, info in present:
        name = f"neighbours_{i:02d}_{_slug(term)}.png"
        fig = plots.timeline_figure(term, info, labels)
        blocks.append(_plot(out_dir, f"neighbour timeline of {term}", name, fig))
    blocks += [_term_table(term, info) for term, info in result["terms"].items()]
    return blocks


def _contextual_blocks(contextual: dict[str, list[dict[str, Any]]], out_dir: Path) -> list[Block]:
    blocks: list[Block] = [
        _plot(
            out_dir,
            "contextual drift per window (transformer)",
            "contextual.png",
            plots.contextual_figure(contextual),
        )
    ]
    for term, series in contextual.items():
        blocks.append(
            Table(
                f"Contextual drift of {term} (transformer; usage vectors vs previous window)",
                ["window", "start", "tweets", "centroid distance", "pairwise beyond within"],
                [
                    [
                        _fmt(r["window"]),
                        _fmt(r.get("start")),
                        _fmt(r.get("count")),
                        _fmt(r.get("centroid_distance")),
                        _fmt(r.get("mean_pairwise_distance")),
                    ]
                    for r in series
                ],
                collapsed=True,
            )
        )
    return blocks


def write_report(
    result: dict[str, Any], out_dir: Path, title: str = "textcl drift report"
) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.html`` and PNG plots to ``out_dir``.

    Returns the written paths: ``json``, ``md``, ``html`` and one ``png:<name>`` per plot.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if result.get("mode") == "compare":
        blocks = _compare_blocks(result, out_dir)
    else:
        blocks = _snapshot_blocks(result, out_dir)
    if result.get("contextual"):
        blocks += _contextual_blocks(result["contextual"], out_dir)
    for i, (caption, source) in enumerate(result.get("figures", [])):
        # figures made by other consumers (a classifier's scores), shown as they are
        data = Path(source).read_bytes()
        name = f"figure_{i:02d}_{_slug(Path(source).parent.name)}.png"
        (out_dir / name).write_bytes(data)
        blocks.append(Plot(caption, name, data))
    (out_dir / "report.json").write_bytes(
        orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    (out_dir / "report.md").write_text(render_md(title, result, blocks), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(title, result, blocks), encoding="utf-8")
    paths = {key: out_dir / f"report.{key}" for key in ("json", "md", "html")}
    for block in blocks:
        if isinstance(block, Plot):
            paths[f"png:{block.name}"] = out_dir / block.name
    _remove_stale(out_dir, set(paths.values()))
    return paths


def _remove_stale(out_dir: Path, written: set[Path]) -> None:
    """Remove the per-term plots of an earlier report (terms no longer followed)."""
    for pattern in OWN_PNG:
        for path in out_dir.glob(pattern):
            if path not in written:
                path.unlink()
