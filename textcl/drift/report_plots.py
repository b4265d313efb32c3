"""The drift report's plots (matplotlib, Agg), readable at any run length.

Every figure is ``FIG_WIDTH`` inches wide at ``DPI`` (the page shows it at its own size).
Time axes carry at most ``MAX_TICK_LABELS`` labels, thinned until none overlap; long
runs are binned into at most ``MAX_COLUMNS`` columns, each the mean over its windows.
Each ``*_figure`` builder returns the laid-out figure; :func:`save_png` writes it.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "MAX_COLUMNS",
    "MAX_KEYWORD_ROWS",
    "MAX_TICK_LABELS",
    "bars_figure",
    "change_figure",
    "column_bins",
    "contextual_figure",
    "keyword_figure",
    "plot_text",
    "save_png",
    "tick_boxes",
    "timeline_figure",
    "window_labels",
]

MAX_COLUMNS = 60  # time columns of a heatmap; longer runs are binned
MAX_TICK_LABELS = 16  # labels on a time axis (fewer when they would overlap)
MAX_TIMELINE_ROWS = 30  # neighbours shown per term
MAX_KEYWORD_ROWS = 40  # terms in the keyword timeline
FIG_WIDTH = 12.0  # inches
DPI = 100
TICK_FONT = 8
ROW_HEIGHT = 0.24  # inches per heatmap / timeline row
_STEPS = (1, 2, 3, 5, 7, 10, 14, 15, 20, 25, 30, 50, 60, 100, 150, 200, 300, 500, 1000)
_INVISIBLE = {"Mn", "Me", "Cf"}  # variation selectors, zero-width joiners, ...

Ticker = Callable[[int], None]  # sets an axis' ticks at a sparsity level 0, 1, 2, ...


@lru_cache(maxsize=1)
def _font() -> Any:
    from matplotlib import font_manager, ft2font

    return ft2font.FT2Font(font_manager.findfont(font_manager.FontProperties()))


def plot_text(text: str) -> str:
    """``text`` with the characters the plot font lacks (most emoji) as ``U+XXXX``."""
    out = []
    for ch in text:
        if ord(ch) < 128 or _font().get_char_index(ord(ch)):
            out.append(ch)
        elif unicodedata.category(ch) not in _INVISIBLE:
            out.append(f" U+{ord(ch):04X} ")
    return " ".join("".join(out).split()) or "?"


def save_png(fig: Figure, path: Path) -> bytes:
    """Write ``fig`` as a PNG to ``path``, close it and return the bytes."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glyphs missing in the default font
        fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    data = buf.getvalue()
    path.write_bytes(data)
    return data


def window_labels(windows: Sequence[dict[str, Any]]) -> list[str]:
    """Each window's start as ``YYYY-MM-DD`` (with ``HH:MM`` when windows are shorter
    than a day); the window number when starts are missing."""
    starts = [w.get("start") for w in windows]
    if not all(isinstance(s, str) and len(s) >= 10 for s in starts):
        return [str(w.get("window", i)) for i, w in enumerate(windows)]
    times = sorted({datetime.fromisoformat(s.replace("Z", "+00:00")) for s in starts})
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    sub_day = bool(gaps) and min(gaps) < 86400
    return [s[:16].replace("T", " ") if sub_day else s[:10] for s in starts]


