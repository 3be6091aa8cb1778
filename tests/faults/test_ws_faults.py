"""WebSocket through the fault proxy, against the real harness server: the
same situations as tests/faults/test_http_faults.py give the same errors and
outcome flags; connects are bounded by the call's timeout; a sync client
whose peer stops reading never hangs; a malformed reply fails at once.
Sync, asyncio and trio."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from zaqarkit import (
    AsyncClient,
    Client,
    ProtocolError,
    ReadError,
    TimeoutError,
    TransportError,
    ZaqarError,
)

from .cases import MARGIN, Fault, run_async
from .proxy import FaultProxy, elapsed

pytestmark = pytest.mark.integration


def _ws(
    mode: str,
    call: str,
    error: type[TransportError],
    *,
    sent: bool,
    handshake: bool = False,
    seconds: float = 0.0,
) -> Fault:
    """A fault on an established connection, or (``handshake``) on its opening."""
    return Fault(mode, call, error, sent=sent, seconds=seconds, after_handshake=not handshake)


FAULTS = [
    # The server executed the request; its reply is lost: outcome unknown, as over HTTP.
    _ws("swallow", "post", TimeoutError, sent=True),
    _ws("swallow", "get", TimeoutError, sent=True),
    _ws("drip", "get", TimeoutError, sent=True, seconds=0.25),
    _ws("reset", "post", ReadError, sent=True),
    _ws("close", "post", ReadError, sent=True),
    # The opening handshake never completes: no request frame left the client.
    _ws("blackhole", "post", TimeoutError, sent=False, handshake=True),
    _ws("drip", "get", TimeoutError, sent=False, handshake=True, seconds=0.25),
]


def _id(fault: Fault) -> str:
    return f"{fault}" if fault.after_handshake else f"{fault.mode}-handshake-{fault.call}"


def _name() -> str:
    return "wsfault-" + uuid.uuid4().hex[:12]


@pytest.mark.parametrize("fault", FAULTS, ids=_id)
def test_sync_ws_fault(fault: Fault, ws_proxy: FaultProxy, project_id: str) -> None:
    with Client(ws_proxy.url("ws"), project_id=project_id, timeout=fault.timeout, retries=0) as cli:
        queue = cli.queue(_name())
        queue.ensure_exists()
        fault.apply(ws_proxy)
        action = queue.stats if fault.call == "get" else (lambda: queue.post({"body": 1}))
        took, error = elapsed(action)
        fault.check(error, took)
        ws_proxy.set_mode("pass")
        # Recovers on the next call, within one timeout (no lingering connect attempt).
        took, error = elapsed(queue.stats)
        assert error is None
        assert took < fault.timeout + MARGIN
        queue.delete()


@pytest.mark.anyio
@pytest.mark.parametrize("fault", FAULTS, ids=_id)
async def test_async_ws_fault(fault: Fault, ws_proxy: FaultProxy, project_id: str) -> None:
    async with AsyncClient(
        ws_proxy.url("ws"), project_id=project_id, timeout=fault.timeout, retries=0
    ) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        fault.apply(ws_proxy)
        # set_mode() blocked the event loop while it cut the connection: let
        # the transport see the drop before the call, as it would in real life.
        await anyio.sleep(0.2)
        await run_async(fault, queue, {"body": 1})
        ws_proxy.set_mode("pass")
        await anyio.sleep(0.2)
        began = time.monotonic()
        with anyio.fail_after(fault.timeout + 30):
            await queue.stats()
        assert time.monotonic() - began < fault.timeout + MARGIN
        await queue.delete()


POSTS = 6


def test_sync_ws_peer_that_stops_reading(ws_proxy: FaultProxy, project_id: str) -> None:
    # 4 threads posting 200 KiB bodies to a peer that stopped reading: every call
    # ends by its timeout (the socket lock is never held past it), close() too.
    cli = Client(ws_proxy.url("ws"), project_id=project_id, timeout=2, retries=0)
    queue = cli.queue(_name())
    queue.ensure_exists()
    ws_proxy.set_mode("stop_reading", after_handshake=True)
    # A fresh connection (set_mode cut the old one) whose peer then stops reading.
    outcomes: list[tuple[float, BaseException | None]] = []

    def post() -> None:
        # Several posts each: enough bytes to fill every socket buffer on the way.
        for _ in range(POSTS):
            outcomes.append(elapsed(lambda: queue.post({"body": "x" * 200_000})))

    threads = [threading.Thread(target=post, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    limit = time.monotonic() + POSTS * (2 + MARGIN) + 10
    for thread in threads:
        thread.join(timeout=max(0.0, limit - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    # close() in a thread too: a blocked one must fail the test, not hang it.
    closing: list[tuple[float, BaseException | None]] = []
    closer = threading.Thread(target=lambda: closing.append(elapsed(cli.close)), daemon=True)
    closer.start()
    closer.join(timeout=MARGIN + 10)
    ws_proxy.set_mode("pass")  # unblocks whatever is still stuck, once asserted
    assert stuck == 0, f"{stuck} of 4 posting threads still blocked"
    assert closing, "close() still blocked"
    took_close, close_error = closing[0]
    assert close_error is None
    assert took_close < MARGIN, f"close() took {took_close:.1f} s"
    for took, error in outcomes:
        assert isinstance(error, TransportError), repr(error)
        assert took < 2 + MARGIN
        # A post whose frame was written in full may have been executed. One
        # that never got its whole frame out (a write that timed out or
        # failed) cannot have been: Zaqar executes only complete frames, and
        # the transport drops a connection with a partly written frame.
        # So sent is per post, and a post is retryable exactly when not sent.
        assert error.retryable is not error.sent, repr(error)
    assert any(error is not None and error.sent for _, error in outcomes)


@pytest.mark.anyio
async def test_async_ws_peer_that_stops_reading(ws_proxy: FaultProxy, project_id: str) -> None:
    async with AsyncClient(ws_proxy.url("ws"), project_id=project_id, timeout=2, retries=0) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        ws_proxy.set_mode("stop_reading", after_handshake=True)
        await anyio.sleep(0.2)
        outcomes: list[BaseException | None] = []

        async def post() -> None:
            try:
                await queue.post({"body": "x" * 200_000})
                outcomes.append(None)
            except TransportError as exc:
                outcomes.append(exc)

        began = time.monotonic()
        with anyio.move_on_after(2 + 30):
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(post)
        assert time.monotonic() - began < 2 + MARGIN
        assert len(outcomes) == 4
        assert all(isinstance(e, TransportError) and e.sent for e in outcomes), outcomes


# -- a malformed reply ------------------------------------------------------------------


@pytest.fixture
def garbage_ws_server() -> Iterator[str]:
    """A WebSocket server answering every frame with text that is not JSON."""
    from websockets.sync.server import serve

    def handler(connection: Any) -> None:
        for _ in connection:
            connection.send("this is not a Zaqar reply {")

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
        server.shutdown()


def test_sync_malformed_reply_is_a_protocol_error(garbage_ws_server: str) -> None:
    with Client(garbage_ws_server, project_id="p", timeout=10, retries=0) as cli:
        _took, error = elapsed(lambda: cli.queue("q", auto_create=False).stats())
    # At once, not as a TimeoutError after the full 10 s.
    assert isinstance(error, ProtocolError), repr(error)


@pytest.mark.anyio
async def test_async_malformed_reply_is_a_protocol_error(garbage_ws_server: str) -> None:
    async with AsyncClient(garbage_ws_server, project_id="p", timeout=10, retries=0) as cli:
        with anyio.fail_after(40), pytest.raises(ZaqarError) as info:
            await cli.queue("q", auto_create=False).stats()
    assert isinstance(info.value, ProtocolError), repr(info.value)
