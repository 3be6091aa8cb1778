"""Zaqar operations and the per-API-version route tables.

``Operation`` values are Zaqar's own action names (``zaqar/common/consts.py``):
the same strings name WebSocket actions, so a frame can be built from an
operation without a second table. Operations the server has no action name
for (queue PATCH, share, pop, topics) follow python-zaqarclient's names.

A route table maps each operation an API version offers to its HTTP method and
path template. An operation missing from a version's table is unsupported
there: :func:`route_for` raises UnsupportedOperation before a request exists.
v1 and v1.1 have their own tables (read from zaqar 19's
``zaqar/transport/wsgi/v1_0/__init__.py`` and ``v1_1/__init__.py``).
The WebSocket transport's routes are action names: :data:`WS_ACTIONS` (and
:data:`WS_INCOMPLETE`, what it answers less completely than HTTP).
"""

from __future__ import annotations

import enum
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from zaqarkit.errors import UnsupportedOperation, ValidationError

__all__ = [
    "IDEMPOTENT_OPERATIONS",
    "ROUTES",
    "V1_1_ROUTES",
    "V1_ROUTES",
    "V2_ROUTES",
    "WS_ACTIONS",
    "WS_INCOMPLETE",
    "ApiVersion",
    "Operation",
    "Route",
    "route_for",
    "is_idempotent",
    "resendable",
    "supports",
    "ws_action",
    "ws_supports",
]


class Operation(enum.StrEnum):
    """Every operation zaqarkit can build, named as Zaqar names it."""

    GET_HOME_DOC = "get_home_doc"
    PING = "ping_node"
    HEALTH = "check_node_health"

    QUEUE_LIST = "queue_list"
    QUEUE_CREATE = "queue_create"
    QUEUE_GET = "queue_get"
    QUEUE_UPDATE = "queue_update"
    QUEUE_DELETE = "queue_delete"
    QUEUE_GET_STATS = "queue_get_stats"
    QUEUE_PURGE = "queue_purge"
    QUEUE_SHARE = "signed_url_create"
    #: v1 only: ``HEAD /v1/queues/{q}`` (204 or 404). v1.1 and v2 have no HEAD.
    QUEUE_EXISTS = "queue_exists"
    #: v1 only: the separate ``/v1/queues/{q}/metadata`` resource.
    QUEUE_GET_METADATA = "queue_get_metadata"
    QUEUE_SET_METADATA = "queue_set_metadata"

    MESSAGE_LIST = "message_list"
    MESSAGE_POST = "message_post"
    MESSAGE_GET = "message_get"
    MESSAGE_GET_MANY = "message_get_many"
    MESSAGE_DELETE = "message_delete"
    MESSAGE_DELETE_MANY = "message_delete_many"
    MESSAGE_POP = "message_pop"

    CLAIM_CREATE = "claim_create"
    CLAIM_GET = "claim_get"
    CLAIM_UPDATE = "claim_update"
    CLAIM_DELETE = "claim_delete"

    SUBSCRIPTION_LIST = "subscription_list"
    SUBSCRIPTION_CREATE = "subscription_create"
    SUBSCRIPTION_GET = "subscription_get"
    SUBSCRIPTION_UPDATE = "subscription_update"
    SUBSCRIPTION_DELETE = "subscription_delete"
    SUBSCRIPTION_CONFIRM = "subscription_confirm"

    POOL_LIST = "pool_list"
    POOL_CREATE = "pool_create"
    POOL_GET = "pool_get"
    POOL_UPDATE = "pool_update"
    POOL_DELETE = "pool_delete"

    FLAVOR_LIST = "flavor_list"
    FLAVOR_CREATE = "flavor_create"
    FLAVOR_GET = "flavor_get"
    FLAVOR_UPDATE = "flavor_update"
    FLAVOR_DELETE = "flavor_delete"

    TOPIC_LIST = "topic_list"
    TOPIC_CREATE = "topic_create"
    TOPIC_GET = "topic_get"
    TOPIC_UPDATE = "topic_update"
    TOPIC_DELETE = "topic_delete"
    TOPIC_GET_STATS = "topic_get_stats"
    TOPIC_PURGE = "topic_purge"
    TOPIC_MESSAGE_LIST = "topic_message_list"
    TOPIC_MESSAGE_POST = "topic_message_post"
    TOPIC_SUBSCRIPTION_LIST = "topic_subscription_list"
    TOPIC_SUBSCRIPTION_CREATE = "topic_subscription_create"
    TOPIC_SUBSCRIPTION_GET = "topic_subscription_get"
    TOPIC_SUBSCRIPTION_UPDATE = "topic_subscription_update"
    TOPIC_SUBSCRIPTION_DELETE = "topic_subscription_delete"

    #: GET of an href the server handed out; a client-side operation with no
    #: route of its own and no WebSocket action.
    FOLLOW = "follow"

    # str's own hash (C) instead of Enum's (Python, by name): every request
    # looks its operation up in a few tables. Consistent with StrEnum's
    # equality, which is the value's.
    __hash__ = str.__hash__