def column_bins(n: int, cap: int = MAX_COLUMNS) -> list[range]:
    """``n`` windows in at most ``cap`` runs of equal length (the last may be shorter)."""
    size = max(1, -(-n // cap))
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def _bin_mean(mat: np.ndarray, bins: list[range]) -> np.ndarray:
    """Column means per bin, ignoring missing values (NaN when a bin has none)."""
    out = np.full((mat.shape[0], len(bins)), np.nan)
    for j, b in enumerate(bins):
        block = mat[:, b.start : b.stop]
        seen = ~np.isnan(block)
        counts = seen.sum(axis=1)
        sums = np.where(seen, block, 0.0).sum(axis=1)
        out[:, j] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out


def _axis_note(labels: list[str], bins: list[range], mean: str = "their mean") -> str:
    """The x-axis label of a (binned) time axis."""
    if len(bins) == len(labels):
        return "window (start)"
    return (
        f"{len(labels)} windows, {labels[0]} to {labels[-1]}: {len(bins[0])} per column "
        f"({mean}), labelled by the column's first window"
    )


def _first_step(labels: list[str]) -> int:
    """A first guess of the label step: the labels that fit the axis' estimated width."""
    width = max(map(len, labels), default=1) * TICK_FONT * 0.6 / 72 + 0.2  # inches
    most = max(2, min(MAX_TICK_LABELS, int(FIG_WIDTH * 0.8 / width)))
    need = max(1, -(-len(labels) // most))
    return next((s for s in _STEPS if s >= need), need)


def _column_ticker(ax: Axes, labels: list[str]) -> Ticker:
    """Ticks every ``step`` columns, the step growing with the sparsity level."""
    first = _first_step(labels)
    larger = [s for s in _STEPS if s >= first] or [first]

    def apply(level: int) -> None:
        step = larger[level] if level < len(larger) else larger[-1] * 2 ** (level - len(larger) + 1)
        ticks = list(range(0, len(labels), step))
        ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=TICK_FONT)

    return apply


def _date_ticker(ax: Axes) -> Ticker:
    """``YYYY-MM-DD`` date ticks, fewer at each sparsity level."""

    def apply(level: int) -> None:
        most = max(2, MAX_TICK_LABELS - 3 * level)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=most))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.tick_params(axis="x", labelsize=TICK_FONT)

    return apply


def tick_boxes(fig: Figure, ax: Axes) -> list[Any]:
    """Window extents of the visible, non-empty x tick labels of ``ax``, left to right."""
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    return sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)


def _crowded(fig: Figure, ax: Axes, gap: float = 12.0) -> bool:
    boxes = tick_boxes(fig, ax)
    return len(boxes) > MAX_TICK_LABELS or any(b.x0 < a.x1 + gap for a, b in pairwise(boxes))


