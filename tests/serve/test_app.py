"""The dashboard's web app on a finished run: what it shows matches the run's files, and
the label endpoint takes only well-formed labels of tweets on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from textcl.serve import create_app


@pytest.fixture
def client(finished_run: Path, tmp_path: Path) -> TestClient:
    (finished_run / "labels.jsonl").unlink(missing_ok=True)
    return TestClient(create_app(finished_run))


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_page_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<title>textcl dashboard</title>" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/../../pyproject.toml").status_code == 404


def test_state_matches_the_run_files(client: TestClient, finished_run: Path) -> None:
    state = client.get("/api/state").json()
    summary = json.loads((finished_run / "summary.json").read_text())
    final = json.loads((finished_run / "keywords_final.json").read_text())
    assert {m["term"] for m in state["keywords"]["members"]} == {k["term"] for k in final}
    assert state["keywords"]["transitions"] == len(_rows(finished_run / "keywords.jsonl"))
    events = _rows(finished_run / "events.jsonl")
    last = max(e["window"] for e in events)
    assert {e["group"] for e in state["events"]["live"]} == {
        e["group"] for e in events if e["window"] == last}
    assert all(e["tweets"] for e in state["events"]["live"])  # each with example tweets
    assert state["rejects"]["count"] == summary["rejected"]
    assert state["windows"]["count"] == summary["windows"]
    assert state["progress"]["state"] == "done" and state["finished"]
    assert state["progress"]["processed"] == summary["processed"]
    growth = [r["class"] for r in _rows(finished_run / "classifier/topic/growth.jsonl")]
    assert state["classifiers"]["topic"]["classes"] == growth
    assert len(state["classifiers"]["topic"]["metrics"]) == summary["windows"]
    picks = _rows(finished_run / "selection/selection.jsonl")
    assert [p["id"] for p in state["selection"]["picks"]] == [p["id"] for p in picks][::-1]
    assert state["label_names"] == ["topic"]
    assert state["drift"]["terms"], "the followed terms' neighbours per window"


def test_a_label_click_is_written_once_to_the_label_file(client: TestClient,
                                                         finished_run: Path) -> None:
    pick = client.get("/api/state").json()["selection"]["picks"][0]
    body = {"id": pick["id"], "name": "topic", "value": "chatter"}
    first = client.post("/api/label", json=body)
    assert first.status_code == 200 and first.json()["written"] is True
    assert client.post("/api/label", json=body).json()["written"] is False
    rows = _rows(finished_run / "labels.jsonl")
    assert [(r["id"], r["topic"]) for r in rows] == [(pick["id"], "chatter")]
    assert rows[0]["text"] == pick["text"]  # the text comes from the run, not the request
    assert client.get("/api/state").json()["labels"] == {pick["id"]: {"topic": "chatter"}}


def test_labels_of_unknown_tweets_or_labels_or_from_other_sites_are_refused(
        client: TestClient, finished_run: Path) -> None:
    pick = client.get("/api/state").json()["selection"]["picks"][0]["id"]
    cases = [
        ({"id": "1", "name": "topic", "value": "x"}, {}, 404),  # not on the page
        ({"id": pick, "name": "mood", "value": "x"}, {}, 400),  # no such classifier
        ({"id": pick, "name": "topic", "value": ""}, {}, 400),
        ({"id": pick, "name": "topic", "value": "x"}, {"origin": "http://evil.example"}, 403),
    ]
    for body, headers, status in cases:
        response = client.post("/api/label", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]
    plain = client.post("/api/label", content=b"id=1", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    assert not (finished_run / "labels.jsonl").exists()


def test_with_a_token_labels_need_it(finished_run: Path) -> None:
    (finished_run / "labels.jsonl").unlink(missing_ok=True)
    client = TestClient(create_app(finished_run, token="s3cret"))
    assert client.get("/api/state").json()["token_required"] is True
    pick = client.get("/api/state").json()["selection"]["picks"][0]["id"]
    body = {"id": pick, "name": "topic", "value": "chatter"}
    assert client.post("/api/label", json=body).status_code == 401
    assert client.post("/api/label", json=body,
                       headers={"x-textcl-token": "wrong"}).status_code == 401
    response = client.post("/api/label", json=body, headers={"x-textcl-token": "s3cret"})
    assert response.status_code == 200, response.text
    (finished_run / "labels.jsonl").unlink()
