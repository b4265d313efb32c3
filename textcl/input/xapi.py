"""Live tweets from the X API v2 recent-search endpoint, through tweepy's ``Client``.

Polls ``GET /2/tweets/search/recent`` for ``query``: every poll follows ``next_token``
pages, then yields the new tweets oldest first and remembers the newest id as the next
``since_id``, so no tweet is delivered twice. A 429 waits until ``x-rate-limit-reset``
(tweepy's ``wait_on_rate_limit``); 5xx answers and broken connections are retried with
exponential backoff; a page that is not valid JSON, or a tweet object without id or text,
goes to the rejects with the reason. The bearer token is read from
``$TEXTCL_X_BEARER_TOKEN`` only and never written anywhere: not in rejects, summaries,
errors or logs (tweepy's debug log, which prints request headers, is redacted).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from textcl.input.jsonl import tweet_from_payload
from textcl.input.rejects import RecordError, Reject
from textcl.types import Origin, Tweet

TOKEN_ENV = "TEXTCL_X_BEARER_TOKEN"
API_HOST = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "lang", "author_id", "referenced_tweets"]


class _Redact(logging.Filter):
    """Replace the bearer token in every log record of tweepy."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "***"), None
        return True


def bearer_token() -> str:
    """The X API bearer token from ``$TEXTCL_X_BEARER_TOKEN`` (the only place it is read)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValueError(
            f"the X API source needs a bearer token in the environment variable "
            f"{TOKEN_ENV} (it is never read from files or options)"
        )
    return token


def _wire(client: Any, token: str, api_base: str | None) -> Any:
    """Point a tweepy client at ``api_base`` (when given) and keep ``token`` out of its logs."""
    if api_base:
        client.session.mount(API_HOST, _Redirect(api_base))
    redact = _Redact(token)
    for name in ("tweepy", "tweepy.client", "tweepy.streaming"):
        logging.getLogger(name).addFilter(redact)
    return client


class _Redirect(HTTPAdapter):
    """Send requests for the X API host to another base URL (a proxy or a test server)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = self.base + (request.url or "")[len(API_HOST):]
        return super().send(request, **kwargs)


