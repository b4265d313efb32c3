"""The ``textcl`` command."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from textcl import __version__
from textcl.config import ConfigError, PipelineConfig, config_from_dict, load_config
from textcl.paths import PROJECT_ROOT, sample_stream_path
from textcl.pipeline import Pipeline, RunStats, mover_ignore
from textcl.stream.readers import FORMATS, TweetReader
from textcl.stream.rejects import StrictModeError

app = typer.Typer(
    help="Continual learning on text streams.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)
# what a command reports as a one-line error (exit 2) instead of a traceback
ERRORS = (ConfigError, StrictModeError, FileNotFoundError, IsADirectoryError, ValueError)
DEFAULT_PIPELINE = PROJECT_ROOT / "pipelines" / "default.toml"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"textcl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """textcl: continual word vectors, keywords, classifiers and drift reports on tweet streams."""


@app.command()
def stream(
    source: Annotated[
        str | None,
        typer.Argument(
            help="File (.jsonl/.csv/.txt, gzip ok), CrisisLex folder, or - for stdin. "
            "Default: the embedded sample stream."
        ),
    ] = None,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline",
            "-p",
            help="Pipeline TOML file (default: the shipped pipelines/default.toml).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Output folder (default: the pipeline's output dir, out)."
        ),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help=f"Input format: {'|'.join(FORMATS)}.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first bad record.", metavar="")
    ] = False,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            "-w",
            help="Window: '1d', '6h' or a tweet count (default: the pipeline's window every, 1d).",
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", "-b", help="Micro-batch size.")
    ] = None,
    collapse_duplicates: Annotated[
        bool,
        typer.Option("--collapse-duplicates", help="Collapse exact duplicate texts.", metavar=""),
    ] = False,
    collapse_retweets: Annotated[
        bool,
        typer.Option("--collapse-retweets", help="Collapse retweets of seen tweets.", metavar=""),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar.", metavar="")
    ] = False,
    live: Annotated[
        str,
        typer.Option(
            "--source",
            help="'file' (the SOURCE argument), 'x-api' (poll X API v2 recent search for "
            "--query) or 'x-stream' (the v2 filtered stream with --rule); the bearer token "
            "is read from $TEXTCL_X_BEARER_TOKEN.",
        ),
    ] = "file",
    query: Annotated[str, typer.Option("--query", help="With --source x-api: the query.")] = "",
    rules: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            help="With x-stream: a filtered-stream rule (repeatable); "
            "the account's rules are set to exactly these.",
        ),
    ] = None,
    max_tweets: Annotated[
        int | None, typer.Option("--max-tweets", help="With x-stream: stop after N tweets.")
    ] = None,
    max_polls: Annotated[
        int | None, typer.Option("--max-polls", help="With x-api: stop after N polls.")
    ] = None,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", help="With x-api: seconds between polls.")
    ] = 60.0,
    api_base: Annotated[
        str | None,
        typer.Option(
            "--x-api-base",
            help="With x-api/x-stream: send requests to this base URL "
            "(a proxy or a test server) instead of the X API host.",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue from OUT/checkpoint (written at window "
            "ends) after a crash or a stop; with none yet, start over.",
            metavar="",
        ),
    ] = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep reading a plain file as it grows (tail -f; rotation-safe).",
            metavar="",
        ),
    ] = False,
    follow_idle: Annotated[
        float | None,
        typer.Option(
            "--follow-idle",
            help="With --follow: stop after this many seconds "
            "without new lines (default: never, stop with Ctrl-C).",
        ),
    ] = None,
    sort: Annotated[
        bool,
        typer.Option(
            "--sort",
            help="Sort a file that is not in time order first (external sort, bounded "
            "memory; [source] sort).",
            metavar="",
        ),
    ] = False,
) -> None:
    """Stream tweets through a pipeline; write summary.json, windows.jsonl, rejects.jsonl."""
    try:
        if sort and (follow or live != "file"):
            raise ValueError("--sort reads a file to its end first: not with --follow or "
                             "a live --source")
        config = _configure(
            pipeline, fmt, strict, window, batch_size, collapse_duplicates, collapse_retweets,
            sort=sort,
        )
        runner = Pipeline(config)
        stop = runner.stop_event
        src: Any = source if source is not None else str(sample_stream_path())
        if live == "x-api":
            from textcl.stream.xapi import XApiReader

            src = XApiReader(query, poll_interval, max_polls, api_base=api_base, stop=stop)
        elif live == "x-stream":
            from textcl.stream.xapi import XStreamReader

            src = XStreamReader(rules or [], max_tweets, api_base=api_base, stop=stop)
        elif live != "file":
            raise ValueError(f"--source {live!r}: use 'file', 'x-api' or 'x-stream'")
        elif follow:
            src = TweetReader(
                src,
                config.source.format,
                config.source.csv.column_map(),
                config.source.max_record_bytes,
                follow=True,
                idle_timeout=follow_idle,
                stop=stop,
            )
        out_dir = out if out is not None else Path(config.output.dir)
        run = (
            partial(runner.run, resume=resume)
            if quiet
            else partial(_run_with_progress, runner, resume=resume)
        )
        with _graceful_stop(runner):
            summary = run(src, out_dir)
    except ERRORS as exc:
        _error_exit(exc)
    if runner.resume_note:
        console.print(
            f"[yellow]note:[/] {escape(runner.resume_note)}", highlight=False, soft_wrap=True
        )
    _print_summary(summary, out_dir)


@app.command()
def drift(
    snapshot_dir: Annotated[
        Path | None,
        typer.Argument(help="Folder of word2vec snapshots (OUT/snapshots of textcl stream)."),
    ] = None,
    terms: Annotated[str, typer.Option("--terms", "-t", help="Comma-separated query terms.")] = "",
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Two corpora A B (one document per line) to compare."),
    ] = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="With --compare: target words, one a line.")
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            "--seeds", help="With --compare: seeds of the model ensemble (default: 1,2,3)."
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs", help="With --compare: epochs (default: from the corpus size, 5-40)."
        ),
    ] = None,
    dim: Annotated[
        int | None, typer.Option("--dim", help="With --compare: vector size (default: 100).")
    ] = None,
    context: Annotated[
        int | None, typer.Option("--window", help="With --compare: context window (default: 10).")
    ] = None,
    tokenized: Annotated[
        bool | None,
        typer.Option(
            "--tokenized/--raw",
            help="With --compare: lines are space-separated tokens / raw tweets to "
            "tokenise (default: detected per file).",
        ),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            "--score", help="With --compare: cosine | lnc | cosine+lnc (default: cosine+lnc)."
        ),
    ] = None,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline",
            "-p",
            help="Pipeline TOML: its \\[drift.compare], and the keyword languages whose "
            "common words are never movers.",
        ),
    ] = None,
    topn: Annotated[int, typer.Option("--topn", help="Neighbours per term.")] = 10,
    movers: Annotated[int, typer.Option("--movers", help="Top movers to rank.")] = 20,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Report folder (default: drift-query beside SNAPSHOT_DIR, or "
            "out/drift-compare; never the stream's own OUT/drift).",
        ),
    ] = None,
) -> None:
    """Drift report: how terms' nearest neighbours move across snapshots or two corpora."""
    from textcl.drift import (
        compare_corpora,
        load_snapshots,
        read_targets,
        snapshot_drift,
        write_report,
    )

    try:
        if compare is not None:
            if targets is None:
                raise ValueError("--compare needs --targets FILE (target words, one a line)")
            options = _compare_options(pipeline, seeds, epochs, dim, context, tokenized, score)
            result = compare_corpora(
                compare[0], compare[1], read_targets(targets), topn=topn, **options
            )
        elif snapshot_dir is not None:
            query = [t.strip() for t in terms.split(",") if t.strip()]
            snapshots = load_snapshots(snapshot_dir, dtype=None)
            config = load_config(pipeline if pipeline is not None else _default_pipeline())
            result = snapshot_drift(
                snapshots, query, topn=topn, movers=movers, ignore=mover_ignore(config)
            )
        else:
            raise ValueError("give a SNAPSHOT_DIR, or --compare A B --targets FILE")
        if out is None:
            out = (
                Path("out/drift-compare")
                if compare is not None
                else _snapshot_root(snapshot_dir) / "drift-query"
            )
        paths = write_report(result, out)
    except (FileNotFoundError, ValueError) as exc:
        _error_exit(exc)
    _print_drift(result)
    if result["mode"] == "compare":
        chosen = result["settings"]
        auto = set(chosen["adaptive"])
        shown = ", ".join(
            f"{k} {chosen[k]}{' (from corpus size)' if k in auto else ''}"
            for k in ("epochs", "vector_size", "window")
        )
        Console().print(f"word2vec: {shown}; score {chosen['score']}", highlight=False)
    Console().print(f"report: [bold]{paths['html']}[/] (and report.md, report.json)")


