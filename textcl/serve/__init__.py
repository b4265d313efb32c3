"""``textcl serve``: a live dashboard of a run's output folder, with labelling.

:func:`create_app` builds the web app (Starlette); :class:`DashboardServer` runs it with
uvicorn in a background thread (``textcl stream --serve``) or in the foreground
(``textcl serve OUT``). Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

__all__ = ["DashboardServer", "create_app"]


def create_app(out: str | Path, token: str | None = None):
    """The dashboard app of the run writing to ``out`` (see :mod:`textcl.serve.app`)."""
    from textcl.serve.app import create_app as build

    return build(out, token)


class DashboardServer:
    """uvicorn serving :func:`create_app` on ``host:port`` (``port=0``: any free port)."""

    def __init__(self, out: str | Path, host: str = "127.0.0.1", port: int = 8765,
                 token: str | None = None) -> None:
        import uvicorn

        config = uvicorn.Config(create_app(out, token), host=host, port=port,
                                log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address it listens on (the real port once started)."""
        sockets = [s for srv in getattr(self.server, "servers", []) for s in srv.sockets]
        port = sockets[0].getsockname()[1] if sockets else self.server.config.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}/"

    def start(self, timeout: float = 10.0) -> str:
        """Serve in a background thread; return the URL once it listens."""
        self._thread = threading.Thread(target=self.server.run, name="textcl-dashboard",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the dashboard could not listen on {self.host}:"
                              f"{self.server.config.port} (port in use?)")
            time.sleep(0.05)
        return self.url

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run(self) -> None:
        """Serve in the foreground until Ctrl-C."""
        self.server.run()
