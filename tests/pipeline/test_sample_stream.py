"""Checks on the embedded sample stream ``data/sample_stream.jsonl.gz`` and its ground truth.

The files are read with plain gzip + json (not textcl's readers) so these tests pin the data
itself: reproducibility, planted events, shifted words, formats and the planted rejects.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
STREAM = DATA / "sample_stream.jsonl.gz"
TRUTH = DATA / "sample_stream.truth.json"
SCRIPT = ROOT / "scripts" / "make_sample_stream.py"

MAX_TEXT_BYTES = 100_000
V2_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"
V1_FMT = "%a %b %d %H:%M:%S %z %Y"
TOKEN_RE = re.compile(r"#?[a-z]+")
URL_RE = re.compile(r"https?://\S+")
MENTION_RE = re.compile(r"@\w+")


@dataclass
class Rec:
    """A valid line, normalised across formats."""

    line: int
    fmt: str
    id: str
    text: str
    created_at: datetime
    toks: frozenset[str]
    username: str | None
    rt: dict[str, Any] | None


def tokens(text: str) -> list[str]:
    """Lowercase word tokens; hashtags keep '#', URLs/mentions/digits dropped."""
    return TOKEN_RE.findall(MENTION_RE.sub(" ", URL_RE.sub(" ", text.lower())))


def parse_date(value: Any, fmt: str) -> datetime | None:
    """Parse a created_at string in the given format, or None."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.strptime(value, fmt)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(value: str) -> datetime:
    """Parse a truth timestamp (ISO-8601 with Z)."""
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value[:-1] + "+00:00")


