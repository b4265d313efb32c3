"""A new user's real files: TSV, byte-order marks, piped CSV, a .gz without inner suffix,
an output path that is a file, a snapshot folder that does not exist."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from helpers import read_all
from typer.testing import CliRunner

from textcl.cli import app

EVENT = "2012_Colorado_wildfires"
runner = CliRunner()


@pytest.fixture(scope="module")
def rows(crisislex_t26: Path) -> list[list[str]]:
    """Header + the first 300 rows of a real CrisisLex CSV."""
    path = crisislex_t26 / EVENT / f"{EVENT}-tweets_labeled.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for _, r in zip(range(301), csv.reader(fh), strict=False)]


def _write(rows: list[list[str]], delimiter: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_delimited_files_are_sniffed(rows, tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / ("t.tsv" if delimiter == "\t" else "t.csv")
    path.write_text(_write(rows, delimiter), encoding="utf-8")
    tweets, rejects = read_all(path)
    assert len(tweets) + len(rejects) == 300 and len(tweets) >= 290
    assert tweets[0].id == rows[1][0] and tweets[0].text.startswith("#Intern")


def test_byte_order_marks_are_not_data(rows, tmp_path: Path) -> None:
    bom = "\ufeff"
    csv_path = tmp_path / "bom.csv"
    csv_path.write_text(bom + _write(rows, ","), encoding="utf-8")
    tweets, rejects = read_all(csv_path)
    assert len(tweets) + len(rejects) == 300 and tweets[0].id == rows[1][0]
    jsonl = tmp_path / "bom.jsonl"
    lines = [json.dumps({"id": r[0], "text": r[1]}) for r in rows[1:4]]
    jsonl.write_text(bom + "\n".join(lines) + "\n", encoding="utf-8")
    tweets, rejects = read_all(jsonl)
    assert [t.id for t in tweets] == [r[0] for r in rows[1:4]] and not rejects


def test_csv_is_recognised_by_content_on_stdin_and_in_bare_gz(rows, tmp_path: Path) -> None:
    text = _write(rows, ",")
    out = tmp_path / "piped"
    result = runner.invoke(app, ["stream", "-", "--out", str(out), "--quiet"], input=text)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["format"] == "csv" and summary["read"] == 300  # the header is no tweet
    bare = tmp_path / "feed.gz"
    bare.write_bytes(gzip.compress(text.encode("utf-8")))
    tweets, _ = read_all(bare)
    assert len(tweets) >= 290 and tweets[0].id == rows[1][0]


def test_output_path_that_is_a_file_and_missing_snapshot_folder(rows, tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text(_write(rows[:20], ","), encoding="utf-8")
    target = tmp_path / "out.txt"
    target.write_text("not a folder")
    result = runner.invoke(app, ["stream", str(src), "--out", str(target), "--quiet"])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["drift", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such folder" in result.output


def test_unsorted_and_untimed_inputs_warn(shared_data: Path, tmp_path: Path) -> None:
    from textcl.config import config_from_dict
    from textcl.pipeline import Pipeline

    off = {"word2vec": {"enabled": False}, "keywords": {"enabled": False},
           "drift": {"enabled": False}}
    t6 = shared_data / "crisislex" / "T6" / "2013_Boston_Bombings-ontopic_offtopic.csv"
    summary = Pipeline(config_from_dict(off)).run(t6, out_dir=tmp_path / "t6")
    assert summary["late"] > 1000 and summary["windows"] == 1
    assert any("not in time order" in w for w in summary["warnings"])
    text = shared_data / "tweeteval" / "emotion" / "train_text.txt"
    summary = Pipeline(config_from_dict(off)).run(text, out_dir=tmp_path / "te")
    assert summary["late"] == 0 and any("one window of 1d" in w for w in summary["warnings"])
    counted = config_from_dict({**off, "window": {"every": "1000"}})
    summary = Pipeline(counted).run(text, out_dir=tmp_path / "te2")
    assert summary["windows"] > 1 and summary["warnings"] == []


def test_sort_puts_an_unsorted_file_in_time_order(shared_data: Path, tmp_path: Path) -> None:
    """CrisisLex T6's Boston file is not in time order: --sort gives its 5 days as 5
    windows, none late, no warning; an external sort of many small runs reads the same."""
    from textcl.config import config_from_dict
    from textcl.input.readers import TweetReader
    from textcl.input.sort import TimeSorted
    from textcl.pipeline import Pipeline

    t6 = shared_data / "crisislex" / "T6" / "2013_Boston_Bombings-ontopic_offtopic.csv"
    off = {"word2vec": {"enabled": False}, "keywords": {"enabled": False},
           "drift": {"enabled": False}, "source": {"sort": True}}
    summary = Pipeline(config_from_dict(off)).run(t6, out_dir=tmp_path / "sorted")
    assert summary["windows"] == 5 and summary["late"] == 0 and summary["warnings"] == []
    assert summary["read"] == summary["processed"] + summary["rejected"] > 10_000
    in_memory = list(TimeSorted(TweetReader(t6), run_size=10**9))
    spilled = TimeSorted(TweetReader(t6), run_size=997)
    external = list(spilled)
    assert spilled.runs > 10 and external == in_memory
    times = [t.created_at for t in external]
    assert times == sorted(times)


def test_sort_refuses_a_followed_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from textcl.cli import app

    f = tmp_path / "t.txt"
    f.write_text("hello\n")
    result = CliRunner().invoke(app, ["stream", str(f), "--sort", "--follow", "-o",
                                      str(tmp_path / "o")])
    assert result.exit_code == 2 and "--sort" in result.output
