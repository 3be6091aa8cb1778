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

Both paths translate exceptions in :func:`translate_error`, the single place
where that mapping lives.
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import certifi
import httpx

from zaqarkit._observe import async_connection_trace, connection_trace
from zaqarkit.core.redact import redact_url as _redacted_url
from zaqarkit.core.timeouts import DEFAULT_TIMEOUT, Timeout, TimeoutArg
from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import (
    ConnectError,
    ReadError,
    TimeoutError,
    TransportError,
    TransportProtocolError,
    UnsupportedOperation,
    ValidationError,
)
from zaqarkit.transports import deadline
from zaqarkit.transports._loops import EventLoopBinding, run_at_loop_end
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

#: At most 100 connections, all of them kept alive: a client shared by up to
#: 100 threads keeps one connection per concurrent caller. (httpx keeps 20,
#: so 32 threads sharing a client opened a new connection for almost every
#: request.)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)

#: A client certificate: one PEM file holding certificate and key, or (cert, key).
CertArg = str | tuple[str, str] | None
#: Whether the request in progress wrote anything (a one-element list per
#: attempt): decides ``TransportError.sent``.
_WRITTEN: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "zaqarkit_http_written", default=None
)

_CLOSED = "transport is closed"



def _httpcore() -> Any:
    # Imported on first use: httpcore imports trio at import time when it is
    # installed, and merely importing zaqarkit.transports should not.
    import httpcore

    return httpcore


