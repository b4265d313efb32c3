"""Snapshots of a real, sparse stream: one per ``snapshot_min_tweets``, float16, no stale files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from textcl.config import PipelineConfig, config_from_dict
from textcl.embed.word2vec import load_keyed_vectors
from textcl.pipeline import Pipeline

EVENT = "2012_Colorado_wildfires"


def _config(min_tweets: int) -> PipelineConfig:
    return config_from_dict(
        {
            "source": {"format": "crisislex"},
            "word2vec": {"snapshot_min_tweets": min_tweets},
            "keywords": {"enabled": False},
            "drift": {"enabled": False},
        }
    )


def test_snapshots_cover_all_windows_with_enough_tweets_each(
    crisislex_t26: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary = Pipeline(_config(200)).run(crisislex_t26 / EVENT, out_dir=out)
    windows = [json.loads(ln) for ln in (out / "windows.jsonl").read_text().splitlines()]
    index = [json.loads(ln) for ln in (out / "snapshots" / "index.jsonl").read_text().splitlines()]
    assert summary["windows"] == len(windows) > len(index) >= 3
    assert summary["consumers"]["word2vec"]["snapshots"] == len(index)
    # together the snapshots cover every window once, in order, ending with the last one
    assert sum(r["windows"] for r in index) == len(windows)
    assert sum(r["tweets"] for r in index) == summary["tweets"]
    assert all(r["tweets"] >= 200 for r in index[:-1])
    assert index[-1]["window"] == windows[-1]["window"] and index[-1]["end"] == windows[-1]["end"]
    files = sorted((out / "snapshots").glob("window-*.npz"))
    assert [f.name for f in files] == [r["file"] for r in index]
    with np.load(files[0]) as z:
        assert z["vectors"].dtype == np.float16
    kv = load_keyed_vectors(files[-1])
    assert kv.vectors.dtype == np.float32 and kv.tag["tweets"] == index[-1]["tweets"]
    # a fresh run into the same folder keeps none of the earlier run's snapshots
    Pipeline(_config(10**9)).run(crisislex_t26 / EVENT, out_dir=out)
    files = sorted((out / "snapshots").glob("window-*.npz"))
    assert [f.name for f in files] == [f"window-{windows[-1]['window']:05d}.npz"]


def test_neighbours_command_reads_the_model_and_snapshots_and_exports(
    crisislex_t26: Path, tmp_path: Path
) -> None:
    from gensim.models import KeyedVectors
    from typer.testing import CliRunner

    from textcl.cli import app

    out = tmp_path / "out"
    Pipeline(_config(200)).run(crisislex_t26 / EVENT, out_dir=out)
    runner = CliRunner()
    result = runner.invoke(app, ["neighbours", str(out), "fire", "zzznotaword", "-n", "3",
                                 "--export", str(tmp_path / "vectors.txt")])
    assert result.exit_code == 0, result.output
    assert "fire" in result.output and "not in the vocabulary" in result.output
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "vectors.txt"))
    assert "fire" in kv.key_to_index and kv.vector_size == 100
    snapshot = sorted((out / "snapshots").glob("window-*.npz"))[-1]
    result = runner.invoke(app, ["neighbours", str(snapshot), "fire"])
    assert result.exit_code == 0 and "fire" in result.output
    result = runner.invoke(app, ["neighbours", str(tmp_path / "nope"), "fire"])
    assert result.exit_code == 2 and "not found" in result.output


def test_drift_command_keeps_the_stream_report_and_filters_common_words(
    crisislex_t26: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from textcl.cli import app
    from textcl.config import load_config
    from textcl.drift.stream_report import mover_ignore
    from textcl.paths import PROJECT_ROOT

    out = tmp_path / "out"
    config = _config(200)
    config.drift.enabled = True
    Pipeline(config).run(crisislex_t26 / EVENT, out_dir=out)
    stream_report = (out / "drift" / "report.json").read_bytes()
    result = CliRunner().invoke(app, ["drift", str(out / "snapshots")])
    assert result.exit_code == 0, result.output
    assert (out / "drift" / "report.json").read_bytes() == stream_report  # not overwritten
    report = json.loads((out / "drift-query" / "report.json").read_text())
    common = mover_ignore(load_config(PROJECT_ROOT / "pipelines" / "default.toml"))
    assert report["movers"] and not {m["term"] for m in report["movers"]} & common
