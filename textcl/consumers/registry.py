"""The one list of configurable stream consumers, and building them for a run.

Adding a consumer: write ``textcl/consumers/<name>.py`` with the consumer and its
``SPEC`` (:class:`~textcl.consumers.spec.ConsumerSpec`), and add one line here. Order
matters: a consumer's ``build`` sees those listed before it, and consumers are updated,
ended and closed in this order.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from textcl.consumers.spec import BuildContext, ConsumerSpec

if TYPE_CHECKING:
    from textcl.config import PipelineConfig
    from textcl.types import Consumer

CONSUMER_MODULES: list[str] = [
    "textcl.consumers.keywords",  # first: the others may probe the window's keyword set
    "textcl.consumers.word2vec",
    "textcl.consumers.transformer",
    "textcl.consumers.classifier",
    "textcl.consumers.selection",  # after the classifier: its probabilities add uncertainty
    "textcl.consumers.drift_report",  # after word2vec: its report reads the snapshots
]


@cache
def _specs(modules: tuple[str, ...]) -> tuple[ConsumerSpec, ...]:
    specs = []
    for module in modules:
        spec = getattr(importlib.import_module(module), "SPEC", None)
        if not isinstance(spec, ConsumerSpec):
            raise TypeError(f"{module}: a consumer module listed in the registry must define "
                            "SPEC = ConsumerSpec(...)")
        specs.append(spec)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise TypeError(f"two registered consumers share a name: {names}")
    return tuple(specs)


def consumer_specs() -> tuple[ConsumerSpec, ...]:
    """The registered consumers, in registry order."""
    return _specs(tuple(CONSUMER_MODULES))


def build_consumers(config: PipelineConfig, out_dir: Path | None) -> list[Consumer]:
    """The consumers a pipeline file enables, writing under ``out_dir`` when given."""
    context = BuildContext(config, out_dir)
    for spec in consumer_specs():
        consumer = spec.build(context)
        if consumer is not None:
            context.built[spec.name] = consumer
    return list(context.built.values())
