"""What one run of a pipeline holds, when it is checkpointed, and how a resume puts it back.

See :mod:`textcl.resume` for what a checkpoint holds and where in the stream it is taken.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from textcl.checkpoint import CheckpointError
from textcl.config import OutputSection
from textcl.consumers import WindowStats
from textcl.input.rejects import RejectsWriter
from textcl.resume import restore_windows, save_pipeline
from textcl.run_summary import RunStats
from textcl.text.dedup import Deduplicator
from textcl.types import Consumer, Tweet, Window
from textcl.window import Windower


@dataclass
class RunState:
    """The objects of one run: its reader, counters, windower, rejects, consumers, the
    duplicate memory and the windows closed so far."""

    reader: Any
    stats: RunStats
    windower: Windower
    rejects: RejectsWriter
    consumers: list[Consumer]
    window_stats: WindowStats
    dedup: Deduplicator | None
    windows: list[Window] = field(default_factory=list)
    window_cuts: list[dict[str, Any]] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    @property
    def broker(self) -> bool:
        """A broker source re-delivers what no checkpoint acknowledged."""
        return callable(getattr(self.reader, "commit", None))

    def track_time(self, tweet: Tweet) -> None:
        """Widen the run's time span to ``tweet``."""
        moment = tweet.created_at
        if self.first is None or moment < self.first:
            self.first = moment
        if self.last is None or moment > self.last:
            self.last = moment

    def restore(self, saved: dict[str, Any]) -> int:
        """Put the run back in its checkpointed state; return the records to skip."""
        for key, value in saved["stats"].items():
            setattr(self.stats, key, value)
        self.first = datetime.fromisoformat(saved["first"]) if saved["first"] else None
        self.last = datetime.fromisoformat(saved["last"]) if saved["last"] else None
        self.windows[:] = restore_windows(saved["windows"])
        self.window_cuts[:] = saved["window_cuts"]
        self.windower.load_state_dict(saved["windower"])
        self.rejects.count = saved["rejects"]["count"]
        self.rejects.by_reason.update(saved["rejects"]["by_reason"])
        states = saved["consumers"]
        for consumer in self.consumers:
            if consumer.name not in states:
                raise CheckpointError(f"the checkpoint has no state for {consumer.name!r}; "
                                      "resume with the same pipeline file, or start over")
            consumer.load_state_dict(states[consumer.name])
        if self.dedup is not None:
            if "dedup" not in saved:
                raise CheckpointError("the checkpoint was written without duplicate "
                                      "collapsing; resume without it, or start over")
            self.dedup.load_state_dict(saved["dedup"])
        if self.broker:  # the broker re-delivers: nothing to skip
            self.reader.resume_after(saved.get("position"), self.stats.read)
            return 0
        return int(saved["consumed"])


class Checkpointer:
    """When a run is checkpointed, and the save itself.

    At a window end (unless the last checkpoint is younger than
    ``checkpoint_window_seconds``) and, inside a window, every ``checkpoint_batches``
    micro-batches or ``checkpoint_seconds`` seconds. A broker source is acknowledged only
    once the checkpoint covering its records is on disk.
    """

    def __init__(self, folder: Path, output: OutputSection, run: RunState) -> None:
        self.folder = folder
        self.output = output
        self.run = run
        self.committed = run.stats.read  # records a checkpoint covers (the broker was told)
        self._last_batches = run.stats.batches
        self._last_time = time.monotonic()
        self._decided: bool | None = None
        self._dedup_before: dict[str, Any] | None = None

    def window_due(self) -> bool:
        """Whether a window end now gets a checkpoint."""
        gap = self.output.checkpoint_window_seconds
        return not gap or time.monotonic() - self._last_time >= gap

    def before_tweet(self, tweet: Tweet) -> None:
        """A tweet that closes a window is read again on resume: decide once whether that
        window end is checkpointed, and keep the memory of repeats from before it."""
        self._decided = self._dedup_before = None
        run = self.run
        if run.dedup is not None and run.windower.closes_window(tweet):
            self._decided = self.window_due()
            if self._decided:
                self._dedup_before = run.dedup.state_dict()

    def at_window_end(self, consumed: int) -> None:
        """Checkpoint a window end (``consumed``: the records it covers) when due."""
        due = self._decided if self._decided is not None else self.window_due()
        if due:
            self.save(consumed, closed=True)

    def between_batches(self) -> None:
        """Checkpoint at a batch boundary inside a window when enough batches or seconds
        have passed (the last tweet read completed the batch)."""
        run, out = self.run, self.output
        if not run.windower.between_batches:
            return
        due_batches = out.checkpoint_batches and (
            run.stats.batches - self._last_batches >= out.checkpoint_batches)
        due_time = out.checkpoint_seconds and (
            time.monotonic() - self._last_time >= out.checkpoint_seconds)
        if due_batches or due_time:
            self.save(run.stats.read, closed=False)

    def save(self, consumed: int, closed: bool) -> None:
        """Write the checkpoint covering the first ``consumed`` records read."""
        run, stats = self.run, self.run.stats
        extra = stats.read - consumed  # a window closed by a tweet is saved without it
        save_pipeline(
            self.folder, source=str(run.reader.source), consumed=consumed,
            stats=dataclasses.replace(stats, read=consumed, processed=stats.processed - extra),
            first=run.first, last=run.last, windows=run.windows,
            window_cuts=run.window_cuts, windower=run.windower, rejects=run.rejects,
            consumers=run.consumers, closed=closed, dedup=self._dedup_state(consumed),
            position=run.reader.position(consumed - self.committed) if run.broker else None,
        )
        if run.broker:  # acknowledged only once the checkpoint holding them is on disk
            run.reader.commit(consumed - self.committed)
            self.committed = consumed
        self._last_batches, self._last_time = stats.batches, time.monotonic()

    def _dedup_state(self, consumed: int) -> dict[str, Any] | None:
        dedup = self.run.dedup
        if dedup is None:
            return None
        if consumed < self.run.stats.read and self._dedup_before is not None:
            return self._dedup_before  # as it was before the tweet read again on resume
        return dedup.state_dict()
