"""The async HTTP transport's network backends (asyncio's and trio's, the
one the running loop gets), over loopback sockets: what httpcore relies on
(reads, EOF, timeouts, cancellation, back-pressure, a server's FIN on an idle
connection, connect and write errors, socket options)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpcore
import pytest

from zaqarkit.transports._async.network import _network
from zaqarkit.transports._asyncio_net import READ_HIGH_WATER, AsyncioStream


class _Peer:
    """A loopback server that accepts one connection and runs ``script`` on it."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self._thread.start()

    def _serve(self, script: Callable[[socket.socket], None]) -> None:
        conn, _ = self._listener.accept()
        with conn:
            script(conn)

    def close(self) -> None:
        self._listener.close()
        self._thread.join(timeout=10)


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[socket.socket], None]], _Peer]]:
    made: list[_Peer] = []

    def make(script: Callable[[socket.socket], None]) -> _Peer:
        made.append(_Peer(script))
        return made[-1]

    yield make
    for p in made:
        p.close()


@pytest.mark.anyio
async def test_reads_what_the_peer_sent_in_chunks_then_eof(peer: Any) -> None:
    payload = bytes(range(256)) * 40  # 10 KiB
    p = peer(lambda conn: conn.sendall(payload))
    stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
    got = bytearray()
    while chunk := await stream.read(1000, timeout=10):
        assert len(chunk) <= 1000
        got += chunk
    await stream.aclose()
    assert bytes(got) == payload


@pytest.mark.anyio
async def test_a_read_times_out_with_httpcore_read_timeout(peer: Any) -> None:
    release = threading.Event()
    p = peer(lambda conn: release.wait(30))
    try:
        stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
        began = time.monotonic()
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(100, timeout=0.2)
        assert 0.15 < time.monotonic() - began < 10
        await stream.aclose()
    finally:
        release.set()


@pytest.mark.anyio
async def test_a_cancelled_read_leaves_the_stream_usable(peer: Any) -> None:
    go = threading.Event()

    def script(conn: socket.socket) -> None:
        go.wait(30)
        conn.sendall(b"late")

    p = peer(script)
    try:
        stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
        with anyio.move_on_after(0.1) as scope:
            await stream.read(100)
        assert scope.cancelled_caught
        go.set()
        assert await stream.read(100, timeout=10) == b"late"
        await stream.aclose()
    finally:
        go.set()


@pytest.mark.anyio
async def test_a_fast_peer_is_paused_and_nothing_is_lost(peer: Any) -> None:
    payload = bytes(range(251)) * (4 * READ_HIGH_WATER // 251)
    p = peer(lambda conn: conn.sendall(payload))
    stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
    await anyio.sleep(0.5)  # the peer fills what it can while nobody reads
    if isinstance(stream, AsyncioStream):
        # asyncio reads ahead into the protocol: it stopped near the
        # high-water mark (one socket read past it at most).
        assert len(stream._protocol.received) < READ_HIGH_WATER + 300_000
    got = bytearray()
    while chunk := await stream.read(65536, timeout=10):
        got += chunk
    await stream.aclose()
    assert bytes(got) == payload


@pytest.mark.anyio
async def test_an_idle_connection_the_server_closed_is_readable_at_once(peer: Any) -> None:
    p = peer(lambda conn: None)  # accept, then close: a FIN
    stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
    deadline = time.monotonic() + 10
    # No await in this loop: the event loop never runs, as when a caller
    # takes a pooled connection right after a blocking step.
    readable = False
    while not readable and time.monotonic() < deadline:
        time.sleep(0.01)
        readable = stream.get_extra_info("is_readable")
    await stream.aclose()
    assert readable is True


@pytest.mark.anyio
async def test_connecting_to_a_closed_port_is_httpcore_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(httpcore.ConnectError):
            await _network().connect_tcp("127.0.0.1", port, timeout=10)


@pytest.mark.anyio
async def test_writing_after_the_peer_went_away_is_httpcore_write_error(peer: Any) -> None:
    reset_on_close = b"\x01\0\0\0\0\0\0\0"  # SO_LINGER on, 0 s: close() sends RST

    def script(conn: socket.socket) -> None:
        conn.recv(1)  # connected for sure, then gone
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset_on_close)

    p = peer(script)
    stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
    with pytest.raises(httpcore.WriteError):
        await _write_until_refused(stream)
    await stream.aclose()


async def _write_until_refused(stream: Any) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the reset is seen after a write or two
        await stream.write(b"x" * 1024, timeout=10)
        await anyio.sleep(0.01)


@pytest.mark.anyio
async def test_socket_options_are_set_before_connecting(peer: Any) -> None:
    p = peer(lambda conn: conn.sendall(b"hi"))
    stream = await _network().connect_tcp(
        "127.0.0.1",
        p.port,
        timeout=10,
        socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
    )
    sock = stream.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert await stream.read(10, timeout=10) == b"hi"
    await stream.aclose()


@pytest.mark.anyio
async def test_a_read_and_a_write_can_wait_at_once(peer: Any) -> None:
    # HTTP/2 streams share one connection: a task may wait to read while
    # another waits for the peer to take what it wrote.
    size = 8 * 1024 * 1024
    go = threading.Event()
    taken: list[int] = []

    def script(conn: socket.socket) -> None:
        go.wait(30)
        total = 0
        while total < size and (chunk := conn.recv(65536)):
            total += len(chunk)
        taken.append(total)
        conn.sendall(b"done")

    p = peer(script)
    stream = await _network().connect_tcp("127.0.0.1", p.port, timeout=10)
    read: list[bytes] = []

    async def reader() -> None:
        read.append(await stream.read(100, timeout=30))

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(reader)
            tasks.start_soon(stream.write, b"x" * size, 30)
            await anyio.sleep(0.3)  # both wait now: the peer reads nothing yet
            go.set()
    finally:
        go.set()
    await stream.aclose()
    assert taken == [size]
    assert read == [b"done"]


@pytest.mark.anyio
async def test_a_unix_socket_connects_and_reads(tmp_path: Any) -> None:
    path = str(tmp_path / "zaqar.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"hi")

        peer = threading.Thread(target=serve, daemon=True)
        peer.start()
        stream = await _network().connect_unix_socket(path, timeout=10)
        assert await stream.read(10, timeout=10) == b"hi"
        await stream.aclose()
        peer.join(timeout=10)
