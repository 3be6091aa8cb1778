"""A WebSocket consumer's push subscription comes back by itself: started
during an outage, after a killed server and after a graceful restart, a
message posted once it is back reaches the consumer by push.

The server is this module's own: restarting the session's would disturb
other tests. Every wait is bounded and generous (a restart takes seconds on
a busy machine).
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import anyio  # async-only
import pytest

from zaqarkit import AsyncClient
from zaqarkit.testing import ZaqarServer

pytestmark = [pytest.mark.anyio, pytest.mark.integration]  # async-only
# sync-only: pytestmark = pytest.mark.integration

#: A restart of the WebSocket process, and the re-subscription after it.
RECOVERY = 90.0


@pytest.fixture(scope="module")
def server() -> Iterator[ZaqarServer]:
    with ZaqarServer() as srv:
        yield srv


async def _sleep(seconds: float) -> None:
    await anyio.sleep(seconds)  # async-only
    # sync-only: threading.Event().wait(seconds)


async def _wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` (bounded, generous margin for a loaded machine)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await _sleep(0.05)
    raise AssertionError("condition not met in time")


def _refused(port: int) -> bool:
    """True while nothing listens on ``port`` (the process is down)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return True
    return False


def _restart_in_background(server: ZaqarServer, *, kill: bool) -> threading.Thread:
    thread = threading.Thread(target=server.restart_websocket, kwargs={"kill": kill})
    thread.start()
    return thread


async def _delivered_by_push(consumer: Any, poster: Any) -> None:
    """Post one message over HTTP: the consumer, whose fallback polls are a
    minute apart, receives it within the wait only if a push woke it."""
    pushes = consumer.stats.pushes
    [message_id] = await poster.post([{"body": "after recovery", "ttl": 600}])
    delivery = await consumer.next_delivery(timeout=30)
    assert delivery is not None
    assert delivery.id == message_id
    await delivery.ack()
    await _wait_for(lambda: consumer.stats.pushes > pushes)


async def test_push_recovers_after_outages(server: ZaqarServer, project_id: str) -> None:
    async with (
        AsyncClient(server.ws_url, project_id=project_id) as ws,
        AsyncClient(server.url, project_id=project_id) as http,
    ):
        # Created over HTTP: the WebSocket client's first connection is the
        # consumer's, made while the server is down.
        poster = http.queue("push-" + uuid.uuid4().hex[:10])
        await poster.ensure_exists()
        queue = ws.queue(poster.name, auto_create=False)

        # 1. Started while the WebSocket server is down.
        outage = _restart_in_background(server, kill=True)
        await _wait_for(lambda: _refused(server.ws_port), timeout=10.0)
        async with queue.consumer(push_poll=60.0, poll_max=60.0) as consumer:
            assert not consumer.push_active
            await _wait_for(lambda: consumer.stats.push_failures >= 1)
            await _wait_for(lambda: not outage.is_alive(), timeout=RECOVERY)
            await _wait_for(lambda: consumer.push_active, timeout=RECOVERY)
            await _delivered_by_push(consumer, poster)

            # 2. The WebSocket server is killed mid-run.
            losses = consumer.stats.push_losses
            crash = _restart_in_background(server, kill=True)
            await _wait_for(lambda: consumer.stats.push_losses > losses, timeout=RECOVERY)
            await _wait_for(lambda: not crash.is_alive(), timeout=RECOVERY)
            await _wait_for(lambda: consumer.push_active, timeout=RECOVERY)
            await _delivered_by_push(consumer, poster)

            # 3. A graceful restart.
            losses = consumer.stats.push_losses
            restart = _restart_in_background(server, kill=False)
            await _wait_for(lambda: consumer.stats.push_losses > losses, timeout=RECOVERY)
            await _wait_for(lambda: not restart.is_alive(), timeout=RECOVERY)
            await _wait_for(lambda: consumer.push_active, timeout=RECOVERY)
            await _delivered_by_push(consumer, poster)
        assert consumer.stats.pushes >= 3
        assert not consumer.push_active
        await poster.delete()
