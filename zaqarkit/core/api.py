"""Builders: one method per Zaqar operation, each returning a :class:`Call`.

A builder validates its arguments (raising ValidationError before anything
exists to send), renders the request from the API version's route table and
bundles the pure parser for the answer. ``ApiV2`` covers every v2 operation;
other versions subclass it and override only what differs on the wire.

>>> api = ApiV2()
>>> call = api.message_post("orders", [{"body": {"id": 1}, "ttl": 300}])
>>> call.request.method, call.request.path, call.request.body
('POST', '/v2/queues/orders/messages', b'{"messages":[{"body":{"id":1},"ttl":300}]}')
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from zaqarkit.core import parse as p
from zaqarkit.core import validate as v
from zaqarkit.core.models import (
    Claim,
    Flavor,
    Health,
    HomeDocument,
    Message,
    Page,
    Pool,
    Queue,
    SignedURL,
    Stats,
    Subscription,
    Topic,
)
from zaqarkit.core.operations import ApiVersion, Operation, route_for
from zaqarkit.core.wire import Call, Request, Response
from zaqarkit.errors import ValidationError

__all__ = ["JSON_PATCH", "RESERVED_METADATA", "ApiV2", "metadata_patch"]

T = TypeVar("T")

JSON = "application/json"
#: Queue and topic PATCH must use this content type, anything else is a 415.
JSON_PATCH = "application/openstack-messaging-v2.0-json-patch"

#: Queue metadata keys Zaqar owns; GET merges their defaults into every answer.
RESERVED_METADATA = frozenset(
    {
        "_max_messages_post_size",
        "_default_message_ttl",
        "_default_message_delay",
        "_dead_letter_queue",
        "_dead_letter_queue_messages_ttl",
        "_max_claim_count",
        "_enable_encrypt_messages",
        "_flavor",
        "_retry_policy",
    }
)

_SHARE_PATHS = ("messages", "subscriptions", "claims")
_SHARE_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
_PURGE_TYPES = ("messages", "subscriptions")


def _encode(data: Any) -> bytes:
    return v.encode_body(data)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _expect_status(response: Response, operation: Operation, *allowed: int) -> None:
    p.raise_for_status(response, operation.value)
    if response.status not in allowed:
        p.fail(
            f"{operation.value} answered status {response.status}, expected "
            + " or ".join(map(str, allowed)),
            response.body[:80],
        )


def _no_content(operation: Operation) -> Callable[[Response], None]:
    def parse(response: Response) -> None:
        p.raise_for_status(response, operation.value)

    return parse


def _json(operation: Operation, convert: Callable[[Any], T]) -> Callable[[Response], T]:
    def parse(response: Response) -> T:
        p.raise_for_status(response, operation.value)
        return convert(p.decode_json(response))

    return parse


def _posted(operation: Operation, count: int) -> Callable[[Response], tuple[str, ...]]:
    """A post's answer must name one id per message posted: a 2xx without
    them leaves the caller unable to tell what was stored."""

    def parse(response: Response) -> tuple[str, ...]:
        p.raise_for_status(response, operation.value)
        data = p.decode_json(response)
        ids = p.message_ids(data)
        if len(ids) != count:
            p.fail(
                f"{operation.value} answered {response.status} with {len(ids)} ids "
                f"for {count} posted messages",
                data,
            )
        return ids

    return parse


def _listing(
    operation: Operation, key: str, item: Callable[[Any], T]
) -> Callable[[Response], Page[T]]:
    def parse(response: Response) -> Page[T]:
        p.raise_for_status(response, operation.value)
        return p.page(response, key, item)

    return parse


def _created(operation: Operation) -> Callable[[Response], bool]:
    """PUT that answers 201 when it created and 204 when it already existed."""

    def parse(response: Response) -> bool:
        _expect_status(response, operation, 201, 204)
        return response.status == 201

    return parse


def metadata_patch(
    current: Mapping[str, Any], new: Mapping[str, Any], *, keep_reserved: bool = True
) -> list[dict[str, Any]]:
    """JSON-patch operations that turn ``current`` metadata into ``new``.

    Keys of ``new`` are added (``add`` also replaces), and user keys missing
    from ``new`` are removed. Reserved ``_`` keys are never removed by
    default: Zaqar merges their defaults into every GET, so they are always
    "present". ``keep_reserved=False`` removes them too (python-zaqarclient's
    whole-document replace): Zaqar then falls back to its defaults.

    >>> metadata_patch({"a": 1, "b": 2, "_default_message_ttl": 3600}, {"a": 5})
    [{'op': 'add', 'path': '/metadata/a', 'value': 5}, {'op': 'remove', 'path': '/metadata/b'}]
    >>> metadata_patch({"_default_message_ttl": 60}, {}, keep_reserved=False)
    [{'op': 'remove', 'path': '/metadata/_default_message_ttl'}]
    """
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": "/metadata/" + _pointer(k), "value": value}
        for k, value in new.items()
    ]
    ops.extend(
        {"op": "remove", "path": "/metadata/" + _pointer(k)}
        for k in current
        if k not in new and not (keep_reserved and k in RESERVED_METADATA)
    )
    return ops


def _pointer(key: str) -> str:
    # JSON pointer escaping (RFC 6901), which Zaqar's patch validator accepts.
    return key.replace("~", "~0").replace("/", "~1")


class ApiV2:
    """Request builders and parsers for Zaqar API v2.

    ``limits`` holds server limits used for validation; override them when an
    operator configured the server differently.
    """

    version = ApiVersion.V2
    #: Posting to a missing queue creates it (v1.1 and v2; v1 stores the
    #: messages but the queue then answers 404 until it is created).
    post_creates_queue = True
    #: Flavors name one pool group (v1.1) instead of a pool list (v2).
    flavor_pool_groups = False
    #: ``GET /queues?with_count=true`` answers the number of queues (v2 only).
    counts_queues = True

    def __init__(self, limits: v.Limits = v.DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._prefix = self.version.prefix

    # -- plumbing ---------------------------------------------------------

    def _request(
        self,
        operation: Operation,
        path_params: Mapping[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        *,
        content_type: str = JSON,
        params: Mapping[str, Any] | None = None,
    ) -> Request:
        route = route_for(self.version, operation)
        path = self._prefix + (
            route.template.format_map(path_params) if path_params else route.template
        )
        encoded = None if body is None else _encode(body)
        return Request(
            operation=operation,
            method=route.method,
            path=path,
            query=tuple(query),
            headers=(("Content-Type", content_type),) if encoded is not None else (),
            body=encoded,
            params=dict(params or {}),
        )

    def _paging(
        self, limit: int | None, marker: str | None, **flags: bool | None
    ) -> list[tuple[str, str]]:
        query: list[tuple[str, str]] = []
        if limit is not None:
            query.append(("limit", str(v.page_limit(limit, self.limits))))
        if marker is not None:
            query.append(("marker", v.query_value("marker", marker)))
        query.extend((name, _flag(value)) for name, value in flags.items() if value is not None)
        return query

    # -- home, ping, health ---------------------------------------------------

    def home_document(self) -> Call[HomeDocument]:
        """``GET /v2/`` (the trailing slash matters: the route is '/v2' + '/')."""
        op = Operation.GET_HOME_DOC
        return Call(self._request(op), _json(op, p.home_document))

    def ping(self) -> Call[bool]:
        """``GET /v2/ping``: True on 204, False on 503 (storage unreachable)."""
        op = Operation.PING

        def parse(response: Response) -> bool:
            if response.status == 503:
                return False
            p.raise_for_status(response, op.value)
            return True

        return Call(self._request(op), parse)

    def health(self) -> Call[Health]:
        """``GET /v2/health``: admin only (send ``X-Roles: admin`` without Keystone)."""
        op = Operation.HEALTH
        return Call(self._request(op), _json(op, p.health))

    # -- queues and topics share their wire format -----------------------------

    def _collection_list(
        self,
        op: Operation,
        key: str,
        item: Callable[[Any], T],
        limit: int | None,
        marker: str | None,
        detailed: bool | None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> Call[Page[T]]:
        query = self._paging(limit, marker, detailed=detailed)
        query.extend(extra)
        return Call(self._request(op, query=query, params=dict(query)), _listing(op, key, item))

    def queue_list(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
        with_count: bool | None = None,
        name: str | None = None,
        **filters: Any,
    ) -> Call[Page[Queue]]:
        """``GET /v2/queues``. Extra keywords are metadata filters (MongoDB only)."""
        extra: list[tuple[str, str]] = []
        if with_count is not None:
            extra.append(("with_count", _flag(with_count)))
        if name is not None:
            extra.append(("name", v.query_value("name", name)))
        for key, value in filters.items():
            text = _flag(value) if isinstance(value, bool) else str(value)
            extra.append((key, v.query_value(key, text)))
        return self._collection_list(
            Operation.QUEUE_LIST, "queues", p.queue, limit, marker, detailed, extra
        )

    def queue_create(self, name: str, metadata: Mapping[str, Any] | None = None) -> Call[bool]:
        """``PUT /v2/queues/{name}``: True if created, False if it existed (metadata
        of an existing queue is left unchanged by Zaqar)."""
        return self._create(Operation.QUEUE_CREATE, "queue_name", name, metadata)

    def _create(
        self, op: Operation, key: str, name: str, metadata: Mapping[str, Any] | None
    ) -> Call[bool]:
        v.name(name, key.replace("_", " "))
        body = None if metadata is None else dict(v_metadata(metadata, self.limits))
        params = {key: name, "metadata": body or {}}
        return Call(self._request(op, {key: name}, body=body, params=params), _created(op))

    def queue_get(self, name: str) -> Call[dict[str, Any]]:
        """``GET /v2/queues/{name}``: the metadata, reserved defaults merged in.

        Zaqar answers 200 with defaults even for a queue that was never created,
        so this cannot tell whether a queue exists (use the listing).
        """
        op = Operation.QUEUE_GET
        v.name(name)
        return Call(
            self._request(op, {"queue_name": name}, params={"queue_name": name}),
            _json(op, lambda data: dict(p.expect_object(data, "queue metadata"))),
        )

    def queue_update(
        self, name: str, operations: Sequence[Mapping[str, Any]]
    ) -> Call[dict[str, Any]]:
        """``PATCH /v2/queues/{name}`` with JSON-patch ``operations`` (see
        :func:`metadata_patch`); answers the whole metadata after the patch."""
        return self._patch(Operation.QUEUE_UPDATE, "queue_name", name, operations)

    def _patch(
        self, op: Operation, key: str, name: str, operations: Sequence[Mapping[str, Any]]
    ) -> Call[dict[str, Any]]:
        v.name(name, key.replace("_", " "))
        checked = [_patch_op(item, index) for index, item in enumerate(operations)]
        if not checked:
            raise ValidationError("operations", "must hold at least one JSON-patch operation")
        return Call(
            self._request(op, {key: name}, body=checked, content_type=JSON_PATCH),
            _json(op, lambda data: dict(p.expect_object(data, "metadata"))),
        )

    def queue_delete(self, name: str) -> Call[None]:
        """``DELETE /v2/queues/{name}`` (204 even when the queue is missing)."""
        return self._simple(Operation.QUEUE_DELETE, "queue_name", name)

    def _simple(self, op: Operation, key: str, name: str) -> Call[None]:
        v.name(name, key.replace("_", " "))
        return Call(self._request(op, {key: name}, params={key: name}), _no_content(op))

    def queue_stats(self, name: str) -> Call[Stats]:
        """``GET /v2/queues/{name}/stats`` (zeros for a missing queue)."""
        op = Operation.QUEUE_GET_STATS
        v.name(name)
        return Call(
            self._request(op, {"queue_name": name}, params={"queue_name": name}),
            _json(op, p.stats),
        )

    def queue_purge(
        self, name: str, resource_types: Iterable[str] | None = None
    ) -> Call[None]:
        """``POST /v2/queues/{name}/purge``; ``resource_types`` defaults to both."""
        return self._purge(Operation.QUEUE_PURGE, "queue_name", name, resource_types)

    def _purge(
        self, op: Operation, key: str, name: str, resource_types: Iterable[str] | None
    ) -> Call[None]:
        v.name(name, key.replace("_", " "))
        body = None
        if resource_types is not None:
            types = [v.choice(t, "resource_types", _PURGE_TYPES) for t in resource_types]
            if not types:
                raise ValidationError("resource_types", "must not be empty")
            body = {"resource_types": types}
        params: dict[str, Any] = {key: name, **(body or {})}
        return Call(self._request(op, {key: name}, body=body, params=params), _no_content(op))

    def queue_share(
        self,
        name: str,
        *,
        paths: Iterable[str] | None = None,
        methods: Iterable[str] | None = None,
        expires: _dt.datetime | str | None = None,
    ) -> Call[SignedURL]:
        """``POST /v2/queues/{name}/share``: a pre-signed URL.

        ``expires`` is an aware or UTC-naive datetime, or Zaqar's
        ``YYYY-MM-DDTHH:MM:SS``; the server defaults to one day. (The core
        reads no clock: callers turn a TTL into a datetime.)
        """
        op = Operation.QUEUE_SHARE
        v.name(name)
        body: dict[str, Any] = {}
        if paths is not None:
            body["paths"] = [v.choice(x, "paths", _SHARE_PATHS) for x in paths]
        if methods is not None:
            body["methods"] = [v.choice(str(x).upper(), "methods", _SHARE_METHODS) for x in methods]
        if expires is not None:
            body["expires"] = _expires(expires)
        return Call(
            self._request(op, {"queue_name": name}, body=body),
            _json(op, p.signed_url),
        )

    # -- messages ----------------------------------------------------------

    def message_post(self, queue: str, messages: Any) -> Call[tuple[str, ...]]:
        """``POST /v2/queues/{queue}/messages``: ids in posting order.

        ``messages`` is one ``{"body": ..., "ttl": ..., "delay": ...}`` dict or a
        list of them. The whole body must fit ``max_messages_post_size``.
        """
        op = Operation.MESSAGE_POST
        v.name(queue)
        items = self._message_items(messages)
        request = self._request(
            op, {"queue_name": queue}, body=self._message_post_body(items),
            params={"queue_name": queue, "messages": items},
        )
        v.body_size(request.body or b"", self.limits)
        return Call(request, _posted(op, len(items)))

    def _message_items(self, messages: Any) -> list[dict[str, Any]]:
        """The validated messages of a post (older versions refuse more)."""
        return v.messages(messages, self.limits)

    def _message_post_body(self, items: list[dict[str, Any]]) -> Any:
        return {"messages": items}

    def message_list(
        self,
        queue: str,
        *,
        limit: int | None = None,
        marker: str | None = None,
        echo: bool | None = None,
        include_claimed: bool | None = None,
        include_delayed: bool | None = None,
    ) -> Call[Page[Message]]:
        """``GET /v2/queues/{queue}/messages`` (oldest first; your own messages
        only with ``echo=True``)."""
        op = Operation.MESSAGE_LIST
        v.name(queue)
        query = self._paging(
            limit, marker, echo=echo, include_claimed=include_claimed,
            include_delayed=include_delayed,
        )
        return Call(
            self._request(op, {"queue_name": queue}, query, params={"queue_name": queue}),
            _listing(op, "messages", p.message),
        )

    def message_get(self, queue: str, message_id: str) -> Call[Message]:
        op = Operation.MESSAGE_GET
        v.name(queue)
        v.identifier(message_id, "message_id")
        keys = {"queue_name": queue, "message_id": message_id}
        return Call(self._request(op, keys, params=keys), _json(op, p.message))

    def message_get_many(self, queue: str, message_ids: Iterable[str]) -> Call[tuple[Message, ...]]:
        """``GET /v2/queues/{queue}/messages?ids=...``. Zaqar answers 404 when none
        of the ids exist; that is an empty result here."""
        op = Operation.MESSAGE_GET_MANY
        v.name(queue)
        ids = v.ids(message_ids, "message_ids", self.limits)

        def parse(response: Response) -> tuple[Message, ...]:
            if response.status == 404:
                return ()
            p.raise_for_status(response, op.value)
            return p.messages(p.expect_object(p.decode_json(response), "listing").get("messages"))

        return Call(
            self._request(op, {"queue_name": queue}, [("ids", ",".join(ids))],
                          params={"queue_name": queue, "message_ids": list(ids)}),
            parse,
        )

    def message_delete(
        self, queue: str, message_id: str, *, claim_id: str | None = None
    ) -> Call[None]:
        """``DELETE /v2/queues/{queue}/messages/{id}``; a claimed message needs
        its ``claim_id`` (403 otherwise)."""
        op = Operation.MESSAGE_DELETE
        v.name(queue)
        v.identifier(message_id, "message_id")
        keys = {"queue_name": queue, "message_id": message_id}
        query = []
        params: dict[str, Any] = dict(keys)
        if claim_id is not None:
            query.append(("claim_id", v.identifier(claim_id, "claim_id")))
            params["claim_id"] = claim_id
        return Call(self._request(op, keys, query, params=params), _no_content(op))

    def message_delete_many(
        self, queue: str, message_ids: Iterable[str], *, claim_ids: Iterable[str] | None = None
    ) -> Call[None]:
        op = Operation.MESSAGE_DELETE_MANY
        v.name(queue)
        ids = v.ids(message_ids, "message_ids", self.limits)
        query = [("ids", ",".join(ids))]
        params: dict[str, Any] = {"queue_name": queue, "message_ids": list(ids)}
        if claim_ids is not None:
            claims = v.ids(claim_ids, "claim_ids", self.limits)
            query.append(("claim_ids", ",".join(claims)))
            params["claim_ids"] = list(claims)
        return Call(
            self._request(op, {"queue_name": queue}, query, params=params), _no_content(op)
        )

    def message_pop(self, queue: str, count: int = 1) -> Call[tuple[Message, ...]]:
        """``DELETE /v2/queues/{queue}/messages?pop=N``: claim-and-delete in one go."""
        op = Operation.MESSAGE_POP
        v.name(queue)
        count = v.claim_limit(count, self.limits, "count")

        def parse(response: Response) -> tuple[Message, ...]:
            p.raise_for_status(response, op.value)
            data = p.decode_json(response, allow_empty=True)
            if data is None:
                return ()
            return p.messages(p.expect_object(data, "pop response").get("messages", []))

        return Call(
            self._request(op, {"queue_name": queue}, [("pop", str(count))],
                          params={"queue_name": queue, "pop": count}),
            parse,
        )

    # -- claims ------------------------------------------------------------

    def claim_create(
        self,
        queue: str,
        *,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
    ) -> Call[Claim]:
        """``POST /v2/queues/{queue}/claims``. The answer's claim id comes from the
        ``Location`` header; a 204 (nothing to claim) gives ``Claim(id=None)``."""
        op = Operation.CLAIM_CREATE
        v.name(queue)
        body: dict[str, int] = {}
        if ttl is not None:
            body["ttl"] = v.claim_ttl(ttl, self.limits)
        if grace is not None:
            body["grace"] = v.claim_grace(grace, self.limits)
        query = []
        params: dict[str, Any] = {"queue_name": queue, **body}
        if limit is not None:
            query.append(("limit", str(v.claim_limit(limit, self.limits))))
            params["limit"] = limit

        def parse(response: Response) -> Claim:
            _expect_status(response, op, 200, 201, 204)
            return p.claim(response, ttl=ttl, grace=grace)

        return Call(
            self._request(op, {"queue_name": queue}, query, body=body, params=params), parse
        )

    def claim_get(self, queue: str, claim_id: str) -> Call[Claim]:
        op = Operation.CLAIM_GET
        v.name(queue)
        v.identifier(claim_id, "claim_id")
        keys = {"queue_name": queue, "claim_id": claim_id}
        return Call(
            self._request(op, keys, params=keys),
            _json(op, lambda data: p.claim_detail(data, claim_id)),
        )

    def claim_update(
        self, queue: str, claim_id: str, *, ttl: int | None = None, grace: int | None = None
    ) -> Call[None]:
        """``PATCH .../claims/{id}``. Zaqar resets omitted fields to the server
        defaults (not the claim's current values), so pass both when it matters."""
        op = Operation.CLAIM_UPDATE
        v.name(queue)
        v.identifier(claim_id, "claim_id")
        body: dict[str, int] = {}
        if ttl is not None:
            body["ttl"] = v.claim_ttl(ttl, self.limits)
        if grace is not None:
            body["grace"] = v.claim_grace(grace, self.limits)
        if not body:
            raise ValidationError("claim update", "needs ttl, grace or both")
        keys = {"queue_name": queue, "claim_id": claim_id}
        return Call(self._request(op, keys, body=body, params={**keys, **body}), _no_content(op))

    def claim_delete(self, queue: str, claim_id: str) -> Call[None]:
        """Release a claim: its messages become available again."""
        op = Operation.CLAIM_DELETE
        v.name(queue)
        v.identifier(claim_id, "claim_id")
        keys = {"queue_name": queue, "claim_id": claim_id}
        return Call(self._request(op, keys, params=keys), _no_content(op))

    # -- subscriptions -------------------------------------------------------

    def subscription_list(
        self, queue: str, *, limit: int | None = None, marker: str | None = None
    ) -> Call[Page[Subscription]]:
        return self._subscription_list(Operation.SUBSCRIPTION_LIST, "queue_name", queue,
                                       limit, marker)

    def _subscription_list(
        self, op: Operation, key: str, name: str, limit: int | None, marker: str | None
    ) -> Call[Page[Subscription]]:
        v.name(name, key.replace("_", " "))
        return Call(
            self._request(op, {key: name}, self._paging(limit, marker), params={key: name}),
            _listing(op, "subscriptions", p.subscription),
        )

    def subscription_create(
        self,
        queue: str,
        subscriber: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[str]:
        """``POST .../subscriptions``: the new subscription's id. The queue is
        created if missing; 409 if a confirmed twin exists."""
        return self._subscription_create(
            Operation.SUBSCRIPTION_CREATE, "queue_name", queue, subscriber, ttl, options
        )

    def _subscription_create(
        self,
        op: Operation,
        key: str,
        name: str,
        subscriber: str | None,
        ttl: int | None,
        options: Mapping[str, Any] | None,
        *,
        push: bool = False,
    ) -> Call[str]:
        # push=True: no subscriber, Zaqar pushes to the WebSocket that sent it
        # (core.ws.push_subscription_create; over HTTP a subscriber is required).
        v.name(name, key.replace("_", " "))
        body = _subscription_body(subscriber, ttl, options, require_subscriber=not push)
        return Call(
            self._request(op, {key: name}, body=body, params={key: name, **body}),
            _json(op, lambda data: p.field(p.expect_object(data, "subscription"),
                                           "subscription_id", str, "subscription")),
        )

    def subscription_get(self, queue: str, subscription_id: str) -> Call[Subscription]:
        op = Operation.SUBSCRIPTION_GET
        keys = _subscription_keys("queue_name", queue, subscription_id)
        return Call(self._request(op, keys, params=keys), _json(op, p.subscription))

    def subscription_update(
        self,
        queue: str,
        subscription_id: str,
        *,
        subscriber: str | None = None,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        op = Operation.SUBSCRIPTION_UPDATE
        keys = _subscription_keys("queue_name", queue, subscription_id)
        body = _subscription_body(subscriber, ttl, options, require_subscriber=False)
        if not body:
            raise ValidationError("subscription update", "needs subscriber, ttl or options")
        return Call(self._request(op, keys, body=body), _no_content(op))

    def subscription_delete(self, queue: str, subscription_id: str) -> Call[None]:
        op = Operation.SUBSCRIPTION_DELETE
        keys = _subscription_keys("queue_name", queue, subscription_id)
        return Call(self._request(op, keys, params=keys), _no_content(op))

    def subscription_confirm(
        self, queue: str, subscription_id: str, confirmed: bool = True
    ) -> Call[None]:
        """``PUT .../subscriptions/{id}/confirm`` (usually sent with the pre-signed
        headers of the confirmation notification)."""
        op = Operation.SUBSCRIPTION_CONFIRM
        keys = _subscription_keys("queue_name", queue, subscription_id)
        if not isinstance(confirmed, bool):
            raise ValidationError("confirmed", f"must be a bool, got {confirmed!r}")
        return Call(self._request(op, keys, body={"confirmed": confirmed}), _no_content(op))

    # -- pools and flavors (admin) -----------------------------------------------

    def pool_list(
        self, *, limit: int | None = None, marker: str | None = None,
        detailed: bool | None = None,
    ) -> Call[Page[Pool]]:
        return self._collection_list(Operation.POOL_LIST, "pools", p.pool, limit, marker, detailed)

    def pool_create(
        self,
        name: str,
        uri: str,
        weight: int,
        *,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        """``PUT /v2/pools/{name}``. Zaqar answers 400 when it cannot reach ``uri``."""
        op = Operation.POOL_CREATE
        v.name(name, "pool name")
        body = _pool_body(uri, weight, flavor, options)
        if "uri" not in body or "weight" not in body:
            raise ValidationError("pool", "needs a uri and a weight")
        return Call(self._request(op, {"pool_name": name}, body=body), _no_content(op))

    def pool_get(self, name: str, *, detailed: bool | None = None) -> Call[Pool]:
        op = Operation.POOL_GET
        v.name(name, "pool name")
        query = [] if detailed is None else [("detailed", _flag(detailed))]
        return Call(self._request(op, {"pool_name": name}, query), _json(op, p.pool))

    def pool_update(
        self,
        name: str,
        *,
        uri: str | None = None,
        weight: int | None = None,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[Pool]:
        op = Operation.POOL_UPDATE
        v.name(name, "pool name")
        body = _pool_body(uri, weight, flavor, options)
        if not body:
            raise ValidationError("pool update", "needs uri, weight, flavor or options")
        return Call(self._request(op, {"pool_name": name}, body=body), _json(op, p.pool))

    def pool_delete(self, name: str) -> Call[None]:
        """403 while a flavor still uses the pool."""
        return self._simple(Operation.POOL_DELETE, "pool_name", name)

    def flavor_list(
        self, *, limit: int | None = None, marker: str | None = None,
        detailed: bool | None = None,
    ) -> Call[Page[Flavor]]:
        return self._collection_list(
            Operation.FLAVOR_LIST, "flavors", p.flavor, limit, marker, detailed
        )

    def flavor_create(self, name: str, pool_list: Iterable[str]) -> Call[None]:
        """``PUT /v2/flavors/{name}`` with a non-empty ``pool_list`` (v2 has no pool groups)."""
        op = Operation.FLAVOR_CREATE
        v.name(name, "flavor name")
        body = {"pool_list": _pool_names(pool_list)}
        return Call(self._request(op, {"flavor_name": name}, body=body), _no_content(op))

    def flavor_get(self, name: str) -> Call[Flavor]:
        op = Operation.FLAVOR_GET
        v.name(name, "flavor name")
        return Call(self._request(op, {"flavor_name": name}), _json(op, p.flavor))

    def flavor_update(self, name: str, pool_list: Iterable[str]) -> Call[Flavor]:
        op = Operation.FLAVOR_UPDATE
        v.name(name, "flavor name")
        body = {"pool_list": _pool_names(pool_list)}
        return Call(self._request(op, {"flavor_name": name}, body=body), _json(op, p.flavor))

    def flavor_delete(self, name: str) -> Call[None]:
        return self._simple(Operation.FLAVOR_DELETE, "flavor_name", name)

    # -- topics: queue-shaped, served by the MongoDB management store only ---------

    def topic_list(
        self, *, limit: int | None = None, marker: str | None = None,
        detailed: bool | None = None,
    ) -> Call[Page[Topic]]:
        return self._collection_list(
            Operation.TOPIC_LIST, "topics", p.topic, limit, marker, detailed
        )

    def topic_create(self, name: str, metadata: Mapping[str, Any] | None = None) -> Call[bool]:
        return self._create(Operation.TOPIC_CREATE, "topic_name", name, metadata)

    def topic_get(self, name: str) -> Call[dict[str, Any]]:
        op = Operation.TOPIC_GET
        v.name(name, "topic name")
        return Call(
            self._request(op, {"topic_name": name}),
            _json(op, lambda data: dict(p.expect_object(data, "topic metadata"))),
        )

    def topic_update(
        self, name: str, operations: Sequence[Mapping[str, Any]]
    ) -> Call[dict[str, Any]]:
        return self._patch(Operation.TOPIC_UPDATE, "topic_name", name, operations)

    def topic_delete(self, name: str) -> Call[None]:
        return self._simple(Operation.TOPIC_DELETE, "topic_name", name)

    def topic_stats(self, name: str) -> Call[Stats]:
        op = Operation.TOPIC_GET_STATS
        v.name(name, "topic name")
        return Call(self._request(op, {"topic_name": name}), _json(op, p.stats))

    def topic_purge(
        self, name: str, resource_types: Iterable[str] | None = None
    ) -> Call[None]:
        return self._purge(Operation.TOPIC_PURGE, "topic_name", name, resource_types)

    def topic_message_post(self, topic: str, messages: Any) -> Call[tuple[str, ...]]:
        op = Operation.TOPIC_MESSAGE_POST
        v.name(topic, "topic name")
        items = v.messages(messages, self.limits)
        request = self._request(op, {"topic_name": topic}, body={"messages": items})
        v.body_size(request.body or b"", self.limits)
        return Call(request, _posted(op, len(items)))

    def topic_message_list(
        self, topic: str, *, limit: int | None = None, marker: str | None = None,
        echo: bool | None = None,
    ) -> Call[Page[Message]]:
        op = Operation.TOPIC_MESSAGE_LIST
        v.name(topic, "topic name")
        query = self._paging(limit, marker, echo=echo)
        return Call(self._request(op, {"topic_name": topic}, query),
                    _listing(op, "messages", p.message))

    def topic_subscription_list(
        self, topic: str, *, limit: int | None = None, marker: str | None = None
    ) -> Call[Page[Subscription]]:
        return self._subscription_list(Operation.TOPIC_SUBSCRIPTION_LIST, "topic_name", topic,
                                       limit, marker)

    def topic_subscription_create(
        self, topic: str, subscriber: str, *, ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[str]:
        return self._subscription_create(
            Operation.TOPIC_SUBSCRIPTION_CREATE, "topic_name", topic, subscriber, ttl, options
        )

    def topic_subscription_get(self, topic: str, subscription_id: str) -> Call[Subscription]:
        op = Operation.TOPIC_SUBSCRIPTION_GET
        keys = _subscription_keys("topic_name", topic, subscription_id)
        return Call(self._request(op, keys), _json(op, p.subscription))

    def topic_subscription_update(
        self, topic: str, subscription_id: str, *, subscriber: str | None = None,
        ttl: int | None = None, options: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        op = Operation.TOPIC_SUBSCRIPTION_UPDATE
        keys = _subscription_keys("topic_name", topic, subscription_id)
        body = _subscription_body(subscriber, ttl, options, require_subscriber=False)
        if not body:
            raise ValidationError("subscription update", "needs subscriber, ttl or options")
        return Call(self._request(op, keys, body=body), _no_content(op))

    def topic_subscription_delete(self, topic: str, subscription_id: str) -> Call[None]:
        op = Operation.TOPIC_SUBSCRIPTION_DELETE
        keys = _subscription_keys("topic_name", topic, subscription_id)
        return Call(self._request(op, keys), _no_content(op))

    # -- following hrefs ----------------------------------------------------------

    def follow(self, path: str, query: Sequence[tuple[str, str]] = ()) -> Call[Any]:
        """``GET`` an href the server handed out (already split by
        :func:`zaqarkit.core.urls.split_ref`); the answer is the decoded JSON."""
        request = Request(Operation.FOLLOW, "GET", path, tuple(query))

        def parse(response: Response) -> Any:
            p.raise_for_status(response, f"GET {path}")
            return p.decode_json(response, allow_empty=True)

        return Call(request, parse)


def v_metadata(metadata: Any, limits: v.Limits) -> Mapping[str, Any]:
    if not isinstance(metadata, Mapping):
        raise ValidationError("metadata", f"must be a dict, got {type(metadata).__name__}")
    size = len(_encode(metadata))
    if size > limits.max_queue_metadata:
        raise ValidationError(
            "metadata", f"is {size} bytes encoded; the limit is {limits.max_queue_metadata}"
        )
    return metadata


def _patch_op(item: Any, index: int) -> dict[str, Any]:
    where = f"operations[{index}]"
    if not isinstance(item, Mapping):
        raise ValidationError(where, f"must be a dict, got {item!r}")
    op = v.choice(item.get("op"), f"{where}.op", ("add", "replace", "remove"))
    path = item.get("path")
    if not isinstance(path, str) or not path.startswith("/metadata/") or path.count("/") != 2:
        raise ValidationError(f"{where}.path", f"must look like '/metadata/<key>', got {path!r}")
    result = {"op": op, "path": path}
    if op != "remove":
        if "value" not in item:
            raise ValidationError(where, f"'{op}' needs a 'value'")
        result["value"] = item["value"]
    return result


def _expires(value: _dt.datetime | str) -> str:
    if isinstance(value, str):
        try:
            _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ValidationError(
                "expires", f"must be 'YYYY-MM-DDTHH:MM:SS' (UTC), got {value!r}"
            ) from None
        return value
    if not isinstance(value, _dt.datetime):
        raise ValidationError("expires", f"must be a datetime or a string, got {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _subscription_keys(key: str, name: str, subscription_id: str) -> dict[str, str]:
    v.name(name, key.replace("_", " "))
    v.identifier(subscription_id, "subscription_id")
    return {key: name, "subscription_id": subscription_id}


_SUBSCRIBER_SCHEMES = ("http://", "https://", "mailto:", "trust+http://", "trust+https://")


def _subscription_body(
    subscriber: str | None,
    ttl: int | None,
    options: Mapping[str, Any] | None,
    *,
    require_subscriber: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if subscriber is not None or require_subscriber:
        if not isinstance(subscriber, str) or not subscriber.startswith(_SUBSCRIBER_SCHEMES):
            raise ValidationError(
                "subscriber",
                "must be a URL with scheme http, https, mailto, trust+http or trust+https, "
                f"got {subscriber!r}",
            )
        body["subscriber"] = subscriber
    if ttl is not None:
        body["ttl"] = v.subscription_ttl(ttl)
    if options is not None:
        if not isinstance(options, Mapping):
            raise ValidationError("options", f"must be a dict, got {type(options).__name__}")
        body["options"] = dict(options)
    return body


def _pool_body(
    uri: str | None, weight: int | None, flavor: str | None, options: Mapping[str, Any] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if uri is not None:
        if not isinstance(uri, str) or not uri or len(uri) > 255:
            raise ValidationError("uri", f"must be a string of 1 to 255 characters, got {uri!r}")
        body["uri"] = uri
    if weight is not None:
        body["weight"] = v.integer(weight, "weight", 0, 2**32 - 1)
    if flavor is not None:
        body["flavor"] = v.name(flavor, "flavor name")
    if options is not None:
        if not isinstance(options, Mapping):
            raise ValidationError("options", f"must be a dict, got {type(options).__name__}")
        body["options"] = dict(options)
    return body


def _pool_names(pool_list: Iterable[str]) -> list[str]:
    if isinstance(pool_list, str):
        raise ValidationError("pool_list", f"must be a list of pool names, got {pool_list!r}")
    names = [v.name(name, "pool name") for name in pool_list]
    if not names:
        raise ValidationError("pool_list", "must hold at least one pool name")
    return names
