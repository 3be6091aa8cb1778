"""HTTP transports over httpx's stack: one long-lived connection pool each.

:class:`HttpxTransport` is blocking, :class:`AsyncHttpxTransport` runs under
asyncio or trio (httpcore picks the running event loop itself).

A transport that owns its connections drives httpcore, httpx's own transport
layer, directly with requests the core has already prepared: the absolute
URL, every header and the body bytes exist before the transport sees them,
so httpx.Client's per-call URL merging, header merging, cookie extraction,
auth and redirect machinery would be pure overhead (measured: about a third
of the client's CPU per Zaqar call). A caller-supplied ``httpx.Client`` is
honoured as is, through its public API.

The call's deadline (:mod:`zaqarkit.transports.deadline`) bounds every
connect, write and read of the transport's own pool. Through an httpx client
(the caller's, or the one built for ``proxy=``, ``http2=`` or the proxy
environment variables) the async transport cancels the request at the
deadline; the sync one can only hand httpx per-phase timeouts, each bounded
by what is left when the request starts, and says so once in a warning.

The parts live beside this module: TLS settings (``_tls``), exception
translation (``_http_errors``, the single place that mapping lives), the
deadline-bound network backends (``_async/network``, its sync twin
generated), request shaping (``_shaping``) and the async pool (``_pool``).
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import httpx

from zaqarkit._observe import async_connection_trace, connection_trace, http_log
from zaqarkit.core.operations import resendable
from zaqarkit.core.redact import redact_url
from zaqarkit.core.timeouts import DEFAULT_TIMEOUT, Timeout, TimeoutArg
from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import TimeoutError, TransportError, UnsupportedOperation
from zaqarkit.transports import deadline
from zaqarkit.transports._http_errors import (
    WRITTEN,
    httpcore_module,
    is_library_error,
    mark_written,
    translate_error,
)
from zaqarkit.transports._pool import DEFAULT_LIMITS, AsyncConnections, admission_wait, pool_options
from zaqarkit.transports._shaping import RequestShaper, bounded_phases, timeout_of, to_response
from zaqarkit.transports._sync.network import DeadlineBackend
from zaqarkit.transports._tls import CertArg, ssl_context, verify_setting
from zaqarkit.transports.base import AsyncClosing, Closing

if TYPE_CHECKING:
    import httpcore

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "AsyncHttpxTransport",
    "HttpxTransport",
    "translate_error",
    "verify_setting",
]

_CLOSED = "transport is closed"

_SYNC_CLIENT_DEADLINE_WARNED = threading.Event()


def _client_trace(event: str, info: Mapping[str, Any]) -> None:
    """httpcore's ``trace`` for requests through an httpx client: notes when
    the request starts going out (for ``TransportError.sent``), then logs new
    connections like the transport's own pool does."""
    if event.endswith(".send_request_headers.started"):
        mark_written()
    connection_trace(event, info)


async def _async_client_trace(event: str, info: Mapping[str, Any]) -> None:
    """:func:`_client_trace` for async clients (httpcore awaits it there)."""
    _client_trace(event, info)


def _warn_sync_client_deadline(timeout: Timeout) -> None:
    # Once per process: the limit is a property of httpx's sync API, not of
    # one transport, and a warning per client would drown the first.
    if timeout.total is None or _SYNC_CLIENT_DEADLINE_WARNED.is_set():
        return
    _SYNC_CLIENT_DEADLINE_WARNED.set()
    http_log.warning(
        "requests through an httpx.Client (client=, proxy=, http2= or a proxy from the "
        "environment) are bounded by the call's total timeout (%s s) only per phase: "
        "each connect, pool wait, write and read gets what is left of it when the "
        "request starts, so a server that keeps sending a few bytes at a time can hold "
        "a sync call longer; AsyncClient and the default transport end every call at "
        "its total",
        timeout.total,
    )


def _deadline_passed(request: Request) -> TimeoutError:
    written = WRITTEN.get()
    sent = bool(written and written[0])
    return TimeoutError(
        f"timed out during {request.method} {redact_url(request.url)}: "
        "the call's total timeout passed",
        sent=sent,
        operation=str(request.operation),
        retryable=resendable(request.operation, sent),
    )


def _check_owned_options(
    client: object,
    verify: bool,
    cacert: str | None,
    insecure: bool,
    limits: object,
    network: tuple[object, ...] = (),
) -> None:
    # A caller's client keeps its own configuration; refuse options we could
    # not apply rather than silently ignoring, say, a CA bundle.
    if client is not None and (
        not verify or cacert is not None or insecure or limits is not None or any(network)
    ):
        raise ValueError(
            "verify, cacert, insecure, limits, cert, proxy and http2 cannot be combined "
            "with client=; configure the httpx client itself"
        )


def _env_proxies() -> bool:
    # The variables httpx reads with trust_env=True (HTTP_PROXY, HTTPS_PROXY,
    # ALL_PROXY, lower or upper case); NO_PROXY is then applied by httpx per URL.
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())