@app.command()
def neighbours(
    path: Annotated[
        Path,
        typer.Argument(help="OUT of textcl stream (its word2vec.npz), a model or a snapshot .npz."),
    ],
    terms: Annotated[list[str], typer.Argument(help="Terms to look up.")],
    topn: Annotated[int, typer.Option("--topn", "-n", help="Neighbours per term.")] = 10,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Also write the vectors in word2vec text format here."),
    ] = None,
) -> None:
    """Most similar words of TERMS in a saved model or snapshot (and export it)."""
    from textcl.embed.word2vec import ContinualWord2Vec, load_keyed_vectors

    try:
        file = path / "word2vec.npz" if path.is_dir() else path
        if not file.is_file():
            raise FileNotFoundError(f"{file}: not found (give OUT, a model or a snapshot .npz)")
        try:
            kv = load_keyed_vectors(file)
        except KeyError:  # not a snapshot: a full model
            kv = ContinualWord2Vec.load(file).snapshot()
        if topn < 1:
            raise ValueError(f"--topn must be at least 1, got {topn}")
    except (FileNotFoundError, ValueError) as exc:
        _error_exit(exc)
    table = Table(title=f"neighbours in {file} ({len(kv.index_to_key):,} words)")
    table.add_column("term", style="bold")
    table.add_column("neighbours (cosine)")
    for term in terms:
        if term not in kv.key_to_index:
            table.add_row(term, "[dim]not in the vocabulary[/]")
            continue
        near = kv.most_similar(term, topn=topn)
        table.add_row(escape(term), escape(", ".join(f"{w} {s:.2f}" for w, s in near)))
    Console().print(table)
    if export is not None:
        kv.save_word2vec_format(str(export), binary=False)
        Console().print(
            f"exported {len(kv.index_to_key):,} vectors to [bold]{export}[/] "
            "(word2vec text format: gensim KeyedVectors.load_word2vec_format)"
        )


