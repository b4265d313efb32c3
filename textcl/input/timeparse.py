"""Timestamps: X API v2 ISO-8601, v1.1 ``created_at`` strings, and snowflake ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textcl.input.rejects import RecordError

TWITTER_EPOCH_MS = 1288834974657
V11_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Snowflake ids began in late 2010; anything smaller is an old sequential id.
MIN_SNOWFLAKE = 1 << 32


def snowflake_time(tweet_id: int | str) -> datetime:
    """UTC time encoded in a Twitter/X snowflake id: ``ms = (id >> 22) + 1288834974657``."""
    try:
        value = int(str(tweet_id).strip().strip("'\""))
    except ValueError as exc:
        raise RecordError(f"bad id: {tweet_id!r} is not a number, so it carries no time") from exc
    if value < MIN_SNOWFLAKE or value >= 1 << 63:
        raise RecordError(f"bad id: {tweet_id!r} is not a snowflake id, so it carries no time")
    return _EPOCH + timedelta(milliseconds=(value >> 22) + TWITTER_EPOCH_MS)


def parse_time(value: object) -> datetime:
    """Parse ISO-8601 (``2026-03-01T00:00:12.000Z``), v1.1 or epoch-seconds times to UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RecordError(f"bad date: {value!r} is out of range") from exc
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"bad date: {value!r} is not a date string")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, V11_FORMAT)
        except ValueError as exc:
            raise RecordError(
                f"bad date: {text[:60]!r} is neither ISO-8601 nor the v1.1 format "
                "'Wed Oct 10 20:19:24 +0000 2018'"
            ) from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_iso(moment: datetime) -> str:
    """``2026-03-01T00:00:12.000Z`` style UTC string."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
