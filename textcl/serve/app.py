"""The dashboard's web app (Starlette): one page, a state endpoint, a label endpoint.

* ``GET /``: the page (static HTML + JS; every tweet and term is inserted as text);
* ``GET /api/state``: :meth:`RunView.state` plus the labels given and the label names;
* ``POST /api/label``: ``{"id", "name", "value"}`` as JSON; with a token set, the
  ``X-Textcl-Token`` header must carry it. Only tweets the page shows (selected tweets,
  event examples) can be labelled; labels go to ``OUT/labels.jsonl`` and nowhere else.
"""

from __future__ import annotations

import hmac
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from textcl.serve.labels import LabelError, LabelStore
from textcl.serve.view import RunView

__all__ = ["LABELS_FILE", "create_app"]

LABELS_FILE = "labels.jsonl"
STATIC = {"app.js": "text/javascript", "style.css": "text/css",
          "index.html": "text/html; charset=utf-8"}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _static(name: str) -> bytes:
    return resources.files("textcl.serve").joinpath("static", name).read_bytes()


def create_app(out: str | Path, token: str | None = None) -> Starlette:
    """The dashboard of the run writing to ``out``; ``token`` guards the label endpoint."""
    out = Path(out)
    view = RunView(out)
    store = LabelStore(out / LABELS_FILE)

    def label_names() -> list[str]:
        return sorted(view.metrics) or ["label"]

    async def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in STATIC:
            return Response("not found", 404, headers=HEADERS)
        return Response(_static(name), media_type=STATIC[name], headers=HEADERS)

    async def state(request: Request) -> Response:
        labels = store.snapshot()
        data = view.state()
        data["labels"] = labels
        data["label_names"] = label_names()
        data["token_required"] = token is not None
        return JSONResponse(data, headers=HEADERS)

    async def label(request: Request) -> Response:
        refusal = _refusal(request, token)
        if refusal is not None:
            return refusal
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(400, "the body must be JSON: {\"id\", \"name\", \"value\"}")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object: {\"id\", \"name\", \"value\"}")
        text = view.known_text(str(body.get("id", "")))
        if text is None:
            return _error(404, "no such tweet on the page (only selected tweets and event "
                               "examples can be labelled)")
        if body.get("name") not in label_names():
            return _error(400, f"label name {body.get('name')!r}: one of {label_names()}")
        try:
            written = store.add(body.get("id"), body.get("name"), body.get("value"), text)
        except LabelError as exc:
            return _error(400, str(exc))
        return JSONResponse({"written": written, "file": LABELS_FILE}, headers=HEADERS)

    routes = [Route("/", page), Route("/static/{name}", page),
              Route("/api/state", state), Route("/api/label", label, methods=["POST"])]
    app = Starlette(routes=routes)
    app.state.view, app.state.labels = view, store
    return app


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=HEADERS)


def _refusal(request: Request, token: str | None) -> JSONResponse | None:
    """Why a label request is refused: wrong token, not JSON, or sent from another site."""
    if token is not None:
        given = request.headers.get("x-textcl-token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _error(401, "wrong or missing token (X-Textcl-Token header)")
    if not request.headers.get("content-type", "").startswith("application/json"):
        return _error(415, "send the label as application/json")
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        return _error(403, f"labels are taken from this dashboard's own page, not {origin}")
    return None
