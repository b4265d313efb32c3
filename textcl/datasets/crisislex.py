"""CrisisLex T26 as a sequence of events in time order, each with its labelled tweets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from textcl.input.crisislex import read_crisislex
from textcl.types import Tweet


@dataclass
class EventData:
    """One crisis event: its tweets and their labels, in time order."""

    name: str
    event_type: str
    start: datetime
    texts: list[str] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)


def crisislex_events(root: Path) -> list[EventData]:
    """Events of a CrisisLex T26 folder ordered by their first tweet's time.

    Each event's ``labels`` maps a label name (``informativeness``, ``information_type``,
    ``information_source``) to one value per tweet. Rejected CSV rows are not returned;
    the readers count them.
    """
    events: dict[str, EventData] = {}
    for item in read_crisislex(root):
        if not isinstance(item, Tweet):
            continue
        name = item.labels.get("event", "unknown")
        event = events.get(name)
        if event is None:
            event = EventData(name, item.labels.get("event_type", "unknown"), item.created_at)
            events[name] = event
        event.texts.append(item.text)
        for key, value in item.labels.items():
            if key not in ("event", "event_type", "collection"):
                event.labels.setdefault(key, []).append(value)
    return sorted(events.values(), key=lambda e: (e.start, e.name))
