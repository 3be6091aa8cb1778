"""Every UnsupportedOperation is raised before anything is sent, the lazy
creation of the queue included: per API version (v1, v1.1, v2) and transport
kind (HTTP, WebSocket), through a counting MockTransport."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from zaqarkit import AsyncClient, AsyncQueue, UnsupportedOperation
from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import MockTransport


def _answer(request: Request) -> Response:
    # Whatever a supported call gets back does not matter here.
    return Response(204)


async def _listing(iterator: Any) -> None:
    async for _ in iterator:
        break


#: Every queue-level public call, on a queue handle that would auto-create.
CALLS: dict[str, Callable[[AsyncQueue], Awaitable[Any]]] = {
    "stats": lambda q: q.stats(),
    "purge": lambda q: q.purge(),
    "post": lambda q: q.post({"body": 1, "ttl": 60}),
    "post_delayed": lambda q: q.post({"body": 1, "ttl": 60, "delay": 5}),
    "message": lambda q: q.message("m1"),
    "messages": lambda q: _listing(q.messages()),
    "messages_by_id": lambda q: _listing(q.messages("m1", "m2")),
    "pop": lambda q: q.pop(2),
    "claim": lambda q: q.claim(ttl=60, grace=60),
    "claim_get": lambda q: q.claim(id="c1"),
    "signed_url": lambda q: q.signed_url(),
    "metadata_get": lambda q: q.metadata(),
    "metadata_set": lambda q: q.metadata({"a": 1}),
    "subscriptions": lambda q: _listing(q.subscriptions()),
}

CLIENT_CALLS: dict[str, Callable[[AsyncClient], Awaitable[Any]]] = {
    "health": lambda c: c.health(),
    "homedoc": lambda c: c.homedoc(),
    "queue_count": lambda c: c.queue_count(),
    "queues_with_count": lambda c: _listing(c.queues(with_count=True)),
    "subscription_create": lambda c: c.subscription("q", "http://127.0.0.1:1/hook"),
    "pools": lambda c: _listing(c.pools()),
    "flavor_get": lambda c: c.flavor("f", auto_create=False).get(),
    "pool_get": lambda c: c.pool("p", auto_create=False).get(),
}

#: Refusals that must happen (so the test cannot pass by refusing nothing).
EXPECTED = {
    ("1", "http", "pop"),
    ("1", "http", "signed_url"),
    ("1.1", "http", "signed_url"),
    ("1", "http", "purge"),
    ("1.1", "http", "metadata_set"),
    ("2", "ws", "signed_url"),
    ("2", "ws", "metadata_set"),
    ("2", "ws", "health"),
}


@pytest.mark.anyio
async def test_refusals_send_nothing() -> None:
    refused = set()
    for version in ("1", "1.1", "2"):
        for kind, url in (("http", "http://zaqar.test"), ("ws", "ws://zaqar.test")):
            if kind == "ws" and version != "2":
                continue  # Zaqar's WebSocket speaks v2 only
            for name, call in [*CALLS.items(), *CLIENT_CALLS.items()]:
                mock = MockTransport(_answer)
                async with AsyncClient(
                    url, version=version, project_id="p", transport=mock, retries=0
                ) as cli:
                    target: Any = cli.queue("q") if name in CALLS else cli
                    try:
                        await call(target)
                    except UnsupportedOperation:
                        refused.add((version, kind, name))
                        assert mock.requests == [], (version, kind, name, mock.requests)
                    except Exception:
                        pass
    missing = EXPECTED - refused
    assert not missing, missing


def test_sync_refusal_before_lazy_creation() -> None:
    from zaqarkit import Client

    mock = MockTransport(_answer)
    with Client("http://zaqar.test", version="1", project_id="p", transport=mock) as cli:
        with pytest.raises(UnsupportedOperation):
            cli.queue("q").signed_url()
        with pytest.raises(UnsupportedOperation):
            cli.queue("q").pop()
    mock_ws = MockTransport(_answer)
    with (
        Client("ws://zaqar.test", project_id="p", transport=mock_ws) as cli,
        pytest.raises(UnsupportedOperation),
    ):
        cli.queue("q").metadata({"a": 1})
    assert mock.requests == []
    assert mock_ws.requests == []