def _is_library_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from httpx or httpcore (and must be translated)."""
    return type(exc).__module__.partition(".")[0] in ("httpx", "httpcore")


def verify_setting(
    *, verify: bool = True, cacert: str | None = None, insecure: bool = False
) -> bool | ssl.SSLContext:
    """Turn the OpenStack-style TLS options into httpx's ``verify`` value.

    As in the OpenStack CLIs, ``insecure`` (or ``verify=False``) wins over
    ``cacert``: verification is off. Otherwise ``cacert`` names a CA bundle to
    trust instead of the default (certifi's) one.

    >>> verify_setting()
    True
    >>> verify_setting(insecure=True, cacert="/etc/ssl/ca.pem")
    False
    """
    if insecure or not verify:
        return False
    if cacert is not None:
        return ssl.create_default_context(cafile=cacert)
    return True


def translate_error(
    exc: Exception, request: Request, *, sent: bool = True
) -> TransportError:
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
    httpcore = _httpcore()
    # Order matters: ConnectTimeout is a TimeoutException and RemoteProtocolError
    # a ProtocolError, and both belong to the more specific group.
    # httpx and httpcore have parallel exception trees; the owned-pool path
    # raises httpcore's, a caller's httpx.Client raises httpx's.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpcore.ConnectError,
                        httpcore.ConnectTimeout)):
        return ConnectError(f"cannot connect for {where}: {kind}: {exc}", operation=operation)
    if isinstance(exc, (httpx.PoolTimeout, httpcore.PoolTimeout)):
        return TimeoutError(
            f"no free connection for {where}: {kind}: {exc}", sent=False, operation=operation
        )
    if isinstance(exc, (httpx.TimeoutException, httpcore.TimeoutException)):
        return TimeoutError(f"timed out during {where}: {kind}: {exc}", sent=sent,
                            operation=operation)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.CloseError, httpcore.ReadError,
                        httpcore.WriteError, httpcore.NetworkError)):
        return ReadError(f"connection broken during {where}: {kind}: {exc}", sent=sent,
                         operation=operation)
    if isinstance(exc, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError)):
        return ReadError(f"connection broken during {where}: {kind}", sent=sent,
                         operation=operation)
    # LocalProtocolError and the base classes
    if isinstance(exc, (httpx.ProtocolError, httpcore.ProtocolError)):
        return TransportProtocolError(f"HTTP protocol error during {where}: {kind}", sent=sent,
                                      operation=operation)
    return TransportError(f"transport failure during {where}: {kind}: {exc}", sent=sent,
                          operation=operation)


def _left(timeout: float | None, error: str) -> float | None:
    """``timeout`` bounded by the call's deadline; the httpcore ``error`` once it passed."""
    left = deadline.bounded(timeout)
    if left is not None and left <= 0:
        raise getattr(_httpcore(), error)("the call's total timeout has passed")
    return left


def _mark_written() -> None:
    written = _WRITTEN.get()
    if written is not None:
        written[0] = True


class _DeadlineStream:
    """A blocking httpcore stream whose every read and write ends by the
    call's deadline: per-read timeouts alone let a server that drips one byte
    at a time hold a call for as long as it likes."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._stream.read(max_bytes, _left(timeout, "ReadTimeout"))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _mark_written()
        self._stream.write(buffer, _left(timeout, "WriteTimeout"))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _DeadlineStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _left(timeout, "ConnectTimeout"))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's blocking network backend, with :class:`_DeadlineStream` streams."""

    def __init__(self) -> None:
        self._backend = _httpcore().SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Any = None,
    ) -> _DeadlineStream:
        return _DeadlineStream(self._backend.connect_tcp(
            host, port, _left(timeout, "ConnectTimeout"), local_address, socket_options
        ))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> _DeadlineStream:
        return _DeadlineStream(self._backend.connect_unix_socket(
            path, _left(timeout, "ConnectTimeout"), socket_options
        ))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncDeadlineStream:
    """The async twin of :class:`_DeadlineStream` (asyncio and trio)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._stream.read(max_bytes, _left(timeout, "ReadTimeout"))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _mark_written()
        await self._stream.write(buffer, _left(timeout, "WriteTimeout"))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _AsyncDeadlineStream:
        return _AsyncDeadlineStream(await self._stream.start_tls(
            ssl_context, server_hostname, _left(timeout, "ConnectTimeout")
        ))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AsyncDeadlineBackend:
    """httpcore's async network backend (asyncio or trio, picked per call),
    with :class:`_AsyncDeadlineStream` streams."""

    def __init__(self) -> None:
        from httpcore._backends.auto import AutoBackend

        self._backend = AutoBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Any = None,
    ) -> _AsyncDeadlineStream:
        return _AsyncDeadlineStream(await self._backend.connect_tcp(
            host, port, _left(timeout, "ConnectTimeout"), local_address, socket_options
        ))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> _AsyncDeadlineStream:
        return _AsyncDeadlineStream(await self._backend.connect_unix_socket(
            path, _left(timeout, "ConnectTimeout"), socket_options
        ))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _response_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    # One pass over the raw pairs, avoiding httpx.Headers' lazy per-lookup decoding.
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        previous = headers.get(name)
        headers[name] = value if previous is None else f"{previous}, {value}"
    return headers


def _check_owned_options(
    client: object, verify: bool, cacert: str | None, insecure: bool, limits: object,
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
    timeout: Timeout, verify: bool, cacert: str | None, insecure: bool,
    limits: httpx.Limits | None, cert: CertArg, proxy: str | None, trust_env: bool,
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
    tls = _ssl_context(verify_setting(verify=verify, cacert=cacert, insecure=insecure), cert)
    return {
        "verify": tls,
        "limits": limits if limits is not None else DEFAULT_LIMITS,
        "timeout": httpx.Timeout(**timeout.as_dict()),
        "proxy": proxy,
        "trust_env": trust_env,
        "http2": http2,
    }


def _ssl_context(verify: bool | ssl.SSLContext, cert: CertArg = None) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        context = verify
    elif verify:
        # The same trust store httpx uses by default.
        context = ssl.create_default_context(cafile=certifi.where())
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError(
                "cert", f"cannot load the client certificate {certfile!r}: {exc}"
            ) from None
    return context


def _timeout(timeout: TimeoutArg | httpx.Timeout) -> Timeout:
    if isinstance(timeout, httpx.Timeout):
        phases = timeout.as_dict()
        return Timeout(None, **phases)
    return Timeout.of(timeout)


def _bounded_phases(phases: dict[str, float | None]) -> dict[str, float | None]:
    """Each phase's timeout, bounded by what is left of the call's deadline."""
    return {name: deadline.bounded(value) for name, value in phases.items()}


class _Body:
    """A request body for httpcore, iterable sync and async.

    httpcore wraps plain bytes in an async *generator*; when a write times
    out mid-body that generator is left unfinished, and trio reports it at
    garbage collection. A plain iterator object has nothing to finalise.
    """

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        return iter((self._content,))

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        content = self._content
        if content is None:
            raise StopAsyncIteration
        self._content = None  # type: ignore[assignment]
        return content


class _RequestShaper:
    """Turns prepared requests into httpcore's arguments, caching per origin
    what only depends on the origin (parsed URL parts and the Host header)."""

    def __init__(self, timeout: Timeout, trace: Callable[..., Any] = connection_trace) -> None:
        self._origins: dict[str, tuple[bytes, bytes, int | None, tuple[bytes, bytes]]] = {}
        self.timeout = timeout
        # "trace": an INFO log line per new connection (zaqarkit._observe).
        self.extensions: dict[str, Any] = {"timeout": timeout.as_dict(), "trace": trace}
        self._url_type = _httpcore().URL
        self._request_type = _httpcore().Request

    def build(self, request: Request) -> httpcore.Request:
        """The httpcore request for a prepared ``request``."""
        method, url, headers = self.shape(request)
        extensions = self.extensions
        if deadline.current() is not None:
            # Connect and pool waits must not outlast the call either.
            extensions = {**extensions, "timeout": _bounded_phases(extensions["timeout"])}
        built: httpcore.Request = self._request_type(
            method, url, headers=headers, content=_Body(request.body or b""),
            extensions=extensions,
        )
        return built

    def shape(self, request: Request) -> tuple[bytes, httpcore.URL, list[tuple[bytes, bytes]]]:
        url = request.url
        # The origin ends at the first '/' after "scheme://".
        cut = url.find("/", url.find("//") + 2)
        origin, target = (url, "/") if cut == -1 else (url[:cut], url[cut:])
        parts = self._origins.get(origin)
        if parts is None:
            parts = self._origins[origin] = self._parse_origin(origin, request)
        scheme, host, port, host_header = parts
        headers = [host_header]
        headers.extend((k.encode("ascii"), v.encode("latin-1")) for k, v in request.headers)
        body = request.body
        if body is not None:
            headers.append((b"Content-Length", str(len(body)).encode("ascii")))
        target_bytes = target.encode("ascii")
        core_url = self._url_type(scheme=scheme, host=host, port=port, target=target_bytes)
        return request.method.encode("ascii"), core_url, headers

    @staticmethod
    def _parse_origin(
        origin: str, request: Request
    ) -> tuple[bytes, bytes, int | None, tuple[bytes, bytes]]:
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError as exc:
            raise TransportError(
                f"invalid URL for {request.method} {_redacted_url(request.url)}"
            ) from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(
                f"unsupported URL for {request.method} {_redacted_url(request.url)}: "
                "only http:// and https:// are served by this transport"
            )
        netloc = parts.netloc.rpartition("@")[2]
        return (
            parts.scheme.encode("ascii"),
            parts.hostname.encode("idna"),
            port,
            (b"Host", netloc.encode("idna")),
        )


def _admission_wait(pool_timeout: float | None) -> float:
    """Seconds to wait for a free connection: the pool timeout, bounded by the
    call's deadline (-1, forever, for neither; acquire() takes no None)."""
    left = deadline.bounded(pool_timeout)
    return -1 if left is None else max(0.0, left)


