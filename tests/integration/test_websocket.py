"""The WebSocket transports against a real Zaqar WebSocket server.

Every operation goes core builder -> ``Context.prepare`` -> transport -> core
parser, exactly as the facade will do it. Sync tests use
:class:`WebSocketTransport`; ``anyio`` tests run on asyncio and trio.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any, TypeVar

import anyio
import pytest

from zaqarkit import errors
from zaqarkit.core.api import ApiV2
from zaqarkit.core.context import Context
from zaqarkit.core.operations import Operation
from zaqarkit.core.paginate import Pagination
from zaqarkit.core.wire import Call, Request
from zaqarkit.testing import ZaqarServer
from zaqarkit.transports.websocket import AsyncWebSocketTransport, WebSocketTransport

from .wsfakes import http_post

T = TypeVar("T")
api = ApiV2()
CODECS = pytest.mark.parametrize("codec", ["json", "msgpack"])


@pytest.fixture
def ctx(zaqar_server: ZaqarServer, project_id: str) -> Context:
    return Context(
        zaqar_server.ws_url, (("Client-ID", str(uuid.uuid4())), ("X-Project-ID", project_id))
    )


class Sync:
    def __init__(self, transport: WebSocketTransport, ctx: Context) -> None:
        self.transport = transport
        self.ctx = ctx

    def __call__(self, call: Call[T]) -> T:
        return call.parse(self.transport.handle_request(self.ctx.prepare(call.request)))


class Async:
    def __init__(self, transport: AsyncWebSocketTransport, ctx: Context) -> None:
        self.transport = transport
        self.ctx = ctx

    async def __call__(self, call: Call[T]) -> T:
        request = self.ctx.prepare(call.request)
        return call.parse(await self.transport.handle_async_request(request))


def retry_sync(do: Sync, call: Call[T], seconds: float = 20.0) -> T:
    """A request after a server restart: the first may hit the dying socket."""
    end = time.monotonic() + seconds
    while True:
        try:
            return do(call)
        except errors.TransportError as exc:
            if not exc.retryable or time.monotonic() > end:
                raise
            time.sleep(0.1)


async def retry_async(do: Async, call: Call[T], seconds: float = 20.0) -> T:
    end = time.monotonic() + seconds
    while True:
        try:
            return await do(call)
        except errors.TransportError as exc:
            if not exc.retryable or time.monotonic() > end:
                raise
            await anyio.sleep(0.1)


def schema_violation() -> Call[dict[str, Any]]:
    """A frame the server rejects: queue_name must be a string in the schema."""
    call = api.queue_get("q")
    bad = Request(Operation.QUEUE_GET, "GET", "/v2/queues/q", params={"queue_name": 5})
    return Call(bad, call.parse)


# -- sync ---------------------------------------------------------------------------


def test_sync_pagination_follows_synthesised_links(zaqar_server: ZaqarServer, ctx: Context) -> None:
    with WebSocketTransport(zaqar_server.ws_url, timeout=10) as transport:
        do = Sync(transport, ctx)
        names = [f"page-{i}" for i in range(5)]
        for name in names:
            do(api.queue_create(name))
        pages = Pagination(api.queue_list(limit=2), zaqar_server.ws_url)
        seen: list[str] = []
        sent = 0
        while (call := pages.next_call()) is not None:
            sent += 1
            seen += [q.name for q in pages.accept(do(call))]
        assert seen == names
        assert sent == 3  # 2 + 2 + 1: the short page ends the listing


def test_sync_rejected_frames_are_typed_errors(zaqar_server: ZaqarServer, ctx: Context) -> None:
    with WebSocketTransport(zaqar_server.ws_url, codec="msgpack", timeout=10) as transport:
        do = Sync(transport, ctx)
        with pytest.raises(errors.BadRequest, match="Schema validation failed"):
            do(schema_violation())
        with pytest.raises(errors.NotFound, match="does not exist"):
            do(api.message_get("nowhere", "0123456789abcdef01234567"))
        with pytest.raises(errors.UnsupportedOperation, match=r"ping_node.*WebSocket"):
            do(api.ping())


def test_sync_unsupported_operation_opens_no_connection(zaqar_server: ZaqarServer) -> None:
    with WebSocketTransport(zaqar_server.ws_url) as transport:
        with pytest.raises(errors.UnsupportedOperation):
            transport.handle_request(api.queue_update("q", [{"op": "remove",
                                                              "path": "/metadata/a"}]).request)
        assert not transport.connected


def test_push_latency(
    zaqar_server: ZaqarServer, ctx: Context, project_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """HTTP post -> WebSocket notification, p50 over 50 messages."""
    with WebSocketTransport(zaqar_server.ws_url, timeout=20) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("latency"))
        with transport.subscribe("latency", headers=ctx.headers) as stream:
            http_post(zaqar_server, project_id, "latency", "warm-up")
            stream.get(timeout=10)
            samples = []
            for i in range(50):
                started = time.perf_counter()
                http_post(zaqar_server, project_id, "latency", i)
                assert stream.get(timeout=10).body == i
                samples.append(time.perf_counter() - started)
    p50 = statistics.median(samples)
    p90 = statistics.quantiles(samples, n=10)[-1]
    with capsys.disabled():
        print(f"\npush latency (HTTP post -> WS notification): p50 {p50 * 1000:.1f} ms, "
              f"p90 {p90 * 1000:.1f} ms over {len(samples)} messages")
    assert p50 < 1.0


# -- async (asyncio and trio) ------------------------------------------------------------


@pytest.mark.anyio
async def test_async_socket_reads_are_64k(
    zaqar_server: ZaqarServer, ctx: Context, anyio_backend: str
) -> None:
    # asyncio's default (256 KiB per recv) cost an mmap/munmap pair per reply.
    async with AsyncWebSocketTransport(zaqar_server.ws_url, timeout=10) as transport:
        await Async(transport, ctx)(api.queue_create("reads"))
        socket_transport = getattr(transport._ws, "transport", None)
        read_size = getattr(socket_transport, "max_size", None)
        assert read_size == (65_536 if anyio_backend == "asyncio" else None)
