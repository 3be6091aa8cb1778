"""What zaqarkit's two async network backends (:mod:`._asyncio_net`,
:mod:`._trio_net`) do alike with a plain socket: connect one with the
caller's options, ask whether an idle one is readable, raise httpcore's
errors (which :mod:`._http_errors` maps to zaqarkit's)."""

from __future__ import annotations

import select
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from zaqarkit.transports._http_errors import httpcore_module

__all__ = ["connect_first", "httpcore_error", "readable_now"]


def httpcore_error(name: str, detail: object) -> Exception:
    """httpcore's exception ``name`` (``"ReadTimeout"``, ...) saying ``detail``."""
    error: Exception = getattr(httpcore_module(), name)(str(detail) or name)
    return error


def readable_now(sock: Any) -> bool:
    """Whether ``sock`` has something to read (on an idle keep-alive
    connection: the server closed it), without waiting."""
    readable, _, _ = select.select([sock.fileno()], [], [], 0)
    return bool(readable)


async def connect_first(
    addresses: list[Any],
    options: list[Any],
    local_address: str | None,
    connect: Callable[[socket.socket, Any], Awaitable[None]],
) -> socket.socket:
    """A non-blocking socket connected to the first of ``addresses``
    (``getaddrinfo`` entries) that answers, the caller's socket ``options``
    set before it connects; the last ``OSError`` when none does."""
    last: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            if family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in options:
                sock.setsockopt(*option)
            if local_address is not None:
                sock.bind((local_address, 0))
            await connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    raise last or OSError("no address to connect to")
