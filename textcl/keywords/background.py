"""Background corpora for distinctiveness: term counts of ordinary, non-event text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from textcl.stream.tokenize import TweetTokenizer


def background_counts(paths: Iterable[str | Path], tokenizer: TweetTokenizer) -> Counter[str]:
    """Token counts of plain-text files (one document per line, gzip not supported)."""
    counts: Counter[str] = Counter()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: background corpus file not found")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for tokens in tokenizer.tokenize_many(lines):
            counts.update(tokens)
    return counts
