"""The one data path: source -> reader -> tokenizer -> windows -> consumers -> reports."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from textcl.checkpoint import CheckpointError
from textcl.config import PipelineConfig
from textcl.consumers import WindowStats
from textcl.consumers.registry import build_consumers
from textcl.drift.alarms import DriftAlarms
from textcl.drift.oov import OovRate
from textcl.input.readers import TweetReader
from textcl.input.rejects import Reject, RejectsWriter, StrictModeError
from textcl.input.sort import TimeSorted
from textcl.input.timeparse import to_iso
from textcl.outputs import RunOutputs
from textcl.resume import load_pipeline, restore_windows, save_pipeline
from textcl.runlock import output_lock
from textcl.text.dedup import Deduplicator
from textcl.text.tokenize import TweetTokenizer
from textcl.types import Batch, Consumer, Tweet, Window
from textcl.window import BatchEvent, Windower

PROGRESS_EVERY = 2000


@dataclass
class RunStats:
    """Counters of one run; ``read == processed + rejected`` always holds."""

    read: int = 0
    processed: int = 0
    rejected: int = 0
    duplicates: int = 0
    retweets: int = 0
    tweets: int = 0
    batches: int = 0
    windows: int = 0
    late: int = 0
    first: str | None = None
    last: str | None = None
    rejected_by_reason: dict[str, int] = field(default_factory=dict)


class Pipeline:
    """Builds the reader, tokenizer, windower and consumers from a config and runs them.

    Consumers receive every micro-batch (``update``) and every window end (``end_window``).
    ``textcl stream`` is a thin shell over :meth:`run`.
    """

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.tokenizer = TweetTokenizer(self.config.tokenizer_options())
        self.consumers: list[Consumer] = []
        self.stats = RunStats()
        self.windows: list[Window] = []
        self.stop_event = threading.Event()
        self.stop_reason: str | None = None
        self.resume_note: str | None = None

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stop after the record being processed: the open window is closed, reports and
        the summary are written as at the end of the input (safe from a signal handler)."""
        self.stop_reason = reason
        self.stop_event.set()

    def add(self, consumer: Consumer) -> Pipeline:
        """Subscribe a consumer to batch and window-end events."""
        self.consumers.append(consumer)
        return self

    def reader(
        self, source: str | Path, follow: bool = False, idle_timeout: float | None = None
    ) -> TweetReader | TimeSorted:
        """The configured reader for ``source`` (time-sorted with ``[source] sort``).

        ``follow``: keep reading a growing plain file (``tail -f``, rotation-safe) until
        :meth:`request_stop` or ``idle_timeout`` seconds without new lines; pass the
        reader to :meth:`run`.
        """
        src = self.config.source
        if follow and src.sort:
            raise ValueError("[source] sort (--sort) reads a file to its end first: not with "
                             "follow (--follow)")
        reader = TweetReader(
            source, src.format, src.csv.column_map(), src.max_record_bytes,
            follow=follow, idle_timeout=idle_timeout, stop=self.stop_event if follow else None,
        )
        return TimeSorted(reader, src.sort_run_size) if src.sort else reader

    def run(
        self,
        source: str | Path | Iterable[Tweet | Reject],
        out_dir: str | Path | None = None,
        progress: Callable[[RunStats, TweetReader], None] | None = None,
        resume: bool = False,
    ) -> dict[str, Any]:
        """Stream ``source`` through the pipeline; write outputs under ``out_dir``; summarise.

        With an ``out_dir`` and ``[output] checkpoint`` on, the run's state is checkpointed
        (atomically) at window ends in ``out_dir/checkpoint``; ``resume=True`` continues
        from there: the records already processed are skipped, every consumer and output
        file is put back as it was at the checkpoint, and the run goes on. One run at a
        time per ``out_dir``: a second is refused (:class:`~textcl.runlock.OutputInUseError`).
        """
        out = Path(out_dir) if out_dir is not None else None
        if out is None:
            with RunOutputs().active() as outputs:
                return self._run(source, None, progress, resume, outputs)
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out}: is a file, not a folder; give an output folder with --out")
        with output_lock(out), RunOutputs().active() as outputs:
            return self._run(source, out, progress, resume, outputs)

    def _run(
        self,
        source: str | Path | Iterable[Tweet | Reject],
        out: Path | None,
        progress: Callable[[RunStats, TweetReader], None] | None,
        resume: bool,
        outputs: RunOutputs,
    ) -> dict[str, Any]:
        cfg = self.config
        # a reader object (e.g. a live X API source) is used as it is
        reader = self.reader(source) if isinstance(source, str | Path) else source
        stats = self.stats = RunStats()
        checkpoint_dir = out / "checkpoint" if out is not None and cfg.output.checkpoint else None
        saved = None
        self.resume_note = None
        if resume:
            if checkpoint_dir is None:
                raise ValueError("--resume needs an output folder with [output] checkpoint on")
            if checkpoint_dir.exists():
                saved = load_pipeline(checkpoint_dir, str(reader.source))
            else:  # killed before its first checkpoint (or never run): start over
                self.resume_note = (f"{checkpoint_dir}: no checkpoint yet, so the run "
                                    "started from the beginning")
        self._cut_requested = False
        self._consumed: int | None = None
        self._checkpoint: Callable[[int, bool], None] | None = None
        self.window_cuts: list[dict[str, Any]] = []
        self.windows = []
        self._boundary = (
            (OovRate(), DriftAlarms(statistics=("oov_rate",)))
            if cfg.window.close_on_alarm
            else None
        )
        self._first: datetime | None = None
        self._last: datetime | None = None
        with outputs.resuming(saved["outputs"] if saved else None):
            window_stats = WindowStats(
                cfg.output.top_terms, out / "windows.jsonl" if out else None
            )
            consumers = [window_stats, *build_consumers(cfg, out), *self.consumers]
            for consumer in self.consumers:  # added ones open their outputs here
                if callable(getattr(consumer, "open", None)):
                    consumer.open(out)
            rejects = RejectsWriter(
                out / "rejects.jsonl" if out and cfg.output.rejects else None
            )
        dedup = (
            Deduplicator(
                cfg.source.collapse_duplicates,
                cfg.source.collapse_retweets,
                cfg.source.dedup_memory,
            )
            if cfg.source.collapse_duplicates or cfg.source.collapse_retweets
            else None
        )
        windower = Windower(cfg.window.batch_size, cfg.window.every)
        skip = 0
        self._dedup_before: dict[str, Any] | None = None
        self._window_due: bool | None = None
        # a broker source re-delivers what no checkpoint acknowledged: nothing to skip
        broker = callable(getattr(reader, "commit", None))
        if saved is not None:
            skip = self._restore(saved, windower, rejects, consumers)
            if broker:
                reader.resume_after(saved.get("position"), stats.read)  # type: ignore[union-attr]
                skip = 0
            if dedup is not None:
                if "dedup" not in saved:
                    raise CheckpointError("the checkpoint was written without duplicate "
                                          "collapsing; resume without it, or start over")
                dedup.load_state_dict(saved["dedup"])
        committed = stats.read  # records a checkpoint covers (and the broker was told)

        def dedup_state(consumed: int) -> dict[str, Any] | None:
            if dedup is None:
                return None
            if consumed < stats.read and self._dedup_before is not None:
                return self._dedup_before  # as it was before the tweet read again on resume
            return dedup.state_dict()

        def write_checkpoint(consumed: int, closed: bool) -> None:
            nonlocal committed
            # a window closed by a tweet is saved without that tweet (read again on resume)
            extra = stats.read - consumed
            save_pipeline(
                checkpoint_dir, source=str(reader.source), consumed=consumed,
                stats=dataclasses.replace(stats, read=consumed,
                                          processed=stats.processed - extra),
                first=self._first, last=self._last, windows=self.windows,
                window_cuts=self.window_cuts, windower=windower, rejects=rejects,
                consumers=consumers, closed=closed, dedup=dedup_state(consumed),
                position=reader.position(consumed - committed) if broker else None,
            )
            if broker:  # acknowledged only once the checkpoint holding them is on disk
                reader.commit(consumed - committed)  # type: ignore[union-attr]
                committed = consumed
            self._last_checkpoint = (stats.batches, time.monotonic())

        self._checkpoint = write_checkpoint if checkpoint_dir is not None else None
        self._last_checkpoint = (stats.batches, time.monotonic())
        started = time.perf_counter()
        try:
            for item in reader:
                if skip:  # processed before the checkpoint this run resumes from
                    skip -= 1
                    continue
                stats.read += 1
                if isinstance(item, Reject):
                    stats.rejected += 1
                    rejects.write(item)
                    if cfg.source.strict:
                        raise StrictModeError(item)
                else:
                    stats.processed += 1
                    # a tweet that closes a window is read again on resume: the
                    # checkpoint then needs the memory of repeats from before it
                    self._window_due = self._dedup_before = None
                    if (dedup is not None and checkpoint_dir is not None
                            and windower.closes_window(item)):
                        self._window_due = self._window_checkpoint_due()  # decided once
                        if self._window_due:
                            self._dedup_before = dedup.state_dict()
                    if dedup is None or dedup.check(item) is None:
                        self._track_time(item)
                        # a window closed by this tweet is checkpointed without it
                        self._consumed = stats.read - 1
                        self._dispatch(windower.push(item), consumers)
                        self._batch_checkpoint(windower)
                        if self._cut_requested:
                            self._cut_requested = False
                            self._consumed = stats.read
                            self._dispatch(windower.cut(), consumers)
                if progress is not None and stats.read % PROGRESS_EVERY == 0:
                    progress(stats, reader)
                if self.stop_event.is_set():
                    break
            self._consumed = None
            self._dispatch(windower.finish(), consumers)
            if broker and self._checkpoint is not None:
                # a broker run that ends (idle, limit, stop) acknowledges all it processed
                self._checkpoint(stats.read, True)
        except BaseException:
            _close(consumers, None)
            raise
        finally:
            rejects.close()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        _close(consumers, out)
        seconds = time.perf_counter() - started
        stats.late = windower.late
        stats.first = to_iso(self._first) if self._first else None
        stats.last = to_iso(self._last) if self._last else None
        stats.rejected_by_reason = dict(rejects.by_reason.most_common())
        if dedup is not None:
            stats.duplicates = dedup.collapsed_duplicates
            stats.retweets = dedup.collapsed_retweets
        if progress is not None:
            progress(stats, reader)
        summary = self._summary(reader, seconds, window_stats, dedup)
        summary["consumers"] = {
            c.name: c.summary() for c in consumers if callable(getattr(c, "summary", None))
        }
        consumers.clear()  # closed: their models need not stay in memory
        self._checkpoint = None
        summary["stopped"] = self.stop_reason
        summary["warnings"] = run_warnings(summary, cfg.window.every)
        from textcl import __version__

        summary["version"] = __version__
        summary["config"] = cfg.model_dump(mode="json")  # the pipeline as run
        summary["resume"] = self.resume_note or ("resumed" if resume else None)
        if out is not None:
            (out / "summary.json").write_bytes(
                orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n"
            )
        return summary

    def _track_time(self, tweet: Tweet) -> None:
        moment = tweet.created_at
        if self._first is None or moment < self._first:
            self._first = moment
        if self._last is None or moment > self._last:
            self._last = moment

    def _dispatch(self, events: Iterable[object], consumers: list[Consumer]) -> None:
        for event in events:
            if isinstance(event, BatchEvent):
                texts = [t.text for t in event.tweets]
                batch = Batch(
                    self.stats.batches,
                    event.window,
                    event.tweets,
                    self.tokenizer.tokenize_many(texts),
                )
                self.stats.batches += 1
                self.stats.tweets += len(batch)
                for consumer in consumers:
                    consumer.update(batch)
                self._check_boundary(batch)
            else:
                window = event.window  # type: ignore[attr-defined]
                self.windows.append(window)
                self.stats.windows += 1
                for consumer in consumers:
                    consumer.end_window(window)
                if self._checkpoint is not None and self._consumed is not None:
                    due = self._window_due if self._window_due is not None else (
                        self._window_checkpoint_due())
                    if due:
                        self._checkpoint(self._consumed, True)

    def _window_checkpoint_due(self) -> bool:
        """Whether a window end now gets a checkpoint (not within ``checkpoint_window_seconds``
        of the last one)."""
        gap = self.config.output.checkpoint_window_seconds
        return not gap or time.monotonic() - self._last_checkpoint[1] >= gap

    def _batch_checkpoint(self, windower: Windower) -> None:
        """Every ``checkpoint_batches`` batches or ``checkpoint_seconds`` seconds, at a batch
        boundary inside a window (the last tweet read completed the batch)."""
        out = self.config.output
        if self._checkpoint is None or not windower.between_batches:
            return
        batches, since = self._last_checkpoint
        due_batches = out.checkpoint_batches and self.stats.batches - batches >= (
            out.checkpoint_batches)
        due_time = out.checkpoint_seconds and time.monotonic() - since >= out.checkpoint_seconds
        if due_batches or due_time:
            self._checkpoint(self.stats.read, False)

    def _restore(self, saved: dict[str, Any], windower: Windower, rejects: RejectsWriter,
                 consumers: list[Consumer]) -> int:
        """Put the run back in its checkpointed state; return the records to skip."""
        for key, value in saved["stats"].items():
            setattr(self.stats, key, value)
        self._first = datetime.fromisoformat(saved["first"]) if saved["first"] else None
        self._last = datetime.fromisoformat(saved["last"]) if saved["last"] else None
        self.windows = restore_windows(saved["windows"])
        self.window_cuts = list(saved["window_cuts"])
        windower.load_state_dict(saved["windower"])
        rejects.count = saved["rejects"]["count"]
        rejects.by_reason.update(saved["rejects"]["by_reason"])
        states = saved["consumers"]
        for consumer in consumers:
            if consumer.name not in states:
                raise CheckpointError(f"the checkpoint has no state for {consumer.name!r}; "
                                      "resume with the same pipeline file, or start over")
            consumer.load_state_dict(states[consumer.name])
        return int(saved["consumed"])

    def _check_boundary(self, batch: Batch) -> None:
        """With ``close_on_alarm``: request a window cut when the OOV rate changes."""
        if self._boundary is None:
            return
        oov, alarms = self._boundary
        rate = oov.update(batch.tokens)
        fired = alarms.update({"oov_rate": rate}, to_iso(batch.tweets[-1].created_at))
        if fired:
            self.window_cuts.extend(fired)
            self._cut_requested = True

    def _summary(
        self,
        reader: TweetReader,
        seconds: float,
        window_stats: WindowStats,
        dedup: Deduplicator | None,
    ) -> dict[str, Any]:
        s = self.stats
        return {
            "source": reader.source,
            "format": reader.format,
            "read": s.read,
            "processed": s.processed,
            "rejected": s.rejected,
            "rejected_by_reason": s.rejected_by_reason,
            "duplicates_collapsed": s.duplicates,
            "retweets_collapsed": s.retweets,
            "tweets": s.tweets,
            "tokens": window_stats.total_tokens,
            "batches": s.batches,
            "windows": s.windows,
            "window": self.config.window.every,
            "late": s.late,
            "first": s.first,
            "last": s.last,
            "seconds": round(seconds, 3),
            "tweets_per_s": round(s.read / seconds, 1) if seconds > 0 else None,
            "most_repeated": dedup.top(10) if dedup is not None else [],
            "window_cuts": self.window_cuts,
        }


def _close(consumers: list[Consumer], out: Path | None) -> None:
    for consumer in consumers:
        close = getattr(consumer, "close", None)
        if callable(close):
            close(out)


def run_warnings(summary: dict[str, Any], every: str) -> list[str]:
    """What a user should know about the run's windows: tweets out of time order, or a
    stream that fell into a single time window (untimed text, a file not in order)."""
    warnings = []
    tweets, late = summary["tweets"], summary["late"]
    if late:
        warnings.append(
            f"{late:,} of {tweets:,} tweets ({late / max(tweets, 1):.0%}) were older than "
            "the open window and were counted in it: the input is not in time order; "
            "sort it by time first (--sort), or use windows of N tweets (--window 5000)"
        )
    timed = not every.isdigit()
    if timed and summary["windows"] == 1 and tweets >= 1000:
        warnings.append(
            f"all {tweets:,} tweets fell into one window of {every} (times "
            f"{summary['first']} .. {summary['last']}); for untimed text or a short "
            "span use windows of N tweets (--window 5000) or a shorter --window"
        )
    return warnings
