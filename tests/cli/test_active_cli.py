"""`textcl select` and `textcl label`: the labelling loop from the command line."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from textcl.cli import app
from textcl.cli.active import read_labels
from textcl.paths import sample_truth_path

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def selection(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("select")
    result = invoke("select", "-k", "4", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    return out


def test_select_respects_the_budget_and_never_picks_a_tweet_twice(selection: Path) -> None:
    rows = [json.loads(line) for line in (selection / "selection.jsonl").open()]
    per_window: dict[int, int] = {}
    for row in rows:
        per_window[row["window"]] = per_window.get(row["window"], 0) + 1
    assert per_window and max(per_window.values()) <= 4
    assert len({r["id"] for r in rows}) == len(rows)
    texts = [r["text"].lower().removeprefix("rt ") for r in rows]
    assert len(set(texts)) == len(texts)
    assert all(r["reason"] for r in rows)
    summary = json.loads((selection / "summary.json").read_text())
    assert summary["consumers"]["selection"]["selected"] == len(rows)
    assert summary["read"] == summary["processed"] + summary["rejected"]


def test_select_puts_planted_event_tweets_first_while_an_event_runs(selection: Path) -> None:
    truth = json.loads(sample_truth_path().read_text())
    rows = [json.loads(line) for line in (selection / "selection.jsonl").open()]
    hits = total = 0
    for row in rows:
        when = _time(row["created_at"])
        live = [e for e in truth["events"] if _time(e["start"]) <= when <= _time(e["end"])]
        if not live or row["window"] == 0:
            continue
        total += 1
        words = {k for e in live for k in e["keywords"]}
        hits += any(w in row["text"].lower() for w in words)
    assert total >= 20
    assert hits / total >= 0.8, f"{hits}/{total} picks during events name an event keyword"


def test_labels_come_back_and_the_next_selection_uses_the_model(
    selection: Path, tmp_path: Path
) -> None:
    rows = list(csv.DictReader((selection / "selection.csv").open()))
    for row in rows:
        text = row["text"].lower()
        row["label"] = "fire" if "fire" in text or "smoke" in text else "other"
    labelled = tmp_path / "labelled.csv"
    with labelled.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    model = tmp_path / "model"
    result = invoke("label", str(labelled), "-m", str(model))
    assert result.exit_code == 0, result.output
    meta = json.loads((model / "meta.json").read_text())
    assert sorted(meta["classes"]) == ["fire", "other"] and meta["labelled"] == len(rows)
    # the same file again: each id is stored once, nothing is learned twice
    again = invoke("label", str(labelled), "-m", str(model))
    assert again.exit_code == 0 and "already known, skipped" in again.output
    meta = json.loads((model / "meta.json").read_text())
    assert meta["rounds"] == 1 and meta["labelled"] == len(rows)
    # three labels changed: they replace the old ones; the model is scored on them first
    for row in rows[:3]:
        row["label"] = "other" if row["label"] == "fire" else "fire"
    with labelled.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    changed = invoke("label", str(labelled), "-m", str(model))
    assert changed.exit_code == 0, changed.output
    assert "accuracy on them, before learning" in changed.output
    meta = json.loads((model / "meta.json").read_text())
    assert meta["rounds"] == 2 and meta["labelled"] == len(rows)
    held = [json.loads(line) for line in (model / "labelled.jsonl").open()]
    assert {r["id"]: r["label"] for r in held}[rows[0]["id"]] == rows[0]["label"]
    out = tmp_path / "next"
    result = invoke("select", "-k", "2", "-o", str(out), "-q", "-m", str(model))
    assert result.exit_code == 0, result.output
    picks = [json.loads(line) for line in (out / "selection.jsonl").open()]
    assert any("uncertain" in p["reason"] for p in picks)
    assert not {p["id"] for p in picks} & {r["id"] for r in rows}  # labelled: not re-picked


def test_a_damaged_label_model_is_refused_with_the_reason(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "meta.json").write_text(json.dumps({"format": "something-else"}))
    result = invoke("select", "-k", "2", "-o", str(tmp_path / "o"), "-q", "-m", str(model))
    assert result.exit_code == 2
    assert "format" in result.output and "meta.json" in result.output


def test_labels_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("id,tweet,label\n1,flood,news\n")
    with pytest.raises(ValueError, match=r"labels.csv:1: missing column\(s\) text"):
        read_labels(bad)
    bad.write_text("id,text,label\n1,flood,news\n2,,news\n3,fire,\n")
    with pytest.raises(ValueError, match=r"labels.csv:3: labelled row has no text"):
        read_labels(bad)
    bad.write_text("id,text,label\n1,flood,news\n3,fire,\n")
    assert read_labels(bad) == (["1"], ["flood"], ["news"], 1)
    result = invoke("label", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "not found" in result.output


def test_the_first_window_is_contrasted_with_ordinary_text(crisislex_t26: Path, tmp_path) -> None:
    """With no earlier window, picks are not just the first tweets (tied scores): the
    window is contrasted with the embedded wordfreq background."""
    event = crisislex_t26 / "2012_Colorado_wildfires"
    out = tmp_path / "sel"
    result = invoke("select", str(event), "-f", "crisislex", "-k", "5", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "selection.jsonl").open()]
    first = [r for r in rows if r["window"] == rows[0]["window"]]
    assert len(first) == 5
    assert sum("rare in background" in r["reason"] for r in first) >= 3, first[0]["reason"]
    from textcl.keywords.tracker import default_ignore

    cited = {t.strip() for r in rows for part in r["reason"].split(": ")[2:]
             for t in part.split(")")[0].split(",")}
    assert cited and not cited & default_ignore(), cited & default_ignore()
    from textcl.input.readers import read_tweets

    earliest = sorted(read_tweets(event, "crisislex"), key=lambda t: t.created_at)[:5]
    assert {r["id"] for r in first} != {t.id for t in earliest}


def test_textcl_label_learns_the_dashboards_label_file(tmp_path: Path) -> None:
    """The dashboard writes OUT/labels.jsonl; `textcl label` teaches its latest labels."""
    from textcl.cli.active import read_labels_jsonl
    from textcl.serve.labels import LabelStore

    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    store.add("1", "topic", "flood", "levee breach sandbags on main street")
    store.add("2", "topic", "fire", "smoke and embers over the ridge")
    store.add("1", "topic", "storm", "levee breach sandbags on main street")  # changed
    assert read_labels_jsonl(path, None) == (
        ["1", "2"], ["levee breach sandbags on main street", "smoke and embers over the ridge"],
        ["storm", "fire"], 0)
    model = tmp_path / "model"
    result = invoke("label", str(path), "-m", str(model))
    assert result.exit_code == 0, result.output
    assert "storm" in result.output and "fire" in result.output
    path.write_text('{"id": "3", "text": "x", "topic": "a", "mood": "b"}\nnot json\n')
    with pytest.raises(ValueError, match=r"labels.jsonl:1: .*--name"):
        read_labels_jsonl(path, None)
    with pytest.raises(ValueError, match=r"labels.jsonl:2: not JSON"):
        read_labels_jsonl(path, "mood")