#: Operations that change nothing more when sent twice: reads, PUTs, deletes,
#: claim renewal, metadata replacement. Missing on purpose: message post (a
#: second post duplicates the messages), claim create and pop (a second one
#: claims or removes other messages), subscription create (Zaqar's stores may
#: create a second subscription for the same subscriber).
_NOT_IDEMPOTENT = frozenset(
    {
        Operation.MESSAGE_POST,
        Operation.MESSAGE_POP,
        Operation.CLAIM_CREATE,
        Operation.SUBSCRIPTION_CREATE,
        Operation.TOPIC_MESSAGE_POST,
        Operation.TOPIC_SUBSCRIPTION_CREATE,
    }
)
IDEMPOTENT_OPERATIONS = frozenset(op for op in Operation if op not in _NOT_IDEMPOTENT)
_IDEMPOTENT_NAMES = frozenset(op.value for op in IDEMPOTENT_OPERATIONS)


def is_idempotent(operation: Operation | str) -> bool:
    """Whether sending ``operation`` twice has the effect of sending it once.

    Decides whether a request whose outcome is unknown may be resent.

    >>> is_idempotent(Operation.MESSAGE_GET), is_idempotent("message_post")
    (True, False)
    """
    return str(operation) in _IDEMPOTENT_NAMES


def resendable(operation: Operation | str, sent: bool) -> bool:
    """Whether a request of ``operation`` that failed may be sent again as
    is: nothing of it was sent, or sending it twice does what sending it
    once does. Transports pass it as a :class:`~zaqarkit.errors.TransportError`'s
    ``retryable`` when they build one.

    >>> resendable("message_post", sent=True), resendable("message_post", sent=False)
    (False, True)
    """
    return not sent or is_idempotent(operation)


class ApiVersion(enum.StrEnum):
    """Zaqar API versions; each has a route table in :data:`ROUTES`."""

    V1 = "1"
    V1_1 = "1.1"
    V2 = "2"

    # As Operation's: str's hash (C), not Enum's (Python, by name); every
    # request looks its route plan up by (version, operation).
    __hash__ = str.__hash__

    @classmethod
    def parse(cls, value: object) -> ApiVersion:
        """Accept ``2``, ``"2"``, ``2.0``, ``1.1``, ``"1.1"`` and friends.

        >>> ApiVersion.parse(2), ApiVersion.parse("1.1")
        (<ApiVersion.V2: '2'>, <ApiVersion.V1_1: '1.1'>)
        """
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        aliases = {"1": cls.V1, "1.0": cls.V1, "1.1": cls.V1_1, "2": cls.V2, "2.0": cls.V2}
        try:
            return aliases[text]
        except KeyError:
            raise ValidationError("version", f"must be one of 1, 1.1 or 2, got {value!r}") from None

    @property
    def prefix(self) -> str:
        return "/v" + self.value


@dataclass(frozen=True, slots=True)
class Route:
    """How an operation's canonical parameters travel over HTTP.

    ``template`` is the path relative to the version prefix; its fields name
    the parameters that go in the path. Of the rest, a bodiless method
    (GET, HEAD, DELETE) sends all in the query; another method sends those
    named in ``query`` there and the others as one JSON object, or, when
    ``body`` names a parameter, that parameter's value as the whole body.
    ``omit_empty_body`` leaves the body out instead of sending ``{}``.

    >>> Route("POST", "/queues/{queue_name}/claims", query=("limit",)).path_keys
    frozenset({'queue_name'})
    """

    method: str
    template: str
    query: tuple[str, ...] = ()
    body: str | None = None
    omit_empty_body: bool = False
    path_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        object.__setattr__(self, "path_keys", frozenset(keys))


_Entry = tuple[str, str] | Route


def _route(entry: _Entry) -> Route:
    return entry if isinstance(entry, Route) else Route(*entry)


def _table(entries: dict[Operation, _Entry]) -> Mapping[Operation, Route]:
    return MappingProxyType({op: _route(entry) for op, entry in entries.items()})


