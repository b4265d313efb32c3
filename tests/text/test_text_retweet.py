"""One retweet stripper serves duplicate collapsing, keyword counting and selection."""

from __future__ import annotations

from datetime import UTC, datetime

from textcl.text.dedup import Deduplicator
from textcl.text.retweet import is_retweet_text, strip_retweet, strip_retweet_text
from textcl.types import Tweet


def test_nested_and_lowercase_prefixes_are_stripped_from_text():
    assert strip_retweet_text("RT @a: RT @b: floods in town") == "floods in town"
    assert strip_retweet_text("rt @a floods") == "floods"
    assert is_retweet_text("RT @a: x") and not is_retweet_text("ART @a: x")
    # a colon later in the text is not a retweet head (the old stripper cut there)
    assert strip_retweet_text("RT @a hello: world") == "hello: world"


def test_raw_and_normalised_tokens_lose_the_same_head():
    assert strip_retweet(["RT", "@bob", ":", "help", "needed"]) == ["help", "needed"]
    assert strip_retweet(["rt", "@user", "rt", "@user", "help"]) == ["help"]
    assert strip_retweet(["rt", "is", "an", "abbreviation"]) == ["rt", "is", "an", "abbreviation"]
    assert strip_retweet(["@user", "thanks"]) == ["@user", "thanks"]  # a reply is kept


def test_a_nested_retweet_collapses_onto_its_original():
    dedup = Deduplicator()
    moment = datetime(2013, 1, 1, tzinfo=UTC)
    original = Tweet("1", moment, "floods in the city centre")
    assert dedup.check(original) is None
    for i, text in enumerate(["RT @a: floods in the city centre",
                              "RT @b: RT @a: floods in the city centre"]):
        assert dedup.check(Tweet(str(i + 2), moment, text)) is not None, text
    assert dedup.collapsed_retweets == 2
