"""The X API source against a local server speaking the v2 recent-search endpoint.

The real tweepy client runs unmodified; only its HTTP host is pointed at 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from textcl.cli import app
from textcl.input.rejects import Reject
from textcl.input.xapi import TOKEN_ENV, XApiReader

SECRET = "AAAA-secret-bearer-token-0123456789"


def tweet(i: int, text: str | None = None) -> dict:
    return {"id": str(1_900_000_000_000_000_000 + i), "text": text or f"flood update {i}",
            "created_at": f"2026-03-01T00:00:{i:02d}.000Z", "lang": "en", "author_id": "7"}


def page(tweets: list[dict], next_token: str | None = None) -> tuple[int, dict, bytes]:
    meta = {"result_count": len(tweets)}
    if next_token:
        meta["next_token"] = next_token
    return 200, {}, json.dumps({"data": tweets, "meta": meta}).encode()


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 standing in for the X API host."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        handler.log_message = lambda *args: None  # type: ignore[method-assign]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeX(LocalServer):
    """A scripted server: each request to /2/tweets/search/recent gets the next answer."""

    def __init__(self, script: list[tuple[int, dict, bytes]]) -> None:
        self.script = list(script)
        self.seen: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                fake.seen.append({"path": url.path, "params": parse_qs(url.query),
                                  "auth": self.headers.get("Authorization")})
                status, headers, body = fake.script.pop(0) if fake.script else page([])
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.serve(Handler)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    return SECRET


def read_all(reader: XApiReader) -> tuple[list, list[Reject]]:
    tweets, rejects = [], []
    for item in reader:
        (rejects if isinstance(item, Reject) else tweets).append(item)
    return tweets, rejects


def test_polls_follow_pages_then_continue_from_the_newest_id(token: str) -> None:
    server = FakeX([
        page([tweet(5), tweet(4)], next_token="p2"),
        page([tweet(3)]),
        page([tweet(7), tweet(6)]),
    ])
    try:
        reader = XApiReader("flood", max_polls=2, api_base=server.base, sleep=lambda s: None)
        tweets, rejects = read_all(reader)
    finally:
        server.close()
    assert [int(t.id) % 100 for t in tweets] == [3, 4, 5, 6, 7]  # oldest first, none twice
    assert rejects == []
    assert server.seen[0]["path"] == "/2/tweets/search/recent"
    assert server.seen[0]["auth"] == f"Bearer {SECRET}"
    assert server.seen[1]["params"]["next_token"] == ["p2"]
    assert server.seen[2]["params"]["since_id"] == [tweets[2].id]  # newest of poll 1


def test_rate_limits_wait_server_errors_retry_and_broken_pages_are_rejected(token: str) -> None:
    reset = str(int(time.time()) + 1)
    server = FakeX([
        (429, {"x-rate-limit-reset": reset}, b'{"title": "Too Many Requests"}'),
        (503, {}, b'{"title": "Service Unavailable"}'),
        page([tweet(1)]),
        (200, {}, b'{"data": [ broken'),
        page([tweet(2), {"id": "1900000000000000003"}]),
    ])
    sleeps: list[float] = []
    try:
        reader = XApiReader("flood", max_polls=3, api_base=server.base, sleep=sleeps.append)
        started = time.monotonic()
        tweets, rejects = read_all(reader)
        waited = time.monotonic() - started
    finally:
        server.close()
    assert [int(t.id) % 100 for t in tweets] == [1, 2]
    assert waited >= 0.5  # the 429 was waited out until its reset time
    assert reader.retries == 1 and sleeps[0] == 2.0  # the 503 was retried after a backoff
    reasons = [r.reason for r in rejects]
    assert any(r.startswith("malformed JSON (poll 2 page 1)") for r in reasons)
    assert any("missing text" in r for r in reasons)
    assert server.seen[4]["params"].get("since_id") == [tweets[0].id]  # poll 2 was retried


def test_the_token_comes_only_from_the_environment_and_is_never_written(
    token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = FakeX([page([tweet(1), tweet(2)]), (200, {}, b"not json"), page([tweet(3)])])
    runner = CliRunner()
    caplog.set_level("DEBUG")
    try:
        result = runner.invoke(app, ["stream", "--source", "x-api", "--query", "flood",
                                     "--x-api-base", server.base, "--max-polls", "3",
                                     "--poll-interval", "0", "-o", str(tmp_path), "-q"],
                               catch_exceptions=False)
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["tweets"] == 3 and summary["rejected"] == 1
    written = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    assert SECRET not in written + result.output
    assert SECRET not in caplog.text  # tweepy's debug log prints headers; it is redacted
    help_text = runner.invoke(app, ["stream", "--help"]).output
    assert SECRET not in help_text and TOKEN_ENV in help_text
    monkeypatch.delenv(TOKEN_ENV)
    missing = runner.invoke(app, ["stream", "--source", "x-api", "--query", "flood", "-q",
                                  "-o", str(tmp_path / "x")])
    assert missing.exit_code == 2 and TOKEN_ENV in missing.output


# -- --follow: a file another process appends to -----------------------------------------
def _line(i: int) -> str:
    return json.dumps({"id": str(1_900_000_000_000_000_000 + i), "text": f"levee update {i}",
                       "created_at": f"2026-03-01T00:{i // 60:02d}:{i % 60:02d}.000Z"}) + "\n"


def test_follow_reads_appended_lines_survives_rotation_and_waits_for_newlines(
    tmp_path: Path,
) -> None:
    from textcl.input.readers import TweetReader

    log = tmp_path / "feed.jsonl"
    log.write_text(_line(1) + _line(2))

    def writer() -> None:
        time.sleep(0.4)
        with log.open("a") as handle:
            handle.write(_line(3))
            handle.write(_line(4)[:20])  # half a line: must not be read yet
            handle.flush()
            time.sleep(0.5)
            handle.write(_line(4)[20:])
        time.sleep(0.4)
        log.rename(tmp_path / "feed.jsonl.1")  # rotation: a new file under the same name
        log.write_text(_line(5) + "{broken\n")

    thread = threading.Thread(target=writer)
    thread.start()
    items = list(TweetReader(log, follow=True, idle_timeout=1.5))
    thread.join()
    tweets = [t for t in items if not isinstance(t, Reject)]
    rejects = [r for r in items if isinstance(r, Reject)]
    assert [int(t.id) % 100 for t in tweets] == [1, 2, 3, 4, 5]
    assert len(rejects) == 1 and rejects[0].line == 2  # line 2 of the rotated-in file


def test_follow_refuses_gzip_and_stdin(tmp_path: Path) -> None:
    import gzip

    from textcl.input.readers import TweetReader

    packed = tmp_path / "feed.jsonl.gz"
    packed.write_bytes(gzip.compress(_line(1).encode()))
    with pytest.raises(ValueError, match="plain files only"):
        TweetReader(packed, follow=True)
    with pytest.raises(FileNotFoundError, match="--follow needs an existing plain file"):
        TweetReader("-", follow=True)


# -- the filtered stream ------------------------------------------------------------------
class FakeStream(LocalServer):
    """Rules endpoints plus a stream that sends scripted lines, then closes."""

    def __init__(self, connections: list[list[bytes]], rules: list[dict]) -> None:
        self.connections = list(connections)
        self.rules = list(rules)
        self.posted: list[dict] = []
        self.auth: set[str | None] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.auth.add(self.headers.get("Authorization"))
                path = urlparse(self.path).path
                if path.endswith("/stream/rules"):
                    self._send(200, json.dumps({"data": fake.rules,
                                                "meta": {"sent": "now"}}).encode())
                    return
                lines = fake.connections.pop(0) if fake.connections else []
                self.send_response(200)
                self.end_headers()
                for line in lines:
                    self.wfile.write(line + b"\r\n")
                    self.wfile.flush()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.posted.append(body)
                self._send(200, json.dumps({"meta": {"sent": "now"}}).encode())

        self.serve(Handler)


def test_filtered_stream_sets_rules_survives_reconnects_and_rejects_bad_lines(
    token: str,
) -> None:
    from textcl.input.xapi import XStreamReader

    def line(i: int) -> bytes:
        return json.dumps({"data": tweet(i), "matching_rules": [{"id": "9"}]}).encode()

    server = FakeStream(
        connections=[[line(1), b"", line(2), b"{broken"], [line(3)]],
        rules=[{"id": "1", "value": "old rule"}, {"id": "2", "value": "flood"}],
    )
    try:
        reader = XStreamReader(["flood", "#levee"], max_tweets=3, api_base=server.base)
        items = list(reader)
    finally:
        server.close()
    tweets = [i for i in items if not isinstance(i, Reject)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [int(t.id) % 100 for t in tweets] == [1, 2, 3]  # the third after a reconnect
    assert len(rejects) == 1 and rejects[0].reason.startswith("malformed JSON")
    assert {"delete": {"ids": ["1"]}} in server.posted
    assert {"add": [{"value": "#levee"}]} in server.posted
    assert server.auth == {f"Bearer {SECRET}"}
