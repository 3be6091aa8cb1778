"""Endpoint URLs and href resolution, without I/O.

Zaqar's hrefs (``links``, ``Location``, message hrefs) are relative to the WSGI
application root and omit any mount prefix such as devstack's ``/messaging``.
They are therefore resolved against the configured endpoint including its path
prefix, never against the host root.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from zaqarkit.errors import ValidationError

__all__ = [
    "HTTP_SCHEMES",
    "WEBSOCKET_SCHEMES",
    "is_websocket",
    "normalize_endpoint",
    "origin",
    "split_ref",
    "websocket_url",
]

#: The URL schemes of Zaqar's two transports.
HTTP_SCHEMES = ("http", "https")
WEBSOCKET_SCHEMES = ("ws", "wss")

_VERSION_SUFFIX = re.compile(r"/v(1|1\.1|2)(\.0)?/?$")


def is_websocket(url: str) -> bool:
    """Whether ``url`` is a WebSocket endpoint.

    >>> is_websocket("wss://host:9000"), is_websocket("http://host:8888")
    (True, False)
    """
    return url.split(":", 1)[0] in WEBSOCKET_SCHEMES


def normalize_endpoint(
    url: str, schemes: tuple[str, ...] = HTTP_SCHEMES + WEBSOCKET_SCHEMES
) -> str:
    """Validate an endpoint and drop a trailing slash or version segment.

    >>> normalize_endpoint("http://host:8888/messaging/v2/")
    'http://host:8888/messaging'
    >>> normalize_endpoint("ftp://host")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: url: scheme must be one of http, https, ws, wss, got 'ftp'
    """
    if not isinstance(url, str) or not url:
        raise ValidationError("url", f"must be a non-empty string, got {url!r}")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValidationError("url", f"is not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in schemes:
        raise ValidationError(
            "url", f"scheme must be one of {', '.join(schemes)}, got {parts.scheme!r}"
        )
    if not parts.hostname:
        raise ValidationError("url", f"has no host: {url!r}")
    if parts.query or parts.fragment:
        raise ValidationError("url", f"must not have a query or fragment: {url!r}")
    path = _VERSION_SUFFIX.sub("", parts.path).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must match before credentials may be sent."""
    parts = urlsplit(url)
    default = {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def split_ref(ref: str, endpoint: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Turn an href into (path relative to the endpoint, query pairs).

    Relative hrefs are taken as relative to the endpoint. An absolute URL is
    accepted only on the endpoint's own origin, because following it sends the
    client's credentials.

    >>> split_ref("/v2/queues?marker=q3&limit=3", "http://h/messaging")
    ('/v2/queues', (('marker', 'q3'), ('limit', '3')))
    >>> split_ref("http://h/messaging/v2/queues", "http://h/messaging")
    ('/v2/queues', ())
    >>> split_ref("http://evil.example/v2/queues", "http://h")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: ref: 'http://evil.example/v2/queues' is on another \
origin than the endpoint 'http://h'; refusing to send credentials there
    """
    if not isinstance(ref, str) or not ref:
        raise ValidationError("ref", f"must be a non-empty string, got {ref!r}")
    parts = urlsplit(ref)
    path = parts.path
    if parts.scheme or parts.netloc:
        if origin(ref) != origin(endpoint):
            raise ValidationError(
                "ref",
                f"{ref!r} is on another origin than the endpoint {endpoint!r}; "
                "refusing to send credentials there",
            )
        prefix = urlsplit(endpoint).path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
    if not path.startswith("/"):
        path = "/" + path
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    return path, query


def websocket_url(url: str) -> str:
    """The ws/wss form of a catalog URL.

    Zaqar (devstack) publishes its ``messaging-websocket`` endpoint with an
    http scheme, although clients must speak WebSocket to it.

    >>> websocket_url("http://cloud:9000"), websocket_url("https://cloud:9000")
    ('ws://cloud:9000', 'wss://cloud:9000')
    >>> websocket_url("ws://cloud:9000")
    'ws://cloud:9000'
    """
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(http):
            return ws + url[len(http) :]
    return url