def parse_line(lineno: int, raw: bytes) -> Rec | str:
    """A ``Rec`` for a valid line, else the reason it is rejected."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8"
    if len(raw) > MAX_TEXT_BYTES:
        return "oversize"
    try:
        obj = json.loads(s)
    except json.JSONDecodeError:
        return "broken_json"
    if not isinstance(obj, dict):
        return "broken_json"
    if "data" in obj:
        fmt, body, date_fmt = "v2_envelope", obj["data"], V2_FMT
        users = obj.get("includes", {}).get("users", [])
        username = users[0]["username"] if users else None
        tid, text = body.get("id"), body.get("text")
    elif "id_str" in obj:
        fmt, body, date_fmt = "v1.1", obj, V1_FMT
        username = obj.get("user", {}).get("screen_name")
        tid, text = obj.get("id_str"), obj.get("full_text", obj.get("text"))
    else:
        fmt, body, date_fmt = "v2", obj, V2_FMT
        username = None
        tid, text = obj.get("id"), obj.get("text")
    if text is None:
        return "missing_text"
    if not isinstance(text, str) or not text.strip():
        return "empty_text"
    created = parse_date(body.get("created_at"), date_fmt)
    if created is None:
        return "bad_date"
    assert isinstance(tid, str) and tid.isdigit(), (lineno, tid)
    return Rec(
        lineno,
        fmt,
        tid,
        text,
        created,
        frozenset(tokens(text)),
        username,
        obj.get("retweeted_status"),
    )


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    """The committed ground truth."""
    return json.loads(TRUTH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_lines() -> list[bytes]:
    """The committed stream, one bytes object per line."""
    data = gzip.decompress(STREAM.read_bytes())
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


@pytest.fixture(scope="module")
def parsed(raw_lines: list[bytes]) -> list[Rec | str]:
    """Every line parsed (Rec) or its reject reason (str)."""
    return [parse_line(i, raw) for i, raw in enumerate(raw_lines, start=1)]


@pytest.fixture(scope="module")
def records(parsed: list[Rec | str]) -> list[Rec]:
    """The valid records in stream order."""
    return [p for p in parsed if isinstance(p, Rec)]


def load_script() -> ModuleType:
    """Import scripts/make_sample_stream.py by path."""
    spec = importlib.util.spec_from_file_location("make_sample_stream", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing
    spec.loader.exec_module(module)
    return module


def test_regeneration_is_identical(tmp_path: Path) -> None:
    """Regenerating with the default seed reproduces the stream content and the truth exactly.

    Compressed bytes are not compared: another zlib build may compress the same bytes
    differently.
    """
    assert load_script().main(["--out-dir", str(tmp_path)]) == 0
    new_stream = (tmp_path / STREAM.name).read_bytes()
    committed = STREAM.read_bytes()
    assert committed[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
    assert gzip.decompress(new_stream) == gzip.decompress(committed)
    assert (tmp_path / TRUTH.name).read_bytes() == TRUTH.read_bytes()


def test_other_seed_gives_other_stream(tmp_path: Path) -> None:
    """The seed matters, and a small stream still carries every planted event."""
    truth = load_script().generate(tmp_path, seed=8, tweets=3000)
    data = gzip.decompress((tmp_path / STREAM.name).read_bytes())
    assert data != gzip.decompress(STREAM.read_bytes())[: len(data)]
    assert data.count(b"\n") == truth["tweets"] == 3000
    assert all(ev["tweets"] > 50 for ev in truth["events"])


def test_size_and_span(truth: dict[str, Any], raw_lines: list[bytes]) -> None:
    """At least 20k lines over 20 days, gzip under 2 MB."""
    assert STREAM.stat().st_size < 2_000_000
    assert len(raw_lines) == truth["tweets"] >= 20_000
    assert truth["seed"] == 7
    assert iso(truth["end"]) - iso(truth["start"]) == timedelta(days=20)


def test_counts_and_formats(truth: dict[str, Any], records: list[Rec]) -> None:
    """Format mix, retweets, duplicates and background share match the truth."""
    assert len(records) == truth["valid_records"] == truth["tweets"] - len(truth["planted_rejects"])
    formats = Counter(r.fmt for r in records)
    assert dict(formats) == truth["formats"]
    n = len(records)
    assert 0.07 < formats["v2_envelope"] / n < 0.13
    assert 0.10 < formats["v1.1"] / n < 0.17
    rts = [r for r in records if r.rt is not None]
    assert len(rts) == truth["retweets"]
    assert 0.02 < len(rts) / n < 0.04
    seen: set[str] = set()
    dups = 0
    for r in records:
        if r.rt is not None:
            continue
        dups += r.text in seen
        seen.add(r.text)
    assert dups == truth["duplicates"]
    assert 0.005 < dups / n < 0.015
    assert 0.55 <= truth["background_tweets"] / n <= 0.65


def test_time_order_and_ids(truth: dict[str, Any], records: list[Rec]) -> None:
    """Records are time-ordered (to the second, v1.1 has no ms) and ids strictly increase."""
    start, end = iso(truth["start"]), iso(truth["end"])
    times = [r.created_at.replace(microsecond=0) for r in records]
    assert times == sorted(times)
    assert start <= times[0] and times[-1] < end
    ids = [int(r.id) for r in records]
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert len({r.created_at.date() for r in records}) == 20


def test_retweets_point_to_earlier_tweets(records: list[Rec]) -> None:
    """Retweets are v1.1, quote an earlier tweet verbatim and carry it as retweeted_status."""
    by_id = {r.id: r for r in records}
    rts = [r for r in records if r.rt is not None]
    assert rts
    for r in rts:
        assert r.fmt == "v1.1"
        src = r.rt
        assert r.text == f"RT @{src['user']['screen_name']}: {src['full_text']}"
        orig = by_id[src["id_str"]]
        assert orig.line < r.line and orig.text == src["full_text"]
        assert parse_date(src["created_at"], V1_FMT) == orig.created_at.replace(microsecond=0)


def test_planted_rejects(truth: dict[str, Any], parsed: list[Rec | str], raw_lines: list[bytes]):
    """Exactly the planted lines are rejected, each for its stated reason."""
    planted = {r["line"]: r["kind"] for r in truth["planted_rejects"]}
    bad = {i: p for i, p in enumerate(parsed, start=1) if isinstance(p, str)}
    assert bad == planted
    kinds = Counter(planted.values())
    assert set(kinds) == {
        "broken_json",
        "empty_text",
        "missing_text",
        "bad_date",
        "invalid_utf8",
        "oversize",
    }
    assert 0.003 < len(planted) / len(raw_lines) < 0.008
    for line, kind in planted.items():
        raw = raw_lines[line - 1]
        if kind == "oversize":
            text = json.loads(raw)["text"]
            assert len(text.encode("utf-8")) > MAX_TEXT_BYTES
        elif kind == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        elif kind == "broken_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(raw)


def test_truth_schema(truth: dict[str, Any]) -> None:
    """Truth keys, timestamps and token conventions."""
    for key in ("seed", "tweets", "start", "end", "events", "shifted_words"):
        assert key in truth
    for key in ("background_words", "planted_rejects", "retweets", "duplicates", "formats"):
        assert key in truth
    word = re.compile(r"#?[a-z]+")
    planted: list[str] = []
    for ev in truth["events"]:
        assert set(ev) >= {"name", "start", "end", "peak", "keywords", "tweets"}
        assert all(word.fullmatch(k) for k in ev["keywords"])
        assert 8 <= len(ev["keywords"]) <= 15
        assert 2 <= sum(k.startswith("#") for k in ev["keywords"]) <= 3
        planted += ev["keywords"]
    for sw in truth["shifted_words"]:
        assert word.fullmatch(sw["word"])
        planted.append(sw["word"])
        for p in sw["periods"]:
            assert all(word.fullmatch(k) for k in p["context_words"])
            planted += p["context_words"]
    assert len(planted) == len(set(planted)), "planted vocabularies must be disjoint"
    assert not set(planted) & set(truth["background_words"])
    assert 200 <= len(truth["background_words"]) <= 800


def test_events_are_bursty_and_confined(truth: dict[str, Any], records: list[Rec]) -> None:
    """Each event's words burst inside its span and (almost) never occur outside it."""
    events = truth["events"]
    assert len(events) >= 5
    spans = [(iso(e["start"]), iso(e["end"])) for e in events]
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])
    for ev, (start, end) in zip(events, spans, strict=True):
        peak = iso(ev["peak"])
        assert start <= peak <= end
        assert timedelta(days=1.5) <= end - start <= timedelta(days=5)
        kws = set(ev["keywords"])
        inside = [r for r in records if start <= r.created_at <= end]
        hits = [r for r in inside if r.toks & kws]
        assert len(hits) == ev["tweets"]
        for kw in ev["keywords"]:
            n_in = sum(kw in r.toks for r in inside)
            n_out = sum(kw in r.toks for r in records) - n_in
            assert n_in >= 20, (ev["name"], kw, n_in)
            assert n_out < 0.01 * (n_in + n_out), (ev["name"], kw, n_out)
        # burst profile: busiest around the peak, quiet at the edges
        tenth = (end - start) / 10
        near_peak = sum(abs(r.created_at - peak) <= tenth / 2 for r in hits)
        last = sum(r.created_at >= end - tenth for r in hits)
        assert near_peak > 2 * last, ev["name"]