def _pool_options(
    verify: bool, cacert: str | None, insecure: bool, limits: httpx.Limits | None,
    cert: CertArg = None,
) -> dict[str, Any]:
    limits = limits if limits is not None else DEFAULT_LIMITS
    tls = verify_setting(verify=verify, cacert=cacert, insecure=insecure)
    return {
        "ssl_context": _ssl_context(tls, cert),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


class _AsyncConnections:
    """Idle HTTP/1.1 connections per origin, for the async transport.

    httpcore's AsyncConnectionPool re-examines every queued request whenever
    a connection changes state. With 32 requests in flight on one client that
    cost grew with the queue: measured on a loopback replay server, client CPU
    per request went from about 400 us (one in flight) to 840-1,200 us (32 in
    flight, whatever the pool size). Here a request takes an idle connection
    of its origin or opens one; a semaphore bounds how many exist.
    """

    def __init__(self, options: dict[str, Any], pool_timeout: float | None) -> None:
        core = _httpcore()
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
        self._backend = _AsyncDeadlineBackend()

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
                    f"no free connection within {wait} s "
                    f"({self._max_connections} in use)",
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


def _response(status: int, raw_headers: Iterable[tuple[bytes, bytes]], body: bytes) -> Response:
    return Response(status, _response_headers(raw_headers), body)


class HttpxTransport(Closing):
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
    own timeout, TLS and pool settings apply (``timeout`` is then ignored).

    >>> from zaqarkit.core.operations import Operation
    >>> with HttpxTransport(timeout=5.0) as transport:
    ...     pass
    >>> transport.handle_request(Request(Operation.PING, "GET", "/v2/ping"))
    Traceback (most recent call last):
    ...
    zaqarkit.errors.TransportError: transport is closed
    """

    def __init__(
        self,
        *,
        timeout: TimeoutArg | httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool = True,
        cacert: str | None = None,
        insecure: bool = False,
        limits: httpx.Limits | None = None,
        client: httpx.Client | None = None,
        cert: CertArg = None,
        proxy: str | None = None,
        trust_env: bool = True,
        http2: bool = False,
    ) -> None:
        _check_owned_options(client, verify, cacert, insecure, limits, (cert, proxy, http2))
        self._client: httpx.Client | None = client
        self._owns_client = False
        self._pool: httpcore.ConnectionPool | None = None
        self._timeout = _timeout(timeout)
        if client is None:
            owned = _owned_httpx_options(
                self._timeout, verify, cacert, insecure, limits, cert, proxy, trust_env, http2
            )
            if owned is not None:
                self._client, self._owns_client = httpx.Client(**owned), True
            else:
                options = _pool_options(verify, cacert, insecure, limits, cert)
                self._pool = _httpcore().ConnectionPool(
                    **options, network_backend=_DeadlineBackend()
                )
                # httpcore's sync pool can close an idle connection it has just
                # assigned to a queued request (encode/httpcore#1110: the
                # waiting thread then reads a closed socket, EBADF). Admitting
                # at most max_connections requests at once means none queues.
                self._admission: threading.BoundedSemaphore | None = (
                    threading.BoundedSemaphore(options["max_connections"])
                    if options["max_connections"] is not None else None
                )
                self._shaper = _RequestShaper(self._timeout)
        self._closed = False

    def handle_request(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(_CLOSED, sent=False, operation=str(request.operation))
        pool = self._pool
        written = [False]
        token = _WRITTEN.set(written)
        try:
            with deadline.scope(self._timeout.total):
                if pool is None:
                    return self._send_with_client(request)
                admission = self._admission
                if admission is not None and not admission.acquire(
                    timeout=_admission_wait(self._timeout.pool)
                ):
                    raise _httpcore().PoolTimeout("no connection became free in time")
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
            if not _is_library_error(exc):
                raise
            raise translate_error(exc, request, sent=written[0] or pool is None) from exc
        finally:
            _WRITTEN.reset(token)
        return _response(response.status, response.headers, body)

    def _send_with_client(self, request: Request) -> Response:
        client = self._client
        assert client is not None
        # send() without stream=True reads the whole body and releases the
        # connection back to the pool before returning. The URL already holds
        # the encoded query: passing params would append it a second time.
        response = client.send(
            client.build_request(
                request.method, request.url, headers=request.headers, content=request.body,
                extensions={
                    "timeout": _bounded_phases(client.timeout.as_dict()),
                    "trace": connection_trace,
                },
            )
        )
        return _response(response.status_code, response.headers.raw, response.content)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            self._pool.close()
        if self._owns_client and self._client is not None:
            self._client.close()

    @property
    def closed(self) -> bool:
        return self._closed


class AsyncHttpxTransport(AsyncClosing):
    """Async HTTP transport over one long-lived connection pool.

    Works under asyncio and trio alike. Options and the ownership rule are
    those of :class:`HttpxTransport`: a caller's ``client=`` (an
    :class:`httpx.AsyncClient`) is not closed by :meth:`aclose`.

    >>> import anyio
    >>> async def main():
    ...     async with AsyncHttpxTransport(timeout=5.0) as transport:
    ...         pass
    ...     return transport.closed
    >>> anyio.run(main)
    True
    """

    def __init__(
        self,
        *,
        timeout: TimeoutArg | httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool = True,
        cacert: str | None = None,
        insecure: bool = False,
        limits: httpx.Limits | None = None,
        client: httpx.AsyncClient | None = None,
        cert: CertArg = None,
        proxy: str | None = None,
        trust_env: bool = True,
        http2: bool = False,
    ) -> None:
        _check_owned_options(client, verify, cacert, insecure, limits, (cert, proxy, http2))
        self._client: httpx.AsyncClient | None = client
        self._owns_client = False
        self._pool: _AsyncConnections | None = None
        self._timeout = _timeout(timeout)
        if client is None:
            owned = _owned_httpx_options(
                self._timeout, verify, cacert, insecure, limits, cert, proxy, trust_env, http2
            )
            if owned is not None:
                self._client, self._owns_client = httpx.AsyncClient(**owned), True
            else:
                self._shaper = _RequestShaper(self._timeout, async_connection_trace)
                self._pool = _AsyncConnections(
                    _pool_options(verify, cacert, insecure, limits, cert), self._timeout.pool
                )
        self._closed = False

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(_CLOSED, sent=False, operation=str(request.operation))
        pool = self._pool
        written = [False]
        token = _WRITTEN.set(written)
        try:
            with deadline.scope(self._timeout.total):
                if pool is None:
                    return await self._send_with_client(request)
                response, body = await pool.request(
                    self._shaper.build(request), str(request.operation)
                )
        except Exception as exc:
            if not _is_library_error(exc):
                raise
            raise translate_error(exc, request, sent=written[0] or pool is None) from exc
        finally:
            _WRITTEN.reset(token)
        return _response(response.status, response.headers, body)

    async def _send_with_client(self, request: Request) -> Response:
        client = self._client
        assert client is not None
        response = await client.send(
            client.build_request(
                request.method, request.url, headers=request.headers, content=request.body,
                extensions={
                    "timeout": _bounded_phases(client.timeout.as_dict()),
                    "trace": async_connection_trace,
                },
            )
        )
        return _response(response.status_code, response.headers.raw, response.content)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            await self._pool.aclose()
        if self._owns_client and self._client is not None:
            await self._client.aclose()

    @property
    def closed(self) -> bool:
        return self._closed
