"""Built-in stream consumers."""

from textcl.consumers.window_stats import WindowStats

__all__ = ["WindowStats"]
