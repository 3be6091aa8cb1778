"""What only the async WebSocket transport has (what every transport has,
written once, is in ``tests/integration/_async/test_websocket.py``)."""

from __future__ import annotations

import time
import uuid

import anyio
import pytest

from zaqarkit import errors
from zaqarkit.core.api import ApiV2
from zaqarkit.testing import ZaqarServer
from zaqarkit.transports._aiows import AsyncioWebSocket
from zaqarkit.transports._sockets import READ_SIZE
from zaqarkit.transports.websocket import AsyncWebSocketTransport

from .wsfakes import scripted_server


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
    # On asyncio and trio alike every request's deadline is an entry for the
    # connection's one timer task: answered requests must not pile up until
    # it fires.
    async with _transport(zaqar_server, project_id, timeout=30) as transport:
        api = ApiV2()
        await transport.handle_async_request(api.queue_create("expiries").request)
        for _ in range(30):
            await transport.handle_async_request(api.message_post("expiries", {"body": 1}).request)
        deadlines = transport._deadlines
        assert len(deadlines) <= 1
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(
                    transport.handle_async_request,
                    api.message_post("expiries", {"body": 2}).request,
                )
        assert len(deadlines) == 0
        assert "timer" in transport._scopes  # the keepalive's wake-up, the same task
        await transport.handle_async_request(api.queue_delete("expiries").request)


@pytest.mark.anyio
async def test_a_shortened_timeout_fires_before_earlier_longer_ones(anyio_backend: str) -> None:
    # A request made after the timeout was shortened must not wait behind the
    # deadlines of earlier requests with the longer timeout.
    with scripted_server(lambda frame: None) as peer:  # never answers
        async with AsyncWebSocketTransport(peer.url, timeout=30, project_id="p") as transport:
            outcomes: list[str] = []

            async def ask(name: str) -> None:
                try:
                    await transport.handle_async_request(ApiV2().queue_get(name).request)
                except errors.TimeoutError as exc:
                    outcomes.append(f"{name} {exc.sent}")

            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(ask, "slow")
                    while transport._m.pending < 1 or transport.frames_written < 1:
                        await anyio.sleep(0.01)
                    transport.timeout = 0.2
                    began = time.monotonic()
                    await ask("fast")
                    took = time.monotonic() - began
                    tg.cancel_scope.cancel()  # the slow one would wait 30 s
    assert outcomes == ["fast True"]
    assert took < 10


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


def test_a_trio_connection_aborted_between_reads_ends(zaqar_server: ZaqarServer) -> None:
    # An abort (keepalive timeout, a frame only partly written) may come while
    # the connection's task is between two reads: the next read must end the
    # connection, not fail on the closed socket.
    import trio

    from zaqarkit.transports._sockets import ConnectionEnded
    from zaqarkit.transports._triows import TrioWebSocket

    async def main() -> int:
        ws = await TrioWebSocket.connect(zaqar_server.ws_url, open_timeout=30)
        ws.abort()
        with pytest.raises(ConnectionEnded):
            await ws.read()
        with pytest.raises(ConnectionError):
            ws.send("{}")
        return ws.close_code

    assert trio.run(main) == 1006