def test_shifted_words(truth: dict[str, Any], records: list[Rec]) -> None:
    """Shifted words are frequent in both periods and dense with their period's context."""
    assert len(truth["shifted_words"]) >= 2
    for sw in truth["shifted_words"]:
        word, periods = sw["word"], sw["periods"]
        assert len(periods) == 2
        sets = [set(p["context_words"]) for p in periods]
        assert not sets[0] & sets[1]
        for i, p in enumerate(periods):
            start, end = iso(p["start"]), iso(p["end"])
            recs = [r for r in records if start <= r.created_at < end]
            other = [r for r in records if not start <= r.created_at < end]
            with_word = [r for r in recs if word in r.toks]
            assert len(with_word) == p["tweets"] >= 200, (word, i)
            dense = sum(len(r.toks & sets[i]) >= 3 for r in with_word)
            assert dense >= 0.9 * len(with_word)
            assert not any(r.toks & sets[1 - i] for r in with_word)
            for cw in sets[i]:
                total = sum(cw in r.toks for r in recs)
                co = sum(cw in r.toks for r in with_word)
                assert co >= 50, (word, cw, co)
                assert co >= 0.8 * total, (word, cw, co, total)
                assert sum(cw in r.toks for r in other) <= 0.05 * total, (word, cw)
            lengths = sorted(len(tokens(r.text)) for r in with_word if r.rt is None)
            assert 6 <= lengths[len(lengths) // 2] <= 12
