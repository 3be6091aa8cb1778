"""httpx and httpcore exceptions to zaqarkit's: the single place that mapping lives."""

from __future__ import annotations

import contextvars
from typing import Any

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
    where = f"{request.method} {_redacted_url(request.url)}"
    kind = type(exc).__name__
    operation = str(request.operation)
    retryable = resendable(operation, sent)
    httpcore = httpcore_module()
    # Order matters: ConnectTimeout is a TimeoutException and RemoteProtocolError
    # a ProtocolError, and both belong to the more specific group.
    # httpx and httpcore have parallel exception trees; the owned-pool path
    # raises httpcore's, a caller's httpx.Client raises httpx's.
    if isinstance(
        exc,
        (httpx.ConnectError, httpx.ConnectTimeout, httpcore.ConnectError, httpcore.ConnectTimeout),
    ):
        return ConnectError(f"cannot connect for {where}: {kind}: {exc}", operation=operation)
    if isinstance(exc, (httpx.PoolTimeout, httpcore.PoolTimeout)):
        return TimeoutError(
            f"no free connection for {where}: {kind}: {exc}", sent=False, operation=operation
        )
    if isinstance(exc, (httpx.TimeoutException, httpcore.TimeoutException)):
        return TimeoutError(
            f"timed out during {where}: {kind}: {exc}",
            sent=sent,
            operation=operation,
            retryable=retryable,
        )
    if isinstance(
        exc,
        (
            httpx.ReadError,
            httpx.WriteError,
            httpx.CloseError,
            httpcore.ReadError,
            httpcore.WriteError,
            httpcore.NetworkError,
        ),
    ):
        return ReadError(
            f"connection broken during {where}: {kind}: {exc}",
            sent=sent,
            operation=operation,
            retryable=retryable,
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError)):
        return ReadError(
            f"connection broken during {where}: {kind}",
            sent=sent,
            operation=operation,
            retryable=retryable,
        )
    # LocalProtocolError and the base classes
    if isinstance(exc, (httpx.ProtocolError, httpcore.ProtocolError)):
        return TransportProtocolError(
            f"HTTP protocol error during {where}: {kind}",
            sent=sent,
            operation=operation,
            retryable=retryable,
        )
    return TransportError(
        f"transport failure during {where}: {kind}: {exc}",
        sent=sent,
        operation=operation,
        retryable=retryable,
    )
