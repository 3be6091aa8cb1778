"""An httpcore network backend on asyncio's own transports and protocols.

httpcore's anyio backend wraps every read and write in a cancel scope and a
``fail_after`` and goes through anyio's socket stream; under asyncio that
machinery costs more CPU per request than the HTTP/1.1 work itself
(``python -m benchmarks profile``-style runs, quoted in benchmarks/RESULTS.md).
This backend keeps what the anyio one provides, on asyncio's public API only:

* cancellation: a read or a drain awaits a plain future, which the task's
  cancellation cancels;
* timeouts: one timer handle per wait (``loop.call_later``), and none when
  the data is already buffered;
* TLS: ``loop.start_tls`` on the same protocol;
* back-pressure both ways: ``pause_reading`` above :data:`READ_HIGH_WATER`
  buffered bytes, ``drain`` while the transport has paused writing.

Errors are httpcore's (``ConnectError``, ``ReadTimeout``, ...), which
:mod:`zaqarkit.transports._http_errors` maps to zaqarkit's, as it does for
the anyio backend.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

from zaqarkit.transports._netsocket import connect_first, httpcore_error, readable_now

__all__ = ["AsyncioBackend"]

#: Bytes buffered before the socket stops being read (asyncio's own streams
#: use 64 KiB; httpcore reads up to 64 KiB at a time).
READ_HIGH_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    """Bytes received, end of stream and write pauses, for one connection."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: Any = None
        self.received = bytearray()
        self.ended = False
        self.lost: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        # A reader and a writer may wait at once (HTTP/2 streams share the
        # connection); every event wakes both and each checks its own need.
        self.waiters: list[asyncio.Future[None]] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) > READ_HIGH_WATER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close the transport: HTTP/1.1 has no half-closed use here

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.lost = exc
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def _wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float | None, timeout_error: str) -> None:
        """Until the next event on the connection, or ``timeout_error`` after
        ``timeout`` seconds. Cancelling the task cancels the wait."""
        waiter = self.loop.create_future()
        self.waiters.append(waiter)
        timer = (
            None
            if timeout is None
            else self.loop.call_later(timeout, _expire, waiter, timeout_error)
        )
        try:
            await waiter
        finally:
            self.waiters.remove(waiter)
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[None], timeout_error: str) -> None:
    if not waiter.done():
        waiter.set_exception(httpcore_error(timeout_error, "timed out"))


class AsyncioStream:
    """One connection, as httpcore's ``AsyncNetworkStream``."""

    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        while not protocol.received:
            if protocol.ended:
                if protocol.lost is not None:
                    raise httpcore_error("ReadError", protocol.lost)
                return b""
            await protocol.wait(timeout, "ReadTimeout")
        received = protocol.received
        data = bytes(received[:max_bytes])
        del received[:max_bytes]
        if protocol.reading_paused and len(received) <= READ_HIGH_WATER // 4:
            protocol.reading_paused = False
            protocol.transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        protocol = self._protocol
        if protocol.ended or protocol.transport.is_closing():
            raise httpcore_error("WriteError", protocol.lost or "the connection is closed")
        protocol.transport.write(buffer)
        while protocol.writing_paused and not protocol.ended:
            await protocol.wait(timeout, "WriteTimeout")
        if protocol.lost is not None:
            raise httpcore_error("WriteError", protocol.lost)

    async def aclose(self) -> None:
        # abort(), not close(): close() on a TLS transport waits (up to 30 s)
        # for the server's close_notify, which HTTP/1.1 and HTTP/2 framing do
        # not need and the sync backend never sends; the socket is closed at
        # the loop's next turn, which the yield below gives it.
        self._protocol.transport.abort()
        await asyncio.sleep(0)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncioStream:
        protocol = self._protocol
        try:
            transport = await protocol.loop.start_tls(
                protocol.transport,
                protocol,
                ssl_context,
                server_hostname=server_hostname,
                ssl_handshake_timeout=timeout,
            )
        except TimeoutError as exc:
            protocol.transport.close()
            raise httpcore_error("ConnectTimeout", exc) from None
        except (OSError, ssl.SSLError) as exc:
            protocol.transport.close()
            raise httpcore_error("ConnectError", exc) from None
        protocol.transport = transport
        return AsyncioStream(protocol)

    def get_extra_info(self, info: str) -> Any:
        protocol = self._protocol
        if info == "is_readable":
            # httpcore asks this of an idle keep-alive connection before it
            # reuses it: readable then means the server closed it (or sent
            # something unasked). The socket itself is asked too: a FIN that
            # arrived while the loop was busy is not in the protocol yet.
            if protocol.received or protocol.ended:
                return True
            sock = protocol.transport.get_extra_info("socket")
            return sock is not None and readable_now(sock)
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        if name not in ("ssl_object", "sockname", "peername", "socket"):
            return None
        return protocol.transport.get_extra_info(name)


class AsyncioBackend:
    """httpcore's ``AsyncNetworkBackend`` on asyncio, for use under asyncio only."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()

        async def connect() -> Any:
            addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            sock = await connect_first(
                addresses, list(socket_options or ()), local_address, loop.sock_connect
            )
            return await loop.create_connection(lambda: _Protocol(loop), sock=sock)

        return await _connecting(connect, timeout)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()

        async def connect() -> Any:
            return await loop.create_unix_connection(lambda: _Protocol(loop), path)

        return await _connecting(connect, timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connecting(connect: Any, timeout: float | None) -> AsyncioStream:
    try:
        async with asyncio.timeout(timeout):
            _, protocol = await connect()
    except TimeoutError as exc:
        raise httpcore_error("ConnectTimeout", exc) from None
    except OSError as exc:
        raise httpcore_error("ConnectError", exc) from None
    return AsyncioStream(protocol)
