"""What a pipeline checkpoint holds, and how a resumed run is put back in that state.

A checkpoint is taken right after a window closes and before the record that closed it
opens the next one: ``consumed`` records have been fully processed and the next record
(already read, counted and time-tracked) is the first of the new window. The windower is
saved closed (``cut``), so that record opens the new window exactly as it would have.
Between window ends a checkpoint can also be taken right after a micro-batch was handed
to the consumers (every N batches or T seconds): then the window is open, nothing is
pending, and ``consumed`` includes the record that completed the batch.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from textcl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from textcl.outputs import flush_outputs
from textcl.types import Window
from textcl.window import Windower


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def save_pipeline(folder: Path, *, source: str, consumed: int, stats: Any, first: datetime | None,
                  last: datetime | None, windows: list[Window], window_cuts: list[dict],
                  windower: Windower, rejects: Any, consumers: list[Any],
                  closed: bool = True, dedup: dict[str, Any] | None = None,
                  position: Any = None) -> None:
    """Write the checkpoint of a run at a window end (``closed``) or a batch boundary."""
    stats_state = dataclasses.asdict(stats)
    state = {
        "source": source,
        "consumed": consumed,
        "stats": stats_state,
        "first": _iso(first),
        "last": _iso(last),
        "windows": [[w.index, _iso(w.start), _iso(w.end), w.tweets, w.batches] for w in windows],
        "window_cuts": window_cuts,
        "windower": windower.state_dict(closed),
        "rejects": {"count": rejects.count, "by_reason": dict(rejects.by_reason)},
        "consumers": {c.name: c.state_dict() for c in consumers},
        "outputs": flush_outputs(),
    }
    if dedup is not None:
        state["dedup"] = dedup
    if position is not None:  # a broker source's position after the covered records
        state["position"] = position
    save_checkpoint(folder, state)


def load_pipeline(folder: Path, source: str) -> dict[str, Any]:
    """Read a run's checkpoint; it must belong to the same source."""
    state = load_checkpoint(folder)
    if state["source"] != source:
        raise CheckpointError(f"{folder}: this checkpoint is of {state['source']!r}, not "
                              f"{source!r}; resume with the same source, or start over")
    return state


def restore_windows(rows: list[list[Any]]) -> list[Window]:
    return [Window(i, _time(s), _time(e), n, b) for i, s, e, n, b in rows]  # type: ignore[arg-type]
