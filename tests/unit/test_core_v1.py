"""Builders and parsers of API v1 and v1.1 (no server: requests are compared as
data, answers are the shapes zaqar 19 sent when probed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zaqarkit._settings import resolve
from zaqarkit.core import ROUTES, ApiV1, ApiV1_1, ApiV2, ApiVersion, Operation, api_for
from zaqarkit.core.api_v1 import flavor_v1_1, queue_exists_call, queue_replace_metadata_call
from zaqarkit.core.operations import V2_ROUTES, route_for, supports
from zaqarkit.core.wire import Response
from zaqarkit.errors import NotFound, UnsupportedOperation, ValidationError


def _json(status: int, data: Any, **headers: str) -> Response:
    return Response(status, {k.lower(): v for k, v in headers.items()}, json.dumps(data).encode())


@pytest.mark.parametrize(
    ("given", "cls"),
    [
        (1, ApiV1),
        ("1", ApiV1),
        ("1.0", ApiV1),
        (1.1, ApiV1_1),
        ("1.1", ApiV1_1),
        (2, ApiV2),
        ("2", ApiV2),
        (ApiVersion.V1, ApiV1),
    ],
)
def test_api_for_and_settings_accept_every_spelling(given: Any, cls: type) -> None:
    assert type(api_for(given)) is cls
    settings = resolve("http://h:1", given, None, None, project_id="p")
    assert type(settings.api) is cls
    assert settings.version is settings.api.version


def test_unknown_version_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="version"):
        api_for("3")


def test_v2_table_is_untouched_and_legacy_tables_are_subsets() -> None:
    assert ROUTES[ApiVersion.V2] is V2_ROUTES
    legacy_only = {
        Operation.QUEUE_EXISTS,
        Operation.QUEUE_GET_METADATA,
        Operation.QUEUE_SET_METADATA,
    }
    for version in (ApiVersion.V1, ApiVersion.V1_1):
        assert set(ROUTES[version]) - set(V2_ROUTES) <= legacy_only
    assert not legacy_only & set(V2_ROUTES)


@pytest.mark.parametrize(
    ("version", "operation"),
    [
        (v, op)
        for v in ("1", "1.1")
        for op in (
            Operation.QUEUE_PURGE,
            Operation.QUEUE_SHARE,
            Operation.QUEUE_UPDATE,
            Operation.SUBSCRIPTION_CREATE,
            Operation.TOPIC_LIST,
        )
    ]
    + [
        ("1", Operation.MESSAGE_POP),
        ("1", Operation.FLAVOR_CREATE),
        ("1", Operation.QUEUE_GET),
        ("1.1", Operation.QUEUE_EXISTS),
    ],
)
def test_route_for_names_version_and_operation(version: str, operation: Operation) -> None:
    parsed = ApiVersion.parse(version)
    assert not supports(parsed, operation)
    with pytest.raises(UnsupportedOperation) as info:
        route_for(parsed, operation)
    # ... and names the version option that has it.
    offered = [v.value for v in ApiVersion if supports(v, operation)]
    assert str(info.value) == (
        f"operation {operation.value!r} is not available in Zaqar API v{version}; "
        f"use version={offered[-1]!r} (it is in API v{', v'.join(offered)})"
    )


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_unsupported_builders_raise_before_building(version: str) -> None:
    api = api_for(version)
    builders = [
        lambda: api.queue_purge("q"),
        lambda: api.queue_share("q"),
        lambda: api.queue_update("q", [{"op": "add", "path": "/metadata/a", "value": 1}]),
        lambda: api.subscription_create("q", "http://x/hook"),
        lambda: api.subscription_list("q"),
        lambda: api.topic_list(),
        lambda: api.topic_create("t"),
    ]
    for build in builders:
        with pytest.raises(UnsupportedOperation, match=f"Zaqar API v{version}; use version="):
            build()


def test_v1_requests() -> None:
    api = ApiV1()
    assert (api.ping().request.method, api.ping().request.path) == ("GET", "/v1/health")
    head = api.queue_exists("q").request
    assert (head.method, head.path, head.body) == ("HEAD", "/v1/queues/q", None)
    get = api.queue_get("q").request
    assert (get.method, get.path) == ("GET", "/v1/queues/q/metadata")
    put = api.queue_set_metadata("q", {"a": 1}).request
    assert (put.method, put.path, put.body) == ("PUT", "/v1/queues/q/metadata", b'{"a":1}')
    create = api.queue_create("q").request
    assert (create.method, create.path, create.body) == ("PUT", "/v1/queues/q", None)
    post = api.message_post("q", {"body": 1, "ttl": 60}).request
    assert post.body == b'[{"body":1,"ttl":60}]'
    claim = api.claim_create("q", limit=2).request
    assert json.loads(claim.body or b"") == {"ttl": 300, "grace": 60}
    assert claim.query == (("limit", "2"),)
    assert json.loads(api.claim_create("q", ttl=90).request.body or b"") == {
        "ttl": 90,
        "grace": 60,
    }


def test_v1_1_requests_share_the_v2_wire_format() -> None:
    v11, v2 = ApiV1_1(), ApiV2()
    for build in (
        lambda a: a.message_post("q", [{"body": 1}]),
        lambda a: a.message_pop("q", 2),
        lambda a: a.claim_create("q"),
        lambda a: a.claim_update("q", "c1", ttl=60),
        lambda a: a.queue_create("q", {"a": 1}),
        lambda a: a.queue_get("q"),
        lambda a: a.message_list("q", echo=True, limit=5),
        lambda a: a.pool_create("p", "redis://h", 1),
    ):
        r11, r2 = build(v11).request, build(v2).request
        assert r11.path == r2.path.replace("/v2/", "/v1.1/", 1)
        assert (r11.method, r11.query, r11.body) == (r2.method, r2.query, r2.body)
    assert v11.ping().request.path == "/v1.1/ping"
    assert v11.health().request.path == "/v1.1/health"


def test_v1_1_flavor_uses_a_pool_group() -> None:
    api = ApiV1_1()
    create = api.flavor_create("gold", ["fast"]).request
    assert (create.method, create.path) == ("PUT", "/v1.1/flavors/gold")
    assert json.loads(create.body or b"") == {"pool": "fast", "capabilities": {}}
    assert json.loads(api.flavor_update("gold", ["slow"]).request.body or b"") == {"pool": "slow"}
    with pytest.raises(ValidationError, match="exactly one pool group"):
        api.flavor_create("gold", ["a", "b"])
    with pytest.raises(UnsupportedOperation, match=r"'flavor_create'.*v1; use version='2'"):
        ApiV1().flavor_create("gold", ["fast"])


def test_v1_1_flavor_parser() -> None:
    assert flavor_v1_1({"name": "f", "href": "/v1.1/flavors/f"}).pool_list == ()
    parsed = flavor_v1_1({"name": "f", "pool": "g", "capabilities": {"durable": True}})
    assert (parsed.pool_list, parsed.capabilities) == (("g",), ("durable",))
    page = (
        ApiV1_1()
        .flavor_list()
        .parse(_json(200, {"links": [], "flavors": [{"name": "f", "capabilities": {}}]}))
    )
    assert [f.name for f in page.items] == ["f"]
    assert ApiV1_1().flavor_update("f", ["g"]).parse(Response(200)).pool_list == ("g",)


def test_v1_validation_sends_nothing() -> None:
    api = ApiV1()
    with pytest.raises(ValidationError, match=r"messages\[1\]\.ttl"):
        api.message_post("q", [{"body": 1, "ttl": 60}, {"body": 2}])
    with pytest.raises(ValidationError, match="'_' cannot be set"):
        api.queue_set_metadata("q", {"_default_message_ttl": 60})
    with pytest.raises(ValidationError, match="ttl"):
        api.claim_update("q", "c1", grace=60)
    with pytest.raises(UnsupportedOperation, match="metadata when creating"):
        api.queue_create("q", {"a": 1})
    for legacy in (ApiV1(), ApiV1_1()):
        with pytest.raises(UnsupportedOperation, match="delay"):
            legacy.message_post("q", [{"body": 1, "ttl": 60, "delay": 5}])
        with pytest.raises(UnsupportedOperation, match="include_delayed"):
            legacy.message_list("q", include_delayed=True)
        with pytest.raises(UnsupportedOperation, match="name, with_count"):
            legacy.queue_list(with_count=True, name="x")
        with pytest.raises(UnsupportedOperation, match="flavor"):
            legacy.pool_create("p", "redis://h", 1, flavor="gold")


def test_v1_parsers() -> None:
    api = ApiV1()
    assert api.ping().parse(Response(204)) is True
    assert api.ping().parse(Response(503)) is False
    assert api.health().parse(Response(204)).storage_reachable is True
    assert api.health().parse(Response(503)).storage_reachable is False
    assert api.queue_exists("q").parse(Response(204)) is True
    assert api.queue_exists("q").parse(Response(404)) is False
    assert api.queue_get("q").parse(_json(200, {"c": 3})) == {"c": 3}
    with pytest.raises(NotFound):
        api.queue_get("q").parse(_json(404, {"title": "Not found"}))
    assert api.queue_set_metadata("q", {"a": 1}).parse(Response(204)) == {"a": 1}
    assert api.queue_list().parse(Response(204)).items == ()
    assert api.message_list("q").parse(Response(204)).items == ()
    assert api.message_list("q").parse(_json(404, {"title": "Not found"})).items == ()
    href = "/v1/queues/q/messages/m1"
    many = api.message_get_many("q", ["m1"])
    assert [
        m.id for m in many.parse(_json(200, [{"href": href, "ttl": 60, "age": 0, "body": 1}]))
    ] == ["m1"]
    assert many.parse(Response(204)) == ()
    posted = api.message_post("q", {"body": 1, "ttl": 60}).parse(
        _json(201, {"resources": [href], "partial": False})
    )
    assert posted == ("m1",)
    claim = api.claim_create("q").parse(
        _json(
            201,
            [{"href": href + "?claim_id=c1", "ttl": 60, "age": 0, "body": 1}],
            Location="/v1/queues/q/claims/c1",
        )
    )
    assert (claim.id, claim.ttl, claim.grace, claim.messages[0].claim_id) == (
        "c1",
        300,
        60,
        "c1",
    )
    assert api.claim_create("q").parse(Response(204)).id is None


def test_legacy_pool_update_answers_without_a_body() -> None:
    for api in (ApiV1(), ApiV1_1()):
        pool = api.pool_update("p", weight=20).parse(Response(200))
        assert (pool.name, pool.weight, pool.uri) == ("p", 20, None)


def test_facade_helpers() -> None:
    assert queue_exists_call(api_for(2), "q") is None
    assert queue_exists_call(api_for(1.1), "q") is None
    call = queue_exists_call(api_for(1), "q")
    assert call is not None
    assert call.request.method == "HEAD"
    assert queue_replace_metadata_call(api_for(2), "q", {"a": 1}) is None
    replace = queue_replace_metadata_call(api_for(1), "q", {"a": 1})
    assert replace is not None
    assert replace.request.path == "/v1/queues/q/metadata"
    with pytest.raises(UnsupportedOperation, match=r"'queue_update'.*v1\.1; use version='2'"):
        queue_replace_metadata_call(api_for("1.1"), "q", {"a": 1})
