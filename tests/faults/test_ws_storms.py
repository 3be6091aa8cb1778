"""503/429 storms over WebSocket, ridden out by the same retry policy as over
HTTP (tests/faults/test_storms.py): a fake WebSocket Zaqar (``wsrelay``)
answers the first requests of one action with an error status and relays
everything else to the real server. Sync, asyncio and trio.

Zaqar's WebSocket replies carry no ``Retry-After``: the policy's own backoff
applies, asserted from its retry log records (``zaqarkit.retry``) and as a
lower bound on the time the call took (sleeps never end early).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import anyio
import pytest

from zaqarkit import (
    AsyncClient,
    Client,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
)
from zaqarkit.testing import ZaqarServer

from .wsrelay import StormRelay

pytestmark = pytest.mark.integration

RetryLog = Callable[[], list[tuple[str, float]]]

POLICY = RetryPolicy(attempts=4, backoff=0.1, multiplier=2, jitter=0.0)
BACKOFF = [0.1, 0.2, 0.4]  # POLICY's delays before retries 1, 2 and 3


@pytest.fixture
def relay(zaqar_server: ZaqarServer) -> Iterator[StormRelay]:
    with StormRelay(zaqar_server.ws_url) as relay:
        yield relay


def _name() -> str:
    return "wsstorm-" + uuid.uuid4().hex[:12]


@pytest.mark.parametrize("status", [503, 429])
def test_sync_storm_on_a_read_is_retried_with_backoff(
    status: int, relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    with Client(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        queue.post([{"body": 1, "ttl": 300}])
        relay.storm("queue_get_stats", status, times=3)
        began = time.monotonic()
        assert queue.stats().total == 1  # the fourth attempt reached the real server
        took = time.monotonic() - began
        queue.delete()
    assert relay.attempts("queue_get_stats") == 4
    assert relay.faulted == ["queue_get_stats"] * 3
    assert retry_log() == [(str(status), delay) for delay in BACKOFF]
    assert took >= sum(BACKOFF)


def test_sync_storm_longer_than_the_policy(
    relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    with Client(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        queue.ensure_exists()
        relay.storm("queue_get_stats", 503, times=10)
        with pytest.raises(ServiceUnavailable) as info:
            queue.stats()
        assert info.value.retryable
        assert relay.attempts("queue_get_stats") == 4
        assert len(retry_log()) == 3
        relay.storm("queue_get_stats", 503, times=0)
        queue.delete()


def test_sync_refused_post_is_resent_and_stored_once(
    relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    # 503 and 429 say the server did not act: even a post is safe to resend.
    with Client(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        queue.ensure_exists()
        relay.storm("message_post", 503, times=2)
        assert len(queue.post([{"body": "once", "ttl": 300}])) == 1
        assert relay.attempts("message_post") == 3
        assert queue.stats().total == 1
        queue.delete()
    assert retry_log() == [("503", 0.1), ("503", 0.2)]


def test_sync_gateway_error_on_a_post_is_not_resent_but_on_a_read_is(
    relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    # A 502 may come from a gateway that forwarded the request: HTTP does not
    # resend a post then, and neither does WebSocket; a read is resent.
    with Client(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        queue.ensure_exists()
        relay.storm("message_post", 502, times=1)
        with pytest.raises(ServerError) as info:
            queue.post([{"body": "maybe", "ttl": 300}])
        assert info.value.status == 502
        assert relay.attempts("message_post") == 1
        relay.storm("queue_get_stats", 502, times=1)
        assert queue.stats().total == 0
        assert relay.attempts("queue_get_stats") == 2
        queue.delete()
    assert retry_log() == [("502", 0.1)]


@pytest.mark.anyio
@pytest.mark.parametrize("status", [503, 429])
async def test_async_storm_on_a_read_is_retried_with_backoff(
    status: int, relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    async with AsyncClient(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        await queue.post([{"body": 1, "ttl": 300}])
        relay.storm("queue_get_stats", status, times=3)
        began = time.monotonic()
        with anyio.fail_after(60):
            assert (await queue.stats()).total == 1
        took = time.monotonic() - began
        await queue.delete()
    assert relay.attempts("queue_get_stats") == 4
    assert retry_log() == [(str(status), delay) for delay in BACKOFF]
    assert took >= sum(BACKOFF)


@pytest.mark.anyio
async def test_async_storm_raises_too_many_requests(
    relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    async with AsyncClient(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        relay.storm("queue_get_stats", 429, times=10)
        with anyio.fail_after(60), pytest.raises(TooManyRequests):
            await queue.stats()
        assert relay.attempts("queue_get_stats") == 4
        relay.storm("queue_get_stats", 429, times=0)
        await queue.delete()
    assert len(retry_log()) == 3


@pytest.mark.anyio
async def test_async_refused_post_is_resent_but_a_gateway_error_is_not(
    relay: StormRelay, project_id: str, retry_log: RetryLog
) -> None:
    async with AsyncClient(relay.url, project_id=project_id, retries=POLICY, timeout=20) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        relay.storm("message_post", 429, times=2)
        with anyio.fail_after(60):
            assert len(await queue.post([{"body": "once", "ttl": 300}])) == 1
        assert relay.attempts("message_post") == 3
        relay.storm("message_post", 504, times=1)
        with pytest.raises(ServerError):
            await queue.post([{"body": "maybe", "ttl": 300}])
        assert relay.attempts("message_post") == 4
        assert (await queue.stats()).total == 1
        await queue.delete()
    assert retry_log() == [("429", 0.1), ("429", 0.2)]
