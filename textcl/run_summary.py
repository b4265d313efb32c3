"""A run's counters and the summary written to ``OUT/summary.json`` at its end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunStats:
    """Counters of one run; ``read == processed + rejected`` always holds."""

    read: int = 0
    processed: int = 0
    rejected: int = 0
    duplicates: int = 0
    retweets: int = 0
    tweets: int = 0
    batches: int = 0
    windows: int = 0
    late: int = 0
    first: str | None = None
    last: str | None = None
    rejected_by_reason: dict[str, int] = field(default_factory=dict)


def stream_summary(
    stats: RunStats,
    *,
    source: Any,
    format: str | None,
    seconds: float,
    tokens: int,
    every: str,
    window_cuts: list[dict[str, Any]],
    most_repeated: list[dict[str, object]],
) -> dict[str, Any]:
    """The stream's part of the summary: counts, time span, throughput, window cuts."""
    return {
        "source": source,
        "format": format,
        "read": stats.read,
        "processed": stats.processed,
        "rejected": stats.rejected,
        "rejected_by_reason": stats.rejected_by_reason,
        "duplicates_collapsed": stats.duplicates,
        "retweets_collapsed": stats.retweets,
        "tweets": stats.tweets,
        "tokens": tokens,
        "batches": stats.batches,
        "windows": stats.windows,
        "window": every,
        "late": stats.late,
        "first": stats.first,
        "last": stats.last,
        "seconds": round(seconds, 3),
        "tweets_per_s": round(stats.read / seconds, 1) if seconds > 0 else None,
        "most_repeated": most_repeated,
        "window_cuts": window_cuts,
    }


def run_warnings(summary: dict[str, Any], every: str) -> list[str]:
    """What a user should know about the run's windows: tweets out of time order, or a
    stream that fell into a single time window (untimed text, a file not in order)."""
    warnings = []
    tweets, late = summary["tweets"], summary["late"]
    if late:
        warnings.append(
            f"{late:,} of {tweets:,} tweets ({late / max(tweets, 1):.0%}) were older than "
            "the open window and were counted in it: the input is not in time order; "
            "sort it by time first (--sort), or use windows of N tweets (--window 5000)"
        )
    timed = not every.isdigit()
    if timed and summary["windows"] == 1 and tweets >= 1000:
        warnings.append(
            f"all {tweets:,} tweets fell into one window of {every} (times "
            f"{summary['first']} .. {summary['last']}); for untimed text or a short "
            "span use windows of N tweets (--window 5000) or a shorter --window"
        )
    return warnings
