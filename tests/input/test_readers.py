"""Readers on good and malformed input: every line is a tweet or a reject with a reason."""

from __future__ import annotations

import gzip
import io
import json
import sys
from datetime import UTC, datetime

import pytest
from helpers import read_all, write_lines

from textcl.input.csvfile import ColumnMap
from textcl.input.readers import TweetReader
from textcl.input.timeparse import snowflake_time

V2 = {
    "id": "1501",
    "text": "flood in the valley #flood",
    "created_at": "2026-03-01T10:00:00.000Z",
    "lang": "en",
    "author_id": "42",
}
V11 = {
    "id_str": "1502",
    "full_text": "full text wins",
    "text": "short",
    "created_at": "Sun Mar 01 10:00:05 +0000 2026",
    "lang": "es",
    "user": {"id_str": "7"},
}


def test_jsonl_v2_flat_envelope_and_page(tmp_path):
    page = {"data": [dict(V2, id="1"), dict(V2, id="2")], "meta": {"next_token": "x"}}
    path = write_lines(
        tmp_path / "a.jsonl", [json.dumps(V2), json.dumps({"data": V2}), json.dumps(page)]
    )
    tweets, rejects = read_all(path)
    assert rejects == []
    assert [t.id for t in tweets] == ["1501", "1501", "1", "2"]
    first = tweets[0]
    assert first.text == "flood in the valley #flood"
    assert first.created_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert (first.lang, first.author_id) == ("en", "42")
    assert (first.origin.source, first.origin.line, first.origin.offset) == (str(path), 1, 0)
    assert tweets[1].origin.line == 2 and tweets[1].origin.offset == len(json.dumps(V2)) + 1


def test_jsonl_v11_text_precedence_dates_and_retweets(tmp_path):
    ext = dict(V11, id_str="1503", extended_tweet={"full_text": "extended text wins"})
    rt = {
        "id_str": "1504",
        "text": "RT @ana: trunc…",
        "created_at": "Sun Mar 01 11:00:00 +0000 2026",
        "retweeted_status": {
            "id_str": "1400",
            "full_text": "the whole original",
            "user": {"screen_name": "ana"},
        },
    }
    v2rt = dict(V2, id="1505", referenced_tweets=[{"type": "retweeted", "id": "1300"}])
    path = write_lines(tmp_path / "b.jsonl", [json.dumps(x) for x in (V11, ext, rt, v2rt)])
    tweets, rejects = read_all(path)
    assert rejects == []
    assert [t.text for t in tweets[:3]] == [
        "full text wins",
        "extended text wins",
        "RT @ana: the whole original",
    ]
    assert tweets[0].created_at == datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
    assert tweets[0].author_id == "7" and tweets[0].lang == "es"
    assert tweets[2].retweet_of == "1400"
    assert tweets[3].retweet_of == "1300"


def test_jsonl_time_from_snowflake_when_no_created_at(tmp_path):
    path = write_lines(tmp_path / "c.jsonl", ['{"id": "211040709124440064", "text": "hi"}'])
    tweets, _ = read_all(path)
    assert tweets[0].created_at == snowflake_time(211040709124440064)
    assert tweets[0].created_at.year == 2012


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": "1", "text": "broken', "malformed JSON"),
        (b'{"id": "1", "text": "   ", "created_at": "2026-03-01T00:00:00Z"}', "empty text"),
        (b'{"id": "1", "created_at": "2026-03-01T00:00:00Z"}', "missing text"),
        (b'{"text": "no id", "created_at": "2026-03-01T00:00:00Z"}', "missing id"),
        (b'{"id": "1", "text": "x", "created_at": "yesterday-ish"}', "bad date"),
        (b'{"id": "12", "text": "x"}', "bad id"),
        (b'{"id": "1", "text": "caf\xe9 \xff"}', "undecodable bytes"),
        (b"[1, 2, 3]", "not a tweet object"),
        (b"", "blank line"),
    ],
)
def test_jsonl_malformed_records_become_rejects(tmp_path, line, reason):
    good = json.dumps(V2).encode()
    path = write_lines(tmp_path / "bad.jsonl", [good, line, good])
    tweets, rejects = read_all(path)
    assert len(tweets) == 2
    assert len(rejects) == 1
    assert rejects[0].line == 2 and rejects[0].source == str(path)
    assert rejects[0].reason.startswith(reason), rejects[0].reason


def test_jsonl_oversize_record_is_rejected_with_excerpt(tmp_path):
    big = json.dumps(dict(V2, text="x" * 5000))
    path = write_lines(tmp_path / "big.jsonl", [big])
    tweets, rejects = read_all(path, max_record_bytes=1000)
    assert tweets == []
    assert rejects[0].reason.startswith("oversize record")
    assert len(rejects[0].raw) < 300


