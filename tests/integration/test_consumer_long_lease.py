"""A handler that runs three times the claim's ttl keeps its lease, with the
consumer's default renewal schedule (a third of the ttl).

Zaqar's floor for a claim ttl is 60 s (``MIN_CLAIM_TTL``, hard-coded), so this
takes a little over three minutes: it runs once, sync over HTTP, while the
lease logic itself is unit-tested in memory (tests/unit/test_core_consumer.py)
and the shorter renewal test runs on every client and transport
(tests/integration/_async/test_consumer.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from zaqarkit import Client, Delivery

TTL = 60
HANDLER_SECONDS = 3 * TTL + 5


def test_a_handler_running_three_ttls_keeps_its_lease(zaqar_server: Any, project_id: str) -> None:
    name = f"long-lease-{uuid.uuid4().hex[:8]}"
    stolen: list[str] = []
    attempts = 0
    done = threading.Event()
    with (
        Client(zaqar_server.url, project_id=project_id) as cli,
        Client(zaqar_server.url, project_id=project_id) as other,
    ):
        queue = cli.queue(name)
        [message_id] = queue.post([{"body": "slow", "ttl": 3600}])
        other_queue = other.queue(name, auto_create=False)

        def thief() -> None:
            # Claims what it can every few seconds for the whole run: a lapsed
            # lease would hand it the message.
            nonlocal attempts
            while not done.wait(5):
                attempts += 1
                claim = other_queue.claim(ttl=TTL, limit=1)
                stolen.extend(m.id for m in claim)
                if len(claim):
                    claim.delete()

        handled: list[tuple[str, bool]] = []

        def handler(delivery: Delivery) -> None:
            started = time.monotonic()
            while time.monotonic() - started < HANDLER_SECONDS:
                time.sleep(1)
            handled.append((delivery.id, delivery.lease_lost))
            delivery.consumer.stop()

        watcher = threading.Thread(target=thief, daemon=True)
        watcher.start()
        try:
            stats = queue.consume(handler, concurrency=1, batch=1, ttl=TTL)
        finally:
            done.set()
            watcher.join(timeout=30)
        assert handled == [(message_id, False)]
        assert stolen == []
        assert attempts >= HANDLER_SECONDS // 5 - 2  # the thief really kept trying
        # A renewal every ttl/3 over 3 ttls: at least 8 of the 9 due.
        assert stats.renewals >= 8, stats
        assert stats.renewal_failures == 0
        assert stats.acked == 1
        assert queue.stats().total == 0
        queue.delete()
