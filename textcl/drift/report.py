"""Render a drift result (:func:`snapshot_drift` / :func:`compare_corpora`) as files.

:func:`write_report` writes ``report.json`` (the result as is), ``report.md`` (tables)
and a self-contained ``report.html`` whose PNG plots are embedded as base64 data URIs;
the PNGs are also saved beside it. Plots (matplotlib, Agg backend):

* snapshots mode: ``neighbours_NN_<term>.png`` (neighbour timeline: a heatmap of the
  similarity of each neighbour in the windows where it is in the term's top-k),
  ``change.png`` (Jaccard@k with the previous and with the last window, per term),
  ``movers.png`` (top movers bar chart);
* compare mode: ``targets.png`` (score per target with its spread over seeds).
"""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import orjson

__all__ = ["write_report"]

MAX_TIMELINE_ROWS = 30
MAX_TICK_LABELS = 40  # window labels per time axis (more are thinned evenly)
MAX_WIDTH = 24.0  # inches: long runs are squeezed rather than drawn kilometres wide


def _slug(term: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "_", term.lower()).strip("_")
    return s[:40] or "term"


def _save(fig: Any, path: Path) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs (emoji) in the default font
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    data = buf.getvalue()
    path.write_bytes(data)
    return data


def _window_label(w: dict[str, Any]) -> str:
    start = w.get("start")
    if isinstance(start, str) and len(start) >= 10:
        return start[5:10]
    return str(w.get("window", ""))


def _window_ticks(ax: Any, labels: list[str]) -> None:
    """One x tick per window, labelled at most ``MAX_TICK_LABELS`` times (evenly thinned)."""
    step = max(1, -(-len(labels) // MAX_TICK_LABELS))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=90, fontsize=7)


def _plot_timeline(term: str, info: dict[str, Any], labels: list[str], path: Path) -> bytes:
    rows = info["windows"]
    seen: dict[str, int] = {}
    for r in rows:
        for w, _ in r["neighbours"]:
            seen[w] = seen.get(w, 0) + 1
    first_at = {}
    for t, r in enumerate(rows):
        for w, _ in r["neighbours"]:
            first_at.setdefault(w, t)
    words = sorted(seen, key=lambda w: (-seen[w], first_at[w], w))[:MAX_TIMELINE_ROWS]
    words.sort(key=lambda w: (first_at[w], -seen[w], w))
    mat = np.full((max(1, len(words)), len(rows)), np.nan)
    pos = {w: i for i, w in enumerate(words)}
    for t, r in enumerate(rows):
        for w, s in r["neighbours"]:
            if w in pos:
                mat[pos[w], t] = s
    width = min(MAX_WIDTH, max(6, 0.4 * len(rows) + 3))
    fig, ax = plt.subplots(figsize=(width, max(3, 0.25 * len(words) + 1.5)))
    im = ax.imshow(np.ma.masked_invalid(mat), aspect="auto", cmap="viridis", interpolation="none")
    ax.set_yticks(range(len(words)), words, fontsize=8)
    _window_ticks(ax, labels)
    ax.set_title(f"neighbours of '{term}' per window (colour: cosine similarity)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    return _save(fig, path)


def _plot_change(result: dict[str, Any], labels: list[str], path: Path) -> bytes:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for term, info in result["terms"].items():
        if not info.get("present", True):
            continue
        x = np.arange(len(info["windows"]))
        for ax, key in zip(axes, ("jaccard_prev", "jaccard_last"), strict=True):
            y = [np.nan if r[key] is None else r[key] for r in info["windows"]]
            ax.plot(x, y, marker="o", ms=3, label=term)
    for ax, title in zip(axes, ("with the previous window", "with the last window"), strict=True):
        ax.set_title(f"neighbour overlap (Jaccard@k) {title}")
        _window_ticks(ax, labels)
        ax.set_ylim(-0.05, 1.05)
    axes[0].set_ylabel("Jaccard@k")
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=8, loc="best")
    return _save(fig, path)


def _plot_bars(names: list[str], values: list[float], title: str, path: Path, err=None) -> bytes:
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.3 * len(names) + 1)))
    y = np.arange(len(names))
    ax.barh(y, values, xerr=err, color="tab:orange", alpha=0.85)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("change score (higher = more change)")
    ax.set_title(title)
    return _save(fig, path)


