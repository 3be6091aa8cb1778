"""503/429 storms from a fake Zaqar, ridden out by the retry policy over the
real HTTP transports (sync, asyncio, trio). The delays are asserted from the
policy's own retry log records (``zaqarkit.retry``), not from the wall clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from zaqarkit import (
    AsyncClient,
    Client,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
)

STATS = json.dumps({"messages": {"claimed": 0, "free": 3, "total": 3}}).encode()


class StormServer:
    """Answers the first ``storm`` requests with ``status`` and ``Retry-After``,
    then 200 with queue stats (or 201 with ids for a post)."""

    def __init__(self) -> None:
        self.storm = 0
        self.status = 503
        self.retry_after: str | None = "1"
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.requests.append(f"{self.command} {self.path}")
                if len(server.requests) <= server.storm:
                    body = json.dumps(
                        {"title": "Service Unavailable", "description": "try again"}
                    ).encode()
                    self.send_response(server.status)
                    if server.retry_after is not None:
                        self.send_header("Retry-After", server.retry_after)
                elif self.command == "POST":
                    body = json.dumps({"resources": ["/v2/queues/q/messages/m1"]}).encode()
                    self.send_response(201)
                else:
                    body = STATS
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def storm() -> Iterator[StormServer]:
    server = StormServer()
    yield server
    server.close()


POLICY = RetryPolicy(attempts=4, backoff=0.01, jitter=0.0, max_retry_after=5)


def test_sync_503_storm_honours_retry_after(storm: StormServer, retry_log: Any) -> None:
    storm.storm, storm.status, storm.retry_after = 3, 503, "0.3"
    with Client(storm.url, project_id="p", retries=POLICY, timeout=20) as cli:
        stats = cli.queue("q", auto_create=False).stats()
    assert stats.total == 3
    assert len(storm.requests) == 4
    assert retry_log() == [("503", 0.3)] * 3


def test_sync_429_storm_on_a_post_is_retried(storm: StormServer, retry_log: Any) -> None:
    # A 429 says the server did not act: even a post is safe to resend.
    storm.storm, storm.status, storm.retry_after = 2, 429, "0.2"
    with Client(storm.url, project_id="p", retries=POLICY, timeout=20) as cli:
        assert cli.queue("q", auto_create=False).post({"body": 1}) == ["m1"]
    assert [r.split()[0] for r in storm.requests] == ["POST"] * 3
    assert retry_log() == [("429", 0.2)] * 2


def test_sync_storm_longer_than_the_policy(storm: StormServer, retry_log: Any) -> None:
    storm.storm, storm.status, storm.retry_after = 10, 503, "0.1"
    with (
        Client(storm.url, project_id="p", retries=POLICY, timeout=20) as cli,
        pytest.raises(ServiceUnavailable) as info,
    ):
        cli.queue("q", auto_create=False).stats()
    assert len(storm.requests) == 4
    assert info.value.retry_after == 0.1
    assert info.value.retryable
    assert len(retry_log()) == 3


def test_sync_retry_after_beyond_the_cap_is_raised_at_once(
    storm: StormServer, retry_log: Any
) -> None:
    storm.storm, storm.status, storm.retry_after = 10, 503, "120"
    with (
        Client(storm.url, project_id="p", retries=POLICY, timeout=20) as cli,
        pytest.raises(ServiceUnavailable) as info,
    ):
        cli.queue("q", auto_create=False).stats()
    assert len(storm.requests) == 1
    assert retry_log() == []
    assert info.value.retry_after == 120


def test_sync_gateway_error_on_a_post_is_not_resent(storm: StormServer) -> None:
    # A 502 from a proxy: the server may have stored the message.
    storm.storm, storm.status, storm.retry_after = 1, 502, None
    with Client(storm.url, project_id="p", retries=POLICY) as cli, pytest.raises(ServerError):
        cli.queue("q", auto_create=False).post({"body": 1})
    assert len(storm.requests) == 1


@pytest.mark.anyio
async def test_async_503_storm_honours_retry_after(storm: StormServer, retry_log: Any) -> None:
    storm.storm, storm.status, storm.retry_after = 2, 503, "0.25"
    async with AsyncClient(storm.url, project_id="p", retries=POLICY, timeout=20) as cli:
        stats = await cli.queue("q", auto_create=False).stats()
    assert stats.total == 3
    assert len(storm.requests) == 3
    assert retry_log() == [("503", 0.25)] * 2


@pytest.mark.anyio
async def test_async_429_storm_without_retry_after_backs_off(
    storm: StormServer, retry_log: Any
) -> None:
    storm.storm, storm.status, storm.retry_after = 3, 429, None
    policy = RetryPolicy(attempts=4, backoff=0.05, multiplier=2, jitter=0.0)
    async with AsyncClient(storm.url, project_id="p", retries=policy, timeout=20) as cli:
        await cli.queue("q", auto_create=False).stats()
    assert retry_log() == [("429", 0.05), ("429", 0.1), ("429", 0.2)]


@pytest.mark.anyio
async def test_async_storm_raises_too_many_requests(storm: StormServer) -> None:
    storm.storm, storm.status, storm.retry_after = 10, 429, "0.05"
    async with AsyncClient(storm.url, project_id="p", retries=POLICY, timeout=20) as cli:
        with pytest.raises(TooManyRequests) as info:
            await cli.queue("q", auto_create=False).stats()
    assert info.value.retry_after == 0.05
    assert len(storm.requests) == 4
