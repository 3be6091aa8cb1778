"""Who reads the socket in the threaded WebSocket transport, and how both
drivers carry out the machine's timers when their outputs come in another order.

A caller waiting for its reply reads the socket itself when nobody else
does (leader/followers), so a reply wakes no second thread first; the
connection's background reader reads while nobody calls. The rest of the
transport's behaviour is written once for every transport in
``tests/integration/_async/test_websocket.py``.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from zaqarkit.core.api import ApiV2
from zaqarkit.core.context import Context
from zaqarkit.core.wire import Call
from zaqarkit.core.wsconn import Sleep
from zaqarkit.testing import ZaqarServer
from zaqarkit.transports._syncws import ConnectionEnded, SyncWebSocket
from zaqarkit.transports.websocket import AsyncWebSocketTransport, WebSocketTransport

T = TypeVar("T")

api = ApiV2()


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread that read each batch of messages."""
    names: list[str] = []
    read = SyncWebSocket.read

    def recording(self: SyncWebSocket, timeout: float | None = None) -> list[str | bytes] | None:
        messages = read(self, timeout)
        if messages:
            names.append(threading.current_thread().name)
        return messages

    monkeypatch.setattr(SyncWebSocket, "read", recording)
    return names


def _transport(server: ZaqarServer, project_id: str) -> tuple[WebSocketTransport, Context]:
    transport = WebSocketTransport(
        server.ws_url, timeout=30, project_id=project_id, client_id=str(uuid.uuid4())
    )
    # Long enough that the background reader never takes over between two
    # calls of this test, however slow the machine.
    transport.IDLE_GRACE = 60.0
    return transport, Context(server.ws_url)


def _ask(transport: WebSocketTransport, ctx: Context, call: Call[T]) -> T:
    return call.parse(transport.handle_request(ctx.prepare(call.request)))


def test_a_lone_caller_reads_its_own_replies(
    zaqar_server: ZaqarServer, project_id: str, readers: list[str]
) -> None:
    transport, ctx = _transport(zaqar_server, project_id)
    with transport:
        # The first reply of a new connection is the background reader's.
        _ask(transport, ctx, api.queue_create("lone"))
        readers.clear()
        for i in range(20):
            assert len(_ask(transport, ctx, api.message_post("lone", {"body": i, "ttl": 60}))) == 1
        page = _ask(transport, ctx, api.message_list("lone", limit=20, echo=True))
    assert [m.body for m in page.items] == list(range(20))
    assert readers == [threading.current_thread().name] * 21


def test_callers_hand_the_socket_to_each_other(
    zaqar_server: ZaqarServer, project_id: str, readers: list[str]
) -> None:
    transport, ctx = _transport(zaqar_server, project_id)
    with transport:
        _ask(transport, ctx, api.queue_create("relay"))
        readers.clear()

        def post(i: int) -> tuple[int, str]:
            (message_id,) = _ask(transport, ctx, api.message_post("relay", {"body": i, "ttl": 60}))
            return i, message_id

        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="caller") as pool:
            posted = list(pool.map(post, range(200)))
        counted = _ask(transport, ctx, api.queue_stats("relay"))
    assert [i for i, _ in posted] == list(range(200))
    assert len({message_id for _, message_id in posted}) == 200
    assert counted.total == 200
    # Every reply was read by a caller: the role went from one to the next,
    # never back to the background reader (which waits for a quiet minute).
    assert readers
    assert all(name.startswith("caller") or name == "MainThread" for name in readers)


def test_a_read_comes_back_empty_handed_when_nothing_arrives(zaqar_server: ZaqarServer) -> None:
    # The read role is only worth holding if reads end: a caller re-checks its
    # deadline, and the background reader the transport's state, between them.
    ws = SyncWebSocket.connect(zaqar_server.ws_url, open_timeout=30)
    try:
        assert ws.read(0) is None
        began = time.monotonic()
        assert ws.read(None) is None  # a receive tick (0.25 s), not forever
        assert time.monotonic() - began < 10
        assert not ws.ended
    finally:
        ws.close(0.1)  # nobody reads the server's close frame here: it gives up
    with pytest.raises(ConnectionEnded):
        ws.read(0)
    assert ws.ended


def test_sleeps_carried_out_in_another_order_keep_the_earliest() -> None:
    # A connect thread arming keepalive (20 s) may carry its Sleep out after
    # a reader that saw the next drop carried out the reconnect's (0.15 s):
    # the later one must not push the reconnect back by 20 s.
    transport = WebSocketTransport("ws://127.0.0.1:9", timeout=5)
    try:
        now = time.monotonic()
        transport._do([Sleep(now + 0.15)], None)
        transport._do([Sleep(now + 20.0)], None)
        assert transport._wake_at == now + 0.15
    finally:
        transport.close()


@pytest.mark.anyio
async def test_async_sleeps_carried_out_in_another_order_keep_the_earliest() -> None:
    transport = AsyncWebSocketTransport("ws://127.0.0.1:9", timeout=5)
    try:
        transport._bind_loop()  # as every request does first
        now = time.monotonic()
        transport._do([Sleep(now + 0.15)])
        transport._do([Sleep(now + 20.0)])
        assert transport._wake_at == transport._timer_at == now + 0.15
    finally:
        await transport.aclose()
