"""JSON-lines reader for X API v2 (flat and ``{"data": ...}`` envelopes) and v1.1 payloads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from textcl.input.rejects import RecordError, Reject, excerpt
from textcl.input.source import ByteSource
from textcl.input.timeparse import parse_time, snowflake_time
from textcl.types import Origin, Tweet

DEFAULT_MAX_RECORD_BYTES = 64 * 1024


def read_jsonl(
    source: ByteSource, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Tweet | Reject]:
    """Yield a tweet or a reject for every record of a JSON-lines source.

    A line holding a v2 page (``{"data": [...]}``) yields one item per tweet in it.
    Blank lines are rejects too, so that every line is accounted for.
    """
    name = source.name
    for raw in source.lines():
        origin = Origin(name, raw.number, raw.offset)
        try:
            if len(raw.data) > max_record_bytes:
                raise RecordError(
                    f"oversize record: {len(raw.data)} bytes > max_record_bytes={max_record_bytes}"
                )
            if not raw.data.strip():
                raise RecordError("blank line")
            try:
                payload = orjson.loads(raw.data)
            except orjson.JSONDecodeError as exc:
                raise RecordError(_json_error(raw.data, exc)) from exc
            for item in payload_items(payload):
                try:
                    yield tweet_from_payload(item, origin)
                except RecordError as exc:
                    yield Reject(name, raw.number, str(exc), excerpt(orjson.dumps(item)))
        except RecordError as exc:
            yield Reject(name, raw.number, str(exc), excerpt(raw.data))


def _json_error(data: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as uerr:
        return f"undecodable bytes: invalid UTF-8 at byte {uerr.start}"
    return f"malformed JSON: {exc.msg} at char {exc.pos}"


def payload_items(payload: Any) -> list[dict[str, Any]]:
    """The tweet objects inside one JSON value (flat object, envelope, or page)."""
    if not isinstance(payload, dict):
        raise RecordError(f"not a tweet object: top-level JSON is {type(payload).__name__}")
    data = payload.get("data")
    if isinstance(data, list):
        items = [item for item in data if isinstance(item, dict)]
        if len(items) != len(data) or not items:
            raise RecordError("malformed page: 'data' must be a non-empty list of objects")
        return items
    if isinstance(data, dict):
        return [data]
    return [payload]


def tweet_from_payload(obj: dict[str, Any], origin: Origin) -> Tweet:
    """Build a :class:`Tweet` from a v2 or v1.1 tweet object; raise RecordError if unusable."""
    tweet_id = _first_str(obj, "id_str", "id")
    if tweet_id is None:
        raise RecordError("missing id: no 'id' or 'id_str' field")
    text = _text(obj)
    if text is None:
        raise RecordError("missing text: no 'text', 'full_text' or 'note_tweet.text' field")
    if not text.strip():
        raise RecordError("empty text")
    created = obj.get("created_at")
    created_at = snowflake_time(tweet_id) if created is None else parse_time(created)
    retweet_of = _retweet_of(obj)
    retweeted = obj.get("retweeted_status")
    if isinstance(retweeted, dict):
        original = _text(retweeted)
        user = retweeted.get("user")
        screen = user.get("screen_name") if isinstance(user, dict) else None
        if original and screen:
            text = f"RT @{screen}: {original}"
    labels = obj.get("labels")
    return Tweet(
        id=tweet_id,
        created_at=created_at,
        text=text,
        lang=obj.get("lang") if isinstance(obj.get("lang"), str) else None,
        author_id=_author_id(obj),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        origin=origin,
        retweet_of=retweet_of,
    )


def _first_str(obj: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _text(obj: dict[str, Any]) -> str | None:
    for holder in ("note_tweet", "extended_tweet"):
        inner = obj.get(holder)
        if isinstance(inner, dict):
            found = _first_str(inner, "text", "full_text")
            if found is not None:
                return found
    for key in ("full_text", "text"):
        value = obj.get(key)
        if isinstance(value, str):
            return value
    return None


def _retweet_of(obj: dict[str, Any]) -> str | None:
    retweeted = obj.get("retweeted_status")
    if isinstance(retweeted, dict):
        return _first_str(retweeted, "id_str", "id")
    refs = obj.get("referenced_tweets")
    if isinstance(refs, list):
        for ref in refs:
            if isinstance(ref, dict) and ref.get("type") == "retweeted":
                return _first_str(ref, "id")
    return None


def _author_id(obj: dict[str, Any]) -> str | None:
    found = _first_str(obj, "author_id", "user_id")
    if found is not None:
        return found
    user = obj.get("user")
    return _first_str(user, "id_str", "id") if isinstance(user, dict) else None
