"""Builders for the legacy Zaqar APIs v1.1 and v1, and the per-version factory.

Zaqar removed both versions upstream (v1 in fb0b6d67, v1.1 in ac800de3); zaqar
19 still serves them next to ``/v2``. The classes below override only what
differs on the wire from :class:`~zaqarkit.core.api.ApiV2`; everything else is
inherited, so a v1.1 claim is built by exactly the code that builds a v2 claim.
Operations a version lacks (pop on v1, subscriptions, purge, share, topics,
queue PATCH, flavors on v1) are missing from its route table, so the builder
raises UnsupportedOperation naming the version and the operation before a
request exists.

>>> api = api_for("1")
>>> call = api.message_post("orders", [{"body": {"id": 1}, "ttl": 300}])
>>> call.request.path, call.request.body
('/v1/queues/orders/messages', b'[{"body":{"id":1},"ttl":300}]')
>>> api.message_pop("orders")
Traceback (most recent call last):
...
zaqarkit.errors.UnsupportedOperation: operation 'message_pop' is not available in Zaqar API v1; \
use version='2' (it is in API v1.1, v2)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zaqarkit.core import parse as p
from zaqarkit.core import validate as v
from zaqarkit.core.api import ApiV2
from zaqarkit.core.models import Claim, Flavor, Health, Message, Page, Pool, Queue
from zaqarkit.core.operations import ApiVersion, Operation, route_for
from zaqarkit.core.wire import Call, Response
from zaqarkit.errors import UnsupportedOperation, ValidationError

__all__ = ["ApiV1", "ApiV1_1", "api_for", "queue_exists_call", "queue_replace_metadata_call"]

#: Zaqar's default claim ttl and grace (``[transport] default_claim_ttl`` and
#: ``default_claim_grace``); v1 requires both fields, later versions default them.
DEFAULT_CLAIM_TTL = 300
DEFAULT_CLAIM_GRACE = 60


def _unsupported(version: ApiVersion, what: str) -> UnsupportedOperation:
    # Every refusal here is of something v2 has: name the option that gets it.
    return UnsupportedOperation(
        f"{what} is not available in Zaqar API v{version.value}; use version=2"
    )


class ApiV1_1(ApiV2):
    """Builders for Zaqar API v1.1 (``/v1.1``).

    Same wire format as v2 for queues, messages, claims and pools, minus what
    v1.1 never had: queue PATCH (metadata is set only by the PUT that creates
    the queue), per-message ``delay``, queue-listing filters, subscriptions,
    purge, share and topics. Flavors name one pool *group* (``pool``) instead
    of a ``pool_list``.

    >>> ApiV1_1().queue_create("q", {"a": 1}).request.path
    '/v1.1/queues/q'
    """

    version = ApiVersion.V1_1
    flavor_pool_groups = True
    counts_queues = False

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
        """``GET /queues``: only ``limit``, ``marker`` and ``detailed`` exist
        (the server would silently ignore ``with_count``, ``name`` and filters)."""
        extra = dict(filters, with_count=with_count, name=name)
        given = sorted(key for key, value in extra.items() if value is not None)
        if given:
            raise _unsupported(self.version, f"queue_list parameter(s) {', '.join(given)}")
        return super().queue_list(limit=limit, marker=marker, detailed=detailed)

    def _message_items(self, messages: Any) -> list[dict[str, Any]]:
        # The body is {"messages": [...]} as in v2, but the server silently
        # drops a per-message delay: refuse it instead.
        items = super()._message_items(messages)
        if any("delay" in item for item in items):
            raise _unsupported(self.version, "per-message 'delay' (a v2 feature)")
        return items

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
        """``GET /queues/{queue}/messages``; ``include_delayed`` does not exist here."""
        if include_delayed is not None:
            raise _unsupported(self.version, "message_list parameter include_delayed")
        return super().message_list(
            queue, limit=limit, marker=marker, echo=echo, include_claimed=include_claimed
        )

    # -- pools: no flavor field, and PATCH answers 200 with an empty body ----------

    def pool_create(
        self,
        name: str,
        uri: str,
        weight: int,
        *,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[None]:
        """``PUT /pools/{name}`` (admin). A PUT on an existing pool replaces it
        (201 again, no 409). The ``flavor`` field is v2's."""
        if flavor is not None:
            raise _unsupported(self.version, "a pool 'flavor'")
        return super().pool_create(name, uri, weight, options=options)

    def pool_update(
        self,
        name: str,
        *,
        uri: str | None = None,
        weight: int | None = None,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call[Pool]:
        """``PATCH /pools/{name}``. The server answers 200 with no body, so the
        returned :class:`Pool` holds only the fields sent (fetch it for the rest)."""
        if flavor is not None:
            raise _unsupported(self.version, "a pool 'flavor'")
        call = super().pool_update(name, uri=uri, weight=weight, options=options)
        op = Operation.POOL_UPDATE

        def parse(response: Response) -> Pool:
            p.raise_for_status(response, op)
            data = p.decode_json(response, allow_empty=True)
            if data is not None:
                return p.pool(data)
            return Pool(name, uri=uri, weight=weight, options=options)

        return Call(call.request, parse)

    # -- flavors: one pool group instead of a pool list -----------------------------

    def _pool_group(self, pool_list: Iterable[str]) -> str:
        if isinstance(pool_list, str):
            pool_list = [pool_list]
        names = [v.name(name, "pool group") for name in pool_list]
        if len(names) != 1:
            raise ValidationError(
                "pool_list",
                f"Zaqar API v{self.version.value} flavors name exactly one pool group, "
                f"got {names!r}",
            )
        return names[0]

    def flavor_create(self, name: str, pool_list: Iterable[str]) -> Call[None]:
        """``PUT /v1.1/flavors/{name}`` with ``{"pool": <group>, "capabilities": {}}``.

        ``pool_list`` must hold exactly one name: the pool group. ``capabilities``
        is always sent because zaqar 19's v1.1 handler reads it unconditionally
        (a 500 without it), and older servers accept an empty object.

        >>> ApiV1_1().flavor_create("gold", ["fast"]).request.body
        b'{"pool":"fast","capabilities":{}}'
        """
        op = Operation.FLAVOR_CREATE
        params = {
            "flavor_name": v.name(name, "flavor name"),
            "pool": self._pool_group(pool_list),
            "capabilities": {},
        }
        return self._call(op, params, p.no_content(op))

    def flavor_update(self, name: str, pool_list: Iterable[str]) -> Call[Flavor]:
        """``PATCH /v1.1/flavors/{name}`` with ``{"pool": <group>}``.

        zaqar 19 rejects every v1.1 flavor PATCH with 400 ("`capabilities` needs
        to be specified", a server bug); older v1.1 servers accept the pool.
        """
        op = Operation.FLAVOR_UPDATE
        v.name(name, "flavor name")
        group = self._pool_group(pool_list)

        def parse(response: Response) -> Flavor:
            p.raise_for_status(response, op)
            data = p.decode_json(response, allow_empty=True)
            return Flavor(name, pool_list=(group,)) if data is None else flavor_v1_1(data)

        return self._call(op, {"flavor_name": name, "pool": group}, parse)

    def flavor_get(self, name: str) -> Call[Flavor]:
        op = Operation.FLAVOR_GET
        v.name(name, "flavor name")
        return self._call(op, {"flavor_name": name}, p.json_of(op, flavor_v1_1))

    def flavor_list(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> Call[Page[Flavor]]:
        return self._collection_list(
            Operation.FLAVOR_LIST, "flavors", flavor_v1_1, limit, marker, detailed
        )


class ApiV1(ApiV1_1):
    """Builders for Zaqar API v1 (``/v1``).

    Differences from v1.1 on the wire: messages are posted as a bare JSON
    array and each needs a ``ttl``; claims need ``ttl`` and ``grace``; empty
    listings answer 204; queue metadata is its own resource
    (``/queues/{q}/metadata``) and ``HEAD /queues/{q}`` tells whether a queue
    exists; the public ``/health`` (204 or 503) stands in for ``/ping``; no
    pop and no flavors.

    >>> api = ApiV1()
    >>> api.queue_exists("q").request.method, api.ping().request.path
    ('HEAD', '/v1/health')
    """

    version = ApiVersion.V1
    post_creates_queue = False

    def health(self) -> Call[Health]:
        """``GET /v1/health``: public, no body. 204 gives
        ``Health({"storage_reachable": True})``, 503 ``{"storage_reachable": False}``;
        v1 has no detailed (admin) health document.

        >>> from zaqarkit.core.wire import Response
        >>> ApiV1().health().parse(Response(204)).storage_reachable
        True
        """
        op = Operation.HEALTH

        def parse(response: Response) -> Health:
            if response.status == 503:
                return Health({"storage_reachable": False})
            p.raise_for_status(response, op)
            return Health({"storage_reachable": True})

        return self._call(op, None, parse)

    def queue_create(self, name: str, metadata: Mapping[str, Any] | None = None) -> Call[bool]:
        """``PUT /v1/queues/{name}``: True if created. v1 ignores a body here, so
        metadata is refused (set it afterwards with :meth:`queue_set_metadata`)."""
        if metadata:
            raise _unsupported(
                self.version,
                "setting metadata when creating a queue (create it, then PUT its metadata)",
            )
        return super().queue_create(name)

    def queue_exists(self, name: str) -> Call[bool]:
        """``HEAD /v1/queues/{name}``: True on 204, False on 404.

        >>> from zaqarkit.core.wire import Response
        >>> ApiV1().queue_exists("q").parse(Response(404))
        False
        """
        op = Operation.QUEUE_EXISTS
        v.name(name)

        def parse(response: Response) -> bool:
            if response.status == 404:
                return False
            p.raise_for_status(response, op)
            return True

        return self._call(op, {"queue_name": name}, parse)

    def queue_get(self, name: str) -> Call[dict[str, Any]]:
        """``GET /v1/queues/{name}/metadata``: the metadata as stored (v1 has no
        reserved keys to merge in). NotFound if the queue does not exist."""
        op = Operation.QUEUE_GET_METADATA
        v.name(name)
        return self._call(op, {"queue_name": name}, p.metadata_of(op, "queue metadata"))

    def queue_set_metadata(self, name: str, metadata: Mapping[str, Any]) -> Call[dict[str, Any]]:
        """``PUT /v1/queues/{name}/metadata``: replace the whole document; the
        answer (204) carries no body, so the result is the metadata sent.
        Keys starting with ``_`` are refused by v1 (400), so they are refused here.

        >>> ApiV1().queue_set_metadata("q", {"a": 1}).request.body
        b'{"a":1}'
        """
        op = Operation.QUEUE_SET_METADATA
        v.name(name)
        body = v.metadata(metadata, self.limits)
        reserved = sorted(key for key in body if key.startswith("_"))
        if reserved:
            raise ValidationError(
                "metadata", f"keys starting with '_' cannot be set in Zaqar API v1: {reserved}"
            )

        def parse(response: Response) -> dict[str, Any]:
            p.raise_for_status(response, op)
            return body

        return self._call(op, {"queue_name": name, "metadata": body}, parse)

    def _message_items(self, messages: Any) -> list[dict[str, Any]]:
        # Every v1 message needs a ttl (the server answers 400 otherwise).
        items = super()._message_items(messages)
        for index, item in enumerate(items):
            if "ttl" not in item:
                raise ValidationError(f"messages[{index}].ttl", "is required by Zaqar API v1")
        return items

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
        """``GET /v1/queues/{queue}/messages``. v1 answers 204 for an empty queue
        and 404 for a missing one; both are an empty page here, as in v1.1 and v2."""
        call = super().message_list(
            queue,
            limit=limit,
            marker=marker,
            echo=echo,
            include_claimed=include_claimed,
            include_delayed=include_delayed,
        )
        listing = call.parse

        def parse(response: Response) -> Page[Message[Any]]:
            return Page(()) if response.status == 404 else listing(response)

        return Call(call.request, parse)

    def message_get_many(
        self, queue: str, message_ids: Iterable[str]
    ) -> Call[tuple[Message[Any], ...]]:
        """``GET /v1/queues/{queue}/messages?ids=...``: v1 answers a bare JSON array,
        or 204 when none of the ids exist (an empty result here)."""
        call = super().message_get_many(queue, message_ids)
        op = Operation.MESSAGE_GET_MANY

        def parse(response: Response) -> tuple[Message[Any], ...]:
            if response.status in (204, 404):
                return ()
            p.raise_for_status(response, op)
            return p.messages(p.decode_json(response))

        return Call(call.request, parse)

    def claim_create(
        self,
        queue: str,
        *,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
    ) -> Call[Claim[Any]]:
        """``POST /v1/queues/{queue}/claims``. v1 requires both ``ttl`` and
        ``grace``; an omitted one is sent as Zaqar's default (300 and 60 s), which
        is what v1.1 and v2 servers apply. The answer is a bare array of messages."""
        return super().claim_create(
            queue,
            ttl=DEFAULT_CLAIM_TTL if ttl is None else ttl,
            grace=DEFAULT_CLAIM_GRACE if grace is None else grace,
            limit=limit,
        )

    def claim_update(
        self, queue: str, claim_id: str, *, ttl: int | None = None, grace: int | None = None
    ) -> Call[None]:
        """``PATCH /v1/queues/{queue}/claims/{id}``: v1 requires ``ttl``."""
        if ttl is None:
            raise ValidationError("ttl", "is required to update a claim in Zaqar API v1")
        return super().claim_update(queue, claim_id, ttl=ttl, grace=grace)


def flavor_v1_1(value: Any) -> Flavor:
    """A v1.1 flavor: ``{"name", "href"[, "pool"][, "capabilities": {...}]}``.

    The pool group becomes a one-item ``pool_list``; capabilities are an object
    in v1.1 (a list in v2), so its keys are kept. zaqar 19 stores no pool group
    any more and answers without ``pool``.

    >>> flavor_v1_1({"name": "f", "pool": "g", "capabilities": {"durable": True}})
    Flavor(name='f', href=None, pool_list=('g',), capabilities=('durable',))
    """
    obj = p.expect_object(value, "flavor")
    name = p.field(obj, "name", str, "flavor")
    group = p.optional(obj, "pool", str, "flavor")
    capabilities = obj.get("capabilities")
    if isinstance(capabilities, list):
        keys = tuple(str(item) for item in capabilities)
    elif capabilities is None:
        keys = ()
    else:
        keys = tuple(p.expect_object(capabilities, "flavor.capabilities"))
    return Flavor(
        name=name,
        href=p.optional(obj, "href", str, "flavor"),
        pool_list=(group,) if group else (),
        capabilities=keys,
    )


_APIS: dict[ApiVersion, type[ApiV2]] = {
    ApiVersion.V1: ApiV1,
    ApiVersion.V1_1: ApiV1_1,
    ApiVersion.V2: ApiV2,
}


def api_for(version: object, limits: v.Limits = v.DEFAULT_LIMITS) -> ApiV2:
    """The builders for ``version`` (``1``, ``"1.0"``, ``1.1``, ``"2"``, an
    :class:`ApiVersion`, ...).

    >>> type(api_for(1.1)).__name__, api_for("2").version.value
    ('ApiV1_1', '2')
    """
    return _APIS[ApiVersion.parse(version)](limits)


# -- what the facade asks when the versions need different calls -----------------


def queue_exists_call(api: ApiV2, name: str) -> Call[bool] | None:
    """The one-request existence check where the version has one (v1's ``HEAD``).

    None for v1.1 and v2: there ``GET /queues/{name}`` answers 200 for any name,
    so only the queue listing can tell.

    >>> queue_exists_call(api_for(1), "q").request.method, queue_exists_call(api_for(2), "q")
    ('HEAD', None)
    """
    if isinstance(api, ApiV1):
        return api.queue_exists(name)
    return None


def queue_replace_metadata_call(
    api: ApiV2, name: str, metadata: Mapping[str, Any]
) -> Call[dict[str, Any]] | None:
    """How to replace a queue's metadata with ``metadata`` in ``api``'s version.

    v1: the ``PUT .../metadata`` call. v1.1: UnsupportedOperation (no PATCH, and
    PUT only sets metadata when it creates the queue). v2: None, meaning "read
    the current metadata and send :func:`~zaqarkit.core.api.metadata_patch` of it".

    >>> from zaqarkit.errors import UnsupportedOperation
    >>> try:
    ...     queue_replace_metadata_call(api_for(1.1), "q", {"a": 1})
    ... except UnsupportedOperation as exc:
    ...     print(exc)
    operation 'queue_update' is not available in Zaqar API v1.1; use version='2' (it is in API v2)
    """
    if isinstance(api, ApiV1):
        return api.queue_set_metadata(name, metadata)
    route_for(api.version, Operation.QUEUE_UPDATE)
    return None
