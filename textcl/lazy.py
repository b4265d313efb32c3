"""Names a package exports but imports only on first use (start-up stays light)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package``: ``names`` maps an exported name to
    the module defining it (a full ``textcl.…`` path, or a submodule of ``package``)."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if module.startswith("textcl") else f"{package}.{module}"
        return getattr(import_module(path), name)

    return __getattr__
