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
import ssl
import urllib.request
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import certifi
import httpx

from zaqarkit._observe import async_connection_trace, connection_trace
from zaqarkit.core.redact import redact_url as _redacted_url
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

#: Seconds allowed for each of connect, read, write and pool acquisition.
#: Zaqar answers quickly; long-polling is not part of its HTTP API, so 30 s
#: only trips on a dead or overloaded server.
DEFAULT_TIMEOUT = 30.0

TimeoutArg = float | httpx.Timeout | None
#: A client certificate: one PEM file holding certificate and key, or (cert, key).
CertArg = str | tuple[str, str] | None

_CLOSED = "transport is closed"
#: Request extensions for the httpx-client path (its timeouts are the client's).
_CLIENT_EXTENSIONS = {"trace": connection_trace}
_ASYNC_CLIENT_EXTENSIONS = {"trace": async_connection_trace}



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


def translate_error(exc: Exception, request: Request) -> TransportError:
    """Map an httpx exception to zaqarkit's; callers ``raise ... from exc``.

    The message names the method and URL and never header values (they can
    carry tokens). h11 quotes offending header values in protocol errors, so
    for those only the exception type is kept; the original stays reachable
    as ``__cause__``.
    """
    where = f"{request.method} {_redacted_url(request.url)}"
    kind = type(exc).__name__
    httpcore = _httpcore()
    # Order matters: ConnectTimeout is a TimeoutException and RemoteProtocolError
    # a ProtocolError, and both belong to the more specific group.
    # httpx and httpcore have parallel exception trees; the owned-pool path
    # raises httpcore's, a caller's httpx.Client raises httpx's.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpcore.ConnectError,
                        httpcore.ConnectTimeout)):
        return ConnectError(f"cannot connect for {where}: {kind}: {exc}")
    if isinstance(exc, (httpx.TimeoutException, httpcore.TimeoutException)):
        # A pool timeout means the request never left; retrying is safe.
        retryable = isinstance(exc, (httpx.PoolTimeout, httpcore.PoolTimeout))
        return TimeoutError(f"timed out during {where}: {kind}: {exc}", retryable=retryable)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.CloseError, httpcore.ReadError,
                        httpcore.WriteError, httpcore.NetworkError)):
        return ReadError(f"connection broken during {where}: {kind}: {exc}")
    if isinstance(exc, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError)):
        return ReadError(f"connection broken during {where}: {kind}")
    # LocalProtocolError and the base classes
    if isinstance(exc, (httpx.ProtocolError, httpcore.ProtocolError)):
        return TransportProtocolError(f"HTTP protocol error during {where}: {kind}")
    return TransportError(f"transport failure during {where}: {kind}: {exc}")


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
    timeout: TimeoutArg, verify: bool, cacert: str | None, insecure: bool,
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
        "timeout": timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
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


def _timeouts(timeout: TimeoutArg) -> dict[str, float | None]:
    if isinstance(timeout, httpx.Timeout):
        return timeout.as_dict()
    return {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}


class _RequestShaper:
    """Turns prepared requests into httpcore's arguments, caching per origin
    what only depends on the origin (parsed URL parts and the Host header)."""

    def __init__(self, timeout: TimeoutArg, trace: Callable[..., Any] = connection_trace) -> None:
        self._origins: dict[str, tuple[bytes, bytes, int | None, tuple[bytes, bytes]]] = {}
        # "trace": an INFO log line per new connection (zaqarkit._observe).
        self.extensions: dict[str, Any] = {
            "timeout": _timeouts(timeout), "trace": trace,
        }
        self._url_type = _httpcore().URL
        self._request_type = _httpcore().Request

    def build(self, request: Request) -> httpcore.Request:
        """The httpcore request for a prepared ``request``."""
        method, url, headers = self.shape(request)
        built: httpcore.Request = self._request_type(
            method, url, headers=headers, content=request.body or b"",
            extensions=self.extensions,
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

    async def request(self, request: Any) -> Any:
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
            try:
                with anyio.fail_after(self._pool_timeout):
                    await self._slots.acquire()
            except builtins.TimeoutError:  # from fail_after
                raise TimeoutError(
                    f"no free connection within {self._pool_timeout} s "
                    f"({self._max_connections} in use)",
                    retryable=True,  # nothing was sent
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

    ``timeout`` is seconds (or an :class:`httpx.Timeout`; ``None`` waits
    forever), default :data:`DEFAULT_TIMEOUT`. TLS certificates are verified
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
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
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
        if client is None:
            owned = _owned_httpx_options(
                timeout, verify, cacert, insecure, limits, cert, proxy, trust_env, http2
            )
            if owned is not None:
                self._client, self._owns_client = httpx.Client(**owned), True
            else:
                self._pool = _httpcore().ConnectionPool(
                    **_pool_options(verify, cacert, insecure, limits, cert)
                )
                self._shaper = _RequestShaper(timeout)
        self._closed = False

    def handle_request(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(_CLOSED)
        pool = self._pool
        try:
            if pool is None:
                return self._send_with_client(request)
            response = pool.handle_request(self._shaper.build(request))
            try:
                body = response.read()
            finally:
                response.close()
        except Exception as exc:
            if not _is_library_error(exc):
                raise
            raise translate_error(exc, request) from exc
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
                extensions=_CLIENT_EXTENSIONS,
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
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
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
        if client is None:
            owned = _owned_httpx_options(
                timeout, verify, cacert, insecure, limits, cert, proxy, trust_env, http2
            )
            if owned is not None:
                self._client, self._owns_client = httpx.AsyncClient(**owned), True
            else:
                self._shaper = _RequestShaper(timeout, async_connection_trace)
                self._pool = _AsyncConnections(
                    _pool_options(verify, cacert, insecure, limits, cert),
                    self._shaper.extensions["timeout"]["pool"],
                )
        self._closed = False

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise TransportError(_CLOSED)
        pool = self._pool
        try:
            if pool is None:
                return await self._send_with_client(request)
            response, body = await pool.request(self._shaper.build(request))
        except Exception as exc:
            if not _is_library_error(exc):
                raise
            raise translate_error(exc, request) from exc
        return _response(response.status, response.headers, body)

    async def _send_with_client(self, request: Request) -> Response:
        client = self._client
        assert client is not None
        response = await client.send(
            client.build_request(
                request.method, request.url, headers=request.headers, content=request.body,
                extensions=_ASYNC_CLIENT_EXTENSIONS,
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
