"""A blocking client WebSocket on a plain socket, driven by websockets' sans-I/O protocol.

Why not ``websockets.sync.client``: its connection runs a receiving thread of
its own, so each frame would cross two threads (its receiver, then our reader
that matches replies to callers) before reaching the caller. Measured on a
loopback replay server that extra hop cost about a third of the transport's
CPU per request. Here our reader thread reads the socket itself.

The protocol object is not thread-safe: every call into it, and every write
to the socket, happens under one lock. Only the reader thread reads.
"""

from __future__ import annotations

import contextlib
import socket
import ssl as _ssl
import threading
import time
from collections.abc import Iterator, Mapping, Sequence

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response as HandshakeResponse
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = ["READ_SIZE", "SyncWebSocket"]

#: Close code websockets reports when no close frame was received.
ABNORMAL_CLOSURE = 1006
#: Bytes asked of each recv(). Python allocates the whole buffer before the
#: read: above glibc's mmap threshold (128 KiB) every recv became an
#: mmap/munmap pair, measured at ~20 us of CPU per reply with 256 KiB.
READ_SIZE = 65_536


class SyncWebSocket:
    """One connected client WebSocket.

    ``connect()`` does the TCP (and TLS) connection and the opening handshake;
    iterate the object in one thread to receive messages (``str`` for text,
    ``bytes`` for binary) until the connection closes; ``send`` from any
    thread. Pings are answered as they arrive.

    Example::

        ws = SyncWebSocket.connect("ws://127.0.0.1:9000", open_timeout=5)
        ws.send('{"action": "queue_list", "headers": {...}, "body": {}}')
        for message in ws:
            ...
    """

    def __init__(self, sock: socket.socket, protocol: ClientProtocol, pending: list[Frame]):
        self._sock = sock
        self._protocol = protocol
        self._pending = pending
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._fragments: list[Frame] = []
        #: time.monotonic() of the last frame received: keepalive evidence.
        self.last_heard = time.monotonic()

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        open_timeout: float | None = 10.0,
        max_size: int | None = None,
        compression: str | None = None,
        ssl: _ssl.SSLContext | None = None,
        additional_headers: Mapping[str, str] | None = None,
        subprotocols: Sequence[str] | None = None,
    ) -> SyncWebSocket:
        """Open a connection; raises OSError or websockets' InvalidHandshake."""
        uri = parse_uri(url)
        sock = socket.create_connection((uri.host, uri.port), timeout=open_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if uri.secure:
                context = ssl if ssl is not None else _ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=uri.host)
            deflate = compression == "deflate"
            extensions = enable_client_permessage_deflate(None) if deflate else None
            protocol = ClientProtocol(
                uri, extensions=extensions, max_size=max_size,
                subprotocols=list(subprotocols) if subprotocols else None,  # type: ignore[arg-type]
            )
            request = protocol.connect()
            for name, value in (additional_headers or {}).items():
                request.headers[name] = value
            protocol.send_request(request)
            sock.sendall(b"".join(protocol.data_to_send()))
            pending = cls._handshake(sock, protocol)
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return cls(sock, protocol, pending)

    @staticmethod
    def _handshake(sock: socket.socket, protocol: ClientProtocol) -> list[Frame]:
        while True:
            data = sock.recv(READ_SIZE)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            events = protocol.events_received()
            for index, event in enumerate(events):
                if isinstance(event, HandshakeResponse):
                    if protocol.handshake_exc is not None:
                        raise protocol.handshake_exc
                    # Frames that came in the same read as the response.
                    return [e for e in events[index + 1 :] if isinstance(e, Frame)]
            if not data:
                raise ConnectionError("connection closed during the opening handshake")

    # -- receiving (one thread) --------------------------------------------------------

    def __iter__(self) -> Iterator[str | bytes]:
        try:
            for frame in self._pending:
                message = self._assemble(frame)
                if message is not None:
                    yield message
            self._pending = []
            while True:
                try:
                    data = self._sock.recv(READ_SIZE)
                except OSError:
                    data = b""
                with self._lock:
                    if data:
                        self.last_heard = time.monotonic()
                        self._protocol.receive_data(data)
                    else:
                        self._protocol.receive_eof()
                    events = self._protocol.events_received()
                    self._flush()  # pongs and the closing handshake
                for event in events:
                    message = self._assemble(event) if isinstance(event, Frame) else None
                    if message is not None:
                        yield message
                if not data or self._protocol.state is State.CLOSED:
                    return
        finally:
            self._finished.set()
            with contextlib.suppress(OSError):
                self._sock.close()

    def _assemble(self, frame: Frame) -> str | bytes | None:
        if frame.opcode not in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            return None  # ping, pong, close: the protocol answers them
        self._fragments.append(frame)
        if not frame.fin:
            return None
        frames, self._fragments = self._fragments, []
        data = bytes(frames[0].data) if len(frames) == 1 else b"".join(f.data for f in frames)
        return data.decode() if frames[0].opcode is Opcode.TEXT else data

    # -- sending (any thread) ---------------------------------------------------------------

    def send(self, data: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message."""
        with self._lock:
            if isinstance(data, str):
                self._protocol.send_text(data.encode())
            else:
                self._protocol.send_binary(data)
            self._flush()

    def _flush(self) -> None:
        # Called with the lock held. An empty chunk means "half-close".
        for chunk in self._protocol.data_to_send():
            if chunk:
                self._sock.sendall(chunk)
            else:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_WR)

    def ping(self) -> None:
        """Send a ping; its pong (like any frame) updates :attr:`last_heard`."""
        with self._lock:
            if self._protocol.state is State.OPEN:
                self._protocol.send_ping(b"zaqarkit")
                self._flush()

    def abort(self) -> None:
        """Drop the connection at once (a peer that stopped answering)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self, timeout: float = 2.0) -> None:
        """Start the closing handshake and wait up to ``timeout`` for the
        reader to see the connection end; then drop the socket."""
        with self._lock:
            if self._protocol.state is State.OPEN:
                self._protocol.send_close(1000)
                with contextlib.suppress(OSError):
                    self._flush()
        if not self._finished.wait(timeout):
            # Wakes a reader blocked in recv (closing the fd alone would not).
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._sock.close()

    @property
    def close_code(self) -> int:
        received = self._protocol.close_rcvd
        return ABNORMAL_CLOSURE if received is None else received.code

    @property
    def close_reason(self) -> str:
        received = self._protocol.close_rcvd
        return "" if received is None else received.reason
