"""A consumer is one module plus one registry line: its section, build and summary rows
reach the pipeline file, the run, the checkpoint and the ``textcl stream`` table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

MODULE = '''
"""Counts the tweets that mention one word (the consumer a newcomer would write)."""
from typing import Any

from pydantic import Field

from textcl.consumers.spec import BuildContext, ConsumerSpec
from textcl.section import Section


class MentionsSection(Section):
    enabled: bool = True
    word: str = "crash"
    every: int = Field(default=1, gt=0)


class Mentions:
    name = "mentions"

    def __init__(self, word: str) -> None:
        self.word, self.count, self.windows = word, 0, 0

    def update(self, batch) -> None:
        self.count += sum(self.word in tokens for tokens in batch.tokens)

    def end_window(self, window) -> None:
        self.windows += 1

    def summary(self) -> dict[str, Any]:
        return {"word": self.word, "count": self.count, "windows": self.windows}

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "windows": self.windows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.windows = state["count"], state["windows"]


def _build(context: BuildContext):
    section = context.section("mentions")
    return Mentions(section.word) if section.enabled else None


SPEC = ConsumerSpec(
    name="mentions", section=MentionsSection, build=_build,
    rows=lambda s: [(f"tweets mentioning {s['word']}", f"{s['count']:,}")],
    files=lambda s: [],
)
'''

DRIVER = '''
import sys
import textcl.consumers.registry as registry
registry.CONSUMER_MODULES.append("mentions_consumer")  # the one registry line
from textcl.cli import app
app(sys.argv[1:])
'''


def _textcl(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(folder / "driver.py"), *args], capture_output=True, text=True,
        cwd=folder, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )


def test_a_new_consumer_module_and_one_registry_line_make_a_working_consumer(
    tmp_path: Path,
) -> None:
    (tmp_path / "mentions_consumer.py").write_text(textwrap.dedent(MODULE), encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('[mentions]\nword = "quake"\n[word2vec]\nenabled = false\n',
                        encoding="utf-8")
    shown = _textcl(tmp_path, "config", "show", "-p", str(pipeline))
    assert shown.returncode == 0, shown.stderr
    assert '[mentions]\nenabled = true\nword = "quake"' in shown.stdout

    out = tmp_path / "out"
    run = _textcl(tmp_path, "stream", "-p", str(pipeline), "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    mentions = summary["consumers"]["mentions"]
    assert mentions["word"] == "quake" and mentions["count"] > 100
    assert mentions["windows"] == summary["windows"]
    (row,) = [line for line in run.stdout.splitlines() if "tweets mentioning quake" in line]
    assert f"{mentions['count']:,}" in row

    bad = tmp_path / "bad.toml"
    bad.write_text('[mentions]\nwrod = "x"\n', encoding="utf-8")
    refused = _textcl(tmp_path, "stream", "-p", str(bad), "--out", str(tmp_path / "o2"))
    assert refused.returncode == 2
    assert "[mentions] unknown key 'wrod'; allowed keys: enabled, word, every" in (
        refused.stderr + refused.stdout)
