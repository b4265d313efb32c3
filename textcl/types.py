"""Core records that flow through every textcl pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(slots=True, frozen=True)
class Origin:
    """Where a record came from: source name, 1-based line, and byte offset of that line."""

    source: str
    line: int
    offset: int | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(slots=True)
class Tweet:
    """One tweet (or short document) as read from a source.

    ``created_at`` is timezone-aware UTC. ``labels`` holds any gold labels the source
    carries (e.g. CrisisLex informativeness, the event name). ``retweet_of`` is the id of
    the original when the record is a retweet.
    """

    id: str
    created_at: datetime
    text: str
    lang: str | None = None
    author_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    origin: Origin | None = None
    retweet_of: str | None = None


@dataclass(slots=True)
class Batch:
    """A micro-batch: tweets with their tokens, inside one window."""

    index: int
    window: int
    tweets: list[Tweet]
    tokens: list[list[str]]

    def __len__(self) -> int:
        return len(self.tweets)


@dataclass(slots=True)
class Window:
    """A closed window of the stream: its index, time span and size.

    ``skipped``: time windows without any tweet between the previous window and this one
    (0 for count windows).
    """

    index: int
    start: datetime
    end: datetime
    tweets: int
    batches: int
    skipped: int = 0


@runtime_checkable
class Consumer(Protocol):
    """A stream consumer: learns from micro-batches and reacts to window ends.

    Required: ``name`` (its key in ``summary.json`` and in checkpoints); ``update(batch)``
    for every micro-batch (tokens included, all inside one window); ``end_window(window)``
    when a window closes (``window.skipped`` empty windows before it); ``state_dict()`` /
    ``load_state_dict(state)``: JSON-able state such that a consumer restored from a
    checkpoint and fed the rest of the stream ends exactly as one that never stopped.

    Optional, called when present: ``open(out_dir)`` (once, before the first batch, with
    the run's output folder or None: open output files here with
    :func:`textcl.outputs.open_output`, so a resumed run cuts them back to the checkpoint
    and continues them); ``summary() -> dict`` (its rows under
    ``summary.json["consumers"][name]``, at the end of the run) and ``close(out_dir)``
    (flush and close its output files; the last call it gets: ``out_dir`` is the output
    folder after a complete run, ``None`` when the run failed or writes nothing, so final
    reports are written only for complete runs).
    """

    name: str

    def update(self, batch: Batch) -> None: ...

    def end_window(self, window: Window) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
