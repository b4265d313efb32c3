"""Top-N keyword tracking with in/out logic and event groups (the stream's drift alarms
are in :mod:`textcl.drift`).

Names are imported on first use, so ``import textcl.keywords.background`` stays light.
"""

from __future__ import annotations

from textcl.lazy import lazy_exports

_EXPORTS = {
    "Background": "textcl.keywords.background",
    "EventGroups": "textcl.keywords.groups",
    "KeywordTracker": "textcl.keywords.tracker",
    "corpus_background": "textcl.keywords.background",
    "leading_keywords": "textcl.keywords.history",
    "wordfreq_background": "textcl.keywords.background",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports("textcl.keywords", _EXPORTS)
