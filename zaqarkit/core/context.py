"""What a client adds to every request: endpoint and identity headers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from zaqarkit.core.redact import redact_headers, redact_url
from zaqarkit.core.wire import Headers, Request

__all__ = ["Context", "encode_query"]


def encode_query(query: tuple[tuple[str, str], ...]) -> str:
    """Encode query pairs, keeping ',' literal.

    Falcon splits ``ids=a,b`` into a list only on a literal comma
    (``auto_parse_qs_csv``); an encoded ``%2C`` reaches Zaqar as one id.

    >>> encode_query((("ids", "a,b"), ("echo", "true")))
    'ids=a,b&echo=true'
    >>> encode_query((("marker", "a=b&c"), ("x", "é ")))
    'marker=a%3Db%26c&x=%C3%A9+'
    """
    # Almost every query is limits, markers, ids and flags that need no
    # escaping; joining them directly skips urlencode's per-pair quoting.
    # (A '=' or '&' inside a key or value shows up as an extra separator.)
    joined = "&".join([f"{key}={value}" for key, value in query])
    if (
        _UNRESERVED.fullmatch(joined)
        and joined.count("=") == len(query)
        and joined.count("&") == len(query) - 1
    ):
        return joined
    return urlencode(query, safe=",")


#: Characters a query string may carry unescaped (RFC 3986 unreserved, plus
#: the pair separators and the literal comma Zaqar needs).
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~,=&]*")


@dataclass(frozen=True, slots=True, repr=False)
class Context:
    """An endpoint (with any path prefix) and the headers every request carries.

    ``prepare`` fills in ``Request.url``: endpoint, path and the encoded query,
    ready for a transport to send as is.

    >>> from zaqarkit.core.api import ApiV2
    >>> ctx = Context("http://h/messaging", (("Client-ID", "x"),))
    >>> ctx.prepare(ApiV2().message_list("q", limit=5).request).url
    'http://h/messaging/v2/queues/q/messages?limit=5'
    """

    endpoint: str
    headers: Headers = ()

    def __repr__(self) -> str:
        # A signed URL's signature is one of these headers.
        return f"Context({redact_url(self.endpoint)!r}, {redact_headers(self.headers)!r})"

    def prepare(self, request: Request) -> Request:
        """``request`` with ``url`` and every header filled in.

        Every call sends a request prepared once: polling sites keep theirs
        prepared (:class:`~zaqarkit.core.wire.ReusedCalls`).

        >>> from zaqarkit.core.api import ApiV2
        >>> ready = Context("http://h", (("Client-ID", "x"),)).prepare(ApiV2().ping().request)
        >>> ready.url, ready.headers
        ('http://h/v2/ping', (('Client-ID', 'x'),))
        """
        url = self.endpoint + request.path
        if request.query:
            url += "?" + encode_query(request.query)
        # Not dataclasses.replace: it introspects the fields every time, and
        # this runs once per request.
        ready = Request(
            request.operation,
            request.method,
            request.path,
            request.query,
            self.headers + request.headers,
            request.body,
            request.params,
            url,
            request.version,
        )
        return ready
