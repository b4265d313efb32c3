"""The one retweet-prefix stripper: ``RT @user:`` heads, on raw text and on tokens; and the
key that a tweet shares with its copies."""

from __future__ import annotations

import re
from collections.abc import Sequence

RETWEET_TEXT = re.compile(r"^(?:\s*RT\s+@\w+\s*:?\s*)+", re.IGNORECASE)


def is_retweet_text(text: str) -> bool:
    """Whether ``text`` starts with an ``RT @user`` prefix (any case)."""
    return RETWEET_TEXT.match(text) is not None


def strip_retweet_text(text: str) -> str:
    """``text`` without its leading ``RT @user:`` prefixes (all of them, when nested)."""
    return RETWEET_TEXT.sub("", text, count=1)


def strip_retweet(tokens: list[str]) -> list[str]:
    """``tokens`` without leading ``rt @user [:]`` groups, so a retweet matches its original.

    Works on raw tokens (``RT``, ``@name``) and on normalised ones (``rt``, ``@user``).
    """
    i, n = 0, len(tokens)
    while i + 1 < n and tokens[i].lower() == "rt" and tokens[i + 1].startswith("@"):
        i += 2
        if i < n and tokens[i] == ":":
            i += 1
    return tokens[i:] if i else tokens


def copy_key(tokens: Sequence[str]) -> str:
    """A tweet's distinct words, sorted: the same for its retweets and exact copies."""
    return " ".join(sorted(set(tokens)))
