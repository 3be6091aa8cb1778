"""Misbehaving WebSocket peers on loopback, each in a thread (fault injection).

Shared by the async WebSocket tests and their generated sync twins: the fakes
are plain threads and sockets, so either kind of client can talk to them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Peer:
    """What a fake saw: ``closed_at`` (monotonic) once the client hung up."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.closed_at: float | None = None
        self.closed = threading.Event()


def _listen(rcvbuf: int | None = None) -> socket.socket:
    server = socket.socket()
    if rcvbuf is not None:  # inherited by accepted sockets: a small window
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    return server


def _handshake(conn: socket.socket) -> bool:
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        request += chunk
    key = ""
    for line in request.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
    conn.sendall(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
    )
    return True


@contextlib.contextmanager
def _serving(
    serve: Callable[[socket.socket, Peer], None], rcvbuf: int | None = None
) -> Iterator[Peer]:
    server = _listen(rcvbuf)
    peer = Peer(f"ws://127.0.0.1:{server.getsockname()[1]}")
    stop = threading.Event()
    conns: list[socket.socket] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conns.append(conn)
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        stop.set()
        thread.join(2)
        server.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()


def _wait_for_hangup(conn: socket.socket, peer: Peer) -> None:
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass
    peer.closed_at = time.monotonic()
    peer.closed.set()


@contextlib.contextmanager
def silent_handshake() -> Iterator[Peer]:
    """Accepts TCP connections and never answers the opening handshake."""

    def serve(conn: socket.socket, peer: Peer) -> None:
        _wait_for_hangup(conn, peer)

    with _serving(serve) as peer:
        yield peer


@contextlib.contextmanager
def deaf_server() -> Iterator[Peer]:
    """Completes the handshake, then never reads again (a receive window of
    4 KiB fills at once): every write to it blocks."""

    def serve(conn: socket.socket, peer: Peer) -> None:
        if _handshake(conn):
            time.sleep(60)

    with _serving(serve, rcvbuf=4096) as peer:
        yield peer


@contextlib.contextmanager
def scripted_server(
    answer: Callable[[dict[str, Any]], str | None],
    after: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Iterator[Peer]:
    """A websockets server answering each frame with ``answer(frame)``
    (None: no answer), then calling ``after(connection, frame)``."""
    from websockets.sync.server import ServerConnection, serve

    def handler(conn: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            for raw in conn:
                frame = json.loads(raw)
                reply = answer(frame)
                if reply is not None:
                    conn.send(reply)
                if after is not None:
                    after(conn, frame)

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Peer(f"ws://127.0.0.1:{server.socket.getsockname()[1]}")
        finally:
            server.shutdown()
            thread.join(2)


# -- the real server, misbehaving on demand ------------------------------------------


def http_post(srv: Any, project: str, queue: str, body: Any) -> None:
    """Post one message over HTTP (a producer that is not the client under test)."""
    import uuid

    result = srv.request(
        "POST",
        f"/v2/queues/{queue}/messages",
        headers={"Client-ID": str(uuid.uuid4()), "X-Project-ID": project},
        body={"messages": [{"body": body, "ttl": 300}]},
    )
    assert result.status == 201, result.body


@contextlib.contextmanager
def frozen(srv: Any) -> Iterator[None]:
    """SIGSTOP the WebSocket server: frames are accepted by the kernel and
    never answered, so requests stay in flight as long as we like."""
    import os
    import signal

    pids = srv._procs["websocket"].pids()  # harness internals: only that process
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # killed while frozen
                os.kill(pid, signal.SIGCONT)


def kill_frozen_websocket(srv: Any) -> None:
    """SIGKILL the (frozen) WebSocket server: it dies without answering, so
    nothing in flight can complete between resuming and stopping it."""
    import os
    import signal

    for pid in srv._procs["websocket"].pids():
        os.kill(pid, signal.SIGKILL)