def _owned_httpx_options(
    timeout: Timeout,
    verify: bool,
    cacert: str | None,
    insecure: bool,
    limits: httpx.Limits | None,
    cert: CertArg,
    proxy: str | None,
    trust_env: bool,
    http2: bool,
) -> dict[str, Any] | None:
    """httpx client options when the transport needs httpx's proxy or HTTP/2
    support; None when its own lean pool serves (the common case)."""
    if proxy is None and not http2 and not (trust_env and _env_proxies()):
        return None
    if http2:
        try:
            import h2  # noqa: F401
        except ImportError:
            raise UnsupportedOperation(
                "http2=True needs the h2 package: pip install 'zaqarkit[h2]'"
            ) from None
    tls = ssl_context(verify_setting(verify=verify, cacert=cacert, insecure=insecure), cert)
    return {
        "verify": tls,
        "limits": limits if limits is not None else DEFAULT_LIMITS,
        "timeout": httpx.Timeout(**timeout.as_dict()),
        "proxy": proxy,
        "trust_env": trust_env,
        "http2": http2,
    }


#: The caller's own httpx client: ``httpx.Client`` for :class:`HttpxTransport`,
#: ``httpx.AsyncClient`` for :class:`AsyncHttpxTransport` (what docs show as ``client``).
HttpxClient = TypeVar("HttpxClient", httpx.Client, httpx.AsyncClient)
_Pool = TypeVar("_Pool")


class _HttpxTransportBase(Generic[HttpxClient, _Pool]):
    """What both transports decide when they are built: refuse options a
    caller's client would not apply, then send through an httpx client (the
    caller's, or one built for a proxy or HTTP/2) or else through a pool of
    their own (:meth:`_own_pool`)."""

    def __init__(
        self,
        *,
        timeout: TimeoutArg | httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool = True,
        cacert: str | None = None,
        insecure: bool = False,
        limits: httpx.Limits | None = None,
        client: HttpxClient | None = None,
        cert: CertArg = None,
        proxy: str | None = None,
        trust_env: bool = True,
        http2: bool = False,
    ) -> None:
        _check_owned_options(client, verify, cacert, insecure, limits, (cert, proxy, http2))
        self._timeout = timeout_of(timeout)
        self._client: HttpxClient | None = client
        self._owns_client = False
        self._pool: _Pool | None = None
        if client is None:
            owned = _owned_httpx_options(
                self._timeout, verify, cacert, insecure, limits, cert, proxy, trust_env, http2
            )
            if owned is not None:
                self._client, self._owns_client = self._httpx_client(owned), True
            else:
                self._pool = self._own_pool(pool_options(verify, cacert, insecure, limits, cert))
        # Only httpx's blocking client cannot end a call at its total.
        if isinstance(self._client, httpx.Client):
            _warn_sync_client_deadline(self._timeout)
        self._closed = False

    def _httpx_client(self, options: dict[str, Any]) -> HttpxClient:
        """The httpx client the transport builds and owns, from ``options``."""
        raise NotImplementedError

    def _own_pool(self, options: dict[str, Any]) -> _Pool:
        """The transport's own connection pool, with :func:`pool_options`."""
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return self._closed


