# This file is generated from tests/integration/_async/test_push_recovery.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
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

import pytest

from zaqarkit import Client
from zaqarkit.testing import ZaqarServer

pytestmark = pytest.mark.integration

#: A restart of the WebSocket process, and the re-subscription after it.
RECOVERY = 90.0


@pytest.fixture(scope="module")
def server() -> Iterator[ZaqarServer]:
    with ZaqarServer() as srv:
        yield srv


def _sleep(seconds: float) -> None:
    threading.Event().wait(seconds)


def _wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` (bounded, generous margin for a loaded machine)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        _sleep(0.05)
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


def _delivered_by_push(consumer: Any, poster: Any) -> None:
    """Post one message over HTTP: the consumer, whose fallback polls are a
    minute apart, receives it within the wait only if a push woke it."""
    pushes = consumer.stats.pushes
    [message_id] = poster.post([{"body": "after recovery", "ttl": 600}])
    delivery = consumer.next_delivery(timeout=30)
    assert delivery is not None
    assert delivery.id == message_id
    delivery.ack()
    _wait_for(lambda: consumer.stats.pushes > pushes)


def test_push_recovers_after_outages(server: ZaqarServer, project_id: str) -> None:
    with (
        Client(server.ws_url, project_id=project_id) as ws,
        Client(server.url, project_id=project_id) as http,
    ):
        # Created over HTTP: the WebSocket client's first connection is the
        # consumer's, made while the server is down.
        poster = http.queue("push-" + uuid.uuid4().hex[:10])
        poster.ensure_exists()
        queue = ws.queue(poster.name, auto_create=False)

        # 1. Started while the WebSocket server is down.
        outage = _restart_in_background(server, kill=True)
        _wait_for(lambda: _refused(server.ws_port), timeout=10.0)
        with queue.consumer(push_poll=60.0, poll_max=60.0) as consumer:
            assert not consumer.push_active
            _wait_for(lambda: consumer.stats.push_failures >= 1)
            _wait_for(lambda: not outage.is_alive(), timeout=RECOVERY)
            _wait_for(lambda: consumer.push_active, timeout=RECOVERY)
            _delivered_by_push(consumer, poster)

            # 2. The WebSocket server is killed mid-run.
            losses = consumer.stats.push_losses
            crash = _restart_in_background(server, kill=True)
            _wait_for(lambda: consumer.stats.push_losses > losses, timeout=RECOVERY)
            _wait_for(lambda: not crash.is_alive(), timeout=RECOVERY)
            _wait_for(lambda: consumer.push_active, timeout=RECOVERY)
            _delivered_by_push(consumer, poster)

            # 3. A graceful restart.
            losses = consumer.stats.push_losses
            restart = _restart_in_background(server, kill=False)
            _wait_for(lambda: consumer.stats.push_losses > losses, timeout=RECOVERY)
            _wait_for(lambda: not restart.is_alive(), timeout=RECOVERY)
            _wait_for(lambda: consumer.push_active, timeout=RECOVERY)
            _delivered_by_push(consumer, poster)
        assert consumer.stats.pushes >= 3
        assert not consumer.push_active
        poster.delete()
