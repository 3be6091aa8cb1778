"""The trio backend of the socket interface (:mod:`zaqarkit.transports._sockets`):
a trio stream (TCP, or TLS over it) with our frame codec.

Why not ``websockets.trio``: the same reasons as for asyncio (see
:mod:`zaqarkit.transports._aiows`), and one codec, one handshake and one
set of options for the three backends.
"""

from __future__ import annotations

import contextlib
import math
import socket
import ssl as _ssl
from collections.abc import Callable, Mapping, Sequence

import trio

from zaqarkit.transports._frames import FrameCodec, Handshake, ProtocolFraming
from zaqarkit.transports._sockets import MAX_RESPONSE, READ_SIZE, ConnectionEnded

__all__ = ["TrioWebSocket"]

#: What a trio stream raises once it is broken or closed under us.
_GONE = (trio.BrokenResourceError, trio.ClosedResourceError, trio.BusyResourceError, OSError)
#: The flag of a send that never waits (not on Windows: no direct writes there).
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
#: Seconds the end of a connection waits for its last frames (the answer to
#: the peer's close frame) to be written.
_CLOSE_PATIENCE = 2.0


class TrioWebSocket:
    """One connection: :meth:`connect`, then :meth:`serve` (one task),
    :meth:`send` (any task), :meth:`ping`, :meth:`close`, :meth:`abort`.
    Each connection runs a trio system task writing its frames.

    Example::

        ws = await TrioWebSocket.connect("ws://127.0.0.1:9000", open_timeout=5)
        ws.send('{"action": "queue_list", "headers": {...}, "body": {}}')
        await ws.serve(print)  # every batch of messages received, until the end
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        tcp: trio.SocketStream,
        framing: FrameCodec | ProtocolFraming,
        early: bytes,
    ) -> None:
        self._stream = stream
        self._tcp = tcp
        self._framing = framing
        self._early = early  # bytes that followed the handshake response
        self._ended = False
        self._done = trio.Event()  # set once a read saw the end
        # Frames go out through a writer task, whole, in the order they were
        # encoded (as an asyncio transport's buffer does). Why: a caller
        # cancelled at its deadline must not cut a frame short (trio leaves a
        # stream whose send_all was cancelled in an unknown state), and a
        # pong or a ping must not wait behind a peer that stopped reading.
        self._outbox: list[bytes] = []
        self._writing = False  # the writer task is in send_all
        self._writer_wakeup = trio.Event()
        self._writer_done = trio.Event()
        # On plain TCP a frame is first written straight to the socket, without
        # waiting, when nothing is queued before it (almost always): waking the
        # writer task for it cost about a fifth of the CPU per request on the
        # replay tier. A duplicate of the socket (the same connection; trio's
        # socket objects only write by awaiting) makes that write.
        self._direct: socket.socket | None = None
        if stream is tcp and _DONTWAIT:
            tcp_socket = tcp.socket
            self._direct = socket.fromfd(tcp_socket.fileno(), tcp_socket.family, tcp_socket.type)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        open_timeout: float | None = 10.0,
        max_size: int | None = None,
        compression: str | None = None,
        ssl: _ssl.SSLContext | None = None,
        additional_headers: Mapping[str, str] | None = None,
        subprotocols: Sequence[str] | None = None,
    ) -> TrioWebSocket:
        """Open a connection within ``open_timeout`` seconds; raises OSError,
        TimeoutError or websockets' InvalidHandshake."""
        handshake = Handshake(
            url,
            max_size=max_size,
            compression=compression,
            subprotocols=subprotocols,
            additional_headers=additional_headers,
        )
        uri = handshake.uri
        with trio.move_on_after(math.inf if open_timeout is None else open_timeout) as scope:
            tcp = await trio.open_tcp_stream(uri.host, uri.port)
            try:
                stream: trio.abc.Stream = tcp
                if uri.secure:
                    stream = trio.SSLStream(
                        tcp, ssl or _ssl.create_default_context(), server_hostname=uri.host
                    )
                await stream.send_all(handshake.request)
                head = bytearray()
                while (end := Handshake.response_end(head)) < 0:
                    if len(head) > MAX_RESPONSE:
                        raise ConnectionError("the handshake response is too long")
                    data = await stream.receive_some(READ_SIZE)
                    if not data:
                        handshake.response(b"")  # raises: closed during the handshake
                    head += data
                handshake.response(bytes(head[:end]))
                ws = cls(stream, tcp, handshake.framing(), bytes(head[end:]))
                trio.lowlevel.spawn_system_task(ws._write_out)
                return ws
            except BaseException:
                await trio.aclose_forcefully(tcp)
                raise
        assert scope.cancelled_caught
        raise TimeoutError(f"opening handshake not done within {open_timeout} s")

    async def serve(self, deliver: Callable[[list[str | bytes]], None]) -> None:
        """Hand each batch of messages received to ``deliver`` (``[]``: only
        control frames) until the connection ends."""
        while True:
            try:
                messages = await self.read()
            except ConnectionEnded:
                return
            deliver(messages)

    async def read(self) -> list[str | bytes]:
        """The messages the next bytes complete (``[]``: only control frames);
        raises ConnectionEnded once the connection is over."""
        if self._ended:
            raise ConnectionEnded
        if self._early:
            data, self._early = self._early, b""
        else:
            try:
                data = await self._receive()
            except _GONE:
                data = b""
        framing = self._framing
        if data:
            messages = framing.receive(data)
        else:
            messages = []
            framing.receive_eof()
        self._queue(framing.data_to_send())  # pongs, the closing handshake
        if not data or framing.ended:
            self._ended = True
            self._done.set()
            self._writer_wakeup.set()
            with trio.move_on_after(_CLOSE_PATIENCE):
                await self._writer_done.wait()  # the answer to a close frame goes out
            await trio.aclose_forcefully(self._stream)
            if self._direct is not None:
                self._direct.close()  # the connection stays open while a duplicate is
            if not messages:
                raise ConnectionEnded
        return messages

    async def _receive(self) -> bytes:
        direct = self._direct
        if direct is None:
            return bytes(await self._stream.receive_some(READ_SIZE))
        # Wait first, then read once: receive_some tries a read before waiting,
        # which is one failed recv per reply when replies are awaited.
        while True:
            try:
                await trio.lowlevel.wait_readable(self._tcp.socket)
            except ValueError:  # its socket was closed (abort()): the connection is over
                return b""
            try:
                return direct.recv(READ_SIZE, _DONTWAIT)
            except BlockingIOError:
                continue

    def _queue(self, chunks: list[bytes]) -> None:
        if not chunks or self._writer_done.is_set():
            return
        direct = self._direct
        if direct is not None and not self._outbox and not self._writing:
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            try:
                sent = direct.send(data, _DONTWAIT)
            except OSError:  # full (the writer task waits), or gone (it finds out)
                sent = 0
            if sent == len(data):
                return
            chunks = [data[sent:]]
        self._outbox.extend(chunks)
        self._writer_wakeup.set()

    async def _write_out(self) -> None:
        """The writer task: writes what is queued until the connection ends."""
        try:
            while self._outbox or not self._ended:
                if not self._outbox:
                    self._writer_wakeup = trio.Event()
                    await self._writer_wakeup.wait()
                    continue
                data = b"".join(self._outbox)
                self._outbox.clear()
                self._writing = True
                await self._stream.send_all(data)
                self._writing = False
        except _GONE:
            self.abort()  # the reader sees the end
        finally:
            self._writer_done.set()

    def send(self, data: str | bytes) -> None:
        """Queue one text (``str``) or binary (``bytes``) message for the writer
        task, never waiting (see :mod:`zaqarkit.transports._sockets`).
        ConnectionError once the connection is closing or gone."""
        if self._ended or self._writer_done.is_set() or not self._framing.open:
            raise ConnectionError("the WebSocket connection is closed")
        self._queue([self._framing.message(data)])

    def ping(self) -> None:
        """Send a ping; whatever arrives next proves the peer alive (:meth:`read`)."""
        self._queue(self._framing.ping(b"zaqarkit"))

    async def close(self, timeout: float = 2.0) -> None:
        """Start the closing handshake and wait up to ``timeout`` s for the
        reading task to see its end; then drop the socket."""
        self._queue(self._framing.close(1000))
        with trio.move_on_after(timeout):
            await self._done.wait()
        self.abort()
        await trio.aclose_forcefully(self._stream)

    def abort(self) -> None:
        """Drop the connection at once: a task blocked in :meth:`read` or
        writing sees its end (trio wakes it when its socket is closed)."""
        with contextlib.suppress(OSError):
            self._tcp.socket.shutdown(socket.SHUT_RDWR)
        self._tcp.socket.close()
        if self._direct is not None:
            self._direct.close()

    @property
    def close_code(self) -> int:
        """The code of the close frame received; 1006 without one."""
        return self._framing.close_code

    @property
    def close_reason(self) -> str:
        return self._framing.close_reason
