"""PNG heatmap of an accuracy matrix (matplotlib, Agg canvas: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAX_ANNOTATED = 30  # cell values are written for matrices up to this many tasks


def plot_matrix(
    matrix: np.ndarray,
    task_names: Sequence[str],
    path: str | Path,
    title: str | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    label: str = "score",
) -> Path:
    """Write ``matrix`` (rows: after training on task i, columns: task j) as a PNG; return path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(task_names)
    side = min(4.0 + 0.55 * n, 40.0)
    fig = Figure(figsize=(side + 1.5, side))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    masked = np.ma.masked_invalid(matrix)
    vmin, vmax = value_range
    image = ax.imshow(masked, cmap="viridis", vmin=vmin, vmax=vmax, aspect="equal")
    ax.set_facecolor("#dddddd")  # cells never measured
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)

    ticks = np.arange(n)
    ax.set_xticks(ticks, labels=list(task_names), rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(ticks, labels=[f"after {name}" for name in task_names])
    ax.set_xlabel("evaluated on task j")
    ax.set_ylabel("after training on task i")
    ax.set_title(title or "Accuracy matrix R[i, j]")

    if n <= MAX_ANNOTATED:
        size = 9 if n <= 12 else 6
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                colour = "black" if value > vmin + 0.6 * (vmax - vmin) else "white"
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", color=colour, fontsize=size)

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=100)
    fig.clear()  # release the figure; it was never registered with pyplot
    return out
