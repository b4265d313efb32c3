"""Fuzz the JSON-lines reader: it never raises, and every line is accounted for."""

from __future__ import annotations

import json
from collections import Counter

from helpers import read_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
tweetish = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(
            st.text(max_size=25), st.integers(min_value=-5, max_value=2**64), st.none()
        ),
        "id_str": st.text(max_size=25),
        "text": st.one_of(st.text(max_size=60), st.integers(), st.none()),
        "full_text": st.text(max_size=60),
        "created_at": st.one_of(
            st.text(max_size=30),
            st.integers(min_value=-(2**40), max_value=2**40),
            st.floats(allow_nan=False, allow_infinity=True),
            st.sampled_from(["2026-03-01T00:00:00.000Z", "Sun Mar 01 00:00:12 +0000 2026"]),
        ),
        "lang": json_values,
        "user": json_values,
        "author_id": json_values,
        "labels": json_values,
        "retweeted_status": json_values,
        "referenced_tweets": json_values,
        "extended_tweet": json_values,
        "note_tweet": json_values,
    },
)
lines = st.one_of(
    st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\r" not in b),
    tweetish.map(lambda d: json.dumps(d).encode()),
    tweetish.map(lambda d: json.dumps({"data": d}).encode()),
    st.lists(tweetish, max_size=3).map(lambda ds: json.dumps({"data": ds}).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(lines, min_size=1, max_size=12))
def test_jsonl_reader_never_raises_and_accounts_for_every_line(tmp_path, raw_lines):
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in raw_lines))
    tweets, rejects = read_all(path, "jsonl", max_record_bytes=4096)
    per_line = Counter([t.origin.line for t in tweets] + [r.line for r in rejects])
    assert set(per_line) == set(range(1, len(raw_lines) + 1))
    for number, line in enumerate(raw_lines, start=1):
        try:
            payload = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            payload = None
        is_page = isinstance(payload, dict) and isinstance(payload.get("data"), list)
        if not is_page:
            assert per_line[number] == 1
    for tweet in tweets:
        assert tweet.text.strip() and tweet.id and tweet.created_at.tzinfo is not None
    for reject in rejects:
        assert reject.reason and reject.source == str(path)
