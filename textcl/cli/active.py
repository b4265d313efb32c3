"""``textcl select`` and ``textcl label``: the active-learning loop on the command line."""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
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
    error_exit,
    run_with_progress,
)
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline
from textcl.text.tokenize import TweetTokenizer


@app.command()
def select(
    source: Annotated[
        str | None,
        typer.Argument(
            help="Tweets to choose from (file, folder or '-'); default: the embedded sample stream."
        ),
    ] = None,
    budget: Annotated[int, typer.Option("--budget", "-k", help="Tweets per window.")] = 20,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/select"),
    background: Annotated[
        list[Path] | None,
        typer.Option(
            "--background",
            help="Background corpus, one tweet a line (repeatable); "
            "default: the stream's earlier windows.",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", "-m", help="Label model folder from `textcl label` (adds its uncertainty)."
        ),
    ] = None,
    diversity: Annotated[
        float, typer.Option("--diversity", help="Penalty on picks similar to earlier picks.")
    ] = 0.3,
    pipeline: PipelineOption = None,
    fmt: FormatOption = None,
    window: WindowOption = None,
    strict: StrictOption = False,
    quiet: QuietOption = False,
) -> None:
    """Pick the tweets of each window most worth a label: selection.jsonl and selection.csv."""
    from textcl.active.labelmodel import LabelModel, LabelModelError
    from textcl.consumers.selection import SelectionConsumer
    from textcl.keywords.background import background_counts

    try:
        if budget < 1:
            raise ValueError(f"--budget must be at least 1, got {budget}")
        config = configure(pipeline, fmt, strict, window, None, False, False, models=False)
        tokenizer = TweetTokenizer(config.tokenizer_options())
        counts = background_counts(background, tokenizer) if background else None
        label_model = LabelModel.load(model) if model is not None else None
        consumer = SelectionConsumer(out, budget, counts, label_model, diversity)
        runner = Pipeline(config).add(consumer)
        src = source if source is not None else str(sample_stream_path())
        run = runner.run if quiet else partial(run_with_progress, runner)
        summary = run(src, out)
    except (*ERRORS, LabelModelError) as exc:
        error_exit(exc)
    info = summary["consumers"]["selection"]
    table = Table(title="textcl select", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("source", str(summary["source"]))
    for key in ("read", "processed", "rejected", "windows"):
        table.add_row(key, f"{summary[key]:,}")
    table.add_row("selected", f"{info['selected']:,} ({budget} per window)")
    table.add_row("background", info["background"])
    table.add_row("uncertainty", "yes" if info["uncertainty"] else "no model")
    if info["pool_left_out"]:
        table.add_row("left out of pools (cap)", f"{info['pool_left_out']:,}")
    Console().print(table)
    Console().print(
        f"fill in the [bold]label[/] column of {out / 'selection.csv'}, then run "
        f"[bold]textcl label {out / 'selection.csv'} --model DIR[/]"
    )


@app.command()
def label(
    labels: Annotated[
        Path,
        typer.Argument(
            help="selection.csv with its label column filled in, any CSV with "
            "text and label columns (id optional), or the dashboard's OUT/labels.jsonl."
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="With a .jsonl file: the label to learn (default: "
                     "'label', or the only label the file holds)."),
    ] = None,
    model: Annotated[
        Path, typer.Option("--model", "-m", help="Label model folder (created when missing).")
    ] = Path("out/label-model"),
    pipeline: PipelineOption = None,
) -> None:
    """Teach the label model the labels people gave; later selections use its uncertainty."""
    from textcl.active.labelmodel import LabelModel, LabelModelError

    try:
        ids, texts, given, skipped = (
            read_labels_jsonl(labels, name) if labels.suffix.lower() == ".jsonl"
            else read_labels(labels))
        if not given:
            raise ValueError(f"{labels}: no row has a label yet; fill in the label column")
        config = configure(pipeline, None, False, None, None, False, False, models=False)
        tokenizer = TweetTokenizer(config.tokenizer_options())
        label_model = LabelModel.load(model) if (model / "meta.json").exists() else LabelModel()
        report = label_model.learn(ids, [tokenizer(t) for t in texts], given)
        label_model.save(model)
    except (*ERRORS, LabelModelError) as exc:
        error_exit(exc)
    table = Table(title="textcl label", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("labels file", str(labels))
    table.add_row("labels in the file", f"{len(given):,}")
    table.add_row("learned (new ids)", f"{report.new:,}")
    table.add_row("relabelled (changed)", f"{report.relabelled:,}")
    table.add_row("already known, skipped", f"{report.skipped:,}")
    table.add_row("rows without a label", f"{skipped:,}")
    table.add_row("classes", ", ".join(label_model.classes))
    table.add_row("rounds", str(label_model.rounds))
    table.add_row("labels held", f"{len(label_model.labelled):,}")
    prequential = "n/a (fewer than 2 classes before)" if report.prequential is None else (
        f"{report.prequential:.3f}"
    )
    table.add_row("accuracy on them, before learning", prequential)
    if report.fit is not None:
        table.add_row("final training loss", f"{report.fit.final_loss:.3f}")
    Console().print(table)
    Console().print(
        f"model saved in [bold]{model}[/]; use it with "
        f"[bold]textcl select SOURCE --model {model}[/]"
    )


def read_labels(path: Path) -> tuple[list[str], list[str], list[str], int]:
    """Rows of a labels CSV that carry a label: ids, texts, labels, and the count skipped.

    A missing ``text`` or ``label`` column, or a labelled row without text, is an error
    naming the file and line.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: labels file not found")
    ids: list[str] = []
    texts: list[str] = []
    given: list[str] = []
    skipped = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path}:1: missing column(s) {', '.join(sorted(missing))}; the "
                "file needs text and label columns (id optional)"
            )
        for row in reader:
            value = (row.get("label") or "").strip()
            if not value:
                skipped += 1
                continue
            text = (row.get("text") or "").strip()
            if not text:
                raise ValueError(f"{path}:{reader.line_num}: labelled row has no text")
            ids.append((row.get("id") or f"line-{reader.line_num}").strip())
            texts.append(text)
            given.append(value)
    return ids, texts, given, skipped


def read_labels_jsonl(path: Path, name: str | None) -> tuple[list[str], list[str], list[str],
                                                            int]:
    """Labels from JSON lines (``{"id", "text", "<name>": value}``, the dashboard's file):
    the latest label of each id; an unreadable line or a label without text is an error
    naming the file and line."""
    import json

    if not path.is_file():
        raise FileNotFoundError(f"{path}: labels file not found")
    latest: dict[str, tuple[str, str]] = {}
    skipped = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: a line must be a JSON object")
            keys = [k for k in row if k not in ("id", "text", "time")]
            key = name or ("label" if "label" in row else keys[0] if len(keys) == 1 else None)
            if key is None:
                raise ValueError(f"{path}:{number}: labels {keys}: say which with --name")
            value = str(row.get(key) or "").strip()
            if not value:
                skipped += 1
                continue
            text = str(row.get("text") or "").strip()
            if not text:
                raise ValueError(f"{path}:{number}: labelled row has no text")
            latest[str(row.get("id") or f"line-{number}")] = (text, value)
    ids = list(latest)
    return ids, [latest[i][0] for i in ids], [latest[i][1] for i in ids], skipped
