"""One AsyncClient used by one event loop after another (asyncio.run, then
trio.run, ...), as scripts and test frameworks do, against the real Zaqar."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest
import trio

from zaqarkit import AsyncClient, ReadError, TransportError
from zaqarkit.testing import ZaqarServer

SCHEMES = pytest.mark.parametrize("scheme", ["http", "websocket"])


def _url(server: ZaqarServer, scheme: str) -> str:
    return server.url if scheme == "http" else server.ws_url


@SCHEMES
def test_one_client_in_one_event_loop_after_another(
    zaqar_server: ZaqarServer, project_id: str, scheme: str
) -> None:
    client = AsyncClient(_url(zaqar_server, scheme), project_id=project_id)
    queue = client.queue("loops")

    async def post_and_count(n: int) -> Any:
        await queue.post([{"body": n, "ttl": 60}])
        return (await queue.stats()).total

    assert asyncio.run(post_and_count(1)) == 1
    assert asyncio.run(post_and_count(2)) == 2
    assert trio.run(post_and_count, 3) == 3
    assert asyncio.run(post_and_count(4)) == 4
    trio.run(client.aclose)
    # Each loop closed its connections as it ended: nothing left for the
    # garbage collector to warn about (warnings are errors in this suite).
    gc.collect()


@SCHEMES
def test_a_second_live_event_loop_is_refused(
    zaqar_server: ZaqarServer, project_id: str, scheme: str
) -> None:
    client = AsyncClient(_url(zaqar_server, scheme), project_id=project_id)

    async def total() -> int:
        return (await client.queue("shared").stats()).total

    started, release = threading.Event(), threading.Event()

    async def hold() -> None:
        await total()
        started.set()
        while not release.is_set():
            await asyncio.sleep(0.01)

    thread = threading.Thread(target=asyncio.run, args=(hold(),))
    thread.start()
    try:
        assert started.wait(10)
        with pytest.raises(TransportError, match="another event loop that is still open"):
            asyncio.run(total())
    finally:
        release.set()
        thread.join()
    assert asyncio.run(total()) == 0  # that loop has ended now: this one takes over
    asyncio.run(client.aclose())
    gc.collect()


def test_push_streams_end_with_their_event_loop(zaqar_server: ZaqarServer, project_id: str) -> None:
    client = AsyncClient(zaqar_server.ws_url, project_id=project_id)
    queue = client.queue("pushloop")
    headers = (("Client-ID", client.client_id), ("X-Project-ID", project_id))

    async def subscribe() -> Any:
        await queue.ensure_exists()
        transport: Any = client.transport()
        return await transport.subscribe(queue.name, headers=headers)

    async def total() -> int:
        return (await queue.stats()).total

    stream = asyncio.run(subscribe())
    assert stream.subscription_id
    assert not stream.closed
    assert trio.run(total) == 0  # a new loop: a new connection
    assert stream.closed
    with pytest.raises(ReadError, match="event loop of this WebSocket ended"):
        trio.run(stream.get)
    trio.run(client.aclose)
    gc.collect()
