"""Small helpers for writing test inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

from textcl.stream.readers import TweetReader
from textcl.stream.rejects import Reject
from textcl.types import Tweet


def write_lines(path: Path, lines: list[bytes | str], gz: bool = False) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode("utf-8")) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def split(items) -> tuple[list[Tweet], list[Reject]]:
    tweets, rejects = [], []
    for item in items:
        (rejects if isinstance(item, Reject) else tweets).append(item)
    return tweets, rejects


def read_all(path: Path | str, fmt: str = "auto", **kw) -> tuple[list[Tweet], list[Reject]]:
    return split(TweetReader(path, fmt, **kw))
