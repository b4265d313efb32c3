"""A stream classifier's scores over the run as one PNG (matplotlib, no display needed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def plot_scores(metrics: Path, growth: Path, out: Path, title: str) -> Path | None:
    """Running accuracy and macro-F1, each window's accuracy (dot size: its tweets),
    held-out accuracy and forgetting on earlier windows, and a line at each new class.
    Returns the PNG's path, or ``None`` when no window had a labelled tweet."""
    rows = [r for r in _rows(metrics) if r["running"]["n"]]
    if not rows:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    times = [datetime.fromisoformat(r["end"].replace("Z", "+00:00")) for r in rows]
    fig = Figure(figsize=(11, 5.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    scored = [(t, r["this_window"]) for t, r in zip(times, rows, strict=True)
              if r["this_window"]["accuracy"] is not None]
    if scored:
        sizes = [min(4 + w["n"] ** 0.5, 40) for _, w in scored]
        ax.scatter([t for t, _ in scored], [w["accuracy"] for _, w in scored], s=sizes,
                   alpha=0.35, color="tab:gray", label="window accuracy (size: tweets)")
    ax.plot(times, [r["running"]["accuracy"] for r in rows], color="tab:blue",
            label="running accuracy")
    ax.plot(times, [r["running"]["macro_f1"] for r in rows], color="tab:green",
            label="running macro-F1")
    earlier = [(t, r["earlier_windows"]) for t, r in zip(times, rows, strict=True)
               if r["earlier_windows"]["accuracy"] is not None]
    if earlier:
        ax.plot([t for t, _ in earlier], [e["accuracy"] for _, e in earlier],
                color="tab:orange", label="held-out accuracy, earlier windows")
        ax.plot([t for t, _ in earlier], [e["forgetting"] for _, e in earlier],
                color="tab:red", linestyle="--", label="forgetting, earlier windows")
    by_window = {r["window"]: t for t, r in zip(times, rows, strict=True)}
    for event in _rows(growth):
        moment = by_window.get(event["window"])
        if moment is not None:
            ax.axvline(moment, color="tab:purple", alpha=0.3, linewidth=1)
    lowest = min([e["forgetting"] for _, e in earlier] + [0.0])
    ax.set_ylim(min(-0.05, lowest - 0.02), 1.0)  # forgetting near 0 stays visible
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_ylabel("score")
    locator = AutoDateLocator(maxticks=10)  # thinned date labels, never a black bar
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_title(f"classifier {title}: test-then-train scores (purple: a new class)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    return out
