"""Plain data that crosses the boundary between the core and a transport.

Builders return a :class:`Call`: an immutable :class:`Request` bundled with the
pure function that turns the matching :class:`Response` into a result. A
transport only ever sees ``Request`` and returns ``Response``; it never needs
to know which operation it carried, although it may look (the WebSocket
transport turns ``operation`` and ``params`` into a frame).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from zaqarkit.core._records import fast_init
from zaqarkit.core.operations import ApiVersion, Operation
from zaqarkit.core.redact import (
    redact_body,
    redact_data,
    redact_headers,
    redact_mapping,
    redact_url,
)

__all__ = ["Call", "Headers", "Request", "Response", "ReusedCalls"]

T = TypeVar("T")

#: Header pairs in send order. A tuple keeps requests hashable and immutable.
Headers = tuple[tuple[str, str], ...]


# Built twice per call (rendered, then prepared): fast_init.
@fast_init
@dataclass(frozen=True, slots=True, repr=False)
class Request:
    """One request, independent of any I/O library.

    ``path`` is relative to the endpoint (``/v2/queues/q``). A client prepares
    the request before a transport sees it: ``url`` then holds the absolute
    URL with the query already encoded, and ``headers`` every header to send
    (see :class:`zaqarkit.core.context.Context`). ``params`` holds the
    operation's canonical, typed arguments; method, path, query and body
    are their HTTP rendering in API ``version``, and the WebSocket frame body
    is ``params`` itself (see :mod:`zaqarkit.core.render`).

    >>> r = Request(Operation.PING, "GET", "/v2/ping")
    >>> r.method, r.path, r.query
    ('GET', '/v2/ping', ())

    Credentials never show in the ``repr`` (nor in pytest diffs or logs):

    >>> Request(Operation.PING, "GET", "/v2/ping", headers=(("X-Auth-Token", "t0k"),))
    Request(operation='ping_node', method='GET', path='/v2/ping', query=(), \
headers=(('X-Auth-Token', '***'),), body=None, params={}, url='')
    """

    operation: Operation
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Headers = ()
    body: bytes | None = None
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)
    url: str = ""
    version: ApiVersion = ApiVersion.V2

    def __repr__(self) -> str:
        return (
            f"Request(operation={self.operation.value!r}, method={self.method!r}, "
            f"path={self.path!r}, query={self.query!r}, "
            f"headers={redact_headers(self.headers)!r}, body={redact_body(self.body)!r}, "
            f"params={redact_mapping(self.params)!r}, url={redact_url(self.url)!r})"
        )

    def header(self, name: str) -> str | None:
        """The value of the first header called ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


@fast_init
@dataclass(frozen=True, slots=True, repr=False)
class Response:
    """A response as the core sees it: status, lower-cased headers, raw body.

    >>> Response(201, {"x-subject-token": "t0k", "content-length": "0"})
    Response(status=201, headers={'x-subject-token': '***', 'content-length': '0'}, body=b'')
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Already-decoded body, for transports whose wire format is not JSON text
    #: (a MessagePack WebSocket frame). Parsers prefer it over ``body``.
    data: Any = None

    def __repr__(self) -> str:
        data = "" if self.data is None else f", data={redact_data(self.data)!r}"
        headers = dict(redact_headers(self.headers.items()))
        body = redact_body(self.body)
        return f"Response(status={self.status!r}, headers={headers!r}, body={body!r}{data})"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@fast_init
@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """A request and the pure function that parses its response.

    >>> from zaqarkit.core.api import ApiV2
    >>> call = ApiV2().ping()
    >>> call.request.path, call.parse(Response(204))
    ('/v2/ping', True)
    """

    request: Request
    parse: Callable[[Response], T]


class ReusedCalls:
    """Calls that polling sites build again and again with the same
    arguments, built and prepared once.

    A consumer or a polling loop lists, claims or pops with the same
    arguments over and over, and a :class:`Call` is immutable: validating,
    rendering and preparing it (``prepare``: the client's endpoint and
    headers, see :class:`zaqarkit.core.context.Context`) once is enough.
    One rule decides when a call is handed back: each ``site`` (an
    operation and a queue, say) keeps the call for its last arguments, and
    hands it back while the arguments are the same *objects* (``is``), not
    merely equal ones: ``10``, ``10.0`` and ``True == 1`` are equal, and only
    some of them pass validation.

    >>> from zaqarkit.core.api import ApiV2
    >>> api, reused = ApiV2(), ReusedCalls(lambda call: call)
    >>> def listing(limit):
    ...     return reused.get("list", (limit,), lambda: api.message_list("q", limit=limit))
    >>> listing(10) is listing(10), listing(10) is listing(20)
    (True, False)
    """

    __slots__ = ("_last", "_prepare")

    def __init__(self, prepare: Callable[[Call[Any]], Call[Any]]) -> None:
        self._prepare = prepare
        # One entry per site, replaced whole: a thread never sees the
        # arguments of one call paired with another's Call.
        self._last: dict[Hashable, tuple[tuple[object, ...], Call[Any]]] = {}

    def get(
        self, site: Hashable, args: tuple[object, ...], build: Callable[[], Call[T]]
    ) -> Call[T]:
        """The prepared call for ``args`` at ``site``: the last one when
        ``args`` are the same objects, else ``build()``'s, prepared and kept."""
        last = self._last.get(site)
        if last is not None:
            kept, call = last
            if len(args) == len(kept) and all(map(operator.is_, args, kept)):
                return call
        call = self._prepare(build())
        if len(self._last) >= _KEPT_SITES and site not in self._last:
            self._last.clear()
        self._last[site] = (args, call)
        return call


#: How many polling sites (operation and queue) one cache keeps.
_KEPT_SITES = 64
