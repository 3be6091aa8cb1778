"""httpx and httpcore exceptions to zaqarkit's: the single place that mapping lives."""

from __future__ import annotations

import contextvars
import functools
from typing import Any, NamedTuple

import httpx

from zaqarkit.core.operations import resendable
from zaqarkit.core.redact import redact_url as _redacted_url
from zaqarkit.core.wire import Request
from zaqarkit.errors import (
    ConnectError,
    ReadError,
    TimeoutError,
    TransportError,
    TransportProtocolError,
)

__all__ = ["WRITTEN", "httpcore_module", "is_library_error", "mark_written", "translate_error"]

#: Whether the request in progress wrote anything (a one-element list per
#: attempt): decides ``TransportError.sent``.
WRITTEN: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "zaqarkit_http_written", default=None
)


def httpcore_module() -> Any:
    """httpcore, imported on first use: it imports trio at import time when
    trio is installed, and merely importing zaqarkit.transports should not."""
    import httpcore

    return httpcore


def is_library_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from httpx or httpcore (and must be translated)."""
    return type(exc).__module__.partition(".")[0] in ("httpx", "httpcore")


def mark_written() -> None:
    """Note that the request in progress has written bytes (see :data:`WRITTEN`)."""
    written = WRITTEN.get()
    if written is not None:
        written[0] = True


def translate_error(exc: Exception, request: Request, *, sent: bool = True) -> TransportError:
    """Map an httpx exception to zaqarkit's; callers ``raise ... from exc``.

    ``sent`` says whether any byte of the request was written (the error then
    says the outcome is unknown); a failed connect or a pool timeout never
    sent anything, whatever ``sent`` says. The message names the method and
    URL and never header values (they can carry tokens). h11 quotes
    offending header values in protocol errors, so for those only the
    exception type is kept; the original stays reachable as ``__cause__``.
    """
    row = next((row for row in _translations() if isinstance(exc, row.kinds)), _OTHER)
    sent = sent and not row.unsent
    operation = str(request.operation)
    where = f"{request.method} {_redacted_url(request.url)}: {type(exc).__name__}"
    text = f"{row.what} {where}: {exc}" if row.quoted else f"{row.what} {where}"
    return row.error(text, sent=sent, operation=operation, retryable=resendable(operation, sent))


class _Translation(NamedTuple):
    """httpx and httpcore exceptions (``kinds``) and the zaqarkit ``error``
    they become, its message's start (``what``), whether the message quotes
    the exception (h11 quotes offending header values in protocol errors,
    which can carry tokens), and whether nothing can have been sent."""

    kinds: tuple[type[BaseException], ...]
    error: type[TransportError]
    what: str
    quoted: bool = True
    unsent: bool = False


_OTHER = _Translation((), TransportError, "transport failure during")


@functools.cache
def _translations() -> tuple[_Translation, ...]:
    """The rows in the order they are tried: ConnectTimeout is a
    TimeoutException and RemoteProtocolError a ProtocolError, and both
    belong to the more specific row. httpx and httpcore have parallel trees:
    the owned-pool path raises httpcore's, a caller's httpx client httpx's."""
    core = httpcore_module()
    connect = (httpx.ConnectError, httpx.ConnectTimeout, core.ConnectError, core.ConnectTimeout)
    broken: tuple[type[BaseException], ...] = (httpx.ReadError, httpx.WriteError, httpx.CloseError)
    broken += (core.ReadError, core.WriteError, core.NetworkError)
    return (
        _Translation(connect, ConnectError, "cannot connect for", unsent=True),
        _Translation(
            (httpx.PoolTimeout, core.PoolTimeout),
            TimeoutError,
            "no free connection for",
            unsent=True,
        ),
        _Translation(
            (httpx.TimeoutException, core.TimeoutException), TimeoutError, "timed out during"
        ),
        _Translation(broken, ReadError, "connection broken during"),
        _Translation(
            (httpx.RemoteProtocolError, core.RemoteProtocolError),
            ReadError,
            "connection broken during",
            quoted=False,
        ),
        _Translation(
            (httpx.ProtocolError, core.ProtocolError),
            TransportProtocolError,
            "HTTP protocol error during",
            quoted=False,
        ),
    )
