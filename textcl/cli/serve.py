"""``textcl serve OUT`` and the ``--serve`` options of ``textcl stream``: the dashboard."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from textcl.cli.common import app, console, error_exit

if TYPE_CHECKING:
    from textcl.serve import DashboardServer

HostOption = Annotated[
    str, typer.Option("--host", help="Dashboard address to listen on (127.0.0.1: this "
                      "machine only; anything else needs --token).")]
PortOption = Annotated[int, typer.Option("--port", help="Dashboard port (0: any free one).")]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="TEXTCL_DASHBOARD_TOKEN",
                 help="Labels are taken only with this token (X-Textcl-Token header; the "
                 "page asks for it). Also read from $TEXTCL_DASHBOARD_TOKEN."),
]
DEFAULT_PORT = 8765


def _check_host(host: str, token: str | None) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not token:
        raise ValueError(f"--host {host}: the dashboard would take labels from anyone who "
                         "can reach it; give --token (or $TEXTCL_DASHBOARD_TOKEN), or keep "
                         "the default 127.0.0.1")


def start_dashboard(out: Path, host: str, port: int, token: str | None) -> DashboardServer:
    """Serve the dashboard of ``out`` in the background (``textcl stream --serve``)."""
    from textcl.serve import DashboardServer

    _check_host(host, token)
    server = DashboardServer(out, host, port, token)
    url = server.start()
    console.print(f"dashboard: [bold]{url}[/] (labels go to {escape(str(out))}"
                  f"{os.sep}labels.jsonl)", highlight=False, soft_wrap=True)
    return server


def keep_serving(server: DashboardServer, message: str) -> None:
    """Print ``message``, serve until Ctrl-C, then stop."""
    console.print(message, highlight=False, soft_wrap=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
    finally:
        server.stop()


@app.command()
def serve(
    out: Annotated[Path, typer.Argument(help="A run's output folder (textcl stream -o OUT); "
                                        "it may still be running.")],
    host: HostOption = "127.0.0.1",
    port: PortOption = DEFAULT_PORT,
    token: TokenOption = None,
) -> None:
    """Live dashboard of a run: keywords, events, drift, alarms, rejects, labelling."""
    try:
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out}: not a folder; give the run's output folder")
        server = start_dashboard(out, host, port, token)
    except (ValueError, OSError) as exc:
        error_exit(exc)
    keep_serving(server, "Ctrl-C to stop")