class HttpxTransport(_HttpxTransportBase[httpx.Client, "httpcore.ConnectionPool"], Closing):
    """Blocking HTTP transport over one long-lived connection pool.

    ``timeout`` is seconds or a :class:`zaqarkit.Timeout` (an
    :class:`httpx.Timeout` is accepted for its phases; ``None`` waits
    forever), default :data:`DEFAULT_TIMEOUT`. A float or ``Timeout.total``
    bounds each request as a whole, however slowly the server answers. TLS certificates are verified
    unless ``insecure=True`` (or ``verify=False``); ``cacert`` names a CA
    bundle to trust; ``cert`` is a client certificate (a PEM file with its
    key, or a ``(cert, key)`` pair). ``limits`` bounds the connection pool
    (default :data:`DEFAULT_LIMITS`).

    Proxies: with ``trust_env`` (the default) ``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY`` and ``NO_PROXY`` apply as in httpx; ``proxy`` names one
    proxy for every request. ``http2=True`` negotiates HTTP/2 over TLS (the
    ``h2`` extra). These three go through an httpx client the transport owns;
    without them it drives its own, leaner connection pool.

    Ownership: a transport closes the pool it built. A client passed as
    ``client=`` belongs to the caller; :meth:`close` leaves it open, and its
    own TLS and pool settings and per-phase timeouts apply, each phase
    bounded by what is left of the call's total when the request starts
    (``timeout``'s total, or the client call's). A server that keeps
    sending a few bytes at a time can hold a sync request longer than that
    total; :class:`AsyncHttpxTransport` cancels it at the deadline. A
    one-time WARNING on ``zaqarkit.http`` says so.

    >>> from zaqarkit.core.operations import Operation
    >>> with HttpxTransport(timeout=5.0) as transport:
    ...     pass
    >>> transport.handle_request(Request(Operation.PING, "GET", "/v2/ping"))
    Traceback (most recent call last):
    ...
    zaqarkit.errors.TransportError: transport is closed
    """

    def _httpx_client(self, options: dict[str, Any]) -> httpx.Client:
        return httpx.Client(**options)

    def _own_pool(self, options: dict[str, Any]) -> httpcore.ConnectionPool:
        # httpcore's sync pool can close an idle connection it has just
        # assigned to a queued request (encode/httpcore#1110: the waiting
        # thread then reads a closed socket, EBADF). Admitting at most
        # max_connections requests at once means none queues.
        self._admission: threading.BoundedSemaphore | None = (
            threading.BoundedSemaphore(options["max_connections"])
            if options["max_connections"] is not None
            else None
        )
        self._shaper = RequestShaper(self._timeout)
        pool: httpcore.ConnectionPool = httpcore_module().ConnectionPool(
            **options, network_backend=DeadlineBackend()
        )
        return pool

    def handle_request(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(_CLOSED, sent=False, operation=str(request.operation))
        pool = self._pool
        written = [False]
        token = WRITTEN.set(written)
        try:
            with deadline.scope(self._timeout.total):
                if pool is None:
                    return self._send_with_client(request)
                admission = self._admission
                if admission is not None and not admission.acquire(
                    timeout=admission_wait(self._timeout.pool)
                ):
                    raise httpcore_module().PoolTimeout("no connection became free in time")
                try:
                    response = pool.handle_request(self._shaper.build(request))
                    try:
                        body = response.read()
                    finally:
                        response.close()
                finally:
                    if admission is not None:
                        admission.release()
        except Exception as exc:
            if not is_library_error(exc):
                raise
            raise translate_error(exc, request, sent=written[0]) from exc
        finally:
            WRITTEN.reset(token)
        return to_response(response.status, response.headers, body)

    def _send_with_client(self, request: Request) -> Response:
        client = self._client
        assert client is not None
        # send() without stream=True reads the whole body and releases the
        # connection back to the pool before returning. The URL already holds
        # the encoded query: passing params would append it a second time.
        response = client.send(
            client.build_request(
                request.method,
                request.url,
                headers=request.headers,
                content=request.body,
                extensions={
                    "timeout": bounded_phases(client.timeout.as_dict()),
                    "trace": _client_trace,
                },
            )
        )
        return to_response(response.status_code, response.headers.raw, response.content)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            self._pool.close()
        if self._owns_client and self._client is not None:
            self._client.close()


class AsyncHttpxTransport(_HttpxTransportBase[httpx.AsyncClient, AsyncConnections], AsyncClosing):
    """Async HTTP transport over one long-lived connection pool.

    Works under asyncio and trio alike. Options and the ownership rule are
    those of :class:`HttpxTransport`: a caller's ``client=`` (an
    :class:`httpx.AsyncClient`) is not closed by :meth:`aclose`. Through an
    httpx client a request is cancelled at the call's deadline, so the
    total bounds it however slowly the server answers.

    >>> import anyio
    >>> async def main():
    ...     async with AsyncHttpxTransport(timeout=5.0) as transport:
    ...         pass
    ...     return transport.closed
    >>> anyio.run(main)
    True
    """

    def _httpx_client(self, options: dict[str, Any]) -> httpx.AsyncClient:
        return httpx.AsyncClient(**options)

    def _own_pool(self, options: dict[str, Any]) -> AsyncConnections:
        self._shaper = RequestShaper(self._timeout, async_connection_trace)
        return AsyncConnections(options, self._timeout.pool)

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(_CLOSED, sent=False, operation=str(request.operation))
        pool = self._pool
        written = [False]
        token = WRITTEN.set(written)
        try:
            with deadline.scope(self._timeout.total):
                if pool is None:
                    return await self._send_with_client(request)
                response, body = await pool.request(
                    self._shaper.build(request), str(request.operation)
                )
        except Exception as exc:
            if not is_library_error(exc):
                raise
            raise translate_error(exc, request, sent=written[0]) from exc
        finally:
            WRITTEN.reset(token)
        return to_response(response.status, response.headers, body)

    async def _send_with_client(self, request: Request) -> Response:
        client = self._client
        assert client is not None
        built = client.build_request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.body,
            extensions={
                "timeout": bounded_phases(client.timeout.as_dict()),
                "trace": _async_client_trace,
            },
        )
        # httpx's per-phase timeouts cannot stop a server that drips its
        # answer; cancelling at the deadline does (httpx closes the connection).
        with anyio.move_on_after(deadline.bounded(None)) as bound:
            response = await client.send(built)
        if bound.cancelled_caught:
            raise _deadline_passed(request)
        return to_response(response.status_code, response.headers.raw, response.content)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            await self._pool.aclose()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
