"""The clients' network options: proxies, client certificates, pool limits, HTTP/2.

Checked once, at construction, before anything is sent: an option that the
chosen transport cannot apply is an error naming the option that would make
it work, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from zaqarkit.core.redact import redact_url
from zaqarkit.core.urls import HTTP_SCHEMES
from zaqarkit.core.validate import Limits, integer, number
from zaqarkit.errors import ValidationError

__all__ = ["NetworkOptions", "PoolLimits"]


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """Connection pool limits of the HTTP transport (``pool_limits=``).

    Not to be confused with ``limits=``, the server's validation limits
    (:class:`zaqarkit.Limits`). ``max_connections`` bounds the connections
    open at once (a caller waits for a free one, up to the pool timeout);
    ``max_keepalive_connections`` how many idle ones are kept for reuse;
    ``keepalive_expiry`` how long an idle one is kept, in seconds.

    The default keeps every connection alive (100 of each), so a client
    shared by up to 100 threads or tasks reuses one connection per concurrent
    caller instead of opening one per request.
    ``httpx.Limits`` is accepted as well.

    >>> PoolLimits(max_connections=8).to_httpx()
    Limits(max_connections=8, max_keepalive_connections=8, keepalive_expiry=5.0)
    """

    max_connections: int | None = 100
    max_keepalive_connections: int | None = None
    keepalive_expiry: float | None = 5.0

    DEFAULT: ClassVar[PoolLimits]

    def __post_init__(self) -> None:
        for name in ("max_connections", "max_keepalive_connections"):
            value = getattr(self, name)
            if value is not None:
                integer(value, f"pool_limits.{name}", 1)
        if self.keepalive_expiry is not None:
            number(self.keepalive_expiry, "pool_limits.keepalive_expiry", 0)

    def to_httpx(self) -> httpx.Limits:
        """The same limits as ``httpx.Limits`` (idle connections default to the maximum)."""
        keepalive = self.max_keepalive_connections
        if keepalive is None:
            keepalive = self.max_connections
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=keepalive,
            keepalive_expiry=self.keepalive_expiry,
        )


PoolLimits.DEFAULT = PoolLimits()


def _scheme(url: str | None) -> str | None:
    if not isinstance(url, str) or "://" not in url:
        return None
    return url.split("://", 1)[0].lower()


@dataclass(frozen=True, slots=True, repr=False)
class NetworkOptions:
    """The network options of one client, checked against each other."""

    trust_env: bool = True
    proxy: str | None = None
    cert: str | tuple[str, str] | None = None
    pool_limits: httpx.Limits | None = None
    http2: bool = False

    @classmethod
    def resolve(
        cls,
        url: str | None,
        *,
        transport: object,
        limits: object,
        codec: str,
        trust_env: bool,
        proxy: str | None,
        cert: str | tuple[str, str] | None,
        pool_limits: object,
        http2: bool,
    ) -> NetworkOptions:
        """Validate the options of a client constructor; raises ValidationError."""
        if limits is not None and not isinstance(limits, Limits):
            if isinstance(limits, (httpx.Limits, PoolLimits)):
                raise ValidationError(
                    "limits",
                    "is the server's validation limits (zaqarkit.Limits); connection pool "
                    f"limits such as {type(limits).__name__}(...) go to pool_limits=",
                )
            raise ValidationError(
                "limits", f"must be a zaqarkit.Limits (the server's limits), got {limits!r}"
            )
        pool: httpx.Limits | None
        if pool_limits is None:
            pool = None
        elif isinstance(pool_limits, PoolLimits):
            pool = pool_limits.to_httpx()
        elif isinstance(pool_limits, httpx.Limits):
            pool = pool_limits
        elif isinstance(pool_limits, Limits):
            raise ValidationError(
                "pool_limits",
                "takes connection pool limits (zaqarkit.PoolLimits or httpx.Limits); "
                "the server's validation limits (zaqarkit.Limits) go to limits=",
            )
        else:
            raise ValidationError(
                "pool_limits", f"must be a zaqarkit.PoolLimits or httpx.Limits, got {pool_limits!r}"
            )
        if proxy is not None and (
            not isinstance(proxy, str)
            or _scheme(proxy) not in ("http", "https", "socks5", "socks5h")
        ):
            shown = redact_url(proxy) if isinstance(proxy, str) else proxy
            raise ValidationError(
                "proxy", f"must be a proxy URL such as 'http://127.0.0.1:3128', got {shown!r}"
            )
        if cert is not None and not (
            isinstance(cert, str)
            or (
                isinstance(cert, tuple)
                and len(cert) == 2
                and all(isinstance(part, str) for part in cert)
            )
        ):
            raise ValidationError(
                "cert", f"must be a PEM file path or a (cert, key) pair of paths, got {cert!r}"
            )
        options = cls(bool(trust_env), proxy, cert, pool, bool(http2))
        given = options._given()
        if transport is not None and given:
            raise ValidationError(
                given[0],
                f"configures the default HTTP transport; with transport= set it on "
                f"that transport instead (got both {given[0]}= and transport=)",
            )
        scheme = _scheme(url)
        if scheme in HTTP_SCHEMES and codec != "json" and transport is None:
            raise ValidationError(
                "codec",
                f"codec={codec!r} is a WebSocket option: an {scheme}:// url= always "
                "speaks JSON (use a ws:// or wss:// url= for MessagePack frames)",
            )
        return options

    def __repr__(self) -> str:
        # A proxy URL may carry credentials (http://user:password@proxy:3128).
        proxy = None if self.proxy is None else redact_url(self.proxy)
        return (
            f"NetworkOptions(trust_env={self.trust_env!r}, proxy={proxy!r}, "
            f"cert={self.cert!r}, pool_limits={self.pool_limits!r}, http2={self.http2!r})"
        )

    def _given(self) -> list[str]:
        given = []
        if self.proxy is not None:
            given.append("proxy")
        if self.cert is not None:
            given.append("cert")
        if self.pool_limits is not None:
            given.append("pool_limits")
        if self.http2:
            given.append("http2")
        return given

    def check_websocket(self, has_http_url: bool) -> None:
        """Refuse options a ws:// client cannot apply (they serve ``http_url=``)."""
        given = self._given()
        if given and not has_http_url:
            raise ValidationError(
                given[0],
                f"applies to HTTP connections; a ws:// or wss:// url= has none unless "
                f"http_url= is given (the HTTP fallback uses {given[0]}=)",
            )

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`zaqarkit.transports.HttpxTransport`."""
        return {
            "trust_env": self.trust_env,
            "proxy": self.proxy,
            "cert": self.cert,
            "limits": self.pool_limits,
            "http2": self.http2,
        }