def test_gzip_is_transparent_and_detected_by_content(tmp_path):
    path = write_lines(tmp_path / "stream.jsonl.gz", [json.dumps(V2)] * 3, gz=True)
    tweets, _ = read_all(path)
    assert len(tweets) == 3
    odd_name = write_lines(tmp_path / "stream.data", [json.dumps(V2)], gz=True)
    reader = TweetReader(odd_name)
    assert reader.format == "jsonl"
    assert len(list(reader)) == 1


def test_stdin_source(monkeypatch):
    data = (json.dumps(V2) + "\n" + "not json\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    tweets, rejects = read_all("-")
    assert len(tweets) == 1 and tweets[0].origin.source == "<stdin>"
    assert rejects[0].reason.startswith("malformed JSON")


def test_csv_column_mapping_labels_and_multiline(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "when,body,who,topic\n"
        '2026-03-01T00:00:00Z,"first line\nsecond line",u1,fire\n'
        "2026-03-01T01:00:00Z,plain,u2,flood\n"
        "not a date,text,u3,x\n"
        "2026-03-01T02:00:00Z,,u4,x\n"
        "2026-03-01T03:00:00Z,too,many,fields,here\n",
        encoding="utf-8",
    )
    cols = ColumnMap(created_at="when", text="body", author_id="who", labels={"topic": "event"})
    tweets, rejects = read_all(path, csv_columns=cols)
    assert [t.text for t in tweets] == ["first line\nsecond line", "plain"]
    assert tweets[0].labels == {"event": "fire"} and tweets[1].author_id == "u2"
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [
        (5, "bad date"),
        (6, "empty text"),
        (7, "wrong field count"),
    ]


def test_csv_auto_columns_and_missing_text_column_is_clear(tmp_path):
    ok = tmp_path / "ok.csv"
    ok.write_text("Tweet ID,Tweet Text\n'211040709124440064',hello there\n", encoding="utf-8")
    tweets, _ = read_all(ok)
    assert tweets[0].id == "211040709124440064" and tweets[0].created_at.year == 2012
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no text column"):
        list(TweetReader(bad))


def test_csv_undecodable_bytes_rejected(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b"id,text\n211040709124440064,fine\n211040709124440065,bad \xff byte\n")
    tweets, rejects = read_all(path)
    assert len(tweets) == 1
    assert rejects[0].line == 3 and rejects[0].reason.startswith("undecodable bytes")


def test_text_reader_arrival_order_and_rejects(tmp_path):
    path = write_lines(tmp_path / "t.txt", ["first doc", "", "third doc", b"bad \xff"])
    tweets, rejects = read_all(path)
    assert [t.text for t in tweets] == ["first doc", "third doc"]
    assert tweets[1].created_at > tweets[0].created_at
    assert tweets[1].id == f"{path}:3"
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [
        (2, "blank line"),
        (4, "undecodable bytes"),
    ]


def test_unknown_format_and_missing_file_errors(tmp_path):
    with pytest.raises(ValueError, match="allowed: auto, jsonl"):
        TweetReader(tmp_path / "x.jsonl", "xml")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="no such file"):
        TweetReader(tmp_path / "missing.jsonl")


def test_crisislex_t26_merged_in_time_order(crisislex_t26):
    tweets, rejects = read_all(crisislex_t26)
    assert rejects == []
    assert len(tweets) == 27933
    times = [t.created_at for t in tweets]
    assert times == sorted(times)
    events = {t.labels["event"] for t in tweets}
    assert len(events) == 26
    boston = next(t for t in tweets if t.labels["event"] == "2013_Boston_bombings")
    assert boston.created_at.year == 2013 and boston.labels["event_type"] == "Bombings"
    assert boston.labels["informativeness"] in {
        "Related and informative",
        "Related - but not informative",
        "Not related",
        "Not applicable",
    }
    assert boston.created_at == snowflake_time(boston.id)


def test_crisislex_t6_labels(shared_data):
    tweets, rejects = read_all(shared_data / "crisislex" / "T6", "crisislex")
    assert rejects == [] and len(tweets) > 60000
    assert {t.labels["topic"] for t in tweets} == {"on-topic", "off-topic"}
    assert {t.labels["collection"] for t in tweets} == {"T6"}


def test_truncated_gzip_becomes_a_reject_not_a_crash(tmp_path):
    whole = gzip.compress(
        b"".join((json.dumps(dict(V2, id=str(i))) + "\n").encode() for i in range(200))
    )
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    tweets, rejects = read_all(path)
    assert rejects and rejects[-1].reason.startswith("corrupt or truncated gzip data")
    assert rejects[-1].line == len(tweets) + 1
    tiny = tmp_path / "magic.jsonl"
    tiny.write_bytes(b"\x1f\x8b\n")
    tweets, rejects = read_all(tiny)
    assert tweets == [] and rejects[0].line == 1


def test_file_that_only_starts_like_gzip_is_read_line_by_line(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\x1f\x8b not gzip\n\n" + json.dumps(V2).encode() + b"\n")
    tweets, rejects = read_all(path)
    assert [t.origin.line for t in tweets] == [3]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects] == [
        (1, "undecodable bytes"),
        (2, "blank line"),
    ]
