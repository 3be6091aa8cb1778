"""A client WebSocket on an asyncio transport, with our frame codec.

Why not ``websockets.asyncio``: each reply went through websockets' protocol
parser (a generator per frame) and its send path (an asyncio lock and a
drain per frame); the codec of :mod:`zaqarkit.transports._frames` parses a
frame in a fraction of that. Messages are handed to ``on_message`` from
``data_received`` itself, so a reply settles its caller's future with no
task in between. Used by
:class:`~zaqarkit.transports.websocket.AsyncWebSocketTransport` on asyncio
for the options it supports (:data:`OPTIONS`); trio, and deflate, keep
websockets' own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from zaqarkit.transports._frames import ABNORMAL_CLOSURE, FrameCodec, Handshake

__all__ = ["OPTIONS", "AsyncioWebSocket"]

#: ``connect_kwargs`` this connection supports (others take websockets' path).
OPTIONS = frozenset({"max_size", "compression", "ssl", "additional_headers", "subprotocols",
                     "ping_interval"})
#: Longest handshake response accepted, in bytes.
_MAX_RESPONSE = 65_536


class AsyncioWebSocket(asyncio.Protocol):
    """One connection: :meth:`connect`, then :meth:`send`, :meth:`ping`,
    :meth:`close`; received messages go to ``on_message`` (``str`` text,
    ``bytes`` binary), reads bringing only control frames to ``on_heard``.
    :meth:`wait_closed` returns once the connection is over, with
    :attr:`close_code` and :attr:`close_reason` set.

    Example::

        ws = await AsyncioWebSocket.connect("ws://127.0.0.1:9000", open_timeout=5)
        ws.on_message = print
        await ws.send('{"action": "queue_list", "headers": {...}, "body": {}}')
    """

    def __init__(self, handshake: Handshake) -> None:
        loop = asyncio.get_running_loop()
        self._handshake = handshake
        self._head = bytearray()
        self._codec: FrameCodec | None = None
        self.transport: asyncio.Transport | None = None
        self.on_message: Callable[[str | bytes], None] | None = None
        self.on_heard: Callable[[], None] | None = None
        self._early: list[str | bytes] = []  # messages before on_message was set
        self._opened: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()
        self._writable: asyncio.Future[None] | None = None  # set while writing is paused
        self._pongs: list[asyncio.Future[None]] = []

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        open_timeout: float | None = 10.0,
        max_size: int | None = None,
        ssl: _ssl.SSLContext | None = None,
        additional_headers: Mapping[str, str] | None = None,
        subprotocols: Sequence[str] | None = None,
        **_: Any,
    ) -> AsyncioWebSocket:
        """Open a connection within ``open_timeout`` seconds; raises OSError,
        TimeoutError or websockets' InvalidHandshake. The rest of
        :data:`OPTIONS` is not this connection's to act on: ``compression``
        is None whenever it is used, and keepalive pings are the connection
        machine's (``ping_interval``)."""
        handshake = Handshake(url, max_size=max_size, subprotocols=subprotocols,
                              additional_headers=additional_headers)
        uri = handshake.uri
        context = (ssl or _ssl.create_default_context()) if uri.secure else None
        loop = asyncio.get_running_loop()
        ws: AsyncioWebSocket | None = None

        def factory() -> AsyncioWebSocket:
            nonlocal ws
            ws = cls(handshake)
            return ws

        async with asyncio.timeout(open_timeout):
            try:
                await loop.create_connection(factory, uri.host, uri.port, ssl=context,
                                             server_hostname=uri.host if context else None)
                assert ws is not None
                await ws._opened
            except BaseException:
                if ws is not None:
                    ws.abort()
                raise
        return ws

    # -- asyncio's calls ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._handshake.request)

    def data_received(self, data: bytes) -> None:
        codec = self._codec
        if codec is None:
            codec = self._opening(data)
            if codec is None:
                return
            data = bytes(self._head)  # what followed the response
            self._head.clear()
            if not data:
                return
        messages = codec.receive(data)
        out = codec.data_to_send()  # pongs, the closing handshake
        if out:
            self._write(out)
        pongs, self._pongs = self._pongs, []
        for pong in pongs:  # any bytes prove the peer alive, as a pong would
            if not pong.done():
                pong.set_result(None)
        if messages:
            deliver = self.on_message
            if deliver is None:
                self._early.extend(messages)
            else:
                for message in messages:
                    deliver(message)
        elif self.on_heard is not None:
            self.on_heard()
        if codec.ended and self.transport is not None:
            self.transport.close()

    def _opening(self, data: bytes) -> FrameCodec | None:
        """Handshake bytes; the codec once the response is complete."""
        self._head += data
        end = Handshake.response_end(self._head)
        if end < 0:
            if len(self._head) > _MAX_RESPONSE:
                self._fail_opening(ConnectionError("the handshake response is too long"))
            return None
        try:
            self._handshake.response(bytes(self._head[:end]))
        except Exception as exc:
            self._fail_opening(exc)
            return None
        del self._head[:end]
        framing = self._handshake.framing()
        assert isinstance(framing, FrameCodec)  # no extension was offered
        self._codec = framing
        if not self._opened.done():
            self._opened.set_result(None)
        return framing

    def _fail_opening(self, exc: BaseException) -> None:
        if not self._opened.done():
            self._opened.set_exception(exc)
        self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._codec is not None:
            self._codec.receive_eof()
        if not self._opened.done():
            self._opened.set_exception(
                ConnectionError("connection closed during the opening handshake"))
        if not self._closed.done():
            self._closed.set_result(None)
        self._resume(ConnectionError("the connection is closed"))

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._resume(None)

    def _resume(self, error: BaseException | None) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            if error is None:
                writable.set_result(None)
            else:
                writable.set_exception(error)
                writable.exception()  # retrieved: nobody may be waiting

    # -- ours -----------------------------------------------------------------------------

    def take_early(self) -> list[str | bytes]:
        """Messages that came before ``on_message`` was set."""
        early, self._early = self._early, []
        return early

    def _write(self, chunks: list[bytes]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(chunks))

    def send_now(self, data: str | bytes) -> bool:
        """Write one message if the connection takes it without waiting
        (open, writing not paused); False: nothing was written."""
        codec, transport = self._codec, self.transport
        if (codec is None or not codec.open or transport is None or transport.is_closing()
                or self._writable is not None):
            return False
        transport.write(codec.message(data))
        return True

    async def send(self, data: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message; waits while
        the socket's buffer is over its high-water mark."""
        codec = self._codec
        if codec is None or self.transport is None or self.transport.is_closing():
            raise ConnectionError("the WebSocket connection is closed")
        self.transport.write(codec.message(data))
        if self._writable is not None:
            await asyncio.shield(self._writable)

    async def ping(self) -> asyncio.Future[None]:
        """Send a ping; the future is done when the next bytes arrive."""
        pong = asyncio.get_running_loop().create_future()
        if self._codec is not None:
            frames = self._codec.ping(b"zaqarkit")
            if frames:
                self._write(frames)
                self._pongs.append(pong)
        return pong

    async def close(self, timeout: float = 2.0) -> None:
        """The closing handshake, waiting up to ``timeout`` s for its end; then drop."""
        if self._codec is not None:
            frames = self._codec.close(1000)
            if frames:
                self._write(frames)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._closed)
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once."""
        if self.transport is not None:
            self.transport.abort()

    async def wait_closed(self) -> None:
        """Return once the connection is over."""
        await asyncio.shield(self._closed)

    @property
    def close_code(self) -> int:
        """The code of the close frame received; 1006 without one."""
        return ABNORMAL_CLOSURE if self._codec is None else self._codec.close_code

    @property
    def close_reason(self) -> str:
        return "" if self._codec is None else self._codec.close_reason
