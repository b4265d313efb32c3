"""What a configurable stream consumer declares: its section, how to build it, its rows.

A consumer module (listed once in :mod:`textcl.consumers.registry`) defines ``SPEC``, a
:class:`ConsumerSpec`. The pipeline file gets a ``[name]`` table with the section's
fields, :func:`~textcl.consumers.registry.build_consumers` calls ``build``, and
``textcl stream`` prints ``rows`` and ``files`` from the consumer's ``summary()``.
Keep the module's top-level imports light (heavy libraries inside ``build`` and the
methods that need them): every command imports it to read the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textcl.section import Section

if TYPE_CHECKING:
    from textcl.config import PipelineConfig
    from textcl.types import Consumer

Rows = list[tuple[str, str]]


@dataclass
class BuildContext:
    """What a consumer's ``build`` gets: the whole pipeline configuration, the run's
    output folder (``None``: write nothing) and the consumers built before it."""

    config: PipelineConfig
    out_dir: Path | None
    built: dict[str, Consumer] = field(default_factory=dict)

    def section(self, name: str) -> Any:
        """The ``[name]`` section of the configuration."""
        return getattr(self.config, name)

    def probe_source(self) -> Callable[[], list[str]] | None:
        """Probe terms that follow the stream: the keyword set's ``[drift] auto_terms``
        best members at the time of the call (``None`` without a keyword consumer)."""
        keywords = self.built.get("keywords")
        auto = self.config.drift.auto_terms
        if keywords is None or auto <= 0:
            return None
        return lambda: keywords.top_terms(auto)  # type: ignore[attr-defined]


def _nothing(summary: dict[str, Any]) -> list[Any]:
    return []


@dataclass(frozen=True)
class ConsumerSpec:
    """A configurable consumer.

    Attributes:
        name: its ``[name]`` table, its ``name`` in checkpoints and its key in
            ``summary.json["consumers"]``.
        section: the section model (a :class:`~textcl.section.Section`).
        build: the consumer for a run, or ``None`` when the configuration turns it off.
        rows: ``(label, value)`` rows of the ``textcl stream`` summary table, from the
            consumer's ``summary()``.
        files: the outputs it wrote (relative to OUT), from its ``summary()``.
    """

    name: str
    section: type[Section]
    build: Callable[[BuildContext], Consumer | None]
    rows: Callable[[dict[str, Any]], Rows] = _nothing
    files: Callable[[dict[str, Any]], list[str]] = _nothing
