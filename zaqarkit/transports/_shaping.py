"""Prepared requests into httpcore's arguments, and httpcore's answers into ours."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from zaqarkit._observe import connection_trace
from zaqarkit.core.redact import redact_url as _redacted_url
from zaqarkit.core.timeouts import Timeout, TimeoutArg
from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import TransportError
from zaqarkit.transports import deadline
from zaqarkit.transports._http_errors import httpcore_module

if TYPE_CHECKING:
    import httpcore

__all__ = ["Body", "RequestShaper", "bounded_phases", "timeout_of", "to_response"]


def timeout_of(timeout: TimeoutArg | httpx.Timeout) -> Timeout:
    if isinstance(timeout, httpx.Timeout):
        phases = timeout.as_dict()
        return Timeout(None, **phases)
    return Timeout.of(timeout)


def bounded_phases(phases: dict[str, float | None]) -> dict[str, float | None]:
    """Each phase's timeout, bounded by what is left of the call's deadline."""
    return {name: deadline.bounded(value) for name, value in phases.items()}


class Body:
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

    def __aiter__(self) -> Body:
        return self

    async def __anext__(self) -> bytes:
        content = self._content
        if content is None:
            raise StopAsyncIteration
        self._content = None  # type: ignore[assignment]
        return content


class RequestShaper:
    """Turns prepared requests into httpcore's arguments, caching per origin
    what only depends on the origin (parsed URL parts and the Host header)."""

    def __init__(self, timeout: Timeout, trace: Callable[..., Any] = connection_trace) -> None:
        self._origins: dict[str, tuple[bytes, bytes, int | None, tuple[bytes, bytes]]] = {}
        self.timeout = timeout
        # "trace": an INFO log line per new connection (zaqarkit._observe).
        self.extensions: dict[str, Any] = {"timeout": timeout.as_dict(), "trace": trace}
        self._url_type = httpcore_module().URL
        self._request_type = httpcore_module().Request

    def build(self, request: Request) -> httpcore.Request:
        """The httpcore request for a prepared ``request``."""
        method, url, headers = self.shape(request)
        extensions = self.extensions
        if deadline.current() is not None:
            # Connect and pool waits must not outlast the call either.
            extensions = {**extensions, "timeout": bounded_phases(extensions["timeout"])}
        built: httpcore.Request = self._request_type(
            method,
            url,
            headers=headers,
            content=Body(request.body or b""),
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


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    # One pass over the raw pairs, avoiding httpx.Headers' lazy per-lookup decoding.
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        previous = headers.get(name)
        headers[name] = value if previous is None else f"{previous}, {value}"
    return headers


def to_response(status: int, raw_headers: Iterable[tuple[bytes, bytes]], body: bytes) -> Response:
    return Response(status, response_headers(raw_headers), body)
