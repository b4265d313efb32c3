"""The ``textcl`` command: one module per group of subcommands.

* :mod:`~textcl.cli.common`: the Typer app, one-line errors, pipeline options, progress;
* :mod:`~textcl.cli.stream`: ``textcl stream``;
* :mod:`~textcl.cli.drift`: ``textcl drift`` and ``textcl neighbours``;
* :mod:`~textcl.cli.active`: ``textcl select`` and ``textcl label``;
* :mod:`~textcl.cli.inspection`: ``textcl config show`` and ``textcl predict``;
* :mod:`~textcl.cli.serve`: ``textcl serve`` (the dashboard; ``textcl stream --serve``).
"""

# ruff: noqa: I001  (--help lists the commands in the order they are registered)
from textcl.cli.common import app
from textcl.cli import stream, drift, active, inspection, serve  # noqa: F401

__all__ = ["app"]
