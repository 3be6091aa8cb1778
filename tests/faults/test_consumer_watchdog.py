"""The consumer's stall watchdog against the real harness server: a
connection that stops answering (the fault proxy's blackhole) while a
message waits makes the consumer log an ERROR, count a stall, recreate its
connection (``client.reconnect()``) and say so in ``health()``; once the
network answers again the message is delivered. Sync over HTTP, asyncio and
trio over WebSocket (where only the watchdog opens a second connection)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from zaqarkit import AsyncClient, Client

from .proxy import FaultProxy

pytestmark = pytest.mark.integration

#: Seconds: generous, the machine is shared and busy.
LIMIT = 60.0


def _name() -> str:
    return "stall-" + uuid.uuid4().hex[:12]


def _wait(predicate: Callable[[], bool], timeout: float = LIMIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


async def _await(predicate: Callable[[], bool], timeout: float = LIMIT) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.05)


def _stall_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any(
        r.levelno == logging.ERROR and "stalled" in r.getMessage()
        for r in caplog.records
        if r.name == "zaqarkit.consumer"
    )


def test_sync_watchdog_recreates_a_silent_http_connection(
    http_proxy: FaultProxy, zaqar_server: Any, project_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="zaqarkit.consumer")
    with Client(zaqar_server.url, project_id=project_id) as direct:
        queue = direct.queue(_name())
        [message_id] = queue.post([{"body": "waiting", "ttl": 600}])
        http_proxy.set_mode("blackhole")
        with Client(http_proxy.url("http"), project_id=project_id, timeout=1.0, retries=0) as cli:
            silent = cli.queue(queue.name, auto_create=False)
            with silent.consumer(stall_after=2.0, poll_max=0.5) as consumer:
                assert consumer.health().state == "running"
                _wait(lambda: consumer.stats.reconnects >= 1)
                health = consumer.health()
                assert health.state == "stalled"
                assert health.live
                assert not health.ready
                assert health.last_claim_at is None
                assert health.last_error is not None
                assert "stalled" in health.last_error
                assert consumer.stats.stalls >= 1
                http_proxy.set_mode("pass")
                delivery = consumer.next_delivery(timeout=LIMIT)
                assert delivery is not None
                assert delivery.id == message_id
                delivery.ack()
                _wait(lambda: consumer.health().last_ack_at is not None)
                health = consumer.health()
                assert health.state == "running"
                assert health.last_claim_at is not None
                assert health.last_claim_at <= health.last_ack_at  # type: ignore[operator]
            assert consumer.health().state == "stopped"
        assert _stall_logged(caplog)
        queue.delete()


@pytest.mark.anyio
async def test_async_watchdog_recreates_a_silent_websocket(
    ws_proxy: FaultProxy, zaqar_server: Any, project_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="zaqarkit.consumer")
    async with AsyncClient(zaqar_server.url, project_id=project_id) as direct:
        queue = direct.queue(_name())
        [message_id] = await queue.post([{"body": "waiting", "ttl": 600}])
        # The opening handshake passes, then nothing is answered.
        ws_proxy.set_mode("blackhole", after_handshake=True)
        async with AsyncClient(
            ws_proxy.url("ws"), project_id=project_id, timeout=1.0, retries=0
        ) as cli:
            silent = cli.queue(queue.name, auto_create=False)
            async with silent.consumer(stall_after=2.0, poll_max=0.5) as consumer:
                await _await(lambda: ws_proxy.accepted == 1)
                await _await(lambda: consumer.stats.reconnects >= 1)
                # A WebSocket whose requests time out stays open: only the
                # watchdog's reconnect makes a second connection this soon.
                await _await(lambda: ws_proxy.accepted >= 2)
                assert consumer.health().state == "stalled"
                assert not consumer.push_active
                ws_proxy.set_mode("pass")
                delivery = await consumer.next_delivery(timeout=LIMIT)
                assert delivery is not None
                assert delivery.id == message_id
                await delivery.ack()
                await _await(lambda: consumer.health().state == "running")
                await _await(lambda: consumer.push_active)  # subscribed again
        assert _stall_logged(caplog)
        await queue.delete()
