"""``python -m textcl``: the same command line as ``textcl``."""

from textcl.cli import app

app(prog_name="textcl")
