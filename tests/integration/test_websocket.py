"""The WebSocket transports against a real Zaqar WebSocket server.

Every operation goes core builder -> ``Context.prepare`` -> transport -> core
parser, exactly as the facade will do it. Sync tests use
:class:`WebSocketTransport`; ``anyio`` tests run on asyncio and trio.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
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
from zaqarkit.transports.websocket import AsyncWebSocketTransport, PushGap, WebSocketTransport

T = TypeVar("T")
api = ApiV2()
CODECS = pytest.mark.parametrize("codec", ["json", "msgpack"])


@pytest.fixture
def ctx(zaqar_server: ZaqarServer, project_id: str) -> Context:
    return Context(
        zaqar_server.ws_url, (("Client-ID", str(uuid.uuid4())), ("X-Project-ID", project_id))
    )


def http_post(srv: ZaqarServer, project: str, queue: str, body: Any) -> None:
    result = srv.request(
        "POST",
        f"/v2/queues/{queue}/messages",
        headers={"Client-ID": str(uuid.uuid4()), "X-Project-ID": project},
        body={"messages": [{"body": body, "ttl": 300}]},
    )
    assert result.status == 201, result.body


@contextlib.contextmanager
def frozen(srv: ZaqarServer) -> Iterator[None]:
    """SIGSTOP the WebSocket server: frames are accepted by the kernel and
    never answered, so requests stay in flight as long as we like."""
    pids = srv._procs["websocket"].pids()  # harness internals: only that process
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # killed while frozen
                os.kill(pid, signal.SIGCONT)


def kill_frozen_websocket(srv: ZaqarServer) -> None:
    """SIGKILL the (frozen) WebSocket server: it dies without answering, so
    nothing in flight can complete between resuming and stopping it."""
    for pid in srv._procs["websocket"].pids():
        os.kill(pid, signal.SIGKILL)


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


@CODECS
def test_sync_flow(zaqar_server: ZaqarServer, ctx: Context, codec: str) -> None:
    with WebSocketTransport(zaqar_server.ws_url, codec=codec, timeout=10) as transport:
        do = Sync(transport, ctx)
        assert not transport.connected  # lazy
        assert do(api.queue_create("flow", {"color": "red"})) is True
        assert transport.connected
        assert do(api.queue_create("flow")) is False
        assert do(api.queue_get("flow"))["color"] == "red"
        ids = do(api.message_post("flow", [{"body": {"n": i}, "ttl": 300} for i in range(4)]))
        assert len(ids) == 4
        assert do(api.message_get("flow", ids[0])).body == {"n": 0}
        assert [m.id for m in do(api.message_get_many("flow", ids[:2]))] == list(ids[:2])
        assert len(do(api.message_list("flow", echo=True, limit=10)).items) == 4
        assert do(api.queue_stats("flow")).total == 4
        claim = do(api.claim_create("flow", ttl=60, grace=60, limit=2))
        assert claim.id is not None
        assert len(claim.messages) == 2
        assert do(api.claim_get("flow", claim.id)).ttl == 60
        do(api.claim_update("flow", claim.id, ttl=120, grace=60))
        do(api.message_delete("flow", claim.messages[0].id, claim_id=claim.id))
        do(api.claim_delete("flow", claim.id))
        popped = do(api.message_pop("flow", 1))
        assert len(popped) == 1
        remaining = [m.id for m in do(api.message_list("flow", echo=True)).items]
        do(api.message_delete_many("flow", remaining))
        assert do(api.queue_stats("flow")).total == 0
        sub_id = do(api.subscription_create("flow", "http://127.0.0.1:1/hook", ttl=3600))
        assert do(api.subscription_get("flow", sub_id)).subscriber == "http://127.0.0.1:1/hook"
        assert [s.id for s in do(api.subscription_list("flow")).items] == [sub_id]
        do(api.subscription_delete("flow", sub_id))
        do(api.queue_purge("flow"))
        do(api.queue_delete("flow"))
        assert do(api.queue_stats("flow")).total == 0  # 404 + zeros over WS, as over HTTP


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


def test_sync_200_concurrent_requests_each_get_their_own_reply(
    zaqar_server: ZaqarServer, ctx: Context
) -> None:
    with WebSocketTransport(zaqar_server.ws_url, timeout=30) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("many"))

        def post(i: int) -> tuple[int, str]:
            (message_id,) = do(api.message_post("many", [{"body": {"i": i}, "ttl": 300}]))
            return i, message_id

        with ThreadPoolExecutor(max_workers=200) as pool:
            posted = list(pool.map(post, range(200)))
            assert len({mid for _, mid in posted}) == 200

            def check(item: tuple[int, str]) -> bool:
                i, message_id = item
                body: Any = do(api.message_get("many", message_id)).body
                return bool(body == {"i": i})

            assert all(pool.map(check, posted))


def test_sync_close_mid_flight_fails_all_promptly(zaqar_server: ZaqarServer, ctx: Context) -> None:
    transport = WebSocketTransport(zaqar_server.ws_url, timeout=30, close_timeout=0.5)
    do = Sync(transport, ctx)
    do(api.queue_create("midflight"))
    with frozen(zaqar_server), ThreadPoolExecutor(max_workers=200) as pool:
        futures = [
            pool.submit(do, api.message_post("midflight", [{"body": i, "ttl": 60}]))
            for i in range(200)
        ]
        deadline = time.monotonic() + 10
        while transport._m.session.pending < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert transport._m.session.pending == 200
        started = time.monotonic()
        threading.Thread(target=transport.close).start()
        done, not_done = wait(futures, timeout=10)
        elapsed = time.monotonic() - started
        assert not not_done
        assert elapsed < 5  # close_timeout bounds it, not the 30 s request timeout
        for future in done:
            error = future.exception()
            assert type(error) is errors.TransportError
            assert not error.retryable
    with pytest.raises(errors.TransportError, match="closed"):
        do(api.queue_get("midflight"))


def test_sync_request_timeout(zaqar_server: ZaqarServer, ctx: Context) -> None:
    # The first handshake gets a generous budget of its own (a cold machine
    # may take seconds); only the request under test gets 0.5 s.
    with WebSocketTransport(zaqar_server.ws_url, timeout=60, close_timeout=0.2) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("slow"))
        assert transport.connected
        transport.timeout = 0.5
        with frozen(zaqar_server):
            started = time.monotonic()
            with pytest.raises(errors.TimeoutError, match="queue_get"):
                do(api.queue_get("slow"))
            assert time.monotonic() - started < 2
            assert transport._m.session.pending == 0


def test_sync_keepalive_drops_a_silent_connection(zaqar_server: ZaqarServer, ctx: Context) -> None:
    # A frozen server keeps the TCP connection open and answers nothing, like
    # a dead peer behind a silent network: only keepalive can notice.
    with WebSocketTransport(
        zaqar_server.ws_url, timeout=30, ping_interval=0.3, ping_timeout=0.3, close_timeout=0.2
    ) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("keepalive"))
        ws = transport._ws
        time.sleep(1.2)  # quiet: pinged several times, and Zaqar answers the pings
        assert transport._ws is ws
        assert transport.connected
        with frozen(zaqar_server):
            started = time.monotonic()
            with pytest.raises(errors.ReadError) as info:
                do(api.queue_get("keepalive"))
            assert info.value.retryable
            assert time.monotonic() - started < 5  # not the 30 s request timeout
        assert retry_sync(do, api.queue_stats("keepalive")).total == 0


@CODECS
def test_sync_push_for_http_post_while_requests_in_flight(
    zaqar_server: ZaqarServer, ctx: Context, project_id: str, codec: str
) -> None:
    with WebSocketTransport(zaqar_server.ws_url, codec=codec, timeout=20) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("push"))
        with transport.subscribe("push", ttl=3600, headers=ctx.headers) as stream:
            assert stream.subscription_id
            with ThreadPoolExecutor(max_workers=50) as pool:
                futures = [pool.submit(do, api.queue_stats("push")) for _ in range(100)]
                http_post(zaqar_server, project_id, "push", {"from": "http"})
                note = stream.get(timeout=10)
                assert all(f.result().total >= 0 for f in futures)
            assert note.queue_name == "push"
            assert note.body == {"from": "http"}
            assert note.ttl == 300
            # A post over the WebSocket itself is pushed too.
            do(api.message_post("push", [{"body": "ws", "ttl": 60}]))
            assert stream.get(timeout=10).body == "ws"
        assert stream.closed
        assert transport._m.session.push_subscriptions == {}


def test_sync_reconnect_restores_push(
    zaqar_server: ZaqarServer, ctx: Context, project_id: str
) -> None:
    with WebSocketTransport(zaqar_server.ws_url, timeout=20) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("phoenix"))
        stream = transport.subscribe("phoenix", headers=ctx.headers)
        before = stream.subscription_id
        zaqar_server.restart_websocket()
        assert retry_sync(do, api.queue_stats("phoenix")).total == 0
        assert stream.subscription_id not in (None, before)
        # The reconnect is reported: what was pushed meanwhile is lost.
        gap = stream.get(timeout=10)
        assert gap.gap and isinstance(gap, PushGap) and gap.queue_name == "phoenix"
        http_post(zaqar_server, project_id, "phoenix", "after restart")
        note = stream.get(timeout=10)
        assert not note.gap and note.body == "after restart"


def test_sync_drop_fails_in_flight_as_retryable(zaqar_server: ZaqarServer, ctx: Context) -> None:
    with WebSocketTransport(zaqar_server.ws_url, timeout=20) as transport:
        do = Sync(transport, ctx)
        do(api.queue_create("drop"))
        with ThreadPoolExecutor(max_workers=20) as pool:
            with frozen(zaqar_server):
                futures = [pool.submit(do, api.queue_get("drop")) for _ in range(20)]
                deadline = time.monotonic() + 10
                while transport._m.session.pending < 20 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert transport._m.session.pending == 20
                kill_frozen_websocket(zaqar_server)
            done, not_done = wait(futures, timeout=10)
            assert not not_done
            for future in done:
                error = future.exception()
                assert isinstance(error, errors.ReadError)
                assert error.retryable
            zaqar_server.restart_websocket()
        assert isinstance(retry_sync(do, api.queue_get("drop")), dict)


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


def test_sync_connect_error() -> None:
    with WebSocketTransport("ws://127.0.0.1:9", timeout=5) as transport:
        with pytest.raises(errors.ConnectError) as info:
            transport.handle_request(api.queue_get("q").request)
        assert info.value.retryable


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
@CODECS
async def test_async_flow(zaqar_server: ZaqarServer, ctx: Context, codec: str) -> None:
    async with AsyncWebSocketTransport(zaqar_server.ws_url, codec=codec, timeout=10) as t:
        do = Async(t, ctx)
        assert await do(api.queue_create("aflow")) is True
        ids = await do(api.message_post("aflow", [{"body": i, "ttl": 300} for i in range(3)]))
        assert (await do(api.message_get("aflow", ids[1]))).body == 1
        claim = await do(api.claim_create("aflow", ttl=60, grace=60))
        assert claim.id is not None
        assert len(claim.messages) == 3
        await do(api.claim_delete("aflow", claim.id))
        popped = await do(api.message_pop("aflow", 3))
        assert len(popped) == 3
        sub_id = await do(api.subscription_create("aflow", "http://127.0.0.1:1/h"))
        assert (await do(api.subscription_get("aflow", sub_id))).id == sub_id
        await do(api.subscription_delete("aflow", sub_id))
        with pytest.raises(errors.BadRequest, match="Schema validation failed"):
            await do(schema_violation())
        with pytest.raises(errors.UnsupportedOperation, match="check_node_health"):
            await do(api.health())
        await do(api.queue_delete("aflow"))


@pytest.mark.anyio
async def test_async_200_concurrent_requests(zaqar_server: ZaqarServer, ctx: Context) -> None:
    async with AsyncWebSocketTransport(zaqar_server.ws_url, timeout=30) as transport:
        do = Async(transport, ctx)
        await do(api.queue_create("amany"))
        posted: dict[int, str] = {}
        bodies: dict[int, Any] = {}

        async def post(i: int) -> None:
            (posted[i],) = await do(api.message_post("amany", [{"body": {"i": i}, "ttl": 300}]))

        async def get(i: int) -> None:
            bodies[i] = (await do(api.message_get("amany", posted[i]))).body

        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(post, i)
        assert len(set(posted.values())) == 200
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(get, i)
        assert bodies == {i: {"i": i} for i in range(200)}


@pytest.mark.anyio
async def test_async_close_mid_flight_fails_all_promptly(
    zaqar_server: ZaqarServer, ctx: Context
) -> None:
    transport = AsyncWebSocketTransport(zaqar_server.ws_url, timeout=30, close_timeout=0.5)
    do = Async(transport, ctx)
    await do(api.queue_create("amid"))
    failures: list[BaseException] = []
    finished: list[float] = []

    async def post(i: int) -> None:
        try:
            await do(api.message_post("amid", [{"body": i, "ttl": 60}]))
        except errors.TransportError as exc:
            failures.append(exc)
        finished.append(time.monotonic())

    with frozen(zaqar_server):
        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(post, i)
            with anyio.fail_after(10):
                while transport._m.session.pending < 200:
                    await anyio.sleep(0.01)
            started = time.monotonic()
            await transport.aclose()
    assert len(failures) == 200
    assert all(type(e) is errors.TransportError and not e.retryable for e in failures)
    assert max(finished) - started < 5  # close_timeout bounds it, not the 30 s timeout
    with pytest.raises(errors.TransportError, match="closed"):
        await do(api.queue_get("amid"))


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


@pytest.mark.anyio
async def test_async_timeout(zaqar_server: ZaqarServer, ctx: Context) -> None:
    async with AsyncWebSocketTransport(
        zaqar_server.ws_url, timeout=0.5, close_timeout=0.2
    ) as transport:
        do = Async(transport, ctx)
        await do(api.queue_create("aslow"))
        with frozen(zaqar_server):
            with pytest.raises(errors.TimeoutError, match="queue_get"):
                await do(api.queue_get("aslow"))
            assert transport._m.session.pending == 0


@pytest.mark.anyio
@CODECS
async def test_async_push_while_requests_in_flight(
    zaqar_server: ZaqarServer, ctx: Context, project_id: str, codec: str
) -> None:
    async with AsyncWebSocketTransport(zaqar_server.ws_url, codec=codec, timeout=20) as t:
        do = Async(t, ctx)
        await do(api.queue_create("apush"))
        stream = await t.subscribe("apush", ttl=3600, headers=ctx.headers)
        results: list[int] = []

        async def stats() -> None:
            results.append((await do(api.queue_stats("apush"))).total)

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(stats)
            # The HTTP post blocks (stdlib client): run it in a worker thread.
            await anyio.to_thread.run_sync(http_post, zaqar_server, project_id, "apush", "hi")
            note = await stream.get(timeout=10)
        assert len(results) == 100
        assert (note.queue_name, note.body) == ("apush", "hi")
        await do(api.message_post("apush", [{"body": "over ws", "ttl": 60}]))
        async for note in stream:
            assert note.body == "over ws"
            break
        await stream.aclose()
        assert stream.closed


@pytest.mark.anyio
async def test_async_reconnect_restores_push(
    zaqar_server: ZaqarServer, ctx: Context, project_id: str
) -> None:
    async with AsyncWebSocketTransport(zaqar_server.ws_url, timeout=20) as transport:
        do = Async(transport, ctx)
        await do(api.queue_create("aphoenix"))
        stream = await transport.subscribe("aphoenix", headers=ctx.headers)
        before = stream.subscription_id
        await anyio.to_thread.run_sync(zaqar_server.restart_websocket)
        assert (await retry_async(do, api.queue_stats("aphoenix"))).total == 0
        assert stream.subscription_id not in (None, before)
        gap = await stream.get(timeout=10)
        assert gap.gap and isinstance(gap, PushGap) and gap.queue_name == "aphoenix"
        await anyio.to_thread.run_sync(http_post, zaqar_server, project_id, "aphoenix", "back")
        note = await stream.get(timeout=10)
        assert not note.gap and note.body == "back"
    assert stream.closed


@pytest.mark.anyio
async def test_async_connect_error() -> None:
    async with AsyncWebSocketTransport("ws://127.0.0.1:9", timeout=5) as transport:
        with pytest.raises(errors.ConnectError):
            await transport.handle_async_request(api.queue_get("q").request)


# -- authentication, against a scripted server (the harness runs Zaqar without auth) ----


def test_sync_reauthenticates_after_close_4003() -> None:
    import json

    from websockets.sync.server import ServerConnection, serve

    tokens: list[str] = []
    actions: list[str] = []

    def handler(conn: ServerConnection) -> None:
        for raw in conn:
            frame = json.loads(raw)
            actions.append(frame["action"])
            status, body = 200, {}
            if frame["action"] == "authenticate":
                tokens.append(frame["headers"]["X-Auth-Token"])
                body = {"message": "Authentified."}
            conn.send(json.dumps({"request": frame, "headers": {"status": status}, "body": body}))
            if frame["action"] == "authenticate" and len(tokens) == 1:
                conn.close(4003, "Authentication expired.")  # as Zaqar does on expiry
                return

    refreshed = iter(["t2", "t3"])
    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        with WebSocketTransport(
            f"ws://127.0.0.1:{port}", timeout=10, auth_token="t1", project_id="p",
            token_refresh=lambda: next(refreshed),
        ) as transport:
            do = Sync(transport, Context(f"ws://127.0.0.1:{port}"))
            assert retry_sync(do, api.queue_get("q")) == {}
        server.shutdown()
    assert tokens == ["t1", "t2"]
    assert actions[0] == "authenticate"
    assert actions[-1] == "queue_get"