def _finish(fig: Figure, tickers: list[tuple[Axes, Ticker]]) -> Figure:
    """Lay out ``fig`` and thin each time axis until its labels do not overlap."""
    levels = dict.fromkeys(range(len(tickers)), 0)
    for _ax, ticker in tickers:
        ticker(0)
    for _ in range(12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.canvas.draw()
        crowded = [i for i, (ax, _t) in enumerate(tickers) if _crowded(fig, ax)]
        if not crowded:
            break
        for i in crowded:
            levels[i] += 1
            tickers[i][1](levels[i])
    return fig


def _timeline_words(rows: list[dict[str, Any]]) -> list[str]:
    """The most frequent neighbours (at most ``MAX_TIMELINE_ROWS``) in order of arrival."""
    seen: dict[str, int] = {}
    first_at: dict[str, int] = {}
    for t, r in enumerate(rows):
        for w, _ in r["neighbours"]:
            seen[w] = seen.get(w, 0) + 1
            first_at.setdefault(w, t)
    words = sorted(seen, key=lambda w: (-seen[w], first_at[w], w))[:MAX_TIMELINE_ROWS]
    return sorted(words, key=lambda w: (first_at[w], -seen[w], w))


def _heatmap(ax: Axes, mat: np.ndarray, rows: list[str], vmin: float | None = None) -> Any:
    ax.set_facecolor("#f2f2f2")
    im = ax.imshow(
        np.ma.masked_invalid(mat),
        aspect="auto",
        cmap="viridis",
        interpolation="nearest",
        vmin=vmin,
        vmax=1.0 if vmin is not None else None,
    )
    ax.set_yticks(range(len(rows)), [plot_text(r) for r in rows], fontsize=8)
    return im


def timeline_figure(term: str, info: dict[str, Any], labels: list[str]) -> Figure:
    """Neighbour timeline: the similarity of each frequent neighbour of ``term`` per
    (binned) window, blank where it is not among the term's top neighbours."""
    rows = info["windows"]
    words = _timeline_words(rows)
    pos = {w: i for i, w in enumerate(words)}
    mat = np.full((max(1, len(words)), len(rows)), np.nan)
    for t, r in enumerate(rows):
        for w, s in r["neighbours"]:
            if w in pos:
                mat[pos[w], t] = s
    bins = column_bins(len(rows))
    height = max(3.0, ROW_HEIGHT * len(words) + 1.8)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), layout="constrained")
    im = _heatmap(ax, _bin_mean(mat, bins), words)
    ax.set_title(f"neighbours of '{plot_text(term)}' over time (colour: cosine similarity)")
    ax.set_xlabel(_axis_note(labels, bins, "mean over those where it is a neighbour"), fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    return _finish(fig, [(ax, _column_ticker(ax, [labels[b.start] for b in bins]))])


def change_figure(result: dict[str, Any], labels: list[str]) -> Figure:
    """Jaccard@k of each term's neighbours with the previous and with the last window,
    as two heatmaps (rows: terms; columns: binned windows)."""
    terms = [t for t, info in result["terms"].items() if info.get("present", True)]
    bins = column_bins(len(labels))
    height = 2 * max(1.4, ROW_HEIGHT * len(terms) + 0.9) + 0.8
    fig, axes = plt.subplots(2, 1, figsize=(FIG_WIDTH, height), sharex=True, layout="constrained")
    titles = {"jaccard_prev": "with the previous window", "jaccard_last": "with the last window"}
    im = None
    for ax, (key, title) in zip(axes, titles.items(), strict=True):
        mat = np.array(
            [
                [np.nan if r[key] is None else r[key] for r in result["terms"][t]["windows"]]
                for t in terms
            ],
            dtype=float,
        ).reshape(len(terms), len(labels))
        im = _heatmap(ax, _bin_mean(mat, bins), terms, vmin=0.0)
        ax.set_title(f"neighbour overlap (Jaccard@k) {title}", fontsize=10)
    axes[1].set_xlabel(_axis_note(labels, bins), fontsize=9)
    fig.colorbar(im, ax=list(axes), fraction=0.025, pad=0.01, label="Jaccard@k")
    return _finish(fig, [(axes[1], _column_ticker(axes[1], [labels[b.start] for b in bins]))])


def bars_figure(
    names: list[str], values: list[float], title: str, err: list[float] | None = None
) -> Figure:
    """Horizontal bars, largest on top (top movers, compare targets)."""
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(names) + 1)), layout="constrained")
    y = np.arange(len(names))
    ax.barh(y, values, xerr=err, color="tab:orange", alpha=0.85)
    ax.set_yticks(y, [plot_text(n) for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("change score (higher = more change)")
    ax.set_title(title)
    return fig


def contextual_figure(contextual: dict[str, list[dict[str, Any]]]) -> Figure:
    """Centroid distance of each term's usage vectors to the previous window."""
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 4), layout="constrained")
    for term, rows in contextual.items():
        kept = [r for r in rows if r.get("centroid_distance") is not None]
        ax.plot(
            [r["window"] for r in kept],
            [r["centroid_distance"] for r in kept],
            marker="o",
            ms=3,
            label=plot_text(term),
        )
    ax.xaxis.get_major_locator().set_params(integer=True, nbins=MAX_TICK_LABELS)
    ax.set_xlabel("window")
    ax.set_ylabel("centroid distance to previous window")
    ax.set_title("contextual drift (continual transformer)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _time(iso: str) -> float:
    return float(mdates.date2num(datetime.fromisoformat(iso.replace("Z", "+00:00"))))


def keyword_figure(timeline: dict[str, Any]) -> Figure:
    """Keyword timeline: a row per term, a bar for each span it was in the keyword set,
    coloured by its event group."""
    terms = timeline["terms"][:MAX_KEYWORD_ROWS]
    starts = [_time(s[0]) for t in terms for s in t["spans"]]
    end = _time(timeline["end"]) if timeline.get("end") else max(starts)
    lo = min(starts)
    least = max((end - lo) / 400, 1e-3)
    colours = plt.get_cmap("tab20").colors
    height = max(3.0, ROW_HEIGHT * len(terms) + 1.6)
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, height), layout="constrained")
    for i, t in enumerate(terms):
        bars = []
        for since, until, _g in t["spans"]:
            a = _time(since)
            bars.append((a, max((_time(until) if until else end) - a, least)))
        fill = [
            colours[(g or 0) % len(colours)] if g is not None else "grey"
            for _s, _u, g in t["spans"]
        ]
        ax.broken_barh(bars, (i - 0.4, 0.8), facecolors=fill)
    ax.set_yticks(range(len(terms)), [plot_text(t["term"]) for t in terms], fontsize=8)
    ax.set_ylim(len(terms) - 0.5, -0.5)
    pad = (end - lo) * 0.01 + least
    ax.set_xlim(lo - pad, end + pad)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        f"keyword set over time: the {len(terms)} terms held longest, by first entry "
        "(bar: in the set; colour: event group)",
        fontsize=10,
    )
    return _finish(fig, [(ax, _date_ticker(ax))])
