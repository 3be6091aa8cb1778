"""What only the asyncio WebSocket transport has (the rest, written once for
every transport, is in ``tests/integration/_async/test_websocket.py``)."""

from __future__ import annotations

import asyncio
import uuid

import anyio
import pytest

from zaqarkit.core.api import ApiV2
from zaqarkit.testing import ZaqarServer
from zaqarkit.transports._aiows import AsyncioWebSocket
from zaqarkit.transports._sockets import READ_SIZE
from zaqarkit.transports.websocket import AsyncWebSocketTransport, _Expiries


def _transport(server: ZaqarServer, project_id: str, timeout: float) -> AsyncWebSocketTransport:
    return AsyncWebSocketTransport(
        server.ws_url, timeout=timeout, project_id=project_id, client_id=str(uuid.uuid4())
    )


@pytest.mark.anyio
async def test_async_socket_reads_are_64k(
    zaqar_server: ZaqarServer, project_id: str, anyio_backend: str
) -> None:
    # asyncio's default (256 KiB per recv) cost an mmap/munmap pair per reply.
    async with _transport(zaqar_server, project_id, timeout=10) as transport:
        await transport.handle_async_request(ApiV2().queue_create("reads").request)
        ws = transport._ws
        if anyio_backend == "asyncio":  # a BufferedProtocol: its buffer is the read size
            assert isinstance(ws, AsyncioWebSocket)
            assert len(ws.get_buffer(-1)) == 65_536
        else:
            assert type(ws).__name__ == "TrioWebSocket"  # receive_some(READ_SIZE)
        assert READ_SIZE == 65_536


@pytest.mark.anyio
async def test_request_timeouts_leave_no_entries_behind(
    zaqar_server: ZaqarServer, project_id: str, anyio_backend: str
) -> None:
    # On asyncio every request's timeout is an entry on the transport's one
    # timer (_Expiries): answered requests must not pile up until it fires.
    async with _transport(zaqar_server, project_id, timeout=30) as transport:
        api = ApiV2()
        await transport.handle_async_request(api.queue_create("expiries").request)
        for _ in range(30):
            await transport.handle_async_request(api.message_post("expiries", {"body": 1}).request)
        entries = transport._expiries._entries
        assert len(entries) <= 1
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(
                    transport.handle_async_request,
                    api.message_post("expiries", {"body": 2}).request,
                )
        assert len(entries) == 0
        armed = transport._expiries._timer is not None
        assert armed == (anyio_backend == "asyncio")  # trio waits in fail_after
        await transport.handle_async_request(api.queue_delete("expiries").request)


def test_expiries_fire_in_deadline_order_when_the_timeout_shrinks() -> None:
    async def main() -> tuple[list[str], int]:
        loop = asyncio.get_running_loop()
        expiries = _Expiries()
        slow, fast, cancelled = (loop.create_future() for _ in range(3))
        expiries.add(slow, 30.0)
        expiries.add(cancelled, 30.0)
        expiries.add(fast, 0.01)  # later, shorter: it must not wait behind the others
        order: list[str] = []
        fast.add_done_callback(lambda f: order.append(f"fast {f.result()}"))
        cancelled.cancel()
        with anyio.fail_after(10):
            await asyncio.shield(fast)
        order.append(f"slow done: {slow.done()}")
        slow.set_result(True)  # its reply came: the entry is dropped, the timer too
        expiries.trim()
        left = len(expiries._entries)
        expiries.cancel()
        return order, left

    order, left = asyncio.run(main())
    assert order == ["fast False", "slow done: False"]
    assert left == 0


def test_incomplete_listing_hint_is_logged_once_per_process(
    zaqar_server: ZaqarServer, project_id: str
) -> None:
    import subprocess
    import sys

    # A fresh process, as a user's script or a benchmark's role is: three clients
    # each list a full page over WebSocket alone.
    script = f"""
import logging
from zaqarkit import Client
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
for n in range(3):
    with Client({zaqar_server.ws_url!r}, project_id={project_id!r}) as cli:
        queue = cli.queue("hinted")
        if n == 0:
            queue.post([{{"body": i, "ttl": 300}} for i in range(4)])
        assert len(list(queue.messages(echo=True, limit=2))) == 2
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    hints = [line for line in done.stderr.splitlines() if "stop after one page" in line]
    assert len(hints) == 1
    assert hints[0].startswith("zaqarkit.websocket.incomplete: message listings over WebSocket")
