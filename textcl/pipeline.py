"""The one data path: source -> reader -> tokenizer -> windows -> consumers -> reports."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

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
from textcl.progress_file import ProgressFile
from textcl.resume import load_pipeline
from textcl.run_state import Checkpointer, RunState
from textcl.run_summary import RunStats, run_warnings, stream_summary
from textcl.runlock import output_lock
from textcl.text.dedup import Deduplicator
from textcl.text.tokenize import TweetTokenizer
from textcl.types import Batch, Consumer, Tweet, Window
from textcl.window import BatchEvent, Windower

__all__ = ["Pipeline", "RunStats", "run_warnings"]

PROGRESS_EVERY = 2000


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
        self.window_cuts: list[dict[str, Any]] = []
        self._checkpointer: Checkpointer | None = None
        self._boundary: tuple[OovRate, DriftAlarms] | None = None
        self._cut_requested = False
        self._consumed: int | None = None
        self.stop_event = threading.Event()
        self.stop_reason: str | None = None
        self._progress_file: ProgressFile | None = None
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
        checkpoint_dir = out / "checkpoint" if out is not None and cfg.output.checkpoint else None
        self.resume_note = None
        saved = self._load_checkpoint(checkpoint_dir, reader) if resume else None
        run = self._open_run(reader, out, saved, outputs)
        skip = run.restore(saved) if saved is not None else 0
        self._checkpointer = (
            Checkpointer(checkpoint_dir, cfg.output, run) if checkpoint_dir is not None else None
        )
        started = time.perf_counter()
        self._progress_file = ProgressFile(out) if out is not None else None
        try:
            self._read(run, skip, progress)
        except BaseException:
            _close(run.consumers, None)
            if self._progress_file is not None:
                self._progress_file.update(run.stats, run.last, force=True, state="failed")
            raise
        finally:
            run.rejects.close()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        _close(run.consumers, out)
        summary = self._finish(run, time.perf_counter() - started, progress)
        if resume:
            summary["resume"] = self.resume_note or "resumed"
        if out is not None:
            (out / "summary.json").write_bytes(
                orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n"
            )
        if self._progress_file is not None:
            state = "stopped" if self.stop_reason else "done"
            self._progress_file.update(run.stats, run.last, force=True, state=state)
        return summary

    def _load_checkpoint(self, folder: Path | None, reader: Any) -> dict[str, Any] | None:
        if folder is None:
            raise ValueError("--resume needs an output folder with [output] checkpoint on")
        if folder.exists():
            return load_pipeline(folder, str(reader.source))
        # killed before its first checkpoint (or never run): start over
        self.resume_note = f"{folder}: no checkpoint yet, so the run started from the beginning"
        return None

    def _open_run(self, reader: Any, out: Path | None, saved: dict[str, Any] | None,
                  outputs: RunOutputs) -> RunState:
        """The run's objects, with every output file opened (cut back on a resume)."""
        cfg = self.config
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
        source = cfg.source
        dedup = (
            Deduplicator(source.collapse_duplicates, source.collapse_retweets,
                         source.dedup_memory)
            if source.collapse_duplicates or source.collapse_retweets
            else None
        )
        run = RunState(reader, RunStats(), Windower(cfg.window.batch_size, cfg.window.every),
                       rejects, consumers, window_stats, dedup)
        self.stats, self.windows, self.window_cuts = run.stats, run.windows, run.window_cuts
        self._boundary = (
            (OovRate(), DriftAlarms(statistics=("oov_rate",)))
            if cfg.window.close_on_alarm
            else None
        )
        self._cut_requested = False
        self._consumed = None
        return run

    def _read(self, run: RunState, skip: int,
              progress: Callable[[RunStats, TweetReader], None] | None) -> None:
        """Read every record: rejects to the rejects file, tweets through the windower."""
        stats, checkpointer, strict = run.stats, self._checkpointer, self.config.source.strict
        for item in run.reader:
            if skip:  # processed before the checkpoint this run resumes from
                skip -= 1
                continue
            stats.read += 1
            if isinstance(item, Reject):
                stats.rejected += 1
                run.rejects.write(item)
                if strict:
                    raise StrictModeError(item)
            else:
                stats.processed += 1
                if checkpointer is not None:
                    checkpointer.before_tweet(item)
                if run.dedup is None or run.dedup.check(item) is None:
                    run.track_time(item)
                    # a window closed by this tweet is checkpointed without it
                    self._consumed = stats.read - 1
                    self._dispatch(run.windower.push(item), run)
                    if checkpointer is not None:
                        checkpointer.between_batches()
                    if self._cut_requested:
                        self._cut_requested = False
                        self._consumed = stats.read
                        self._dispatch(run.windower.cut(), run)
            if stats.read % PROGRESS_EVERY == 0:
                if progress is not None:
                    progress(stats, run.reader)
                if self._progress_file is not None:
                    self._progress_file.update(stats, run.last)
            if self.stop_event.is_set():
                break
        self._consumed = None
        self._dispatch(run.windower.finish(), run)
        if run.broker and checkpointer is not None:
            # a broker run that ends (idle, limit, stop) acknowledges all it processed
            checkpointer.save(stats.read, closed=True)

    def _finish(self, run: RunState, seconds: float,
                progress: Callable[[RunStats, TweetReader], None] | None) -> dict[str, Any]:
        """Final counters and the run's summary (the consumers are closed)."""
        stats, cfg = run.stats, self.config
        stats.late = run.windower.late
        stats.first = to_iso(run.first) if run.first else None
        stats.last = to_iso(run.last) if run.last else None
        stats.rejected_by_reason = dict(run.rejects.by_reason.most_common())
        if run.dedup is not None:
            stats.duplicates = run.dedup.collapsed_duplicates
            stats.retweets = run.dedup.collapsed_retweets
        if progress is not None:
            progress(stats, run.reader)
        summary = stream_summary(
            stats, source=run.reader.source, format=run.reader.format, seconds=seconds,
            tokens=run.window_stats.total_tokens, every=cfg.window.every,
            window_cuts=run.window_cuts,
            most_repeated=run.dedup.top(10) if run.dedup is not None else [],
        )
        summary["consumers"] = {
            c.name: c.summary() for c in run.consumers
            if callable(getattr(c, "summary", None))
        }
        run.consumers.clear()  # closed: their models need not stay in memory
        self._checkpointer = None
        summary["stopped"] = self.stop_reason
        summary["warnings"] = run_warnings(summary, cfg.window.every) + [
            warning for info in summary["consumers"].values() if isinstance(info, dict)
            for warning in info.get("warnings", [])
        ]
        from textcl import __version__

        summary["version"] = __version__
        summary["config"] = cfg.model_dump(mode="json")  # the pipeline as run
        summary["resume"] = self.resume_note
        return summary

    def _dispatch(self, events: Iterable[object], run: RunState) -> None:
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
                for consumer in run.consumers:
                    consumer.update(batch)
                self._check_boundary(batch)
            else:
                window = event.window  # type: ignore[attr-defined]
                run.windows.append(window)
                self.stats.windows += 1
                for consumer in run.consumers:
                    consumer.end_window(window)
                if self._progress_file is not None:  # a window's end is always shown
                    self._progress_file.update(self.stats, run.last, force=True)
                if self._checkpointer is not None and self._consumed is not None:
                    self._checkpointer.at_window_end(self._consumed)

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


def _close(consumers: list[Consumer], out: Path | None) -> None:
    for consumer in consumers:
        close = getattr(consumer, "close", None)
        if callable(close):
            close(out)
