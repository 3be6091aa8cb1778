"""The async HTTP transport's own connection pool."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable
from typing import Any

import httpx

from zaqarkit.errors import TimeoutError
from zaqarkit.transports import deadline
from zaqarkit.transports._async.network import AsyncDeadlineBackend
from zaqarkit.transports._http_errors import httpcore_module
from zaqarkit.transports._loops import EventLoopBinding, run_at_loop_end
from zaqarkit.transports._tls import CertArg, ssl_context, verify_setting

__all__ = ["DEFAULT_LIMITS", "AsyncConnections", "admission_wait", "pool_options"]

#: At most 100 connections, all of them kept alive: a client shared by up to
#: 100 threads keeps one connection per concurrent caller. (httpx keeps 20,
#: so 32 threads sharing a client opened a new connection for almost every
#: request.)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


def admission_wait(pool_timeout: float | None) -> float:
    """Seconds to wait for a free connection: the pool timeout, bounded by the
    call's deadline (-1, forever, for neither; acquire() takes no None)."""
    left = deadline.bounded(pool_timeout)
    return -1 if left is None else max(0.0, left)


def pool_options(
    verify: bool,
    cacert: str | None,
    insecure: bool,
    limits: httpx.Limits | None,
    cert: CertArg = None,
) -> dict[str, Any]:
    limits = limits if limits is not None else DEFAULT_LIMITS
    tls = verify_setting(verify=verify, cacert=cacert, insecure=insecure)
    return {
        "ssl_context": ssl_context(tls, cert),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


class AsyncConnections:
    """Idle HTTP/1.1 connections per origin, for the async transport.

    httpcore's AsyncConnectionPool re-examines every queued request whenever
    a connection changes state. With 32 requests in flight on one client that
    cost grew with the queue: measured on a loopback replay server, client CPU
    per request went from about 400 us (one in flight) to 840-1,200 us (32 in
    flight, whatever the pool size). Here a request takes an idle connection
    of its origin or opens one; a semaphore bounds how many exist.
    """

    def __init__(self, options: dict[str, Any], pool_timeout: float | None) -> None:
        core = httpcore_module()
        self._pool_timeout = pool_timeout
        self._connection_type = core.AsyncHTTPConnection
        self._origin_type = core.Origin
        self._ssl_context = options["ssl_context"]
        self._keepalive_expiry = options["keepalive_expiry"]
        self._max_idle = options["max_keepalive_connections"] or 0
        self._max_connections = options["max_connections"]
        self._slots: Any = None  # created on first use, inside the event loop
        self._idle: dict[tuple[bytes, bytes, int], list[Any]] = {}
        self._open: set[Any] = set()
        self._loop = EventLoopBinding("HTTP connections")
        self._cancel_guard: Callable[[], None] | None = None
        self._backend = AsyncDeadlineBackend()

    async def request(self, request: Any, operation: str | None = None) -> Any:
        """Send ``request`` (an httpcore.Request); return (response, body)."""
        import anyio

        if self._loop.rebind():
            # First use on this loop. Connections belong to the loop that
            # opened them: they are closed when it shuts down (a client may
            # outlive one asyncio.run / trio.run and be used in the next).
            self._slots = None
            self._cancel_guard = run_at_loop_end(self._close_connections)
        if self._slots is None:
            limit = self._max_connections
            self._slots = anyio.Semaphore(limit if limit is not None else 2**31)
        try:
            self._slots.acquire_nowait()
        except anyio.WouldBlock:
            wait = deadline.bounded(self._pool_timeout)
            try:
                with anyio.fail_after(wait):
                    await self._slots.acquire()
            except builtins.TimeoutError:  # from fail_after
                raise TimeoutError(
                    f"no free connection within {wait} s ({self._max_connections} in use)",
                    sent=False,
                    operation=operation,
                ) from None
        try:
            return await self._send(request)
        finally:
            self._slots.release()

    async def _send(self, request: Any) -> Any:
        import anyio

        url = request.url
        port = url.port or (443 if url.scheme == b"https" else 80)
        key = (url.scheme, url.host, port)
        connection = await self._take(key)
        if connection is None:
            connection = self._connection_type(
                self._origin_type(url.scheme, url.host, port),
                ssl_context=self._ssl_context,
                keepalive_expiry=self._keepalive_expiry,
                network_backend=self._backend,
            )
            self._open.add(connection)
        try:
            response = await connection.handle_async_request(request)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        except BaseException:
            self._open.discard(connection)
            with anyio.CancelScope(shield=True):
                await connection.aclose()
            raise
        idle = self._idle.setdefault(key, [])
        if connection.is_idle() and len(idle) < self._max_idle:
            idle.append(connection)
        else:
            self._open.discard(connection)
            await connection.aclose()
        return response, body

    async def _take(self, key: tuple[bytes, bytes, int]) -> Any:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            # has_expired() also notices a keep-alive connection the server closed.
            if connection.is_idle() and not connection.has_expired():
                return connection
            self._open.discard(connection)
            await connection.aclose()
        return None

    async def aclose(self) -> None:
        if self._loop.rebind():
            # Unused so far, or the loop that opened the connections has
            # ended: its guard closed them then.
            self._open, self._idle = set(), {}
        elif self._cancel_guard is not None:
            self._cancel_guard()
        self._cancel_guard = None
        await self._close_connections()

    async def _close_connections(self) -> None:
        connections, self._open, self._idle = self._open, set(), {}
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.aclose()