def _error_exit(exc: Exception) -> NoReturn:
    """Print ``exc`` as a one-line error and exit with status 2."""
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


def _default_pipeline() -> Path | None:
    return DEFAULT_PIPELINE if DEFAULT_PIPELINE.exists() else None


def _snapshot_root(snapshot_dir: Path) -> Path:
    """The run folder of a snapshot folder (OUT for OUT/snapshots; itself otherwise)."""
    return snapshot_dir.parent if snapshot_dir.name == "snapshots" else snapshot_dir


def _compare_options(
    pipeline: Path | None,
    seeds: str | None,
    epochs: int | None,
    dim: int | None,
    window: int | None,
    tokenized: bool | None,
    score: str | None,
) -> dict[str, Any]:
    """``compare_corpora`` settings: the pipeline's ``[drift.compare]``, then the flags."""
    path = pipeline if pipeline is not None else _default_pipeline()
    options = load_config(path).drift.compare.compare_kwargs()
    if seeds is not None:
        try:
            options["seeds"] = [int(x) for x in seeds.split(",") if x.strip()]
        except ValueError:
            raise ValueError(f"--seeds {seeds!r}: give integers separated by commas") from None
    flags = {"epochs": epochs, "vector_size": dim, "window": window}
    for key, value in flags.items():
        if value is not None:
            if value <= 0:
                raise ValueError(f"--{'dim' if key == 'vector_size' else key} must be > 0")
            options[key] = value
    if tokenized is not None:
        options["tokenized"] = tokenized
    if score is not None:
        options["score"] = score
    return options


