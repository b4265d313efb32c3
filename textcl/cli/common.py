"""What every textcl command shares: the app, errors, pipeline options, progress."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from textcl import __version__
from textcl.config import ConfigError, PipelineConfig, config_from_dict, load_config
from textcl.input.readers import FORMATS, TweetReader
from textcl.input.rejects import StrictModeError
from textcl.paths import pipeline_path, shipped_pipelines
from textcl.pipeline import Pipeline
from textcl.run_summary import RunStats
from textcl.runlock import OutputInUseError

app = typer.Typer(
    help="Continual learning on text streams.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)
# options that several commands take, declared once
PipelineOption = Annotated[
    Path | None,
    typer.Option(
        "--pipeline", "-p",
        help="Pipeline TOML file, or a shipped name: default (the default), transformer.",
    ),
]
FormatOption = Annotated[
    str | None, typer.Option("--format", "-f", help=f"Input format: {'|'.join(FORMATS)}.")
]
WindowOption = Annotated[
    str | None,
    typer.Option(
        "--window", "-w",
        help="Window: '1d', '6h' or a tweet count (default: the pipeline's window every, 1d).",
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad record.", metavar="")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.", metavar="")]
# what a command reports as a one-line error (exit 2) instead of a traceback
ERRORS = (ConfigError, StrictModeError, FileNotFoundError, IsADirectoryError, ValueError,
          OutputInUseError)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"textcl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version.", metavar=""
        )
    ] = False,
) -> None:
    """textcl: continual word vectors, keywords, classifiers and drift reports on tweet streams."""


def error_exit(exc: Exception) -> NoReturn:
    """Print ``exc`` as a one-line error and exit with status 2."""
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


def default_pipeline() -> Path | None:
    return pipeline_path("default")


def pipeline_file(pipeline: Path | None) -> Path | None:
    """``-p``: a file, or the name of a shipped pipeline (``-p transformer``)."""
    if pipeline is None:
        return default_pipeline()
    if pipeline.suffix or pipeline.exists() or len(pipeline.parts) > 1:
        return pipeline
    shipped = pipeline_path(str(pipeline))
    if shipped is None:
        raise ConfigError(
            f"{pipeline}: no such pipeline file, nor a shipped pipeline "
            f"({', '.join(shipped_pipelines())})"
        )
    return shipped


def configure(
    pipeline: Path | None,
    fmt: str | None,
    strict: bool,
    window: str | None,
    batch_size: int | None,
    collapse_duplicates: bool,
    collapse_retweets: bool,
    models: bool = True,
    sort: bool = False,
) -> PipelineConfig:
    path = pipeline_file(pipeline)
    data = load_config(path).model_dump()
    overrides = {
        ("source", "format"): fmt,
        ("source", "strict"): True if strict else None,
        ("source", "collapse_duplicates"): True if collapse_duplicates else None,
        ("source", "collapse_retweets"): True if collapse_retweets else None,
        ("source", "sort"): True if sort else None,
        ("window", "every"): window,
        ("window", "batch_size"): batch_size,
    }
    for (section, key), value in overrides.items():
        if value is not None:
            data[section][key] = value
    if not models:  # only the readers, windows and the caller's own consumers
        for section in ("word2vec", "keywords", "drift", "transformer", "selection"):
            data[section]["enabled"] = False
        data["classifier"]["labels"] = []
    config = config_from_dict(data, f"{path or 'defaults'} with command-line options")
    return config


def run_with_progress(
    runner: Pipeline, source: Any, out_dir: Path, resume: bool = False
) -> dict[str, Any]:
    started = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn(
            "{task.fields[tweets]:>9,} read  {task.fields[rate]:>8,.0f}/s  "
            "[red]{task.fields[rejects]:,} rejected[/]  {task.fields[windows]} windows"
        ),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("streaming", total=None, tweets=0, rate=0.0, rejects=0, windows=0)

        def update(stats: RunStats, reader: TweetReader) -> None:
            done, total = reader.progress()
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar.update(
                task,
                completed=done,
                total=total,
                tweets=stats.read,
                rate=stats.read / elapsed,
                rejects=stats.rejected,
                windows=stats.windows,
            )

        summary = runner.run(source, out_dir, progress=update, resume=resume)
        bar.update(task, description="done")
    return summary


@contextmanager
def graceful_stop(runner: Pipeline) -> Iterator[None]:
    """SIGINT/SIGTERM: finish the record in hand, close the window, write every report and
    the summary, exit 0. A second SIGINT interrupts at once."""

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if runner.stop_event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        console.print(f"[yellow]{name}: finishing the current window and writing reports[/]")
        runner.request_stop(name)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