class XApiReader:
    """Reader of a live X API v2 recent search; iterate it like :class:`TweetReader`.

    ``max_polls`` stops after that many polls (None: run until interrupted);
    ``poll_interval`` seconds pass between polls; ``api_base`` sends the requests to
    another server speaking the same endpoints (e.g. a proxy).
    """

    format = "x-api"

    def __init__(
        self,
        query: str,
        poll_interval: float = 60.0,
        max_polls: int | None = None,
        since_id: str | None = None,
        max_results: int = 100,
        api_base: str | None = None,
        max_retries: int = 5,
        backoff: float = 2.0,
        sleep: Callable[[float], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        import tweepy

        token = bearer_token()
        if not query.strip():
            raise ValueError("--query must not be empty for the X API source")
        if not 10 <= max_results <= 100:
            raise ValueError(f"max_results must be within 10..100, got {max_results}")
        self.query = query
        self.source = f"x-api:{query}"
        self.poll_interval = poll_interval
        self.max_polls = max_polls
        self.since_id = since_id
        self.max_results = max_results
        self.max_retries = max_retries
        self.backoff = backoff
        self.stop = stop or threading.Event()
        # waits end early when the pipeline is asked to stop
        self.sleep = sleep or self.stop.wait
        self.polls = 0
        self.requests = 0
        self.retries = 0
        self._recent: deque[str] = deque(maxlen=10_000)
        self._recent_set: set[str] = set()
        self._client = _wire(tweepy.Client(
            bearer_token=token, wait_on_rate_limit=True, return_type=requests.Response
        ), token, api_base)

    def __repr__(self) -> str:
        return f"XApiReader(query={self.query!r}, polls={self.polls})"

    def progress(self) -> tuple[int, int | None]:
        """(polls done, total polls or None when unbounded)."""
        return self.polls, self.max_polls

    def __iter__(self) -> Iterator[Tweet | Reject]:
        while self.max_polls is None or self.polls < self.max_polls:
            if self.polls:
                self.sleep(self.poll_interval)
            if self.stop.is_set():
                return
            self.polls += 1
            yield from self._poll()

    def _poll(self) -> Iterator[Tweet | Reject]:
        tweets: list[Tweet] = []
        rejects: list[Reject] = []
        token: str | None = None
        page = 0
        while True:
            page += 1
            where = f"poll {self.polls} page {page}"
            response = self._get(token, where)
            if isinstance(response, Reject):
                rejects.append(response)
                break
            try:
                payload = response.json()
            except ValueError:
                rejects.append(Reject(self.source, self.polls, f"malformed JSON ({where}); "
                                      "the page is fetched again next poll",
                                      response.text[:200]))
                tweets = []  # since_id stays put, so the whole poll is retried next time
                break
            for item in payload.get("data") or []:
                origin = Origin(self.source, self.polls)
                try:
                    tweets.append(tweet_from_payload(item, origin))
                except RecordError as exc:
                    rejects.append(Reject(self.source, self.polls, f"{exc} ({where})",
                                          str(item)[:200]))
            token = (payload.get("meta") or {}).get("next_token")
            if not token:
                break
        yield from rejects
        tweets.sort(key=lambda t: int(t.id))
        for tweet in tweets:
            if tweet.id in self._recent_set:
                continue
            self._remember(tweet.id)
            yield tweet
        if tweets:
            newest = str(max(int(t.id) for t in tweets))
            if self.since_id is None or int(newest) > int(self.since_id):
                self.since_id = newest

    def _remember(self, tweet_id: str) -> None:
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(tweet_id)
        self._recent_set.add(tweet_id)

    def _get(self, next_token: str | None, where: str) -> requests.Response | Reject:
        import tweepy

        delay = self.backoff
        for attempt in range(self.max_retries + 1):
            self.requests += 1
            try:
                return self._client.search_recent_tweets(
                    self.query, max_results=self.max_results, since_id=self.since_id,
                    next_token=next_token, tweet_fields=TWEET_FIELDS,
                    expansions=["author_id"],
                )
            except (tweepy.errors.TwitterServerError, requests.ConnectionError,
                    requests.Timeout) as exc:
                reason = _describe(exc)
            except tweepy.errors.HTTPException as exc:  # 4xx other than 429: do not retry
                return Reject(self.source, self.polls, f"{_describe(exc)} ({where})")
            if attempt < self.max_retries:
                self.retries += 1
                self.sleep(delay)
                delay *= 2
        return Reject(self.source, self.polls,
                      f"{reason} ({where}); gave up after {self.max_retries} retries")


def _describe(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return f"HTTP {status} {getattr(response, 'reason', '')}".strip()
    return type(exc).__name__


class XStreamReader:
    """Reader of the X API v2 filtered stream (``GET /2/tweets/search/stream``).

    The stream's rules are set to ``rules`` first (rules of the account that are not in
    the list are deleted, missing ones added). tweepy's ``StreamingClient`` keeps the
    connection, reconnecting with its backoff after disconnects and HTTP errors; each line
    it receives is parsed here, and a line that is not a tweet goes to the rejects. The
    reader stops after ``max_tweets`` tweets, or when ``stop`` is set. The bearer token
    comes from ``$TEXTCL_X_BEARER_TOKEN`` only, as for :class:`XApiReader`.
    """

    format = "x-stream"

    def __init__(self, rules: list[str], max_tweets: int | None = None,
                 api_base: str | None = None, stop: threading.Event | None = None) -> None:
        import queue

        import tweepy

        token = bearer_token()
        if not rules or not all(r.strip() for r in rules):
            raise ValueError("the filtered stream needs at least one non-empty --rule")
        self.rules = list(rules)
        self.source = "x-stream:" + " | ".join(self.rules)
        self.max_tweets = max_tweets
        self.stop = stop or threading.Event()
        self.lines = 0
        self.http_errors: list[int] = []
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        reader = self

        class _Client(tweepy.StreamingClient):
            def on_data(self, raw_data: bytes) -> None:
                reader._queue.put(raw_data)

            def on_request_error(self, status_code: int) -> None:
                reader.http_errors.append(status_code)

            def on_disconnect(self) -> None:
                reader._queue.put(None)

        self._client = _wire(
            _Client(token, wait_on_rate_limit=True, return_type=dict), token, api_base
        )

    def __repr__(self) -> str:
        return f"XStreamReader(rules={self.rules!r})"

    def progress(self) -> tuple[int, int | None]:
        """(lines received, max tweets or None)."""
        return self.lines, self.max_tweets

    def sync_rules(self) -> None:
        """Make the account's stream rules exactly ``self.rules``."""
        from tweepy import StreamRule

        current = self._client.get_rules().get("data") or []
        stale = [r["id"] for r in current if r.get("value") not in self.rules]
        if stale:
            self._client.delete_rules(stale)
        have = {r.get("value") for r in current}
        missing = [StreamRule(value) for value in self.rules if value not in have]
        if missing:
            self._client.add_rules(missing)

    def __iter__(self) -> Iterator[Tweet | Reject]:
        import queue

        self.sync_rules()
        thread = self._client.filter(threaded=True, tweet_fields=TWEET_FIELDS,
                                     expansions=["author_id"])
        tweets = 0
        try:
            while not self.stop.is_set():
                if self.max_tweets is not None and tweets >= self.max_tweets:
                    break
                try:
                    raw = self._queue.get(timeout=0.2)
                except queue.Empty:
                    if not thread.is_alive():
                        break
                    continue
                if raw is None:
                    if not thread.is_alive():
                        break
                    continue
                self.lines += 1
                item = self._parse(raw)
                tweets += isinstance(item, Tweet)
                yield item
        finally:
            self._client.disconnect()
            thread.join(timeout=30)

    def _parse(self, raw: bytes) -> Tweet | Reject:
        import json

        text = raw.decode("utf-8", errors="replace")
        try:
            payload = json.loads(text)
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, dict):
                errors = payload.get("errors") if isinstance(payload, dict) else None
                reason = f"stream message without a tweet: {errors}" if errors else (
                    "stream message without a tweet")
                return Reject(self.source, self.lines, reason, text[:200])
            return tweet_from_payload(data, Origin(self.source, self.lines))
        except ValueError as exc:  # JSONDecodeError and RecordError
            reason = "malformed JSON" if not isinstance(exc, RecordError) else str(exc)
            return Reject(self.source, self.lines, f"{reason} (stream line {self.lines})",
                          text[:200])
