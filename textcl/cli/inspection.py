"""``textcl config show`` and ``textcl predict``: look inside a pipeline and a label model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from textcl.cli.common import (
    ERRORS,
    FormatOption,
    PipelineOption,
    app,
    configure,
    error_exit,
    pipeline_file,
)
from textcl.text.tokenize import TweetTokenizer

config_app = typer.Typer(help="Inspect pipeline files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    pipeline: PipelineOption = None,
) -> None:
    """Print the effective pipeline (every key, defaults filled in) as TOML."""
    import tomli_w

    try:
        config = configure(pipeline, None, False, None, None, False, False)
        source = pipeline_file(pipeline)
    except ERRORS as exc:
        error_exit(exc)
    typer.echo(f"# effective pipeline: {source or 'built-in defaults'}")
    # TOML has no null: keys unset by default (CSV column names) are left out
    typer.echo(tomli_w.dumps(config.model_dump(exclude_none=True)), nl=False)


@app.command()
def predict(
    source: Annotated[str, typer.Argument(help="Tweets to label (file, folder or '-').")],
    model: Annotated[
        Path, typer.Option("--model", "-m", help="Label model folder from `textcl label`.")
    ] = Path("out/label-model"),
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Predictions file (JSON lines).")
    ] = Path("out/predictions.jsonl"),
    pipeline: PipelineOption = None,
    fmt: FormatOption = None,
    batch: Annotated[int, typer.Option("--batch", help="Tweets per model call.")] = 2000,
) -> None:
    """Label tweets with a label model: one JSON line per tweet (id, label, p, probs);
    records that cannot be read go to PREDICTIONS.rejects.jsonl with the reason."""
    from textcl.active.labelmodel import LabelModel, LabelModelError
    from textcl.input.readers import TweetReader
    from textcl.input.rejects import Reject, RejectsWriter

    labels: Counter[str] = Counter()
    rejects = RejectsWriter(out.with_name(out.stem + ".rejects.jsonl"))
    try:
        config = configure(pipeline, fmt, False, None, None, False, False, models=False)
        columns = config.source.csv.model_copy(update={"time": "order"})  # times unused
        label_model = LabelModel.load(model)
        if not label_model.classes:
            raise ValueError(f"{model}: the model has no labels yet; teach it with textcl label")
        tokenizer = TweetTokenizer(config.tokenizer_options())
        reader = TweetReader(
            source, config.source.format, columns.column_map(),
            config.source.max_record_bytes,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as fh:
            pending = []
            for item in reader:
                if isinstance(item, Reject):
                    rejects.write(item)
                    continue
                pending.append(item)
                if len(pending) >= batch:
                    _write_predictions(fh, pending, label_model, tokenizer, labels)
                    pending = []
            _write_predictions(fh, pending, label_model, tokenizer, labels)
    except (*ERRORS, LabelModelError) as exc:
        error_exit(exc)
    finally:
        rejects.close()
    table = Table(title="textcl predict", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("source", source)
    table.add_row("model", f"{model} ({len(label_model.classes)} classes)")
    table.add_row("predicted", f"{labels.total():,}")
    table.add_row("rejected", f"{rejects.count:,}")
    for reason, n in rejects.by_reason.most_common():
        table.add_row(f"  rejected: {reason}", f"{n:,}")
    for label, n in labels.most_common():
        table.add_row(f"  label {label}", f"{n:,}")
    Console().print(table)
    where = f" and rejects in [bold]{rejects.path}[/]" if rejects.count else ""
    Console().print(f"predictions in [bold]{out}[/]{where}")


def _write_predictions(fh, tweets, label_model, tokenizer, labels: Counter[str]) -> None:
    if not tweets:
        return
    probs = label_model.probs([tokenizer(t.text) for t in tweets])
    classes = label_model.classes
    for tweet, row in zip(tweets, probs, strict=True):
        best = int(row.argmax())
        labels[classes[best]] += 1
        record = {
            "id": tweet.id, "label": classes[best], "p": round(float(row[best]), 4),
            "probs": {c: round(float(p), 4) for c, p in zip(classes, row, strict=True)},
        }
        fh.write(orjson.dumps(record) + b"\n")
