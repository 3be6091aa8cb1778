"""Every ApiV2 builder renders the exact request Zaqar v2 expects."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from zaqarkit.core import JSON_PATCH, ApiV2, Call, Operation
from zaqarkit.core.operations import V2_ROUTES

JSON = "application/json"
SUB = "5b4f3c2a1d0e"
Build = Callable[[ApiV2], Call[Any]]

# (builder call, operation, method, path, query, body bytes or None, content type)
CASES: list[tuple[str, Build, Operation, str, str, tuple[tuple[str, str], ...], bytes | None]] = [
    # -- home, ping, health
    ("home_document", lambda a: a.home_document(), Operation.GET_HOME_DOC, "GET", "/v2/", (), None),
    ("ping", lambda a: a.ping(), Operation.PING, "GET", "/v2/ping", (), None),
    ("health", lambda a: a.health(), Operation.HEALTH, "GET", "/v2/health", (), None),
    # -- queues
    ("queue_list", lambda a: a.queue_list(), Operation.QUEUE_LIST, "GET", "/v2/queues", (), None),
    (
        "queue_list",
        lambda a: a.queue_list(
            limit=5,
            marker="q3",
            detailed=True,
            with_count=False,
            name="ord",
            color="red",
            hot=True,
            size=3,
        ),
        Operation.QUEUE_LIST,
        "GET",
        "/v2/queues",
        (
            ("limit", "5"),
            ("marker", "q3"),
            ("detailed", "true"),
            ("with_count", "false"),
            ("name", "ord"),
            ("color", "red"),
            ("hot", "true"),
            ("size", "3"),
        ),
        None,
    ),
    (
        "queue_create",
        lambda a: a.queue_create("orders"),
        Operation.QUEUE_CREATE,
        "PUT",
        "/v2/queues/orders",
        (),
        None,
    ),
    (
        "queue_create",
        lambda a: a.queue_create("orders.eu-1", {"_default_message_ttl": 300, "note": "été"}),
        Operation.QUEUE_CREATE,
        "PUT",
        "/v2/queues/orders.eu-1",
        (),
        '{"_default_message_ttl":300,"note":"été"}'.encode(),
    ),
    (
        "queue_create",
        lambda a: a.queue_create("orders", {}),
        Operation.QUEUE_CREATE,
        "PUT",
        "/v2/queues/orders",
        (),
        b"{}",
    ),
    ("queue_get", lambda a: a.queue_get("q"), Operation.QUEUE_GET, "GET", "/v2/queues/q", (), None),
    (
        "queue_update",
        lambda a: a.queue_update(
            "q",
            [
                {"op": "add", "path": "/metadata/a", "value": 1},
                {"op": "replace", "path": "/metadata/b", "value": [1]},
                {"op": "remove", "path": "/metadata/c", "value": "ignored"},
            ],
        ),
        Operation.QUEUE_UPDATE,
        "PATCH",
        "/v2/queues/q",
        (),
        b'[{"op":"add","path":"/metadata/a","value":1},'
        b'{"op":"replace","path":"/metadata/b","value":[1]},'
        b'{"op":"remove","path":"/metadata/c"}]',
    ),
    (
        "queue_delete",
        lambda a: a.queue_delete("q"),
        Operation.QUEUE_DELETE,
        "DELETE",
        "/v2/queues/q",
        (),
        None,
    ),
    (
        "queue_stats",
        lambda a: a.queue_stats("q"),
        Operation.QUEUE_GET_STATS,
        "GET",
        "/v2/queues/q/stats",
        (),
        None,
    ),
    (
        "queue_purge",
        lambda a: a.queue_purge("q"),
        Operation.QUEUE_PURGE,
        "POST",
        "/v2/queues/q/purge",
        (),
        None,
    ),
    (
        "queue_purge",
        lambda a: a.queue_purge("q", ["messages"]),
        Operation.QUEUE_PURGE,
        "POST",
        "/v2/queues/q/purge",
        (),
        b'{"resource_types":["messages"]}',
    ),
    (
        "queue_share",
        lambda a: a.queue_share("q"),
        Operation.QUEUE_SHARE,
        "POST",
        "/v2/queues/q/share",
        (),
        b"{}",
    ),
    (
        "queue_share",
        lambda a: a.queue_share(
            "q",
            paths=["messages", "claims"],
            methods=["get", "POST"],
            expires=dt.datetime(2030, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        Operation.QUEUE_SHARE,
        "POST",
        "/v2/queues/q/share",
        (),
        b'{"paths":["messages","claims"],"methods":["GET","POST"],"expires":"2030-01-02T03:04:05"}',
    ),
    (
        "queue_share",
        lambda a: a.queue_share("q", expires=dt.datetime(2030, 1, 2, 3, 4, 5)),
        Operation.QUEUE_SHARE,
        "POST",
        "/v2/queues/q/share",
        (),
        b'{"expires":"2030-01-02T03:04:05"}',
    ),
    (
        "queue_share",
        lambda a: a.queue_share("q", expires="2030-01-02T03:04:05", paths=[], methods=[]),
        Operation.QUEUE_SHARE,
        "POST",
        "/v2/queues/q/share",
        (),
        b'{"paths":[],"methods":[],"expires":"2030-01-02T03:04:05"}',
    ),
    # -- messages
    (
        "message_post",
        lambda a: a.message_post("q", {"body": {"event": "paid"}}),
        Operation.MESSAGE_POST,
        "POST",
        "/v2/queues/q/messages",
        (),
        b'{"messages":[{"body":{"event":"paid"}}]}',
    ),
    (
        "message_post",
        lambda a: a.message_post(
            "q", [{"body": "a", "ttl": 60, "delay": 0}, {"body": None, "ttl": None, "delay": 900}]
        ),
        Operation.MESSAGE_POST,
        "POST",
        "/v2/queues/q/messages",
        (),
        b'{"messages":[{"body":"a","ttl":60,"delay":0},{"body":null,"delay":900}]}',
    ),
    (
        "message_list",
        lambda a: a.message_list("q"),
        Operation.MESSAGE_LIST,
        "GET",
        "/v2/queues/q/messages",
        (),
        None,
    ),
    (
        "message_list",
        lambda a: a.message_list(
            "q", limit=20, marker="m1", echo=True, include_claimed=False, include_delayed=True
        ),
        Operation.MESSAGE_LIST,
        "GET",
        "/v2/queues/q/messages",
        (
            ("limit", "20"),
            ("marker", "m1"),
            ("echo", "true"),
            ("include_claimed", "false"),
            ("include_delayed", "true"),
        ),
        None,
    ),
    (
        "message_get",
        lambda a: a.message_get("q", "m1"),
        Operation.MESSAGE_GET,
        "GET",
        "/v2/queues/q/messages/m1",
        (),
        None,
    ),
    (
        "message_get_many",
        lambda a: a.message_get_many("q", ["m1", "m2"]),
        Operation.MESSAGE_GET_MANY,
        "GET",
        "/v2/queues/q/messages",
        (("ids", "m1,m2"),),
        None,
    ),
    (
        "message_delete",
        lambda a: a.message_delete("q", "m1"),
        Operation.MESSAGE_DELETE,
        "DELETE",
        "/v2/queues/q/messages/m1",
        (),
        None,
    ),
    (
        "message_delete",
        lambda a: a.message_delete("q", "m1", claim_id="c1"),
        Operation.MESSAGE_DELETE,
        "DELETE",
        "/v2/queues/q/messages/m1",
        (("claim_id", "c1"),),
        None,
    ),
    (
        "message_delete_many",
        lambda a: a.message_delete_many("q", iter(["m1", "m2"])),
        Operation.MESSAGE_DELETE_MANY,
        "DELETE",
        "/v2/queues/q/messages",
        (("ids", "m1,m2"),),
        None,
    ),
    (
        "message_delete_many",
        lambda a: a.message_delete_many("q", ["m1"], claim_ids=["c1", "c2"]),
        Operation.MESSAGE_DELETE_MANY,
        "DELETE",
        "/v2/queues/q/messages",
        (("ids", "m1"), ("claim_ids", "c1,c2")),
        None,
    ),
    (
        "message_pop",
        lambda a: a.message_pop("q"),
        Operation.MESSAGE_POP,
        "DELETE",
        "/v2/queues/q/messages",
        (("pop", "1"),),
        None,
    ),
    (
        "message_pop",
        lambda a: a.message_pop("q", 20),
        Operation.MESSAGE_POP,
        "DELETE",
        "/v2/queues/q/messages",
        (("pop", "20"),),
        None,
    ),
    # -- claims
    (
        "claim_create",
        lambda a: a.claim_create("q"),
        Operation.CLAIM_CREATE,
        "POST",
        "/v2/queues/q/claims",
        (),
        b"{}",
    ),
    (
        "claim_create",
        lambda a: a.claim_create("q", ttl=300, grace=60, limit=5),
        Operation.CLAIM_CREATE,
        "POST",
        "/v2/queues/q/claims",
        (("limit", "5"),),
        b'{"ttl":300,"grace":60}',
    ),
    (
        "claim_get",
        lambda a: a.claim_get("q", "c1"),
        Operation.CLAIM_GET,
        "GET",
        "/v2/queues/q/claims/c1",
        (),
        None,
    ),
    (
        "claim_update",
        lambda a: a.claim_update("q", "c1", ttl=600),
        Operation.CLAIM_UPDATE,
        "PATCH",
        "/v2/queues/q/claims/c1",
        (),
        b'{"ttl":600}',
    ),
    (
        "claim_update",
        lambda a: a.claim_update("q", "c1", ttl=600, grace=120),
        Operation.CLAIM_UPDATE,
        "PATCH",
        "/v2/queues/q/claims/c1",
        (),
        b'{"ttl":600,"grace":120}',
    ),
    (
        "claim_update",
        lambda a: a.claim_update("q", "c1", grace=120),
        Operation.CLAIM_UPDATE,
        "PATCH",
        "/v2/queues/q/claims/c1",
        (),
        b'{"grace":120}',
    ),
    (
        "claim_delete",
        lambda a: a.claim_delete("q", "c1"),
        Operation.CLAIM_DELETE,
        "DELETE",
        "/v2/queues/q/claims/c1",
        (),
        None,
    ),
    # -- subscriptions
    (
        "subscription_list",
        lambda a: a.subscription_list("q", limit=2, marker=SUB),
        Operation.SUBSCRIPTION_LIST,
        "GET",
        "/v2/queues/q/subscriptions",
        (("limit", "2"), ("marker", SUB)),
        None,
    ),
    (
        "subscription_create",
        lambda a: a.subscription_create("q", "http://hook.example/x"),
        Operation.SUBSCRIPTION_CREATE,
        "POST",
        "/v2/queues/q/subscriptions",
        (),
        b'{"subscriber":"http://hook.example/x"}',
    ),
    (
        "subscription_create",
        lambda a: a.subscription_create(
            "q", "mailto:ops@example.com", ttl=3600, options={"subject": "hi"}
        ),
        Operation.SUBSCRIPTION_CREATE,
        "POST",
        "/v2/queues/q/subscriptions",
        (),
        b'{"subscriber":"mailto:ops@example.com","ttl":3600,"options":{"subject":"hi"}}',
    ),
    (
        "push_subscription_create",
        lambda a: a.push_subscription_create("q", ttl=3600),
        Operation.SUBSCRIPTION_CREATE,
        "POST",
        "/v2/queues/q/subscriptions",
        (),
        b'{"ttl":3600}',
    ),
    (
        "subscription_get",
        lambda a: a.subscription_get("q", SUB),
        Operation.SUBSCRIPTION_GET,
        "GET",
        f"/v2/queues/q/subscriptions/{SUB}",
        (),
        None,
    ),
    (
        "subscription_update",
        lambda a: a.subscription_update("q", SUB, ttl=7200),
        Operation.SUBSCRIPTION_UPDATE,
        "PATCH",
        f"/v2/queues/q/subscriptions/{SUB}",
        (),
        b'{"ttl":7200}',
    ),
    (
        "subscription_update",
        lambda a: a.subscription_update("q", SUB, subscriber="trust+https://h/x", options={}),
        Operation.SUBSCRIPTION_UPDATE,
        "PATCH",
        f"/v2/queues/q/subscriptions/{SUB}",
        (),
        b'{"subscriber":"trust+https://h/x","options":{}}',
    ),
    (
        "subscription_delete",
        lambda a: a.subscription_delete("q", SUB),
        Operation.SUBSCRIPTION_DELETE,
        "DELETE",
        f"/v2/queues/q/subscriptions/{SUB}",
        (),
        None,
    ),
    (
        "subscription_confirm",
        lambda a: a.subscription_confirm("q", SUB),
        Operation.SUBSCRIPTION_CONFIRM,
        "PUT",
        f"/v2/queues/q/subscriptions/{SUB}/confirm",
        (),
        b'{"confirmed":true}',
    ),
    (
        "subscription_confirm",
        lambda a: a.subscription_confirm("q", SUB, False),
        Operation.SUBSCRIPTION_CONFIRM,
        "PUT",
        f"/v2/queues/q/subscriptions/{SUB}/confirm",
        (),
        b'{"confirmed":false}',
    ),
    # -- pools
    (
        "pool_list",
        lambda a: a.pool_list(limit=1, marker="p0", detailed=False),
        Operation.POOL_LIST,
        "GET",
        "/v2/pools",
        (("limit", "1"), ("marker", "p0"), ("detailed", "false")),
        None,
    ),
    (
        "pool_create",
        lambda a: a.pool_create("p1", "redis://r:6379", 100),
        Operation.POOL_CREATE,
        "PUT",
        "/v2/pools/p1",
        (),
        b'{"uri":"redis://r:6379","weight":100}',
    ),
    (
        "pool_create",
        lambda a: a.pool_create(
            "p1", "mongodb://m", 0, flavor="gold", options={"max_retry_sleep": 1}
        ),
        Operation.POOL_CREATE,
        "PUT",
        "/v2/pools/p1",
        (),
        b'{"uri":"mongodb://m","weight":0,"flavor":"gold","options":{"max_retry_sleep":1}}',
    ),
    (
        "pool_get",
        lambda a: a.pool_get("p1"),
        Operation.POOL_GET,
        "GET",
        "/v2/pools/p1",
        (),
        None,
    ),
    (
        "pool_get",
        lambda a: a.pool_get("p1", detailed=True),
        Operation.POOL_GET,
        "GET",
        "/v2/pools/p1",
        (("detailed", "true"),),
        None,
    ),
    (
        "pool_update",
        lambda a: a.pool_update("p1", weight=4294967295),
        Operation.POOL_UPDATE,
        "PATCH",
        "/v2/pools/p1",
        (),
        b'{"weight":4294967295}',
    ),
    (
        "pool_delete",
        lambda a: a.pool_delete("p1"),
        Operation.POOL_DELETE,
        "DELETE",
        "/v2/pools/p1",
        (),
        None,
    ),
    # -- flavors
    (
        "flavor_list",
        lambda a: a.flavor_list(detailed=True),
        Operation.FLAVOR_LIST,
        "GET",
        "/v2/flavors",
        (("detailed", "true"),),
        None,
    ),
    (
        "flavor_create",
        lambda a: a.flavor_create("gold", ("p1", "p2")),
        Operation.FLAVOR_CREATE,
        "PUT",
        "/v2/flavors/gold",
        (),
        b'{"pool_list":["p1","p2"]}',
    ),
    (
        "flavor_get",
        lambda a: a.flavor_get("gold"),
        Operation.FLAVOR_GET,
        "GET",
        "/v2/flavors/gold",
        (),
        None,
    ),
    (
        "flavor_update",
        lambda a: a.flavor_update("gold", ["p2"]),
        Operation.FLAVOR_UPDATE,
        "PATCH",
        "/v2/flavors/gold",
        (),
        b'{"pool_list":["p2"]}',
    ),
    (
        "flavor_delete",
        lambda a: a.flavor_delete("gold"),
        Operation.FLAVOR_DELETE,
        "DELETE",
        "/v2/flavors/gold",
        (),
        None,
    ),
    # -- topics
    (
        "topic_list",
        lambda a: a.topic_list(limit=3, marker="t1", detailed=True),
        Operation.TOPIC_LIST,
        "GET",
        "/v2/topics",
        (("limit", "3"), ("marker", "t1"), ("detailed", "true")),
        None,
    ),
    (
        "topic_create",
        lambda a: a.topic_create("t", {"k": 1}),
        Operation.TOPIC_CREATE,
        "PUT",
        "/v2/topics/t",
        (),
        b'{"k":1}',
    ),
    ("topic_get", lambda a: a.topic_get("t"), Operation.TOPIC_GET, "GET", "/v2/topics/t", (), None),
    (
        "topic_update",
        lambda a: a.topic_update("t", [{"op": "remove", "path": "/metadata/k"}]),
        Operation.TOPIC_UPDATE,
        "PATCH",
        "/v2/topics/t",
        (),
        b'[{"op":"remove","path":"/metadata/k"}]',
    ),
    (
        "topic_delete",
        lambda a: a.topic_delete("t"),
        Operation.TOPIC_DELETE,
        "DELETE",
        "/v2/topics/t",
        (),
        None,
    ),
    (
        "topic_stats",
        lambda a: a.topic_stats("t"),
        Operation.TOPIC_GET_STATS,
        "GET",
        "/v2/topics/t/stats",
        (),
        None,
    ),
    (
        "topic_purge",
        lambda a: a.topic_purge("t", ["subscriptions", "messages"]),
        Operation.TOPIC_PURGE,
        "POST",
        "/v2/topics/t/purge",
        (),
        b'{"resource_types":["subscriptions","messages"]}',
    ),
    (
        "topic_message_post",
        lambda a: a.topic_message_post("t", [{"body": 1, "ttl": 120}]),
        Operation.TOPIC_MESSAGE_POST,
        "POST",
        "/v2/topics/t/messages",
        (),
        b'{"messages":[{"body":1,"ttl":120}]}',
    ),
    (
        "topic_message_list",
        lambda a: a.topic_message_list("t", limit=2, marker="m", echo=False),
        Operation.TOPIC_MESSAGE_LIST,
        "GET",
        "/v2/topics/t/messages",
        (("limit", "2"), ("marker", "m"), ("echo", "false")),
        None,
    ),
    (
        "topic_subscription_list",
        lambda a: a.topic_subscription_list("t"),
        Operation.TOPIC_SUBSCRIPTION_LIST,
        "GET",
        "/v2/topics/t/subscriptions",
        (),
        None,
    ),
    (
        "topic_subscription_create",
        lambda a: a.topic_subscription_create("t", "https://h/x", ttl=60),
        Operation.TOPIC_SUBSCRIPTION_CREATE,
        "POST",
        "/v2/topics/t/subscriptions",
        (),
        b'{"subscriber":"https://h/x","ttl":60}',
    ),
    (
        "topic_subscription_get",
        lambda a: a.topic_subscription_get("t", SUB),
        Operation.TOPIC_SUBSCRIPTION_GET,
        "GET",
        f"/v2/topics/t/subscriptions/{SUB}",
        (),
        None,
    ),
    (
        "topic_subscription_update",
        lambda a: a.topic_subscription_update("t", SUB, options={"a": 1}),
        Operation.TOPIC_SUBSCRIPTION_UPDATE,
        "PATCH",
        f"/v2/topics/t/subscriptions/{SUB}",
        (),
        b'{"options":{"a":1}}',
    ),
    (
        "topic_subscription_delete",
        lambda a: a.topic_subscription_delete("t", SUB),
        Operation.TOPIC_SUBSCRIPTION_DELETE,
        "DELETE",
        f"/v2/topics/t/subscriptions/{SUB}",
        (),
        None,
    ),
]


@pytest.mark.parametrize(
    ("builder", "build", "operation", "method", "path", "query", "body"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_builder_renders_request(
    builder: str,
    build: Build,
    operation: Operation,
    method: str,
    path: str,
    query: tuple[tuple[str, str], ...],
    body: bytes | None,
) -> None:
    request = build(ApiV2()).request
    assert request.operation is operation
    assert (request.method, request.path, request.query) == (method, path, query)
    assert request.body == body
    if body is None:
        assert request.headers == ()
    else:
        patch = operation in (Operation.QUEUE_UPDATE, Operation.TOPIC_UPDATE)
        assert request.headers == (("Content-Type", JSON_PATCH if patch else JSON),)
    assert request.url == ""
    # the route table agrees with what the builder rendered
    route = V2_ROUTES[operation]
    assert route.method == method


def _public_builders() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(ApiV2, inspect.isfunction)
        if not name.startswith("_") and name != "follow"
    }


def test_every_public_builder_and_every_v2_operation_is_in_the_table() -> None:
    assert {case[0] for case in CASES} == _public_builders()
    assert {case[2] for case in CASES} == set(V2_ROUTES)
    legacy_only = {
        Operation.QUEUE_EXISTS,
        Operation.QUEUE_GET_METADATA,
        Operation.QUEUE_SET_METADATA,
    }
    client_side = {Operation.FOLLOW}
    legacy_only |= client_side
    assert set(V2_ROUTES) == set(Operation) - legacy_only


def test_patch_content_type_is_zaqars_json_patch_type() -> None:
    assert JSON_PATCH == "application/openstack-messaging-v2.0-json-patch"
    request = ApiV2().queue_update("q", [{"op": "add", "path": "/metadata/a", "value": 1}]).request
    assert request.header("content-type") == JSON_PATCH
    assert request.header("Content-Length") is None


@pytest.mark.parametrize(
    ("build", "params"),
    [
        (lambda a: a.queue_list(limit=2, marker="a"), {"limit": 2, "marker": "a"}),
        (lambda a: a.queue_create("q", {"a": 1}), {"queue_name": "q", "metadata": {"a": 1}}),
        (lambda a: a.queue_create("q"), {"queue_name": "q"}),
        (lambda a: a.queue_get("q"), {"queue_name": "q"}),
        (lambda a: a.queue_delete("q"), {"queue_name": "q"}),
        (lambda a: a.queue_stats("q"), {"queue_name": "q"}),
        (
            lambda a: a.queue_purge("q", ["messages"]),
            {"queue_name": "q", "resource_types": ["messages"]},
        ),
        (lambda a: a.queue_purge("q"), {"queue_name": "q"}),
        (
            lambda a: a.message_post("q", {"body": 1}),
            {"queue_name": "q", "messages": [{"body": 1}]},
        ),
        (lambda a: a.message_list("q", limit=2), {"queue_name": "q", "limit": 2}),
        (lambda a: a.message_get("q", "m"), {"queue_name": "q", "message_id": "m"}),
        (
            lambda a: a.message_get_many("q", ["m", "n"]),
            {"queue_name": "q", "message_ids": ["m", "n"]},
        ),
        (
            lambda a: a.message_delete("q", "m", claim_id="c"),
            {"queue_name": "q", "message_id": "m", "claim_id": "c"},
        ),
        (
            lambda a: a.message_delete_many("q", ["m"], claim_ids=["c"]),
            {"queue_name": "q", "message_ids": ["m"], "claim_ids": ["c"]},
        ),
        (lambda a: a.message_pop("q", 3), {"queue_name": "q", "pop": 3}),
        (
            lambda a: a.claim_create("q", ttl=60, grace=60, limit=2),
            {"queue_name": "q", "ttl": 60, "grace": 60, "limit": 2},
        ),
        (lambda a: a.claim_get("q", "c"), {"queue_name": "q", "claim_id": "c"}),
        (
            lambda a: a.claim_update("q", "c", ttl=90),
            {"queue_name": "q", "claim_id": "c", "ttl": 90},
        ),
        (lambda a: a.claim_delete("q", "c"), {"queue_name": "q", "claim_id": "c"}),
        (lambda a: a.subscription_list("q"), {"queue_name": "q"}),
        (
            lambda a: a.subscription_create("q", "http://h", ttl=60),
            {"queue_name": "q", "subscriber": "http://h", "ttl": 60},
        ),
        (lambda a: a.subscription_get("q", "s"), {"queue_name": "q", "subscription_id": "s"}),
        (lambda a: a.subscription_delete("q", "s"), {"queue_name": "q", "subscription_id": "s"}),
    ],
)
def test_builders_keep_typed_canonical_params(build: Build, params: dict[str, Any]) -> None:
    assert dict(build(ApiV2()).request.params) == params


def test_follow_builds_a_plain_get_for_a_server_href() -> None:
    call = ApiV2().follow("/v2/queues/q/claims/c1", [("a", "1")])
    assert (call.request.method, call.request.path, call.request.query) == (
        "GET",
        "/v2/queues/q/claims/c1",
        (("a", "1"),),
    )
    # No route and no WebSocket action: a client with an HTTP endpoint sends it there.
    assert call.request.operation is Operation.FOLLOW


def test_requests_are_immutable_and_comparable() -> None:
    first = ApiV2().message_get("q", "m").request
    second = ApiV2().message_get("q", "m").request
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.method = "PUT"  # type: ignore[misc]