def _print_drift(result: dict[str, Any]) -> None:
    rows = result["targets"] if result["mode"] == "compare" else result["movers"]
    table = Table(title="most changed" if result["mode"] == "compare" else "top movers")
    table.add_column("#", justify="right")
    table.add_column("term", style="bold")
    table.add_column("score", justify="right")
    for i, row in enumerate(rows[:15], start=1):
        table.add_row(str(i), row["term"], f"{row['score']:.3f}")
    Console().print(table)


@contextmanager
def _graceful_stop(runner: Pipeline) -> Iterator[None]:
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


def _configure(
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
    path = pipeline if pipeline is not None else _default_pipeline()
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
        for section in ("word2vec", "keywords", "drift"):
            data[section]["enabled"] = False
    config = config_from_dict(data, f"{path or 'defaults'} with command-line options")
    return config


def _run_with_progress(
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


def _print_summary(summary: dict[str, Any], out_dir: Path) -> None:
    table = Table(
        title=f"textcl stream: {summary['source']} ({summary['format']})", show_header=False
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key in (
        "read",
        "processed",
        "rejected",
        "duplicates_collapsed",
        "retweets_collapsed",
        "tweets",
        "tokens",
        "batches",
        "windows",
        "late",
    ):
        table.add_row(key, f"{summary[key]:,}")
    table.add_row("window", str(summary["window"]))
    if summary.get("stopped"):
        table.add_row("stopped by", summary["stopped"])
    table.add_row("time span", f"{summary['first']} → {summary['last']}")
    table.add_row("seconds", f"{summary['seconds']:.2f}")
    table.add_row("tweets/s", f"{summary['tweets_per_s'] or 0:,.0f}")
    for reason, count in summary["rejected_by_reason"].items():
        table.add_row(f"  rejected: {reason}", f"{count:,}")
    w2v = summary["consumers"].get("word2vec")
    if w2v:
        table.add_row("word2vec vocabulary", f"{w2v['vocab']:,}")
        table.add_row("word2vec snapshots", f"{w2v['snapshots']:,}")
    keywords = summary["consumers"].get("keywords")
    if keywords:
        current = ", ".join(k["term"] for k in keywords["keywords"][:8])
        table.add_row("keywords now", current or "-")
        table.add_row("event alarms / all alarms", f"{keywords.get('event_alarms', 0):,} / "
                      f"{keywords['alarms']:,}")
        for event in keywords.get("past_events", [])[:2]:
            span = f"{event['since'][:10]} to {event['until'][:10]}"
            table.add_row(f"past event ({span})", ", ".join(event["terms"][:6]))
    if summary.get("drift", {}).get("top_movers"):
        table.add_row("top movers", ", ".join(summary["drift"]["top_movers"][:5]))
    out = Console()
    out.print(table)
    files = ["summary.json", "windows.jsonl"]
    files += ["rejects.jsonl"] if summary["rejected"] else []
    files += ["snapshots/", "word2vec.npz"] if w2v else []
    files += (
        ["keywords.jsonl", "keywords_final.json", "events.json", "alarms.jsonl"] if keywords else []
    )
    files += ["drift/report.html"] if summary.get("drift", {}).get("report") else []
    out.print(f"outputs in [bold]{out_dir}[/]: {', '.join(files)}")
    for warning in summary.get("warnings", []):
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


from textcl import cli_active, cli_inspect  # noqa: E402, F401  (register their commands)

if __name__ == "__main__":
    app()
