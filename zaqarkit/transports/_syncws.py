"""A blocking client WebSocket on a plain socket: websockets' sans-I/O protocol
for the opening handshake, our frame codec (:mod:`zaqarkit.transports._frames`)
after it.

Why not ``websockets.sync.client``: its connection runs a receiving thread of
its own, so each frame would cross two threads (its receiver, then our reader
that matches replies to callers) before reaching the caller. Measured on a
loopback replay server that extra hop cost about a third of the transport's
CPU per request. Here the transport's threads read the socket themselves
(:meth:`SyncWebSocket.read`, one at a time): usually the caller waiting for
its reply (see :class:`zaqarkit.transports.websocket.WebSocketTransport`).

The framing is not thread-safe: every call into it happens under one short
lock. Writes to the socket happen under a second lock, acquired and
held only until the writer's deadline: a peer that stops reading makes that
write fail with :class:`WriteTimeout` instead of blocking every thread (and
``close``) behind it. Plain sockets are written with ``MSG_DONTWAIT`` for that,
TLS ones in timeout mode (a read then returns empty-handed after each timeout).
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl as _ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from zaqarkit.transports._frames import FrameCodec, Handshake, ProtocolFraming
from zaqarkit.transports._sockets import READ_SIZE, ConnectionEnded, WriteTimeout

__all__ = ["READ_SIZE", "ConnectionEnded", "SyncWebSocket", "WriteTimeout"]

#: Longest single wait of a socket operation: a writer re-checks its deadline
#: (and the reader the connection's end) at least this often.
_TICK = 0.25
#: SO_RCVTIMEO's value for _TICK: a DWORD of milliseconds on Windows, a
#: struct timeval elsewhere.
_RECEIVE_TICK = (
    struct.pack("L", int(_TICK * 1000))
    if sys.platform == "win32"
    else struct.pack("ll", int(_TICK), int(_TICK % 1 * 1_000_000))
)


class SyncWebSocket:
    """One connected client WebSocket.

    ``connect()`` does the TCP (and TLS) connection and the opening handshake
    (websockets' protocol); frames go through our :class:`FrameCodec`, or
    websockets' protocol when an extension was negotiated (see
    :mod:`zaqarkit.transports._frames`). :meth:`read` receives messages
    (``str`` for text, ``bytes`` for binary), from one thread at a time, until
    it raises :class:`ConnectionEnded`; ``send`` from any thread. Pings are
    answered as they arrive.

    Example::

        ws = SyncWebSocket.connect("ws://127.0.0.1:9000", open_timeout=5)
        ws.send('{"action": "queue_list", "headers": {...}, "body": {}}')
        messages = ws.read(timeout=5.0)
    """

    def __init__(self, sock: socket.socket, framing: FrameCodec | ProtocolFraming):
        self._sock = sock
        self._framing = framing
        # The framing is not thread-safe: every call into it is under this lock.
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        # TLS sockets take no send flags: they run in timeout mode instead.
        self._plain = not isinstance(sock, _ssl.SSLSocket)
        self._finished = threading.Event()  # set once the connection is over
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)

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
        on_socket: Callable[[socket.socket], None] | None = None,
    ) -> SyncWebSocket:
        """Open a connection; raises OSError or websockets' InvalidHandshake.
        ``on_socket`` gets the TCP socket as soon as it exists: shutting it
        down from another thread abandons the handshake."""
        handshake = Handshake(
            url,
            max_size=max_size,
            compression=compression,
            subprotocols=subprotocols,
            additional_headers=additional_headers,
        )
        uri = handshake.uri
        sock = socket.create_connection((uri.host, uri.port), timeout=open_timeout)
        if on_socket is not None:
            on_socket(sock)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if uri.secure:
                context = ssl if ssl is not None else _ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=uri.host)
            sock.sendall(handshake.request)
            cls._read_response(sock, handshake)
            if isinstance(sock, _ssl.SSLSocket):
                sock.settimeout(_TICK)
            else:
                sock.settimeout(None)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _RECEIVE_TICK)
        except BaseException:
            sock.close()
            raise
        return cls(sock, handshake.framing())

    @staticmethod
    def _read_response(sock: socket.socket, handshake: Handshake) -> None:
        """Read the handshake's response, and not a byte more."""
        tail = b""  # the last bytes read: the blank line may straddle two reads
        while True:
            if isinstance(sock, _ssl.SSLSocket):  # no MSG_PEEK through TLS
                data = sock.recv(1)
            else:
                peeked = sock.recv(READ_SIZE, socket.MSG_PEEK)
                end = Handshake.response_end(tail + peeked)
                data = sock.recv(len(peeked) if end < 0 else end - len(tail)) if peeked else b""
            tail = (tail + data)[-3:]
            if handshake.response(data):
                return

    # -- receiving (one thread at a time) ----------------------------------------------

    def read(self, timeout: float | None = None) -> list[str | bytes] | None:
        """Read the socket once: the messages that completed (``str`` for text,
        ``bytes`` for binary), ``[]`` when only control frames came (a pong:
        keepalive evidence), None when nothing came in time. ``timeout=0``
        only takes what is there already; a longer (or no) timeout returns
        None at least every 0.25 s, so a reader can look at what else
        changed. Raises :class:`ConnectionEnded` once the connection is over.
        One thread at a time may read."""
        if self._finished.is_set():
            raise ConnectionEnded
        # The read before each write (timeout 0) costs one poll() when nothing
        # is there. Not recv(MSG_DONTWAIT): gevent's sockets (Locust users)
        # wait for data when a recv would block, whatever its flags.
        if timeout is not None and timeout < _TICK and not self._readable(timeout):
            return None
        try:
            # Blocks up to _TICK at most: SO_RCVTIMEO on a plain socket (one
            # syscall per read, not a poll() before each), timeout mode on TLS.
            data = self._sock.recv(READ_SIZE)
        except (BlockingIOError, TimeoutError):
            return None
        except OSError:
            data = b""
        framing = self._framing
        with self._lock:
            if data:
                messages = framing.receive(data)
            else:
                messages = []
                framing.receive_eof()
            out = framing.data_to_send()  # pongs, the closing handshake
        if out:
            self._flush(out, -1)
        if not data or framing.ended:
            self._end()
            if not messages:
                raise ConnectionEnded
        return messages

    @property
    def ended(self) -> bool:
        """The connection is over (a read saw its end)."""
        return self._finished.is_set()

    def _readable(self, timeout: float) -> bool:
        # A TLS socket may hold decrypted bytes the kernel no longer shows.
        if not self._plain and self._sock.pending():  # type: ignore[attr-defined]
            return True
        return bool(self._poller.poll(max(0.0, timeout) * 1000.0))

    def _end(self) -> None:
        self._finished.set()
        with contextlib.suppress(OSError):
            self._sock.close()

    # -- sending (any thread) ---------------------------------------------------------------

    def send(self, data: str | bytes, deadline: float | None = None) -> None:
        """Send one text (``str``) or binary (``bytes``) message by ``deadline``
        (``time.monotonic()``; None waits as long as it takes). Raises
        :class:`WriteTimeout` after it, OSError when the socket fails."""
        if not self._write_lock.acquire(timeout=_left(deadline, -1)):
            raise WriteTimeout(partial=False)
        try:
            with self._lock:
                frame = self._framing.message(data)
            self._write((frame,), deadline)
        finally:
            self._write_lock.release()

    def _write(self, chunks: Sequence[bytes], deadline: float | None) -> None:
        # With the write lock held. An empty chunk means "half-close".
        written = False
        for chunk in chunks:
            if not chunk:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_WR)
                continue
            if self._plain:  # the common case: the whole frame fits in the socket buffer
                try:
                    sent = self._sock.send(chunk, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    sent = 0
                if sent == len(chunk):
                    written = True
                    continue
                written = written or sent > 0
                view = memoryview(chunk)[sent:]
            else:
                view = memoryview(chunk)
            while view:
                try:
                    sent = self._send(view)
                except (BlockingIOError, TimeoutError):  # the peer is not reading (yet)
                    left = _left(deadline, _TICK)
                    if left <= 0:
                        raise WriteTimeout(partial=written) from None
                    if self._plain:
                        select.select((), (self._sock,), (), min(left, _TICK))
                    continue
                written = True
                view = view[sent:]

    def _send(self, view: memoryview) -> int:
        if self._plain:
            # Never blocks, and costs no poll() before each send: the reader's
            # recv stays a plain blocking call (a timeout mode would add a
            # poll() and a GIL hand-off to every read and write).
            return self._sock.send(view, socket.MSG_DONTWAIT)
        return self._sock.send(view)  # TLS: the socket is in timeout mode

    def _flush(self, chunks: list[bytes], wait: float) -> None:
        # Control frames (pongs, ping, close), taken from the framing under
        # its lock, written after the frame being written now if any (waiting
        # ``wait`` seconds at most, -1: as long as that writer's deadline).
        # Frames of their own are not compressed, so they may go after a data
        # frame encoded later.
        if not self._write_lock.acquire(timeout=wait):
            self.abort()  # a peer that reads nothing gets no pong either
            return
        try:
            self._write(chunks, time.monotonic() + max(wait, _TICK))
        except (WriteTimeout, OSError):
            self.abort()
        finally:
            self._write_lock.release()

    def ping(self) -> None:
        """Send a ping; any frame received (the pong too) proves the peer alive."""
        with self._lock:
            out = self._framing.ping(b"zaqarkit")
        if out:
            self._flush(out, 1.0)

    def abort(self) -> None:
        """Drop the connection at once (a peer that stopped answering)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self, timeout: float = 2.0) -> None:
        """Start the closing handshake and wait up to ``timeout`` for the
        reader to see the connection end; then drop the socket."""
        with self._lock:
            out = self._framing.close(1000)
        if out:
            self._flush(out, timeout)
        if not self._finished.wait(timeout):
            # Wakes a reader blocked in recv (closing the fd alone would not).
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._sock.close()

    @property
    def close_code(self) -> int:
        """The code of the close frame received; 1006 without one."""
        return self._framing.close_code

    @property
    def close_reason(self) -> str:
        return self._framing.close_reason


def _left(deadline: float | None, default: float) -> float:
    """Seconds until ``deadline``; ``default`` when there is none."""
    return default if deadline is None else max(0.0, deadline - time.monotonic())
