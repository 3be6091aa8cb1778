"""HTTP through the fault proxy, against the real harness server: every call
ends within its timeout (plus a margin), fails with the right error and
outcome flags, and the same client succeeds on the next call. Sync, asyncio
and trio."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import pytest

from zaqarkit import (
    AsyncClient,
    Client,
    ConnectError,
    ReadError,
    RetryPolicy,
    Timeout,
    TimeoutError,
)

from .cases import MARGIN, Fault, run_async
from .proxy import FaultProxy, elapsed

pytestmark = pytest.mark.integration


FAULTS = [
    Fault("blackhole", "get", TimeoutError, sent=True),
    Fault("blackhole", "post", TimeoutError, sent=True),
    # The answer dripping one byte every 0.25 s: the call must still end at 2 s.
    Fault("drip", "get", TimeoutError, sent=True, seconds=0.25),
    Fault("drip", "post", TimeoutError, sent=True, seconds=0.25),
    Fault("reset", "post", ReadError, sent=True, after=20),
    Fault("reset", "get", ReadError, sent=True, after=0),
    Fault("close", "get", ReadError, sent=True, after=20),
    Fault("swallow", "post", TimeoutError, sent=True),
    Fault("stop_reading", "post", TimeoutError, sent=True),
]


def _name() -> str:
    return "fault-" + uuid.uuid4().hex[:12]


def _body(fault: Fault) -> dict[str, Any]:
    # stop_reading: a body big enough to back up the client's writes.
    size = 200_000 if fault.mode == "stop_reading" else 10
    return {"body": "x" * size, "ttl": 300}


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_sync_http_fault(
    fault: Fault, http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    with Client(
        http_proxy.url("http"), project_id=project_id, timeout=fault.timeout, retries=0
    ) as cli:
        queue = cli.queue(_name())
        queue.ensure_exists()
        fault.apply(http_proxy)
        action = queue.stats if fault.call == "get" else (lambda: queue.post(_body(fault)))
        took, error = elapsed(action)
        fault.check(error, took)
        http_proxy.set_mode("pass")
        assert queue.stats().total >= 0  # the client recovers on the next call
        if fault.mode == "swallow":
            # The server did act: the outcome was unknown, not a failure.
            assert queue.stats().total == 1
        queue.delete()


@pytest.mark.anyio
@pytest.mark.parametrize("fault", FAULTS, ids=str)
async def test_async_http_fault(
    fault: Fault, http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    async with AsyncClient(
        http_proxy.url("http"), project_id=project_id, timeout=fault.timeout, retries=0
    ) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        fault.apply(http_proxy)
        await run_async(fault, queue, _body(fault))
        http_proxy.set_mode("pass")
        assert (await queue.stats()).total >= 0
        if fault.mode == "swallow":
            assert (await queue.stats()).total == 1
        await queue.delete()


def test_sync_connect_refused_is_not_sent(project_id: str) -> None:
    proxy = FaultProxy(("127.0.0.1", 9))
    url = proxy.url("http")
    proxy.close()  # nothing listens there any more
    with Client(url, project_id=project_id, timeout=2, retries=0) as cli:
        took, error = elapsed(lambda: cli.queue("q", auto_create=False).post({"body": 1}))
    assert isinstance(error, ConnectError)
    assert error.sent is False
    assert error.retryable
    assert took < 2 + MARGIN


@pytest.mark.anyio
async def test_async_connect_refused_is_not_sent(project_id: str) -> None:
    proxy = FaultProxy(("127.0.0.1", 9))
    url = proxy.url("http")
    proxy.close()
    async with AsyncClient(url, project_id=project_id, timeout=2, retries=0) as cli:
        with pytest.raises(ConnectError) as info:
            await cli.queue("q", auto_create=False).post({"body": 1})
    assert info.value.sent is False
    assert info.value.retryable


def test_total_timeout_bounds_retries_too(
    http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    # Each attempt times out; retrying an idempotent read is allowed, but the
    # whole call still ends by its total.
    policy = RetryPolicy(attempts=10, backoff=0.05, jitter=0.0)
    with Client(
        http_proxy.url("http"),
        project_id=project_id,
        retries=policy,
        timeout=Timeout(30, total=2.5),
    ) as cli:
        queue = cli.queue(_name())
        queue.ensure_exists()
        http_proxy.set_mode("drip", seconds=0.2)
        took, error = elapsed(queue.stats)
        assert isinstance(error, TimeoutError)
        assert took < 2.5 + MARGIN
        http_proxy.set_mode("pass")
        queue.delete()


@pytest.mark.anyio
async def test_async_total_timeout_bounds_a_drip(
    http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    async with AsyncClient(
        http_proxy.url("http"), project_id=project_id, timeout=Timeout(30, total=2)
    ) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        http_proxy.set_mode("drip", seconds=0.25)
        began = time.monotonic()
        with anyio.move_on_after(40), pytest.raises(TimeoutError):
            await queue.stats()
        assert time.monotonic() - began < 2 + MARGIN
        http_proxy.set_mode("pass")
        await queue.delete()


@pytest.mark.anyio
async def test_slow_but_steady_answers_succeed(
    http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    async with AsyncClient(http_proxy.url("http"), project_id=project_id, timeout=10) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        http_proxy.set_mode("delay", seconds=0.3)
        assert await queue.post({"body": 1, "ttl": 300})
        http_proxy.set_mode("pass")
        await queue.delete()