_Q = "/queues/{queue_name}"
_T = "/topics/{topic_name}"

#: Source: zaqar/transport/wsgi/v2_0/__init__.py.
V2_ROUTES: Mapping[Operation, Route] = _table(
    {
        Operation.GET_HOME_DOC: ("GET", "/"),
        Operation.PING: ("GET", "/ping"),
        Operation.HEALTH: ("GET", "/health"),
        Operation.QUEUE_LIST: ("GET", "/queues"),
        # The metadata is the whole body; no body creates the queue bare.
        Operation.QUEUE_CREATE: Route("PUT", _Q, body="metadata"),
        Operation.QUEUE_GET: ("GET", _Q),
        Operation.QUEUE_UPDATE: Route("PATCH", _Q, body="operations"),
        Operation.QUEUE_DELETE: ("DELETE", _Q),
        Operation.QUEUE_GET_STATS: ("GET", _Q + "/stats"),
        # Zaqar purges both kinds only when the body is absent ({} is a 500).
        Operation.QUEUE_PURGE: Route("POST", _Q + "/purge", omit_empty_body=True),
        Operation.QUEUE_SHARE: ("POST", _Q + "/share"),
        Operation.MESSAGE_LIST: ("GET", _Q + "/messages"),
        Operation.MESSAGE_POST: ("POST", _Q + "/messages"),
        Operation.MESSAGE_GET: ("GET", _Q + "/messages/{message_id}"),
        Operation.MESSAGE_GET_MANY: ("GET", _Q + "/messages"),
        Operation.MESSAGE_DELETE: ("DELETE", _Q + "/messages/{message_id}"),
        Operation.MESSAGE_DELETE_MANY: ("DELETE", _Q + "/messages"),
        Operation.MESSAGE_POP: ("DELETE", _Q + "/messages"),
        Operation.CLAIM_CREATE: Route("POST", _Q + "/claims", query=("limit",)),
        Operation.CLAIM_GET: ("GET", _Q + "/claims/{claim_id}"),
        Operation.CLAIM_UPDATE: ("PATCH", _Q + "/claims/{claim_id}"),
        Operation.CLAIM_DELETE: ("DELETE", _Q + "/claims/{claim_id}"),
        Operation.SUBSCRIPTION_LIST: ("GET", _Q + "/subscriptions"),
        Operation.SUBSCRIPTION_CREATE: ("POST", _Q + "/subscriptions"),
        Operation.SUBSCRIPTION_GET: ("GET", _Q + "/subscriptions/{subscription_id}"),
        Operation.SUBSCRIPTION_UPDATE: ("PATCH", _Q + "/subscriptions/{subscription_id}"),
        Operation.SUBSCRIPTION_DELETE: ("DELETE", _Q + "/subscriptions/{subscription_id}"),
        Operation.SUBSCRIPTION_CONFIRM: (
            "PUT",
            _Q + "/subscriptions/{subscription_id}/confirm",
        ),
        Operation.POOL_LIST: ("GET", "/pools"),
        Operation.POOL_CREATE: ("PUT", "/pools/{pool_name}"),
        Operation.POOL_GET: ("GET", "/pools/{pool_name}"),
        Operation.POOL_UPDATE: ("PATCH", "/pools/{pool_name}"),
        Operation.POOL_DELETE: ("DELETE", "/pools/{pool_name}"),
        Operation.FLAVOR_LIST: ("GET", "/flavors"),
        Operation.FLAVOR_CREATE: ("PUT", "/flavors/{flavor_name}"),
        Operation.FLAVOR_GET: ("GET", "/flavors/{flavor_name}"),
        Operation.FLAVOR_UPDATE: ("PATCH", "/flavors/{flavor_name}"),
        Operation.FLAVOR_DELETE: ("DELETE", "/flavors/{flavor_name}"),
        Operation.TOPIC_LIST: ("GET", "/topics"),
        Operation.TOPIC_CREATE: Route("PUT", _T, body="metadata"),
        Operation.TOPIC_GET: ("GET", _T),
        Operation.TOPIC_UPDATE: Route("PATCH", _T, body="operations"),
        Operation.TOPIC_DELETE: ("DELETE", _T),
        Operation.TOPIC_GET_STATS: ("GET", _T + "/stats"),
        Operation.TOPIC_PURGE: Route("POST", _T + "/purge", omit_empty_body=True),
        Operation.TOPIC_MESSAGE_LIST: ("GET", _T + "/messages"),
        Operation.TOPIC_MESSAGE_POST: ("POST", _T + "/messages"),
        Operation.TOPIC_SUBSCRIPTION_LIST: ("GET", _T + "/subscriptions"),
        Operation.TOPIC_SUBSCRIPTION_CREATE: ("POST", _T + "/subscriptions"),
        Operation.TOPIC_SUBSCRIPTION_GET: ("GET", _T + "/subscriptions/{subscription_id}"),
        Operation.TOPIC_SUBSCRIPTION_UPDATE: (
            "PATCH",
            _T + "/subscriptions/{subscription_id}",
        ),
        Operation.TOPIC_SUBSCRIPTION_DELETE: (
            "DELETE",
            _T + "/subscriptions/{subscription_id}",
        ),
    }
)


