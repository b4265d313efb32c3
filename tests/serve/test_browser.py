"""End to end in a real headless browser (Debian's chromium + chromedriver, via selenium):
`textcl stream --follow --serve` on the sample stream, the page updating live, a label
clicked, the label file and the next selection, and a hostile tweet shown as text."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import HOSTILE_ID, HOSTILE_TEXT, PIPELINE, sample_lines

WAIT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except StaleElementReferenceException:  # the page re-rendered under the check
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.fail("chromium / chromedriver not found: run scripts/setup.sh as root, or "
                    "apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,2200"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def _texts(browser: Any, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, css)]


def test_live_dashboard_labelling_in_a_real_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    lines = sample_lines("2026-03-05")
    days = {day: [ln for ln in lines if f'"created_at":"2026-03-0{day}' in ln
                  or (day == 1 and HOSTILE_ID in ln)] for day in (1, 2, 3, 4)}
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(days[1] + days[2]), encoding="utf-8")
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text(tomli_w.dumps(PIPELINE))
    out, port = tmp_path / "out", _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "textcl", "stream", str(feed), "--follow", "--follow-idle",
         "15", "-p", str(pipeline), "-o", str(out), "--serve", "--port", str(port), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = f"http://127.0.0.1:{port}/"
        _until(lambda: _get_ok(url), "the dashboard to listen")
        browser.get(url)
        # the keyword set shows up and follows the stream
        chips = _until(lambda: _texts(browser, "#keywords .kw-chip"), "keywords on the page")
        final_day1 = {r["term"] for r in _rows(out / "keywords.jsonl") if r["action"] == "in"}
        assert set(chips) <= final_day1
        # a tweet full of HTML is shown as its text, and nothing in it runs
        hostile = _until(lambda: _texts(browser, f'.tweet[data-id="{HOSTILE_ID}"] .text'),
                         "the hostile tweet")
        assert hostile[0] == HOSTILE_TEXT
        assert browser.execute_script("return window.__xss") is None
        assert not browser.find_elements(By.CSS_SELECTOR, "main img, .tweet b, .tweet script")
        # click a label on the first tweet to label
        def label_first() -> tuple[str, str, str] | None:
            """Read the first tweet to label and click its first label (again from the
            start if the queue re-renders meanwhile)."""
            queue = browser.find_elements(By.CSS_SELECTOR, "#queue .tweet")
            if not queue:
                return None
            first = queue[0]
            button = first.find_element(By.CSS_SELECTOR, "button.label-btn")
            found = (first.get_attribute("data-id"),
                     first.find_element(By.CSS_SELECTOR, ".text").text,
                     button.get_attribute("data-value"))
            button.click()
            return found

        tweet_id, tweet_text, value = _until(label_first, "tweets to label")
        _until(lambda: f"topic = {value}" in " ".join(_texts(
            browser, f'#queue .tweet[data-id="{tweet_id}"] .given')), "the label shown")
        rows = _rows(out / "labels.jsonl")
        assert [(r["id"], r["topic"]) for r in rows] == [(tweet_id, value)]
        # the stream goes on: copies of the labelled tweet arrive with the next days
        copies = [json.dumps({"id": str(3_000_000_000_000_000_000 + i), "text": tweet_text,
                              "created_at": f"2026-03-03T00:00:{i:02d}Z"}) + "\n"
                  for i in range(20)]
        with feed.open("a", encoding="utf-8") as handle:
            handle.write("".join(copies + days[3] + days[4][:1]))
        _until(lambda: any(p["window"] == 2 for p in _rows(out / "selection/selection.jsonl")),
               "the next windows' selection")
        later = [p for p in _rows(out / "selection/selection.jsonl") if p["window"] >= 1]
        assert later and all(p["id"] != tweet_id and p["text"] != tweet_text for p in later)
        _until(lambda: any(e.get_attribute("data-id") == later[-1]["id"] for e in
                           browser.find_elements(By.CSS_SELECTOR, "#queue .tweet")),
               "the new picks on the page")
        # the stream's classifier learned the label (joined to its tweet by id)
        summary = _until(lambda: (out / "summary.json").exists() and json.loads(
            (out / "summary.json").read_text()), "the stream to end", timeout=90)
        assert summary["consumers"]["classifier"]["label_files"]["joined"] == 1
        _until(lambda: _texts(browser, "#run-state") == ["done"], "the page to say done")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output = process.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0]
    assert "dashboard: http://127.0.0.1:" in output, output


def _get_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "api/state", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.endswith("}")]
