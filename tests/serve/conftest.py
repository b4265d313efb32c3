"""A finished run of the sample stream's first days (classifier, selection, word2vec), with
a tweet full of HTML planted in it, for the dashboard tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from textcl.config import config_from_dict
from textcl.paths import sample_stream_path
from textcl.pipeline import Pipeline

HOSTILE_TEXT = ('<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> '
                "<b>phishing</b> encrypted ransomware trojan antivirus malware")
HOSTILE_ID = "2028000000000000001"
PIPELINE = {
    "classifier": {"labels": ["topic"]},
    "selection": {"enabled": True, "budget": 5},
    "drift": {"enabled": False},
    "output": {"checkpoint": False},
}


def sample_lines(until: str) -> list[str]:
    """The sample stream's lines before ``until`` (an ISO day), one hostile tweet added."""
    lines = []
    with gzip.open(sample_stream_path(), "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if f'"created_at":"{until}' in line:
                break
            lines.append(line)
    hostile = {"id": HOSTILE_ID, "text": HOSTILE_TEXT, "created_at": "2026-03-01T12:00:00Z"}
    lines.insert(len(lines) // 8, json.dumps(hostile) + "\n")
    return lines


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    source = folder / "feed.jsonl"
    source.write_text("".join(sample_lines("2026-03-05")), encoding="utf-8")
    out = folder / "out"
    Pipeline(config_from_dict(PIPELINE, "test")).run(source, out)
    return out