def _derive(
    base: Mapping[Operation, Route],
    *,
    without: Iterable[Operation] = (),
    changed: dict[Operation, _Entry] | None = None,
) -> Mapping[Operation, Route]:
    """An older version's table: ``base`` minus what it lacks, plus what differs."""
    missing = set(without)
    table = {op: route for op, route in base.items() if op not in missing}
    table.update({op: _route(entry) for op, entry in (changed or {}).items()})
    return MappingProxyType(table)


#: Source: zaqar 19.0.0 ``zaqar/transport/wsgi/v1_1/__init__.py`` (removed upstream
#: in ac800de3). The v2 routes without queue PATCH (405), purge, share,
#: subscriptions or topics; health, pools and flavors are admin routes.
V1_1_ROUTES: Mapping[Operation, Route] = _derive(
    V2_ROUTES,
    without=[
        Operation.QUEUE_UPDATE,
        Operation.QUEUE_PURGE,
        Operation.QUEUE_SHARE,
        *(op for op in Operation if op.value.startswith(("subscription_", "topic_"))),
    ],
)

#: Source: zaqar 19.0.0 ``zaqar/transport/wsgi/v1_0/__init__.py`` (removed upstream
#: in fb0b6d67). There is no ``/ping``: the public ``/health`` answers 204 or 503,
#: which is exactly a ping. ``GET /v1/queues/{q}`` is an existence check like HEAD,
#: metadata lives at ``/metadata``; no pop, no flavors; pools are admin routes.
V1_ROUTES: Mapping[Operation, Route] = _derive(
    V1_1_ROUTES,
    without=[
        Operation.QUEUE_GET,
        Operation.MESSAGE_POP,
        *(op for op in Operation if op.value.startswith("flavor_")),
    ],
    changed={
        Operation.PING: ("GET", "/health"),
        Operation.QUEUE_EXISTS: ("HEAD", _Q),
        Operation.QUEUE_GET_METADATA: ("GET", _Q + "/metadata"),
        Operation.QUEUE_SET_METADATA: Route("PUT", _Q + "/metadata", body="metadata"),
        # v1 posts the messages as a bare JSON array.
        Operation.MESSAGE_POST: Route("POST", _Q + "/messages", body="messages"),
    },
)

ROUTES: Mapping[ApiVersion, Mapping[Operation, Route]] = MappingProxyType(
    {ApiVersion.V1: V1_ROUTES, ApiVersion.V1_1: V1_1_ROUTES, ApiVersion.V2: V2_ROUTES}
)


def route_for(version: ApiVersion, operation: Operation) -> Route:
    """The route of ``operation`` in ``version``, or UnsupportedOperation.

    >>> route_for(ApiVersion.V2, Operation.PING)
    Route(method='GET', template='/ping', query=(), body=None, omit_empty_body=False)
    >>> route_for(ApiVersion.V1, Operation.MESSAGE_POP)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.UnsupportedOperation: operation 'message_pop' is not available in Zaqar \
API v1; use version='2' (it is in API v1.1, v2)
    """
    table = ROUTES.get(version)
    if table is None or operation not in table:
        offered = [v.value for v, routes in ROUTES.items() if operation in routes]
        hint = ""
        if offered:
            hint = f"; use version={offered[-1]!r} (it is in API v{', v'.join(offered)})"
        raise UnsupportedOperation(
            f"operation {operation.value!r} is not available in Zaqar API v{version.value}{hint}"
        )
    return table[operation]


def supports(version: ApiVersion, operation: Operation) -> bool:
    """Whether ``version`` offers ``operation`` at all.

    >>> [supports(v, Operation.MESSAGE_POP) for v in (ApiVersion.V1, ApiVersion.V1_1)]
    [False, True]
    """
    table = ROUTES.get(version)
    return table is not None and operation in table


