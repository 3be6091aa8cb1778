"""2,000 messages produced and consumed while the HTTP and the WebSocket
server processes restart (gracefully and with SIGKILL): no acknowledged
message is lost, and every duplicate is accounted for by a post whose
outcome was unknown (``TransportError.sent``) and that the producer resent.

The server is this module's own (restarting the session's would disturb
other tests); redis keeps running, so what Zaqar stored survives.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zaqarkit import Client, TransportError
from zaqarkit.testing import ZaqarServer

pytestmark = pytest.mark.integration

TOTAL = 2000
BATCH = 10
#: The whole run's bound: generous, restarts take seconds on a busy machine.
RUN_LIMIT = 240.0


@pytest.fixture(scope="module")
def server() -> Iterator[ZaqarServer]:
    with ZaqarServer() as srv:
        yield srv


def _until_done(
    action: Callable[[], Any], limit: float, on_error: Callable[[TransportError], None]
) -> Any:
    """Call ``action`` until it succeeds (the application's own resend loop)."""
    while True:
        try:
            return action()
        except TransportError as exc:
            on_error(exc)
            if time.monotonic() > limit:
                raise
            time.sleep(0.2)


def _produce_and_consume(cli: Client, restarts: list[Callable[[], None]]) -> None:
    limit = time.monotonic() + RUN_LIMIT
    queue = cli.queue("restart-" + uuid.uuid4().hex[:10])
    _until_done(queue.ensure_exists, limit, lambda exc: None)
    acknowledged: set[int] = set()
    unknown_outcome: set[int] = set()  # in a post that failed with sent=True, then resent
    consumed: list[int] = []
    every = TOTAL // BATCH // (len(restarts) + 1) * BATCH
    restart_at = {every * (k + 1): r for k, r in enumerate(restarts)}
    restarters: list[threading.Thread] = []

    failures: list[TransportError] = []

    def consume_page() -> int:
        page = _until_done(
            lambda: list(itertools.islice(queue.messages(echo=True, limit=20), 20)),
            limit,
            failures.append,
        )
        if page:
            consumed.extend(message.body["n"] for message in page)
            # A delete is idempotent: resending it after an unknown outcome is safe.
            _until_done(
                lambda: queue.delete_messages(*(m.id for m in page)), limit, failures.append
            )
        return len(page)

    for start in range(0, TOTAL, BATCH):
        if start in restart_at:
            thread = threading.Thread(target=restart_at[start], daemon=True)
            thread.start()
            restarters.append(thread)
        numbers = range(start, start + BATCH)
        items = [{"body": {"n": n}, "ttl": 3600} for n in numbers]

        def noted(exc: TransportError, numbers: range = numbers) -> None:
            failures.append(exc)
            if exc.sent:
                unknown_outcome.update(numbers)

        ids = _until_done(lambda items=items: queue.post(items), limit, noted)
        assert len(ids) == BATCH
        acknowledged.update(numbers)
        if start % (2 * BATCH) == 0:
            consume_page()
    assert len(restarters) == len(restarts)
    for thread in restarters:
        thread.join(timeout=max(1.0, limit - time.monotonic()))
        assert not thread.is_alive(), "a server restart did not finish"
    while consume_page():
        assert time.monotonic() < limit, "draining the queue took too long"

    counts = collections.Counter(consumed)
    lost = acknowledged - counts.keys()
    assert not lost, f"{len(lost)} acknowledged messages lost, e.g. {sorted(lost)[:5]}"
    duplicates = {n for n, count in counts.items() if count > 1}
    assert duplicates <= unknown_outcome, sorted(duplicates - unknown_outcome)[:5]
    assert counts.keys() <= set(range(TOTAL))
    print(
        f"{len(failures)} failed calls ({len(unknown_outcome) // BATCH} with unknown "
        f"outcome), {len(duplicates)} duplicates, {len(consumed)} consumed"
    )
    _until_done(queue.delete, limit, lambda exc: None)


#: Without retries the application's loop sees every failure; with the default
#: policy most are ridden out inside the client.
RETRIES = pytest.mark.parametrize("retries", [0, 3], ids=["no-retries", "retries"])


@RETRIES
def test_http_restarts_lose_nothing(server: ZaqarServer, project_id: str, retries: int) -> None:
    with Client(server.url, project_id=project_id, timeout=5, retries=retries) as cli:
        _produce_and_consume(cli, [server.restart_http, lambda: server.restart_http(kill=True)])


@RETRIES
def test_websocket_restarts_lose_nothing(
    server: ZaqarServer, project_id: str, retries: int
) -> None:
    with Client(server.ws_url, project_id=project_id, timeout=5, retries=retries) as cli:
        _produce_and_consume(
            cli, [server.restart_websocket, lambda: server.restart_websocket(kill=True)]
        )
