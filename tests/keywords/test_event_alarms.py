"""Event alarms (a new event group entering the keyword set) and the event log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from textcl.config import config_from_dict
from textcl.keywords.eventlog import EventLog
from textcl.paths import sample_stream_path, sample_truth_path
from textcl.pipeline import Pipeline

KEYWORDS_ONLY = {"word2vec": {"enabled": False}, "drift": {"enabled": False},
                 "output": {"checkpoint": False}}
DAY = timedelta(days=1)


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    Pipeline(config_from_dict(KEYWORDS_ONLY)).run(sample_stream_path(), out_dir=out)
    return out


def test_each_planted_event_raises_one_event_alarm_on_its_first_day(sample_run: Path) -> None:
    truth = json.loads(sample_truth_path().read_text(encoding="utf-8"))
    alarms = [a for a in _jsonl(sample_run / "alarms.jsonl") if a["statistic"] == "event"]
    for event in truth["events"]:
        start = _iso(event["start"])
        # the window holding the start, or the next one (an event starting late at night)
        found = [a for a in alarms if start < _iso(a["time"]) <= start + 2 * DAY]
        named = [a for a in found if len(set(a["terms"]) & set(event["keywords"])) >= 3]
        assert len(named) == 1, (event["name"], found)
    summary = json.loads((sample_run / "summary.json").read_text())
    assert summary["consumers"]["keywords"]["event_alarms"] == len(alarms)


def test_event_alarms_can_be_switched_off(tmp_path: Path) -> None:
    config = config_from_dict({**KEYWORDS_ONLY, "keywords": {"event_alarm_terms": 0}})
    Pipeline(config).run(sample_stream_path(), out_dir=tmp_path)
    assert not [a for a in _jsonl(tmp_path / "alarms.jsonl") if a["statistic"] == "event"]


def test_a_stream_whose_event_is_over_still_reports_it(shared_data: Path, tmp_path: Path) -> None:
    """CrisisLex Boston bombings: weeks of a trickle after the event, so the final set is
    empty, but the summary's past events name the bombing of 15 April."""
    boston = shared_data / "crisislex" / "T26" / "2013_Boston_bombings"
    config = config_from_dict({**KEYWORDS_ONLY, "source": {"format": "crisislex"}})
    summary = Pipeline(config).run(boston, out_dir=tmp_path)
    keywords = summary["consumers"]["keywords"]
    assert keywords["set_size"] == 0
    top = keywords["past_events"][0]
    assert top["since"].startswith("2013-04-15") and top["peak"] >= 20
    assert {"#prayforboston", "boston", "marathon"} & set(top["terms"])


def test_event_log_merges_groups_and_round_trips() -> None:
    log = EventLog()
    ins = [{"time": "t1", "term": "a", "action": "in", "group": 1},
           {"time": "t1", "term": "b", "action": "in", "group": 2}]
    log.record(ins, "t0", {1: ["a"], 2: ["b"]})
    log.merge([(2, 1)])
    log.record([{"time": "t2", "term": "a", "action": "out", "group": 1}], "t1", {1: ["b"]})
    assert log.events()[0]["until"] is None  # b is still in
    log.record([{"time": "t3", "term": "b", "action": "out", "group": 1}], "t2", {})
    (event,) = log.events(ended_only=True)
    assert event == {"group": 1, "since": "t0", "until": "t3", "terms": ["a", "b"], "peak": 1}
    again = EventLog()
    again.load_state_dict(json.loads(json.dumps(log.state_dict())))
    assert again.events() == log.events()