# -- WebSocket actions ----------------------------------------------------------------
#
# Zaqar's WebSocket server speaks v2 only, and only some of its operations: the
# routes of that transport are action names, and these tables are them.

#: Operations Zaqar 23 serves over WebSocket (``zaqar/api/v2/endpoints.py``).
#: An allow-list, so operations added later (v1-only ones, say) default to
#: unsupported. The home document, health, ping, pools and flavors are in the
#: request schema but not implemented by ``Endpoints``: the server raises
#: AttributeError and never answers, so sending them would hang until the
#: timeout. Queue PATCH, share, subscription update/confirm and topics have
#: no action at all.
_WS_OPERATIONS = frozenset(
    {
        Operation.QUEUE_LIST,
        Operation.QUEUE_CREATE,
        Operation.QUEUE_GET,
        Operation.QUEUE_DELETE,
        Operation.QUEUE_GET_STATS,
        Operation.QUEUE_PURGE,
        Operation.MESSAGE_LIST,
        Operation.MESSAGE_POST,
        Operation.MESSAGE_GET,
        Operation.MESSAGE_GET_MANY,
        Operation.MESSAGE_DELETE,
        Operation.MESSAGE_DELETE_MANY,
        Operation.MESSAGE_POP,
        Operation.CLAIM_CREATE,
        Operation.CLAIM_GET,
        Operation.CLAIM_UPDATE,
        Operation.CLAIM_DELETE,
        Operation.SUBSCRIPTION_LIST,
        Operation.SUBSCRIPTION_CREATE,
        Operation.SUBSCRIPTION_GET,
        Operation.SUBSCRIPTION_DELETE,
    }
)

#: Where Zaqar's action name differs from the operation's value.
_WS_ACTION_NAMES: Mapping[Operation, str] = {
    # Pop is message_delete_many with a "pop" count in the body.
    Operation.MESSAGE_POP: "message_delete_many",
}

#: The action name of every operation Zaqar serves over WebSocket (the
#: clients check each call against it before sending).
WS_ACTIONS: Mapping[Operation, str] = {
    op: _WS_ACTION_NAMES.get(op, op.value) for op in _WS_OPERATIONS
}

#: Operations Zaqar's WebSocket server answers, but not as completely as HTTP.
#: Clients with an ``http_url`` send them there; without one the transport
#: sends them and warns once (:func:`zaqarkit.core.ws.ws_incomplete`).
WS_INCOMPLETE: Mapping[Operation, str] = {
    # endpoints.message_list computes the next marker and drops it: the reply
    # is {"messages": [...]} only, and Zaqar's redis driver pages by an
    # internal counter that no message field reveals. No way to page on.
    Operation.MESSAGE_LIST: (
        "message listings over WebSocket stop after one page (Zaqar's reply carries "
        "no marker); pass http_url= to list every message"
    ),
    # endpoints.queue_get returns the stored metadata only; HTTP merges the
    # reserved defaults (_max_messages_post_size, _default_message_ttl, ...).
    Operation.QUEUE_GET: (
        "queue metadata over WebSocket lacks the reserved defaults HTTP merges in "
        "(_default_message_ttl, _max_messages_post_size, ...); pass http_url= to get them"
    ),
}


def ws_supports(operation: Operation) -> bool:
    """Whether the WebSocket transport serves ``operation`` as completely as
    HTTP; a client with ``http_url`` sends the others over HTTP.

    >>> ws_supports(Operation.MESSAGE_POST), ws_supports(Operation.QUEUE_UPDATE)
    (True, False)
    >>> ws_supports(Operation.MESSAGE_LIST), ws_action(Operation.MESSAGE_LIST)
    (False, 'message_list')
    """
    return operation in _WS_OPERATIONS and operation not in WS_INCOMPLETE


def ws_action(operation: Operation) -> str:
    """Zaqar's action name for ``operation``; UnsupportedOperation if it has none.

    >>> ws_action(Operation.MESSAGE_POP)
    'message_delete_many'
    >>> ws_action(Operation.PING)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.UnsupportedOperation: ping_node is not available over WebSocket \
(Zaqar implements no such action): pass http_url='http://...' (the server's HTTP endpoint) \
to the client and it is sent there, or use an http:// url=
    """
    action = WS_ACTIONS.get(operation)
    if action is None:
        raise UnsupportedOperation(
            f"{operation.value} is not available over WebSocket (Zaqar implements no "
            "such action): pass http_url='http://...' (the server's HTTP endpoint) to the "
            "client and it is sent there, or use an http:// url="
        )
    return action
