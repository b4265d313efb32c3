"""Top-N keyword tracking with in/out hysteresis, and stream drift alarms."""

from textcl.keywords.alarms import DriftAlarms
from textcl.keywords.tracker import KeywordTracker

__all__ = ["DriftAlarms", "KeywordTracker"]
