"""The drift report stays readable on long runs: few, non-overlapping date labels,
binned heatmaps, a keyword timeline, an event list, escaped user strings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from textcl.drift import report_plots as plots
from textcl.drift.report import _slug, write_report
from textcl.drift.stream_report import MAX_EVENTS, stream_events
from textcl.keywords.history import keyword_spans

N = 390  # daily windows, as CrisisLex T26
EVIL = "<script>alert(1)</script>"
DAY0 = datetime(2012, 10, 29, tzinfo=UTC)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso(day: float) -> str:
    return (DAY0 + timedelta(days=day)).isoformat().replace("+00:00", "Z")


def _term_rows(seed: int, n: int = N) -> list[dict[str, Any]]:
    """A term whose neighbours change every 30 windows (similarity: window / n)."""
    rows = []
    for t in range(n):
        neighbours = [[f"w{seed}_{(t // 30 + j) % 45}", round(t / n, 4)] for j in range(10)]
        rows.append(
            {
                "window": t,
                "start": _iso(t),
                "jaccard_prev": None if t == 0 else (t % 7) / 7,
                "jaccard_last": t / (n - 1),
                "cosine_prev": None,
                "lnc_prev": None,
                "neighbours": neighbours,
            }
        )
    return rows


def _result(n: int = N, terms: tuple[str, ...] = ("flood", EVIL)) -> dict[str, Any]:
    return {
        "mode": "snapshots",
        "windows": [{"window": t, "start": _iso(t), "windows": 1} for t in range(n)],
        "terms": {
            term: {"present": True, "windows": _term_rows(i, n)} for i, term in enumerate(terms)
        },
        "movers": [
            {
                "term": EVIL,
                "score": 0.9,
                "split_window": 200,
                "neighbors_first": [["a", 0.5]],
                "neighbors_last": [["b", 0.5]],
            }
        ],
    }


def _stream_out(out: Path, terms: int = 60) -> Path:
    """An OUT folder with a keyword log over ``N`` days, an event log and alarms."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(terms):
        term = EVIL if i == 7 else f"term{i:02d}"
        since, until = (i * 6) % N, min(N, (i * 6) % N + 3 + i)
        rows.append({"time": _iso(since), "term": term, "action": "in", "group": i // 3})
        if until < N:
            rows.append({"time": _iso(until), "term": term, "action": "out", "group": i // 3})
    rows.sort(key=lambda r: r["time"])
    rows.append({"time": _iso(N), "term": "late", "action": "in", "group": 99})
    (out / "keywords.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    events = [
        {
            "group": g,
            "since": _iso(g),
            "until": _iso(g + 5),
            "terms": [f"t{g}", EVIL],
            "peak": g % 9,
        }
        for g in range(MAX_EVENTS + 10)
    ]
    (out / "events.json").write_text(json.dumps(events))
    tweet = {"id": "1", "text": 'flood <b onmouseover="x">here</b> & now', "terms": 1}
    (out / "events.jsonl").write_text(json.dumps({"group": 8, "terms": ["t8"], "tweets": [tweet]}))
    alarm = {"time": _iso(100), "statistic": "oov_rate", "detector": "adwin", "value": 0.06}
    (out / "alarms.jsonl").write_text(json.dumps(alarm) + "\n")
    return out


def _assert_readable_axis(fig: Any, ax: Any) -> list[str]:
    """Visible date labels: at least two, at most the cap, none overlapping."""
    fig.canvas.draw()
    boxes = plots.tick_boxes(fig, ax)
    texts = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    assert 2 <= len(boxes) <= plots.MAX_TICK_LABELS, texts
    for left, right in pairwise(boxes):
        assert right.x0 > left.x1, texts
    assert all(DATE.match(t) for t in texts), texts
    return texts


@pytest.fixture(scope="module")
def labels() -> list[str]:
    return plots.window_labels(_result()["windows"])


def test_window_labels_are_dates(labels: list[str]) -> None:
    assert labels[0] == "2012-10-29" and labels[-1] == _iso(N - 1)[:10]
    hourly = [{"start": f"2012-10-29T{h:02d}:00:00Z"} for h in range(3)]
    assert plots.window_labels(hourly)[1] == "2012-10-29 01:00"
    assert plots.window_labels([{"window": 4}, {"window": 5}]) == ["4", "5"]


def test_column_bins_cover_every_window_once() -> None:
    for n in (1, 59, 60, 61, N, 1000):
        bins = plots.column_bins(n)
        assert len(bins) <= plots.MAX_COLUMNS
        assert [t for b in bins for t in b] == list(range(n))
    assert len(plots.column_bins(20)) == 20  # short runs are not binned


def test_neighbour_timeline_is_binned_with_readable_dates(labels: list[str]) -> None:
    result = _result()
    fig = plots.timeline_figure("flood", result["terms"]["flood"], labels)
    ax = fig.axes[0]
    mat = ax.images[0].get_array()
    assert plots.MAX_COLUMNS // 2 <= mat.shape[1] <= plots.MAX_COLUMNS
    bins = plots.column_bins(N)
    # a column is the mean over its windows (the similarity here is window / N)
    first = result["terms"]["flood"]["windows"][0]["neighbours"][0][0]
    row = [t.get_text() for t in ax.get_yticklabels()].index(first)
    expected = sum(round(t / N, 4) for t in bins[0]) / len(bins[0])
    assert mat[row, 0] == pytest.approx(expected, abs=1e-6)
    texts = _assert_readable_axis(fig, ax)
    assert texts[0] == "2012-10-29"
    assert fig.get_size_inches()[0] <= plots.FIG_WIDTH
    plt.close(fig)


def test_change_plot_is_binned_with_readable_dates(labels: list[str]) -> None:
    fig = plots.change_figure(_result(), labels)
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert len(heatmaps) == 2
    assert all(ax.images[0].get_array().shape[1] <= plots.MAX_COLUMNS for ax in heatmaps)
    _assert_readable_axis(fig, heatmaps[1])
    plt.close(fig)


def test_keyword_timeline_rows_and_dates(tmp_path: Path) -> None:
    out = _stream_out(tmp_path / "out")
    timeline = keyword_spans(out / "keywords.jsonl", plots.MAX_KEYWORD_ROWS)
    assert len(timeline["terms"]) == plots.MAX_KEYWORD_ROWS
    held = {t["term"]: t["held_days"] for t in timeline["terms"]}
    assert "term59" in held and "term00" not in held  # the longest held are kept
    fig = plots.keyword_figure(timeline)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == plots.MAX_KEYWORD_ROWS
    assert len(ax.collections) == plots.MAX_KEYWORD_ROWS  # a bar row per term
    _assert_readable_axis(fig, ax)
    plt.close(fig)


def test_stream_report_has_keyword_timeline_events_and_escapes(tmp_path: Path) -> None:
    out = _stream_out(tmp_path / "out")
    result = {**_result(), **stream_events(out)}
    assert len(result["events"]) == MAX_EVENTS and result["events_total"] == MAX_EVENTS + 10
    assert result["alarms"][0]["statistic"] == "oov_rate"
    paths = write_report(result, out / "drift")
    page = paths["html"].read_text(encoding="utf-8")
    assert "png:keywords.png" in paths and 'alt="keyword timeline' in page
    assert "<h2>Events (40 of 50" in page and "<h2>Drift alarms</h2>" in page
    assert "oov_rate" in page
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b onmouseover" not in page and "flood &lt;b onmouseover=" in page
    md = paths["md"].read_text(encoding="utf-8")
    assert "## Events (40 of 50" in md and "![keyword timeline" in md
    assert EVIL not in md and "&lt;script&gt;" in md


def test_events_fall_back_to_event_alarms(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    alarm = {
        "time": _iso(3),
        "statistic": "event",
        "detector": "keywords",
        "value": 4,
        "group": 2,
        "since": _iso(1),
        "terms": ["a", "b", "c", "d"],
    }
    (out / "alarms.jsonl").write_text(json.dumps(alarm) + "\n")
    found = stream_events(out)
    assert found["events"] == [
        {"group": 2, "since": _iso(1), "until": None, "terms": ["a", "b", "c", "d"], "peak": 4}
    ]
    assert "alarms" not in found and "keyword_timeline" not in found


def test_file_names_and_plot_text_of_emoji() -> None:
    assert _slug("❤️") == "u2764"
    assert _slug("#tgif") == "tgif"
    assert _slug("café") == "cafe"
    assert plots.plot_text("🔥 fire") == "U+1F525 fire"
    assert "FE0F" not in plots.plot_text("❤️")  # the variation selector is invisible


def test_the_axis_check_catches_crowded_labels(labels: list[str]) -> None:
    fig, ax = plt.subplots(figsize=(plots.FIG_WIDTH, 3))
    ax.set_xlim(-0.5, N - 0.5)
    ax.set_xticks(range(0, N, 5), labels[::5])  # 78 labels: what the report used to draw
    with pytest.raises(AssertionError):
        _assert_readable_axis(fig, ax)
    ax.set_xticks(range(0, N, 30), labels[::30], fontsize=plots.TICK_FONT)  # 13, spaced
    _assert_readable_axis(fig, ax)
    plt.close(fig)
