"""HTTP transports over httpx: one long-lived client each, so connections are pooled.

:class:`HttpxTransport` is blocking, :class:`AsyncHttpxTransport` runs under
asyncio or trio (httpx picks the running event loop itself). Both translate
httpx's exceptions in :func:`translate_error`, the single place where that
mapping lives.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import httpx

from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import (
    ConnectError,
    ReadError,
    TimeoutError,
    TransportError,
    TransportProtocolError,
)
from zaqarkit.transports.base import AsyncTransportBase, TransportBase

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "AsyncHttpxTransport",
    "HttpxTransport",
    "translate_error",
    "verify_setting",
]

#: httpx's own pool default: at most 100 connections, 20 of them kept alive.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

#: Seconds allowed for each of connect, read, write and pool acquisition.
#: Zaqar answers quickly; long-polling is not part of its HTTP API, so 30 s
#: only trips on a dead or overloaded server.
DEFAULT_TIMEOUT = 30.0

TimeoutArg = float | httpx.Timeout | None

_CLOSED = "transport is closed"


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


def _redacted_url(url: str) -> str:
    # Userinfo in an endpoint URL would be a credential; keep it out of messages.
    # Plain string work: the URL may be the malformed one we are reporting.
    start = url.find("://") + 3 if "://" in url else 0
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found != -1:
            end = min(end, found)
    at = url.rfind("@", start, end)
    if at == -1:
        return url
    return f"{url[:start]}***{url[at:]}"


def translate_error(exc: Exception, request: Request) -> TransportError:
    """Map an httpx exception to zaqarkit's; callers ``raise ... from exc``.

    The message names the method and URL and never header values (they can
    carry tokens). h11 quotes offending header values in protocol errors, so
    for those only the exception type is kept; the original stays reachable
    as ``__cause__``.
    """
    where = f"{request.method} {_redacted_url(request.url)}"
    kind = type(exc).__name__
    # Order matters: ConnectTimeout is a TimeoutException and RemoteProtocolError
    # a ProtocolError, and both belong to the more specific group.
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return ConnectError(f"cannot connect for {where}: {kind}: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        # A pool timeout means the request never left; retrying is safe.
        retryable = isinstance(exc, httpx.PoolTimeout)
        return TimeoutError(f"timed out during {where}: {kind}: {exc}", retryable=retryable)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return ReadError(f"connection broken during {where}: {kind}: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return ReadError(f"connection broken during {where}: {kind}")
    if isinstance(exc, httpx.ProtocolError):  # LocalProtocolError and the base class
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
    client: object, verify: bool, cacert: str | None, insecure: bool, limits: object
) -> None:
    # A caller's client keeps its own configuration; refuse options we could
    # not apply rather than silently ignoring, say, a CA bundle.
    if client is not None and (not verify or cacert is not None or insecure or limits is not None):
        raise ValueError(
            "verify, cacert, insecure and limits cannot be combined with client=; "
            "configure the httpx client itself"
        )


class HttpxTransport(TransportBase):
    """Blocking HTTP transport over one pooled :class:`httpx.Client`.

    ``timeout`` is seconds (or an :class:`httpx.Timeout`; ``None`` waits
    forever), default :data:`DEFAULT_TIMEOUT`. TLS certificates are verified
    unless ``insecure=True`` (or ``verify=False``); ``cacert`` names a CA
    bundle to trust. ``limits`` bounds the connection pool (default
    :data:`DEFAULT_LIMITS`).

    Ownership: a transport closes the client it built. A client passed as
    ``client=`` belongs to the caller; :meth:`close` leaves it open, and its
    own timeout, TLS and pool settings apply (``timeout`` is then ignored).

    The request must be prepared: ``request.url`` is sent as is, query included;
    ``request.query`` is not appended again.

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
    ) -> None:
        _check_owned_options(client, verify, cacert, insecure, limits)
        self._owns_client = client is None
        if client is None:
            client = httpx.Client(
                timeout=timeout,
                verify=verify_setting(verify=verify, cacert=cacert, insecure=insecure),
                limits=limits if limits is not None else DEFAULT_LIMITS,
            )
        self._client: httpx.Client | None = client

    def handle_request(self, request: Request) -> Response:
        client = self._client
        if client is None:
            raise TransportError(_CLOSED)
        try:
            # request.url already carries the encoded query (Context.prepare), so
            # no params= here: httpx would append request.query a second time.
            # send() without stream=True reads the whole body and releases the
            # connection back to the pool before returning.
            response = client.send(
                client.build_request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body,
                )
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise translate_error(exc, request) from exc
        return Response(
            response.status_code, _response_headers(response.headers.raw), response.content
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()

    @property
    def closed(self) -> bool:
        return self._client is None


class AsyncHttpxTransport(AsyncTransportBase):
    """Async HTTP transport over one pooled :class:`httpx.AsyncClient`.

    Works under asyncio and trio alike. Options and the ownership rule are
    those of :class:`HttpxTransport`: a caller's ``client=`` is not closed by
    :meth:`aclose`.

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
    ) -> None:
        _check_owned_options(client, verify, cacert, insecure, limits)
        self._owns_client = client is None
        if client is None:
            client = httpx.AsyncClient(
                timeout=timeout,
                verify=verify_setting(verify=verify, cacert=cacert, insecure=insecure),
                limits=limits if limits is not None else DEFAULT_LIMITS,
            )
        self._client: httpx.AsyncClient | None = client

    async def handle_async_request(self, request: Request) -> Response:
        client = self._client
        if client is None:
            raise TransportError(_CLOSED)
        try:
            response = await client.send(
                client.build_request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body,
                )
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise translate_error(exc, request) from exc
        return Response(
            response.status_code, _response_headers(response.headers.raw), response.content
        )

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

    @property
    def closed(self) -> bool:
        return self._client is None
