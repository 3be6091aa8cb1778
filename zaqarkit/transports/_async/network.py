"""httpcore network backends whose every read, write and connect ends by the
call's deadline (:mod:`zaqarkit.transports.deadline`): per-read timeouts alone
let a server that drips one byte at a time hold a call for as long as it likes."""

from __future__ import annotations

import ssl
from typing import Any

from zaqarkit.transports import deadline
from zaqarkit.transports._asyncio_net import AsyncioBackend  # async-only
from zaqarkit.transports._http_errors import httpcore_module, mark_written
from zaqarkit.transports._loops import current_backend  # async-only

__all__ = ["AsyncDeadlineBackend", "AsyncDeadlineStream"]


def _left(timeout: float | None, error: str) -> float | None:
    """``timeout`` bounded by the call's deadline; the httpcore ``error`` once it passed."""
    left = deadline.bounded(timeout)
    if left is not None and left <= 0:
        raise getattr(httpcore_module(), error)("the call's total timeout has passed")
    return left


def _network() -> Any:
    """httpcore's network backend for the running code (async:
    :mod:`~zaqarkit.transports._trio_net`'s under trio,
    :mod:`~zaqarkit.transports._asyncio_net`'s under asyncio, asked per
    connection since one client may serve an asyncio.run and then a trio.run)."""
    if current_backend() == "trio":  # async-only
        from zaqarkit.transports._trio_net import TrioBackend  # async-only

        return TrioBackend()  # async-only
    return AsyncioBackend()  # async-only
    # sync-only: return httpcore_module().SyncBackend()


class AsyncDeadlineStream:
    """An httpcore network stream bounded by the call's deadline."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes, _left(timeout, "ReadTimeout"))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        mark_written()
        await self._stream.write(buffer, _left(timeout, "WriteTimeout"))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncDeadlineStream:
        return AsyncDeadlineStream(
            await self._stream.start_tls(
                ssl_context, server_hostname, _left(timeout, "ConnectTimeout")
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class AsyncDeadlineBackend:
    """httpcore's network backend with :class:`AsyncDeadlineStream` streams."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> AsyncDeadlineStream:
        return AsyncDeadlineStream(
            await _network().connect_tcp(
                host, port, _left(timeout, "ConnectTimeout"), local_address, socket_options
            )
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> AsyncDeadlineStream:
        return AsyncDeadlineStream(
            await _network().connect_unix_socket(
                path, _left(timeout, "ConnectTimeout"), socket_options
            )
        )

    async def sleep(self, seconds: float) -> None:
        await _network().sleep(seconds)
