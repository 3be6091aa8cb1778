"""Builders: one method per Zaqar operation, each returning a :class:`Call`.

A builder validates its arguments once (raising ValidationError before
anything exists to send) into the operation's canonical parameters, has
:func:`~zaqarkit.core.render.http_request` render them by the API version's
route table, and bundles the pure parser of the answer
(:mod:`zaqarkit.core.parse`). ``ApiV2`` covers every v2 operation; other
versions subclass it and override only what differs.

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
from zaqarkit.core.operations import ApiVersion, Operation
from zaqarkit.core.render import JSON, http_request
from zaqarkit.core.wire import Call, Request, Response
from zaqarkit.errors import ValidationError

__all__ = ["JSON_PATCH", "RESERVED_METADATA", "ApiV2", "metadata_patch"]

T = TypeVar("T")

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

    # -- plumbing ---------------------------------------------------------

    def _request(
        self,
        operation: Operation,
        params: Mapping[str, Any] | None = None,
        *,
        content_type: str = JSON,
    ) -> Request:
        return http_request(self.version, operation, params, content_type=content_type)

    def _call(
        self,
        operation: Operation,
        params: Mapping[str, Any] | None,
        parse: Callable[[Response], T],
    ) -> Call[T]:
        return Call(http_request(self.version, operation, params), parse)

    def _paging(
        self, limit: int | None, marker: str | None, **flags: bool | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = v.page_limit(limit, self.limits)
        if marker is not None:
            params["marker"] = v.query_value("marker", marker)
        for flag, value in flags.items():
            if value is not None:
                params[flag] = v.boolean(value, flag)
        return params

    # -- home, ping, health ---------------------------------------------------

    def home_document(self) -> Call[HomeDocument]:
        """``GET /v2/`` (the trailing slash matters: the route is '/v2' + '/')."""
        op = Operation.GET_HOME_DOC
        return self._call(op, None, p.json_of(op, p.home_document))

    def ping(self) -> Call[bool]:
        """``GET /v2/ping``: True on 204, False on 503 (storage unreachable)."""
        op = Operation.PING

        def parse(response: Response) -> bool:
            if response.status == 503:
                return False
            p.raise_for_status(response, op)
            return True

        return self._call(op, None, parse)

    def health(self) -> Call[Health]:
        """``GET /v2/health``: admin only (send ``X-Roles: admin`` without Keystone)."""
        op = Operation.HEALTH
        return self._call(op, None, p.json_of(op, p.health))

    # -- queues and topics share their wire format -----------------------------

    def _collection_list(
        self,
        op: Operation,
        key: str,
        item: Callable[[Any], T],
        limit: int | None,
        marker: str | None,
        detailed: bool | None,
        extra: Mapping[str, Any] | None = None,
    ) -> Call[Page[T]]:
        params = self._paging(limit, marker, detailed=detailed)
        params.update(extra or {})
        return self._call(
            op, params, p.listing(op, key, item, marker_key="name", limit=params.get("limit"))
        )

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
        extra: dict[str, Any] = {}
        if with_count is not None:
            extra["with_count"] = v.boolean(with_count, "with_count")
        if name is not None:
            extra["name"] = v.query_value("name", name)
        for key, value in filters.items():
            extra[key] = value if isinstance(value, bool) else v.query_value(key, value)
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
        params: dict[str, Any] = {key: v.name(name, key.replace("_", " "))}
        if metadata is not None:
            params["metadata"] = v.metadata(metadata, self.limits)
        return self._call(op, params, p.created(op))

    def queue_get(self, name: str) -> Call[dict[str, Any]]:
        """``GET /v2/queues/{name}``: the metadata, reserved defaults merged in.

        Zaqar answers 200 with defaults even for a queue that was never created,
        so this cannot tell whether a queue exists (use the listing).
        """
        op = Operation.QUEUE_GET
        return self._call(op, {"queue_name": v.name(name)}, p.metadata_of(op, "queue metadata"))

    def queue_update(
        self, name: str, operations: Sequence[Mapping[str, Any]]
    ) -> Call[dict[str, Any]]:
        """``PATCH /v2/queues/{name}`` with JSON-patch ``operations`` (see
        :func:`metadata_patch`); answers the whole metadata after the patch."""
        return self._patch(Operation.QUEUE_UPDATE, "queue_name", name, operations)

    def _patch(
        self, op: Operation, key: str, name: str, operations: Sequence[Mapping[str, Any]]
    ) -> Call[dict[str, Any]]:
        params = {
            key: v.name(name, key.replace("_", " ")),
            "operations": v.patch_operations(operations),
        }
        return Call(
            self._request(op, params, content_type=JSON_PATCH), p.metadata_of(op, "metadata")
        )

    def queue_delete(self, name: str) -> Call[None]:
        """``DELETE /v2/queues/{name}`` (204 even when the queue is missing)."""
        return self._simple(Operation.QUEUE_DELETE, "queue_name", name)

    def _simple(self, op: Operation, key: str, name: str) -> Call[None]:
        return self._call(op, {key: v.name(name, key.replace("_", " "))}, p.no_content(op))

    def queue_stats(self, name: str) -> Call[Stats]:
        """``GET /v2/queues/{name}/stats`` (zeros for a missing queue)."""
        return self._stats(Operation.QUEUE_GET_STATS, "queue_name", name)

    def _stats(self, op: Operation, key: str, name: str) -> Call[Stats]:
        def parse(response: Response) -> Stats:
            data = p.json_or_none(response) if response.status == 404 else None
            if isinstance(data, dict) and isinstance(data.get("messages"), Mapping):
                # Zaqar's WebSocket answers 404 with zero stats for a missing
                # queue where HTTP answers 200 with the same zeros.
                return p.stats(data)
            p.raise_for_status(response, op)
            return p.stats(p.decode_json(response))

        return self._call(op, {key: v.name(name, key.replace("_", " "))}, parse)

    def queue_purge(self, name: str, resource_types: Iterable[str] | None = None) -> Call[None]:
        """``POST /v2/queues/{name}/purge``; ``resource_types`` defaults to both."""
        return self._purge(Operation.QUEUE_PURGE, "queue_name", name, resource_types)

    def _purge(
        self, op: Operation, key: str, name: str, resource_types: Iterable[str] | None
    ) -> Call[None]:
        params: dict[str, Any] = {key: v.name(name, key.replace("_", " "))}
        if resource_types is not None:
            types = [v.choice(t, "resource_types", _PURGE_TYPES) for t in resource_types]
            if not types:
                raise ValidationError("resource_types", "must not be empty")
            params["resource_types"] = types
        return self._call(op, params, p.no_content(op))

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
        params: dict[str, Any] = {"queue_name": v.name(name)}
        if paths is not None:
            params["paths"] = [v.choice(x, "paths", _SHARE_PATHS) for x in paths]
        if methods is not None:
            params["methods"] = [
                v.choice(str(x).upper(), "methods", _SHARE_METHODS) for x in methods
            ]
        if expires is not None:
            params["expires"] = v.expires(expires)
        return self._call(op, params, p.json_of(op, p.signed_url))

    # -- messages ----------------------------------------------------------

    def message_post(self, queue: str, messages: Any) -> Call[tuple[str, ...]]:
        """``POST /v2/queues/{queue}/messages``: ids in posting order.

        ``messages`` is one ``{"body": ..., "ttl": ..., "delay": ...}`` dict or a
        list of them. The whole body must fit ``max_messages_post_size``.
        """
        return self._post(Operation.MESSAGE_POST, "queue_name", queue, messages)

    def _post(self, op: Operation, key: str, name: str, messages: Any) -> Call[tuple[str, ...]]:
        queue = v.name(name, key.replace("_", " "))
        items = self._message_items(messages)
        request = http_request(self.version, op, {key: queue, "messages": items})
        v.body_size(request.body or b"", self.limits)
        return Call(request, p.posted(op, len(items)))

    def _message_items(self, messages: Any) -> list[dict[str, Any]]:
        """The validated messages of a post (older versions refuse more)."""
        return v.messages(messages, self.limits)

    def message_list(
        self,
        queue: str,
        *,
        limit: int | None = None,
        marker: str | None = None,
        echo: bool | None = None,
        include_claimed: bool | None = None,
        include_delayed: bool | None = None,
    ) -> Call[Page[Message[Any]]]:
        """``GET /v2/queues/{queue}/messages`` (oldest first; your own messages
        only with ``echo=True``)."""
        op = Operation.MESSAGE_LIST
        params: dict[str, Any] = {"queue_name": v.name(queue)}
        params.update(
            self._paging(
                limit,
                marker,
                echo=echo,
                include_claimed=include_claimed,
                include_delayed=include_delayed,
            )
        )
        # Zaqar pages messages by an internal counter no message field shows:
        # only the HTTP next link knows the marker.
        return self._call(
            op,
            params,
            p.listing(op, "messages", p.message, marker_key=None, limit=params.get("limit")),
        )

    def message_get(self, queue: str, message_id: str) -> Call[Message[Any]]:
        op = Operation.MESSAGE_GET
        params = {"queue_name": v.name(queue), "message_id": v.identifier(message_id, "message_id")}

        def parse(response: Response) -> Message[Any]:
            p.raise_for_status(response, op)
            data = p.decode_json(response)
            inner = data.get("messages") if isinstance(data, dict) else None
            # Zaqar's WebSocket wraps the message: {"messages": {...}}.
            return p.message(inner if isinstance(inner, dict) else data)

        return self._call(op, params, parse)

    def message_get_many(
        self, queue: str, message_ids: Iterable[str]
    ) -> Call[tuple[Message[Any], ...]]:
        """``GET /v2/queues/{queue}/messages?ids=...``. Zaqar answers 404 when none
        of the ids exist; that is an empty result here."""
        op = Operation.MESSAGE_GET_MANY
        params = {
            "queue_name": v.name(queue),
            "message_ids": list(v.ids(message_ids, "message_ids", self.limits)),
        }

        def parse(response: Response) -> tuple[Message[Any], ...]:
            if response.status == 404:
                return ()
            p.raise_for_status(response, op)
            return p.messages(p.expect_object(p.decode_json(response), "listing").get("messages"))

        return self._call(op, params, parse)

    def message_delete(
        self, queue: str, message_id: str, *, claim_id: str | None = None
    ) -> Call[None]:
        """``DELETE /v2/queues/{queue}/messages/{id}``; a claimed message needs
        its ``claim_id`` (403 otherwise)."""
        op = Operation.MESSAGE_DELETE
        params = {"queue_name": v.name(queue), "message_id": v.identifier(message_id, "message_id")}
        if claim_id is not None:
            params["claim_id"] = v.identifier(claim_id, "claim_id")
        return self._call(op, params, p.no_content(op))

    def message_delete_many(
        self, queue: str, message_ids: Iterable[str], *, claim_ids: Iterable[str] | None = None
    ) -> Call[None]:
        op = Operation.MESSAGE_DELETE_MANY
        params: dict[str, Any] = {
            "queue_name": v.name(queue),
            "message_ids": list(v.ids(message_ids, "message_ids", self.limits)),
        }
        if claim_ids is not None:
            params["claim_ids"] = list(v.ids(claim_ids, "claim_ids", self.limits))
        return self._call(op, params, p.no_content(op))

    def message_pop(self, queue: str, count: int = 1) -> Call[tuple[Message[Any], ...]]:
        """``DELETE /v2/queues/{queue}/messages?pop=N``: claim-and-delete in one go."""
        op = Operation.MESSAGE_POP
        params = {"queue_name": v.name(queue), "pop": v.claim_limit(count, self.limits, "count")}

        def parse(response: Response) -> tuple[Message[Any], ...]:
            p.raise_for_status(response, op)
            data = p.decode_json(response, allow_empty=True)
            if data is None:
                return ()
            return p.messages(p.expect_object(data, "pop response").get("messages", []))

        return self._call(op, params, parse)

    # -- claims ------------------------------------------------------------

    def claim_create(
        self,
        queue: str,
        *,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
    ) -> Call[Claim[Any]]:
        """``POST /v2/queues/{queue}/claims``. The answer's claim id comes from the
        ``Location`` header; a 204 (nothing to claim) gives ``Claim(id=None)``."""
        op = Operation.CLAIM_CREATE
        params: dict[str, Any] = {"queue_name": v.name(queue), **self._lease(ttl, grace)}
        if limit is not None:
            params["limit"] = v.claim_limit(limit, self.limits)

        def parse(response: Response) -> Claim[Any]:
            p.expect_status(response, op, 200, 201, 204)
            return p.claim(response, ttl=ttl, grace=grace)

        return self._call(op, params, parse)

    def _lease(self, ttl: int | None, grace: int | None) -> dict[str, int]:
        lease: dict[str, int] = {}
        if ttl is not None:
            lease["ttl"] = v.claim_ttl(ttl, self.limits)
        if grace is not None:
            lease["grace"] = v.claim_grace(grace, self.limits)
        return lease

    def claim_get(self, queue: str, claim_id: str) -> Call[Claim[Any]]:
        op = Operation.CLAIM_GET
        params = {"queue_name": v.name(queue), "claim_id": v.identifier(claim_id, "claim_id")}
        return self._call(op, params, p.json_of(op, lambda data: p.claim_detail(data, claim_id)))

    def claim_update(
        self, queue: str, claim_id: str, *, ttl: int | None = None, grace: int | None = None
    ) -> Call[None]:
        """``PATCH .../claims/{id}``. Zaqar resets omitted fields to the server
        defaults (not the claim's current values), so pass both when it matters."""
        op = Operation.CLAIM_UPDATE
        params: dict[str, Any] = {
            "queue_name": v.name(queue),
            "claim_id": v.identifier(claim_id, "claim_id"),
        }
        lease = self._lease(ttl, grace)
        if not lease:
            raise ValidationError("claim update", "needs ttl, grace or both")
        return self._call(op, {**params, **lease}, p.no_content(op))

    def claim_delete(self, queue: str, claim_id: str) -> Call[None]:
        """Release a claim: its messages become available again."""
        op = Operation.CLAIM_DELETE
        params = {"queue_name": v.name(queue), "claim_id": v.identifier(claim_id, "claim_id")}
        return self._call(op, params, p.no_content(op))

    # -- subscriptions -------------------------------------------------------

    def subscription_list(
        self, queue: str, *, limit: int | None = None, marker: str | None = None
    ) -> Call[Page[Subscription]]:
        return self._subscription_list(
            Operation.SUBSCRIPTION_LIST, "queue_name", queue, limit, marker
        )

    def _subscription_list(
        self, op: Operation, key: str, name: str, limit: int | None, marker: str | None
    ) -> Call[Page[Subscription]]:
        params: dict[str, Any] = {key: v.name(name, key.replace("_", " "))}
        params.update(self._paging(limit, marker))
        return self._call(
            op,
            params,
            p.listing(
                op, "subscriptions", p.subscription, marker_key="id", limit=params.get("limit")
            ),
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
            Operation.SUBSCRIPTION_CREATE,
            "queue_name",
            queue,
            v.subscription_fields(subscriber, ttl, options, require_subscriber=True),
        )

    def push_subscription_create(
        self, queue: str, *, ttl: int | None = None, options: Mapping[str, Any] | None = None
    ) -> Call[str]:
        """``subscription_create`` without a subscriber: Zaqar pushes the queue's
        new messages to the WebSocket connection that sent it. Only a
        WebSocket transport can send it (over HTTP a subscriber is required).

        >>> ApiV2().push_subscription_create("q", ttl=3600).request.params
        {'queue_name': 'q', 'ttl': 3600}
        """
        return self._subscription_create(
            Operation.SUBSCRIPTION_CREATE,
            "queue_name",
            queue,
            v.subscription_fields(None, ttl, options, require_subscriber=False),
        )

    def _subscription_create(
        self, op: Operation, key: str, name: str, fields: dict[str, Any]
    ) -> Call[str]:
        params = {key: v.name(name, key.replace("_", " ")), **fields}
        return self._call(
            op,
            params,
            p.json_of(
                op,
                lambda data: p.field(
                    p.expect_object(data, "subscription"), "subscription_id", str, "subscription"
                ),
            ),
        )

    def subscription_get(self, queue: str, subscription_id: str) -> Call[Subscription]:
        op = Operation.SUBSCRIPTION_GET
        params = _subscription_keys("queue_name", queue, subscription_id)
        return self._call(op, params, p.json_of(op, p.subscription))

    def subscription_update(
        self,
        queue: str,
        subscription_id: str,
        *,
        subscriber: str | None = None,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        return self._subscription_update(
            Operation.SUBSCRIPTION_UPDATE,
            "queue_name",
            queue,
            subscription_id,
            subscriber,
            ttl,
            options,
        )

    def _subscription_update(
        self,
        op: Operation,
        key: str,
        name: str,
        subscription_id: str,
        subscriber: str | None,
        ttl: int | None,
        options: Mapping[str, Any] | None,
    ) -> Call[None]:
        params = _subscription_keys(key, name, subscription_id)
        fields = v.subscription_fields(subscriber, ttl, options, require_subscriber=False)
        if not fields:
            raise ValidationError("subscription update", "needs subscriber, ttl or options")
        return self._call(op, {**params, **fields}, p.no_content(op))

    def subscription_delete(self, queue: str, subscription_id: str) -> Call[None]:
        op = Operation.SUBSCRIPTION_DELETE
        params = _subscription_keys("queue_name", queue, subscription_id)
        return self._call(op, params, p.no_content(op))

    def subscription_confirm(
        self, queue: str, subscription_id: str, confirmed: bool = True
    ) -> Call[None]:
        """``PUT .../subscriptions/{id}/confirm`` (usually sent with the pre-signed
        headers of the confirmation notification)."""
        op = Operation.SUBSCRIPTION_CONFIRM
        params = _subscription_keys("queue_name", queue, subscription_id)
        params["confirmed"] = v.boolean(confirmed, "confirmed")
        return self._call(op, params, p.no_content(op))

    # -- pools and flavors (admin) -----------------------------------------------

    def pool_list(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
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
        params = {"pool_name": v.name(name, "pool name")}
        fields = v.pool_fields(uri, weight, flavor, options)
        if "uri" not in fields or "weight" not in fields:
            raise ValidationError("pool", "needs a uri and a weight")
        return self._call(op, {**params, **fields}, p.no_content(op))

    def pool_get(self, name: str, *, detailed: bool | None = None) -> Call[Pool]:
        op = Operation.POOL_GET
        params: dict[str, Any] = {"pool_name": v.name(name, "pool name")}
        params.update(self._paging(None, None, detailed=detailed))
        return self._call(op, params, p.json_of(op, p.pool))

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
        params = {"pool_name": v.name(name, "pool name")}
        fields = v.pool_fields(uri, weight, flavor, options)
        if not fields:
            raise ValidationError("pool update", "needs uri, weight, flavor or options")
        return self._call(op, {**params, **fields}, p.json_of(op, p.pool))

    def pool_delete(self, name: str) -> Call[None]:
        """403 while a flavor still uses the pool."""
        return self._simple(Operation.POOL_DELETE, "pool_name", name)

    def flavor_list(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> Call[Page[Flavor]]:
        return self._collection_list(
            Operation.FLAVOR_LIST, "flavors", p.flavor, limit, marker, detailed
        )

    def flavor_create(self, name: str, pool_list: Iterable[str]) -> Call[None]:
        """``PUT /v2/flavors/{name}`` with a non-empty ``pool_list`` (v2 has no pool groups)."""
        op = Operation.FLAVOR_CREATE
        params = {"flavor_name": v.name(name, "flavor name"), "pool_list": v.pool_names(pool_list)}
        return self._call(op, params, p.no_content(op))

    def flavor_get(self, name: str) -> Call[Flavor]:
        op = Operation.FLAVOR_GET
        return self._call(op, {"flavor_name": v.name(name, "flavor name")}, p.json_of(op, p.flavor))

    def flavor_update(self, name: str, pool_list: Iterable[str]) -> Call[Flavor]:
        op = Operation.FLAVOR_UPDATE
        params = {"flavor_name": v.name(name, "flavor name"), "pool_list": v.pool_names(pool_list)}
        return self._call(op, params, p.json_of(op, p.flavor))

    def flavor_delete(self, name: str) -> Call[None]:
        return self._simple(Operation.FLAVOR_DELETE, "flavor_name", name)

    # -- topics: queue-shaped, served by the MongoDB management store only ---------

    def topic_list(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> Call[Page[Topic]]:
        return self._collection_list(
            Operation.TOPIC_LIST, "topics", p.topic, limit, marker, detailed
        )

    def topic_create(self, name: str, metadata: Mapping[str, Any] | None = None) -> Call[bool]:
        return self._create(Operation.TOPIC_CREATE, "topic_name", name, metadata)

    def topic_get(self, name: str) -> Call[dict[str, Any]]:
        op = Operation.TOPIC_GET
        return self._call(
            op, {"topic_name": v.name(name, "topic name")}, p.metadata_of(op, "topic metadata")
        )

    def topic_update(
        self, name: str, operations: Sequence[Mapping[str, Any]]
    ) -> Call[dict[str, Any]]:
        return self._patch(Operation.TOPIC_UPDATE, "topic_name", name, operations)

    def topic_delete(self, name: str) -> Call[None]:
        return self._simple(Operation.TOPIC_DELETE, "topic_name", name)

    def topic_stats(self, name: str) -> Call[Stats]:
        return self._stats(Operation.TOPIC_GET_STATS, "topic_name", name)

    def topic_purge(self, name: str, resource_types: Iterable[str] | None = None) -> Call[None]:
        return self._purge(Operation.TOPIC_PURGE, "topic_name", name, resource_types)

    def topic_message_post(self, topic: str, messages: Any) -> Call[tuple[str, ...]]:
        return self._post(Operation.TOPIC_MESSAGE_POST, "topic_name", topic, messages)

    def topic_message_list(
        self,
        topic: str,
        *,
        limit: int | None = None,
        marker: str | None = None,
        echo: bool | None = None,
    ) -> Call[Page[Message[Any]]]:
        op = Operation.TOPIC_MESSAGE_LIST
        params: dict[str, Any] = {"topic_name": v.name(topic, "topic name")}
        params.update(self._paging(limit, marker, echo=echo))
        return self._call(
            op,
            params,
            p.listing(op, "messages", p.message, marker_key=None, limit=params.get("limit")),
        )

    def topic_subscription_list(
        self, topic: str, *, limit: int | None = None, marker: str | None = None
    ) -> Call[Page[Subscription]]:
        return self._subscription_list(
            Operation.TOPIC_SUBSCRIPTION_LIST, "topic_name", topic, limit, marker
        )

    def topic_subscription_create(
        self,
        topic: str,
        subscriber: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[str]:
        return self._subscription_create(
            Operation.TOPIC_SUBSCRIPTION_CREATE,
            "topic_name",
            topic,
            v.subscription_fields(subscriber, ttl, options, require_subscriber=True),
        )

    def topic_subscription_get(self, topic: str, subscription_id: str) -> Call[Subscription]:
        op = Operation.TOPIC_SUBSCRIPTION_GET
        params = _subscription_keys("topic_name", topic, subscription_id)
        return self._call(op, params, p.json_of(op, p.subscription))

    def topic_subscription_update(
        self,
        topic: str,
        subscription_id: str,
        *,
        subscriber: str | None = None,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        return self._subscription_update(
            Operation.TOPIC_SUBSCRIPTION_UPDATE,
            "topic_name",
            topic,
            subscription_id,
            subscriber,
            ttl,
            options,
        )

    def topic_subscription_delete(self, topic: str, subscription_id: str) -> Call[None]:
        op = Operation.TOPIC_SUBSCRIPTION_DELETE
        params = _subscription_keys("topic_name", topic, subscription_id)
        return self._call(op, params, p.no_content(op))

    # -- following hrefs ----------------------------------------------------------

    def follow(self, path: str, query: Sequence[tuple[str, str]] = ()) -> Call[Any]:
        """``GET`` an href the server handed out (already split by
        :func:`zaqarkit.core.urls.split_ref`); the answer is the decoded JSON.
        The one request with no canonical parameters: only the server knows
        what the href means."""
        request = Request(Operation.FOLLOW, "GET", path, tuple(query), version=self.version)

        def parse(response: Response) -> Any:
            p.raise_for_status(response, f"GET {path}")
            return p.decode_json(response, allow_empty=True)

        return Call(request, parse)


def _subscription_keys(key: str, name: str, subscription_id: str) -> dict[str, Any]:
    return {
        key: v.name(name, key.replace("_", " ")),
        "subscription_id": v.identifier(subscription_id, "subscription_id"),
    }
