"""An httpcore network backend on trio's low-level socket waits.

httpcore's trio backend reads and writes through ``trio.SocketStream``, whose
every call checkpoints (a trip through trio's scheduler and ``epoll``) and
sits in a cancel scope of its own, even when the bytes are already there. This
backend tries the socket first and waits (``trio.lowlevel.wait_readable`` /
``wait_writable``, inside ``trio.fail_after`` when a timeout applies) only
when it would block, which is where trio's cancellation and timeouts act.
TLS goes through ``trio.SSLStream``, trio's own, unchanged.

Errors are httpcore's (``ConnectError``, ``ReadTimeout``, ...), which
:mod:`zaqarkit.transports._http_errors` maps to zaqarkit's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import trio

from zaqarkit.transports._netsocket import connect_first, httpcore_error, readable_now

__all__ = ["TrioBackend"]


@contextlib.contextmanager
def _bounded(timeout: float | None, timeout_error: str) -> Iterator[None]:
    """A wait of at most ``timeout`` seconds, ended by ``timeout_error``."""
    if timeout is None:
        yield
        return
    try:
        with trio.fail_after(timeout):
            yield
    except trio.TooSlowError:
        raise httpcore_error(timeout_error, "timed out") from None


class TrioSocketStream:
    """One plain TCP connection, as httpcore's ``AsyncNetworkStream``."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        sock = self._sock
        while True:
            try:
                return sock.recv(max_bytes)
            except BlockingIOError:
                pass
            except OSError as exc:
                raise httpcore_error("ReadError", exc) from None
            with _bounded(timeout, "ReadTimeout"):
                await trio.lowlevel.wait_readable(sock)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        sock = self._sock
        view = memoryview(buffer)
        while view:
            try:
                view = view[sock.send(view) :]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:
                raise httpcore_error("WriteError", exc) from None
            with _bounded(timeout, "WriteTimeout"):
                await trio.lowlevel.wait_writable(sock)

    async def aclose(self) -> None:
        # The socket may be in another task's wait (a pooled connection closed
        # by the client's aclose): tell trio before the descriptor goes away.
        trio.lowlevel.notify_closing(self._sock)
        self._sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> TrioTlsStream:
        tls = trio.SSLStream(
            trio.SocketStream(trio.socket.from_stdlib_socket(self._sock)),
            ssl_context,
            server_hostname=server_hostname,
            https_compatible=True,
        )
        try:
            with _bounded(timeout, "ConnectTimeout"):
                await tls.do_handshake()
        except (trio.BrokenResourceError, ssl.SSLError, OSError) as exc:
            await trio.aclose_forcefully(tls)
            raise httpcore_error("ConnectError", exc) from None
        return TrioTlsStream(tls, self._sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return readable_now(self._sock)
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        return None


class TrioTlsStream:
    """One TLS connection over ``trio.SSLStream``, as httpcore's ``AsyncNetworkStream``."""

    def __init__(self, tls: trio.SSLStream[Any], sock: socket.socket) -> None:
        self._tls = tls
        self._sock = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            with _bounded(timeout, "ReadTimeout"):
                return bytes(await self._tls.receive_some(max_bytes))
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise httpcore_error("ReadError", exc) from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            with _bounded(timeout, "WriteTimeout"):
                await self._tls.send_all(buffer)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise httpcore_error("WriteError", exc) from None

    async def aclose(self) -> None:
        await trio.aclose_forcefully(self._tls)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> TrioTlsStream:
        raise httpcore_error("ConnectError", "TLS over TLS (an HTTPS proxy) is not supported")

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            # httpcore asks it for selected_alpn_protocol(), which SSLStream
            # forwards from its SSLObject (a documented part of its API).
            return self._tls
        if info == "is_readable":
            return readable_now(self._sock)
        if info == "socket":
            return self._sock
        return None


class TrioBackend:
    """httpcore's ``AsyncNetworkBackend`` on trio, for use under trio only."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> TrioSocketStream:
        try:
            with _bounded(timeout, "ConnectTimeout"):
                addresses = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                sock = await connect_first(
                    addresses, list(socket_options or ()), local_address, _connect
                )
        except OSError as exc:
            raise httpcore_error("ConnectError", exc) from None
        return TrioSocketStream(sock)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> TrioSocketStream:
        address = (socket.AF_UNIX, socket.SOCK_STREAM, 0, "", path)
        try:
            with _bounded(timeout, "ConnectTimeout"):
                sock = await connect_first([address], list(socket_options or ()), None, _connect)
        except OSError as exc:
            raise httpcore_error("ConnectError", exc) from None
        return TrioSocketStream(sock)

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)


async def _connect(sock: socket.socket, address: Any) -> None:
    """Connect a non-blocking ``sock``, waiting in trio for the handshake."""
    try:
        sock.connect(address)
        return
    except BlockingIOError:
        pass
    await trio.lowlevel.wait_writable(sock)
    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if error:
        raise OSError(error, f"connect to {address}: {os.strerror(error)}")
