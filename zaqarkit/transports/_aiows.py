"""The asyncio backend of the socket interface (:mod:`zaqarkit.transports._sockets`):
an asyncio ``BufferedProtocol`` with our frame codec.

Why not ``websockets.asyncio``: each reply went through websockets' protocol
parser (a generator per frame) and its send path (an asyncio lock and a
drain per frame); the codec of :mod:`zaqarkit.transports._frames` parses a
frame in a fraction of that. A ``BufferedProtocol`` because it is the
documented way to choose the read size (:data:`READ_SIZE`): the selector
transport otherwise reads 256 KiB at a time, an mmap/munmap pair per reply
(measured: 139-170 us of client CPU per post, 108-113 us with 64 KiB reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl
from collections.abc import Callable, Mapping, Sequence

from zaqarkit.transports._frames import ABNORMAL_CLOSURE, FrameCodec, Handshake, ProtocolFraming
from zaqarkit.transports._sockets import MAX_RESPONSE, READ_SIZE

__all__ = ["AsyncioWebSocket"]


class AsyncioWebSocket(asyncio.BufferedProtocol):
    """One connection: :meth:`connect`, then :meth:`serve`, :meth:`send`,
    :meth:`ping`, :meth:`close`, :meth:`abort`.

    Example::

        ws = await AsyncioWebSocket.connect("ws://127.0.0.1:9000", open_timeout=5)
        ws.send('{"action": "queue_list", "headers": {...}, "body": {}}')
        await ws.serve(print)  # every batch of messages received, until the end
    """

    def __init__(self, handshake: Handshake) -> None:
        self._handshake = handshake
        self._buffer = bytearray(READ_SIZE)
        self._head = bytearray()
        self._framing: FrameCodec | ProtocolFraming | None = None
        self._transport: asyncio.Transport | None = None
        self._deliver: Callable[[list[str | bytes]], None] | None = None  # set by serve()
        self._inbox: list[str | bytes] = []  # what came before serve()
        loop = asyncio.get_running_loop()
        self._opened: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()

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
    ) -> AsyncioWebSocket:
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
        context = (ssl or _ssl.create_default_context()) if uri.secure else None
        loop = asyncio.get_running_loop()
        made: list[AsyncioWebSocket] = []

        def factory() -> AsyncioWebSocket:
            made.append(cls(handshake))
            return made[0]

        async with asyncio.timeout(open_timeout):
            try:
                await loop.create_connection(
                    factory,
                    uri.host,
                    uri.port,
                    ssl=context,
                    server_hostname=uri.host if context else None,
                )
                await made[0]._opened
            except BaseException:
                if made:
                    made[0].abort()
                raise
        return made[0]

    # -- asyncio's calls ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._handshake.request)

    def get_buffer(self, sizehint: int) -> bytearray:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = bytes(memoryview(self._buffer)[:nbytes])
        framing = self._framing
        if framing is None:
            framing = self._opening(data)
            if framing is None:
                return
            data = bytes(self._head)  # what followed the response
            self._head.clear()
        messages = framing.receive(data) if data else []
        out = framing.data_to_send()  # pongs, the closing handshake
        if out:
            self._write(out)
        deliver = self._deliver
        if deliver is not None:  # [] too: control frames still prove the peer alive
            deliver(messages)
        else:
            self._inbox.extend(messages)
        if framing.ended and self._transport is not None:
            self._transport.close()

    def _opening(self, data: bytes) -> FrameCodec | ProtocolFraming | None:
        """Handshake bytes; the framing once the response is complete."""
        self._head += data
        end = Handshake.response_end(self._head)
        if end < 0:
            if len(self._head) > MAX_RESPONSE:
                self._fail_opening(ConnectionError("the handshake response is too long"))
            return None
        try:
            self._handshake.response(bytes(self._head[:end]))
        except Exception as exc:
            self._fail_opening(exc)
            return None
        del self._head[:end]
        self._framing = self._handshake.framing()
        if not self._opened.done():
            self._opened.set_result(None)
        return self._framing

    def _fail_opening(self, exc: BaseException) -> None:
        if not self._opened.done():
            self._opened.set_exception(exc)
        self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._framing is not None:
            self._framing.receive_eof()
        if not self._opened.done():
            self._opened.set_exception(
                ConnectionError("connection closed during the opening handshake")
            )
        if not self._closed.done():
            self._closed.set_result(None)

    # -- the socket interface ---------------------------------------------------------------

    async def serve(self, deliver: Callable[[list[str | bytes]], None]) -> None:
        """Hand each batch of messages received to ``deliver`` (``[]``: only
        control frames) until the connection ends. Why a callback: it runs
        in the protocol's ``buffer_updated``, so a reply settles its caller
        with no reader task woken in between (measured: 6-10 % of the async
        transport's CPU per request)."""
        self._deliver = deliver
        if self._inbox:
            messages, self._inbox = self._inbox, []
            deliver(messages)
        await asyncio.shield(self._closed)

    def _write(self, chunks: list[bytes]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(chunks))

    def send(self, data: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message: handed to
        asyncio's transport buffer, never waiting (see :mod:`zaqarkit.transports._sockets`)."""
        framing, transport = self._framing, self._transport
        if framing is None or transport is None or transport.is_closing() or not framing.open:
            raise ConnectionError("the WebSocket connection is closed")
        transport.write(framing.message(data))

    def ping(self) -> None:
        """Send a ping; whatever arrives next proves the peer alive (:meth:`read`)."""
        if self._framing is not None:
            self._write(self._framing.ping(b"zaqarkit"))

    async def close(self, timeout: float = 2.0) -> None:
        """The closing handshake, waiting up to ``timeout`` s for its end; then drop."""
        if self._framing is not None:
            self._write(self._framing.close(1000))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._closed)
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once."""
        if self._transport is not None:
            self._transport.abort()

    @property
    def close_code(self) -> int:
        """The code of the close frame received; 1006 without one."""
        return ABNORMAL_CLOSURE if self._framing is None else self._framing.close_code

    @property
    def close_reason(self) -> str:
        return "" if self._framing is None else self._framing.close_reason