def _plot_contextual(contextual: dict[str, list[dict[str, Any]]], path: Path) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for term, rows in contextual.items():
        xs = [r["window"] for r in rows if r.get("centroid_distance") is not None]
        ys = [r["centroid_distance"] for r in rows if r.get("centroid_distance") is not None]
        ax.plot(xs, ys, marker="o", ms=3, label=term)
    ax.set_xlabel("window")
    ax.set_ylabel("centroid distance to previous window")
    ax.set_title("contextual drift (continual transformer)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def _nb_text(nbs: list[Any], k: int = 8) -> str:
    return ", ".join(str(x[0] if isinstance(x, list | tuple) else x) for x in nbs[:k])


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _tables(result: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) tables shared by the Markdown and HTML renderers."""
    out = []
    if result.get("mode") == "compare":
        rows = [
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
            for i, r in enumerate(result["targets"])
        ]
        out.append(
            (
                "Targets by change",
                ["#", "term", "score", "sd", "cosine", "lnc", "jaccard", "neighbours A", "B"],
                rows,
            )
        )
        st = result.get("stability", {})
        out.append(
            (
                "Rank stability between single seeds (Spearman)",
                ["seeds", "spearman"],
                [[str(p["seeds"]), _fmt(p["spearman"])] for p in st.get("between_single_seeds", [])]
                + [["mean", _fmt(st.get("spearman_mean"))]],
            )
        )
        if result.get("missing"):
            out.append(
                (
                    "Targets too rare to score",
                    ["term", "count A", "count B"],
                    [
                        [m["term"], _fmt(m["count_a"]), _fmt(m["count_b"])]
                        for m in result["missing"]
                    ],
                )
            )
        return out
    out.append(
        (
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
                for i, m in enumerate(result["movers"])
            ],
        )
    )
    for term, info in result["terms"].items():
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
        out.append(
            (
                f"Term: {term}" + ("" if info.get("present", True) else " (never in vocabulary)"),
                ["window", "start", "J prev", "J last", "cos prev", "lnc prev", "neighbours"],
                rows,
            )
        )
    for term, series in result.get("contextual", {}).items():
        out.append(
            (
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
            )
        )
    return out


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _render_md(title: str, result: dict[str, Any], images: list[tuple[str, str]]) -> str:
    lines = [f"# {title}", "", f"Mode: `{result.get('mode')}`", ""]
    for caption, name in images:
        lines += [f"![{caption}]({name})", ""]
    for heading, header, rows in _tables(result):
        lines += [f"## {_md_cell(heading)}", ""]
        lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def _render_html(title: str, result: dict[str, Any], images: list[tuple[str, str, bytes]]) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin-bottom:1.5em;font-size:0.9em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
        "img{max-width:100%;display:block;margin:1em 0}</style>",
        "</head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Mode: <code>{e(str(result.get('mode')))}</code></p>",
    ]
    for caption, _name, data in images:
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        parts.append(f'<figure><img alt="{e(caption)}" src="{uri}">')
        parts.append(f"<figcaption>{e(caption)}</figcaption></figure>")
    for heading, header, rows in _tables(result):
        parts.append(f"<h2>{e(heading)}</h2>")
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header))
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    result: dict[str, Any], out_dir: Path, title: str = "textcl drift report"
) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.html`` and PNG plots to ``out_dir``.

    Returns the written paths: ``json``, ``md``, ``html`` and one ``png:<name>`` per plot.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    images: list[tuple[str, str, bytes]] = []  # caption, file name, png bytes
    if result.get("mode") == "compare":
        rows = result["targets"]
        if rows:
            images.append(
                (
                    "change score per target (mean over seeds, bar: sd)",
                    "targets.png",
                    _plot_bars(
                        [r["term"] for r in rows],
                        [r["score"] for r in rows],
                        "targets by change (A -> B)",
                        out_dir / "targets.png",
                        err=[r.get("score_sd") or 0.0 for r in rows],
                    ),
                )
            )
    else:
        labels = [_window_label(w) for w in result["windows"]]
        if result["movers"]:
            images.append(
                (
                    "top movers",
                    "movers.png",
                    _plot_bars(
                        [m["term"] for m in result["movers"]],
                        [m["score"] for m in result["movers"]],
                        "top movers",
                        out_dir / "movers.png",
                    ),
                )
            )
        if result["terms"]:
            images.append(
                (
                    "change over time",
                    "change.png",
                    _plot_change(result, labels, out_dir / "change.png"),
                )
            )
        for i, (term, info) in enumerate(result["terms"].items()):
            if not info.get("present", True):
                continue
            name = f"neighbours_{i:02d}_{_slug(term)}.png"
            images.append(
                (
                    f"neighbour timeline of {term}",
                    name,
                    _plot_timeline(term, info, labels, out_dir / name),
                )
            )
    if result.get("contextual"):
        images.append(
            (
                "contextual drift per window (transformer)",
                "contextual.png",
                _plot_contextual(result["contextual"], out_dir / "contextual.png"),
            )
        )
    for i, (caption, source) in enumerate(result.get("figures", [])):
        # figures made by other consumers (a classifier's scores), shown as they are
        data = Path(source).read_bytes()
        name = f"figure_{i:02d}_{_slug(Path(source).parent.name)}.png"
        (out_dir / name).write_bytes(data)
        images.append((caption, name, data))
    paths: dict[str, Path] = {}
    (out_dir / "report.json").write_bytes(
        orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    paths["json"] = out_dir / "report.json"
    (out_dir / "report.md").write_text(
        _render_md(title, result, [(c, n) for c, n, _ in images]), encoding="utf-8"
    )
    paths["md"] = out_dir / "report.md"
    (out_dir / "report.html").write_text(_render_html(title, result, images), encoding="utf-8")
    paths["html"] = out_dir / "report.html"
    for _c, name, _d in images:
        paths[f"png:{name}"] = out_dir / name
    return paths
