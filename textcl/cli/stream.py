"""``textcl stream``: tweets through a pipeline, with a progress bar and a summary."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textcl.cli.common import (
    ERRORS,
    FormatOption,
    PipelineOption,
    QuietOption,
    StrictOption,
    WindowOption,
    app,
    configure,
    console,
    error_exit,
    graceful_stop,
    run_with_progress,
)
from textcl.cli.serve import (
    DEFAULT_PORT,
    HostOption,
    PortOption,
    TokenOption,
    keep_serving,
    start_dashboard,
)
from textcl.consumers.registry import consumer_specs
from textcl.input.live import open_live
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline


@app.command()
def stream(
    source: Annotated[
        str | None,
        typer.Argument(
            help="File (.jsonl/.csv/.txt, gzip ok), CrisisLex folder, or - for stdin. "
            "Default: the embedded sample stream."
        ),
    ] = None,
    pipeline: PipelineOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Output folder (default: the pipeline's output dir, out)."
        ),
    ] = None,
    fmt: FormatOption = None,
    strict: StrictOption = False,
    window: WindowOption = None,
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
    quiet: QuietOption = False,
    live: Annotated[
        str,
        typer.Option(
            "--source",
            help="'file' (the SOURCE argument), 'x-api' (poll X API v2 recent search for "
            "--query), 'x-stream' (the v2 filtered stream with --rule; the bearer token "
            "is read from $TEXTCL_X_BEARER_TOKEN), 'redis-stream' (SOURCE is the stream) or "
            "'kafka' (SOURCE is the topic list): consumer group --group, acknowledged only "
            "once a checkpoint covers the records.",
        ),
    ] = "file",
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="With redis-stream: redis://HOST:PORT/DB (default "
                     "localhost); with kafka: the bootstrap servers HOST:PORT,..."),
    ] = None,
    group: Annotated[
        str, typer.Option("--group", help="With redis-stream/kafka: the consumer group.")
    ] = "textcl",
    consumer: Annotated[
        str,
        typer.Option("--consumer", help="With redis-stream: this process's consumer name "
                     "(resume under the same name)."),
    ] = "textcl-1",
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
        int | None,
        typer.Option("--max-tweets", help="With x-stream/redis-stream/kafka: stop after N "
                     "records."),
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
            help="With --follow, redis-stream or kafka: stop after this many seconds "
            "without new records (default: never, stop with Ctrl-C).",
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
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Show the run live in the dashboard (see textcl serve); "
                     "labels given there are learned by the stream's classifiers.",
                     metavar=""),
    ] = False,
    host: HostOption = "127.0.0.1",
    port: PortOption = DEFAULT_PORT,
    token: TokenOption = None,
) -> None:
    """Stream tweets through a pipeline; write summary.json, windows.jsonl, rejects.jsonl."""
    try:
        if sort and live != "file":
            raise ValueError("--sort reads a file to its end first: not with a live --source")
        config = configure(
            pipeline, fmt, strict, window, batch_size, collapse_duplicates, collapse_retweets,
            sort=sort,
        )
        out_dir = out if out is not None else Path(config.output.dir)
        if serve:  # the dashboard's labels are one more label file
            config.classifier.label_files = [*config.classifier.label_files,
                                             str(out_dir / "labels.jsonl")]
        runner = Pipeline(config)
        stop = runner.stop_event
        src: Any = source if source is not None else str(sample_stream_path())
        if live != "file":
            src = open_live(
                live, source, query=query, rules=rules, max_records=max_tweets,
                max_polls=max_polls, poll_interval=poll_interval, api_base=api_base,
                broker=broker, group=group, consumer=consumer, idle_timeout=follow_idle,
                stop=stop,
            )
        elif follow:
            src = runner.reader(src, follow=True, idle_timeout=follow_idle)
        run = (
            partial(runner.run, resume=resume)
            if quiet
            else partial(run_with_progress, runner, resume=resume)
        )
        server = start_dashboard(out_dir, host, port, token) if serve else None
        try:
            with graceful_stop(runner):
                summary = run(src, out_dir)
        except BaseException:
            if server is not None:
                server.stop()
            raise
    except (*ERRORS, OSError) as exc:
        error_exit(exc)
    if runner.resume_note:
        console.print(
            f"[yellow]note:[/] {escape(runner.resume_note)}", highlight=False, soft_wrap=True
        )
    _print_summary(summary, out_dir)
    if server is not None:
        keep_serving(server, f"the stream ended; the dashboard stays at {server.url}: "
                     "Ctrl-C to stop")


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
    files = ["summary.json", "windows.jsonl"]
    files += ["rejects.jsonl"] if summary["rejected"] else []
    for spec in consumer_specs():
        rows = summary["consumers"].get(spec.name)
        if rows is not None:
            for label, value in spec.rows(rows):
                table.add_row(label, value)
            files += spec.files(rows)
    out = Console()
    out.print(table)
    out.print(f"outputs in [bold]{out_dir}[/]: {', '.join(files)}")
    for warning in summary.get("warnings", []):
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)

