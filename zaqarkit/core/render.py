"""One canonical request per operation, rendered once for each transport.

A builder validates its arguments once into ``params``: the operation's
arguments as typed values under Zaqar's own names, the names a WebSocket
frame body uses (``queue_name``, ``message_ids``, ``limit`` as an int,
``echo`` as a bool). Both renderings derive from that mapping and nothing
else:

* :func:`http_request` places each parameter by the API version's route
  table (path, query or body; see :class:`~zaqarkit.core.operations.Route`)
  and is the only place a typed value becomes query text;
* :func:`frame_body` is the WebSocket rendering: ``params`` as they are.

So the two cannot disagree, and nothing is turned into a string only to be
turned back.

>>> from zaqarkit.core.operations import ApiVersion, Operation
>>> params = {"queue_name": "q", "message_ids": ["a", "b"]}
>>> r = http_request(ApiVersion.V2, Operation.MESSAGE_DELETE_MANY, params)
>>> r.method, r.path, r.query
('DELETE', '/v2/queues/q/messages', (('ids', 'a,b'),))
>>> frame_body(r)
{'queue_name': 'q', 'message_ids': ['a', 'b']}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from zaqarkit.core.operations import ApiVersion, Operation, route_for
from zaqarkit.core.validate import encode_body
from zaqarkit.core.wire import Request

__all__ = ["JSON", "frame_body", "http_request", "query_text", "with_params"]

JSON = "application/json"

#: Methods whose parameters all travel in the query.
_BODYLESS = frozenset({"GET", "HEAD", "DELETE"})
#: Parameters whose HTTP query key differs from their name in a frame body.
_QUERY_NAMES: Mapping[str, str] = {"message_ids": "ids"}


def query_text(value: Any) -> str:
    """How HTTP writes a typed parameter in a query string.

    >>> query_text(True), query_text(20), query_text(["a", "b"]), query_text("x")
    ('true', '20', 'a,b', 'x')
    """
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(value)
    return value if isinstance(value, str) else str(value)


class _Plan(NamedTuple):
    """What :func:`http_request` needs of an operation's route, looked up once."""

    method: str
    #: The path template with the version prefix (``/v2/queues/{queue_name}``).
    template: str
    path_keys: frozenset[str]
    #: Whether every parameter that is not in the path goes in the query.
    in_query: bool
    query: tuple[str, ...]
    body: str | None
    omit_empty_body: bool


#: Plans by (version, operation), filled on first use.
_PLANS: dict[tuple[ApiVersion, Operation], _Plan] = {}


def _plan(version: ApiVersion, operation: Operation) -> _Plan:
    route = route_for(version, operation)  # UnsupportedOperation: never cached
    plan = _Plan(
        route.method,
        version.prefix + route.template,
        route.path_keys,
        route.method in _BODYLESS,
        route.query,
        route.body,
        route.omit_empty_body,
    )
    _PLANS[version, operation] = plan
    return plan


def http_request(
    version: ApiVersion,
    operation: Operation,
    params: Mapping[str, Any] | None = None,
    *,
    content_type: str = JSON,
) -> Request:
    """The request for ``operation`` with canonical ``params`` in ``version``.

    Raises UnsupportedOperation when the version has no route for it. The
    ``params`` must already be validated (the builders in
    :mod:`zaqarkit.core.api` do that).

    >>> r = http_request(ApiVersion.V2, Operation.CLAIM_CREATE,
    ...                  {"queue_name": "q", "ttl": 60, "limit": 5})
    >>> r.path, r.query, r.body
    ('/v2/queues/q/claims', (('limit', '5'),), b'{"ttl":60}')
    """
    params = {} if params is None else params
    plan = _PLANS.get((version, operation)) or _plan(version, operation)
    path_keys = plan.path_keys
    in_query = plan.in_query
    query: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if key in path_keys:
            continue
        if in_query or key in plan.query:
            # query_text, inlined for the common types: every listing and
            # delete has a few of these.
            if type(value) is str:
                text = value
            elif value is True or value is False:
                text = "true" if value else "false"
            else:
                text = query_text(value)
            query.append((_QUERY_NAMES.get(key, key), text))
        else:
            fields[key] = value
    body: Any = None
    if plan.body is not None:
        body = fields.pop(plan.body, None)
        if fields:  # a builder bug: these would be lost
            raise AssertionError(f"{operation.value}: no place for {sorted(fields)}")
    elif fields or not (in_query or plan.omit_empty_body):
        body = fields
    encoded = None if body is None else encode_body(body)
    return Request(
        operation,
        plan.method,
        # format_map reads only the template's fields: the path parameters.
        plan.template.format_map(params),
        tuple(query),
        (("Content-Type", content_type),) if encoded is not None else (),
        encoded,
        params,
        "",
        version,
    )


def with_params(request: Request, **changes: Any) -> Request:
    """``request`` rendered again with some parameters changed (the next page
    of a listing is the first request with another ``marker``).

    >>> first = http_request(ApiVersion.V2, Operation.QUEUE_LIST, {"limit": 2})
    >>> with_params(first, marker="b").query
    (('limit', '2'), ('marker', 'b'))
    """
    content_type = request.header("Content-Type") or JSON
    return http_request(
        request.version,
        request.operation,
        {**request.params, **changes},
        content_type=content_type,
    )


def frame_body(request: Request) -> Mapping[str, Any]:
    """The body of the WebSocket frame for ``request``: its canonical params.

    >>> frame_body(http_request(ApiVersion.V2, Operation.MESSAGE_LIST,
    ...                         {"queue_name": "q", "limit": 5, "echo": True}))
    {'queue_name': 'q', 'limit': 5, 'echo': True}
    """
    return request.params
