"""``textcl drift`` and ``textcl neighbours``: what the saved vectors say."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textcl.cli.common import app, error_exit, pipeline_file
from textcl.config import load_config
from textcl.drift.stream_report import mover_ignore


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
            config = load_config(pipeline_file(pipeline))
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
        error_exit(exc)
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
        error_exit(exc)
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
    path = pipeline_file(pipeline)
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

