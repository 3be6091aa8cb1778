"""What a client adds to every request: endpoint and identity headers."""

from __future__ import annotations

from dataclasses import dataclass, replace

from zaqarkit.core.wire import Headers, Request

__all__ = ["Context"]


@dataclass(frozen=True, slots=True)
class Context:
    """An endpoint (with any path prefix) and the headers every request carries.

    >>> from zaqarkit.core.api import ApiV2
    >>> ctx = Context("http://h/messaging", (("Client-ID", "x"),))
    >>> ctx.prepare(ApiV2().ping().request).url
    'http://h/messaging/v2/ping'
    """

    endpoint: str
    headers: Headers = ()

    def prepare(self, request: Request) -> Request:
        return replace(
            request, url=self.endpoint + request.path, headers=self.headers + request.headers
        )
