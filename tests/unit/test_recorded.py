"""Real Zaqar 23 answers (recorded by scripts/record_fixtures.py) parse into the
right values with the parser of the builder that produced the request."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zaqarkit.core import ApiV2, Call, Operation, Response
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
)
from zaqarkit.core.operations import V2_ROUTES
from zaqarkit.errors import ApiError, Conflict, Forbidden, NotFound

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = sorted(DATA.glob("*.json"))
API = ApiV2()
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

Params = dict[str, str]
Query = dict[str, str]

# How to rebuild the call that was recorded, from its path parameters and query.
# Arguments that only shape the request body are the recorder's own values.
BUILD: dict[Operation, Callable[[Params, Query], Call[Any]]] = {
    Operation.GET_HOME_DOC: lambda p, q: API.home_document(),
    Operation.PING: lambda p, q: API.ping(),
    Operation.HEALTH: lambda p, q: API.health(),
    Operation.QUEUE_LIST: lambda p, q: API.queue_list(
        limit=int(q["limit"]),
        detailed=q["detailed"] == "true",
        with_count=q["with_count"] == "true",
    ),
    Operation.QUEUE_CREATE: lambda p, q: API.queue_create(p["queue_name"], {"color": "red"}),
    Operation.QUEUE_GET: lambda p, q: API.queue_get(p["queue_name"]),
    Operation.QUEUE_UPDATE: lambda p, q: API.queue_update(
        p["queue_name"], [{"op": "add", "path": "/metadata/size", "value": 3}]
    ),
    Operation.QUEUE_DELETE: lambda p, q: API.queue_delete(p["queue_name"]),
    Operation.QUEUE_GET_STATS: lambda p, q: API.queue_stats(p["queue_name"]),
    Operation.QUEUE_PURGE: lambda p, q: API.queue_purge(
        p["queue_name"], ["messages", "subscriptions"]
    ),
    Operation.QUEUE_SHARE: lambda p, q: API.queue_share(
        p["queue_name"],
        paths=["messages"],
        methods=["GET", "POST"],
        expires="2099-01-01T00:00:00",
    ),
    Operation.MESSAGE_LIST: lambda p, q: API.message_list(
        p["queue_name"], limit=int(q["limit"]) if "limit" in q else None, echo=True
    ),
    # The recorded post stored four messages; the answer must name as many ids.
    Operation.MESSAGE_POST: lambda p, q: API.message_post(
        p["queue_name"], [{"body": n} for n in range(4)]
    ),
    Operation.MESSAGE_GET: lambda p, q: API.message_get(p["queue_name"], p["message_id"]),
    Operation.MESSAGE_GET_MANY: lambda p, q: API.message_get_many(
        p["queue_name"], q["ids"].split(",")
    ),
    Operation.MESSAGE_DELETE: lambda p, q: API.message_delete(
        p["queue_name"], p["message_id"], claim_id=q.get("claim_id")
    ),
    Operation.MESSAGE_DELETE_MANY: lambda p, q: API.message_delete_many(
        p["queue_name"], q["ids"].split(",")
    ),
    Operation.MESSAGE_POP: lambda p, q: API.message_pop(p["queue_name"], int(q["pop"])),
    Operation.CLAIM_CREATE: lambda p, q: API.claim_create(
        p["queue_name"], ttl=300, grace=60, limit=int(q["limit"]) if "limit" in q else None
    ),
    Operation.CLAIM_GET: lambda p, q: API.claim_get(p["queue_name"], p["claim_id"]),
    Operation.CLAIM_UPDATE: lambda p, q: API.claim_update(
        p["queue_name"], p["claim_id"], ttl=600, grace=60
    ),
    Operation.CLAIM_DELETE: lambda p, q: API.claim_delete(p["queue_name"], p["claim_id"]),
    Operation.SUBSCRIPTION_LIST: lambda p, q: API.subscription_list(
        p["queue_name"], limit=int(q["limit"])
    ),
    Operation.SUBSCRIPTION_CREATE: lambda p, q: API.subscription_create(
        p["queue_name"], "http://127.0.0.1:9/hook", ttl=3600
    ),
    Operation.SUBSCRIPTION_GET: lambda p, q: API.subscription_get(
        p["queue_name"], p["subscription_id"]
    ),
    Operation.SUBSCRIPTION_UPDATE: lambda p, q: API.subscription_update(
        p["queue_name"], p["subscription_id"], ttl=7200
    ),
    Operation.SUBSCRIPTION_DELETE: lambda p, q: API.subscription_delete(
        p["queue_name"], p["subscription_id"]
    ),
    Operation.SUBSCRIPTION_CONFIRM: lambda p, q: API.subscription_confirm(
        p["queue_name"], p["subscription_id"]
    ),
    Operation.POOL_LIST: lambda p, q: API.pool_list(detailed=True),
    Operation.POOL_CREATE: lambda p, q: API.pool_create(p["pool_name"], "redis://r", 50),
    Operation.POOL_GET: lambda p, q: API.pool_get(p["pool_name"], detailed=True),
    Operation.POOL_UPDATE: lambda p, q: API.pool_update(p["pool_name"], weight=60),
    Operation.POOL_DELETE: lambda p, q: API.pool_delete(p["pool_name"]),
    Operation.FLAVOR_LIST: lambda p, q: API.flavor_list(detailed=True),
    Operation.FLAVOR_CREATE: lambda p, q: API.flavor_create(p["flavor_name"], ["pool2"]),
    Operation.FLAVOR_GET: lambda p, q: API.flavor_get(p["flavor_name"]),
    Operation.FLAVOR_UPDATE: lambda p, q: API.flavor_update(p["flavor_name"], ["pool2"]),
    Operation.FLAVOR_DELETE: lambda p, q: API.flavor_delete(p["flavor_name"]),
}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _path_params(operation: Operation, path: str) -> Params:
    template = "/v2" + V2_ROUTES[operation].template
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    assert match is not None, f"{path} does not match {template}"
    return match.groupdict()


def _replay(path: Path) -> tuple[dict[str, Any], Call[Any], Response]:
    fixture = _load(path)
    operation = Operation(fixture["operation"])
    recorded = fixture["request"]
    query = {name: value for name, value in recorded["query"]}
    call = BUILD[operation](_path_params(operation, recorded["path"]), query)
    # the builder still renders exactly what was sent to the server
    assert call.request.operation is operation
    assert (call.request.method, call.request.path) == (recorded["method"], recorded["path"])
    assert [list(pair) for pair in call.request.query] == recorded["query"]
    answer = fixture["response"]
    response = Response(answer["status"], answer["headers"], answer["body"].encode())
    return fixture, call, response


def _body(fixture: dict[str, Any]) -> Any:
    return json.loads(fixture["response"]["body"])


def _check_message(message: Message, raw: dict[str, Any]) -> None:
    assert message.id == raw["id"]
    assert UUID.match(message.id)
    assert message.body == raw["body"]
    assert (message.ttl, message.age) == (raw["ttl"], raw["age"])
    assert message.body["event"] == "paid"


# -- value checks per recorded file -------------------------------------------------


def check_get_home_doc(result: HomeDocument, fx: dict[str, Any]) -> None:
    assert isinstance(result, HomeDocument)
    assert fx["response"]["headers"]["content-type"] == "application/json-home"
    assert {"rel/queues", "rel/messages", "rel/ping", "rel/pools", "rel/health"} <= set(
        result.resources
    )
    assert result.resources["rel/ping"]["href-template"] == "/v2/ping"


def check_ping_node(result: bool, fx: dict[str, Any]) -> None:
    assert result is True
    assert fx["response"]["status"] == 204


def check_check_node_health(result: Health, fx: dict[str, Any]) -> None:
    assert result.storage_reachable is True
    assert result.data["operation_status"]["create_queue"]["succeeded"] is True


def check_check_node_health__pooled(result: Health, fx: dict[str, Any]) -> None:
    assert result.storage_reachable is True
    assert result.data["catalog_reachable"] is True
    assert result.data["pool1"]["storage_reachable"] is True


def check_queue_create(result: bool, fx: dict[str, Any]) -> None:
    assert result is True
    assert fx["response"]["headers"]["location"] == "/v2/queues/orders"


def check_queue_create__exists(result: bool, fx: dict[str, Any]) -> None:
    assert result is False


def check_queue_get(result: dict[str, Any], fx: dict[str, Any]) -> None:
    assert result["color"] == "red"
    assert result["_default_message_ttl"] == 3600
    assert result["_max_messages_post_size"] == 262_144


def check_queue_update(result: dict[str, Any], fx: dict[str, Any]) -> None:
    assert (result["color"], result["size"]) == ("red", 3)
    assert result["_enable_encrypt_messages"] is False


def check_queue_update__conflict(result: Exception, fx: dict[str, Any]) -> None:
    assert isinstance(result, Conflict)
    assert (result.status, result.title) == (409, "Resource conflict")
    assert result.operation == "queue_update"


def check_queue_list(result: Page[Queue], fx: dict[str, Any]) -> None:
    assert [q.name for q in result.items] == ["orders"]
    queue = result.items[0]
    assert queue.href == "/v2/queues/orders"
    assert queue.metadata is not None
    assert (queue.metadata["color"], queue.metadata["size"]) == ("red", 3)
    assert result.count == 1
    assert result.marker == "orders"


def check_queue_get_stats(result: Stats, fx: dict[str, Any]) -> None:
    raw = _body(fx)["messages"]
    assert (result.claimed, result.free, result.total) == (0, 4, 4)
    assert result.oldest is not None
    assert result.newest is not None
    assert result.oldest.href == raw["oldest"]["href"]
    assert result.oldest.id == raw["oldest"]["href"].rsplit("/", 1)[1]
    assert result.newest.created == raw["newest"]["created"]
    assert result.oldest.id != result.newest.id
    assert result.extra == {}


def check_queue_purge(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_signed_url_create(result: SignedURL, fx: dict[str, Any]) -> None:
    assert result.project == "recorded"
    assert result.paths == ("/v2/queues/orders/messages",)
    assert result.methods == ("GET", "POST")
    assert result.expires == "2099-01-01T00:00:00"
    assert re.fullmatch(r"[0-9a-f]{64}", result.signature)
    assert result.headers()["URL-Paths"] == "/v2/queues/orders/messages"


def check_message_post(result: tuple[str, ...], fx: dict[str, Any]) -> None:
    resources = _body(fx)["resources"]
    assert len(result) == 4
    assert list(result) == [href.rsplit("/", 1)[1] for href in resources]
    assert all(UUID.match(mid) for mid in result)
    assert fx["response"]["headers"]["location"] == (
        "/v2/queues/orders/messages?ids=" + ",".join(result)
    )


def check_message_list(result: Page[Message], fx: dict[str, Any]) -> None:
    raw = _body(fx)["messages"]
    assert len(result.items) == 2
    for message, entry in zip(result.items, raw, strict=True):
        _check_message(message, entry)
        assert message.claim_id is None
    assert [m.body["n"] for m in result.items] == [0, 1]
    assert result.marker == result.items[-1].id


def check_message_list__empty(result: Page[Message], fx: dict[str, Any]) -> None:
    assert result.items == ()
    assert result.marker is None


def check_message_get(result: Message, fx: dict[str, Any]) -> None:
    _check_message(result, _body(fx))
    assert result.id == fx["request"]["path"].rsplit("/", 1)[1]
    assert result.href == fx["request"]["path"]


def check_message_get_many(result: tuple[Message, ...], fx: dict[str, Any]) -> None:
    asked = dict(fx["request"]["query"])["ids"].split(",")
    assert sorted(m.id for m in result) == sorted(asked)
    for message, entry in zip(result, _body(fx)["messages"], strict=True):
        _check_message(message, entry)


def check_message_get_many__none_found(result: tuple[Message, ...], fx: dict[str, Any]) -> None:
    assert result == ()
    assert fx["response"]["status"] == 404


def check_message_delete(result: None, fx: dict[str, Any]) -> None:
    assert result is None
    assert "claim_id" in dict(fx["request"]["query"])


def check_message_delete__claimed(result: Exception, fx: dict[str, Any]) -> None:
    assert isinstance(result, Forbidden)
    assert result.title == "Unable to delete"
    assert "claimed" in result.description


def check_message_delete_many(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_message_pop(result: tuple[Message, ...], fx: dict[str, Any]) -> None:
    raw = _body(fx)["messages"]
    assert len(result) == 1
    _check_message(result[0], raw[0])
    assert result[0].href is None
    assert result[0].claim_id == raw[0]["claim_id"]
    assert result[0].claim_count == raw[0]["claim_count"]


def check_claim_create(result: Claim, fx: dict[str, Any]) -> None:
    location = fx["response"]["headers"]["location"]
    assert result.id == location.rsplit("/", 1)[1]
    assert result.href == location
    assert (result.ttl, result.grace, result.age) == (300, 60, 0)
    assert len(result.messages) == 2
    for message, entry in zip(result.messages, _body(fx)["messages"], strict=True):
        _check_message(message, entry)
        assert message.claim_id == result.id


def check_claim_create__nothing_to_claim(result: Claim, fx: dict[str, Any]) -> None:
    assert result == Claim(None, ttl=300, grace=60)
    assert fx["response"]["body"] == ""


def check_claim_get(result: Claim, fx: dict[str, Any]) -> None:
    raw = _body(fx)
    assert result.id == fx["request"]["path"].rsplit("/", 1)[1]
    assert (result.ttl, result.age, result.href) == (raw["ttl"], raw["age"], raw["href"])
    assert result.grace is None  # GET does not tell
    assert len(result.messages) == 2
    assert all(m.claim_id == result.id for m in result.messages)


def check_claim_get__missing(result: Exception, fx: dict[str, Any]) -> None:
    assert isinstance(result, NotFound)
    assert result.operation == "claim_get"


def check_claim_update(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_claim_delete(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_subscription_create(result: str, fx: dict[str, Any]) -> None:
    assert result == _body(fx)["subscription_id"]
    assert UUID.match(result)
    assert fx["response"]["headers"]["location"] == "/v2/queues/orders/subscriptions"


def _check_subscription(result: Subscription) -> None:
    assert result.subscriber == "http://127.0.0.1:9/hook"
    assert result.source == "orders"
    assert result.options == {"post_headers": {"a": "b"}}
    assert result.confirmed is False
    assert result.ttl == 3600


def check_subscription_list(result: Page[Subscription], fx: dict[str, Any]) -> None:
    assert len(result.items) == 1
    _check_subscription(result.items[0])
    assert result.marker == result.items[0].id


def check_subscription_get(result: Subscription, fx: dict[str, Any]) -> None:
    _check_subscription(result)
    assert result.id == fx["request"]["path"].rsplit("/", 1)[1]
    assert result.age == 0


def check_subscription_update(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_subscription_confirm(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_subscription_delete(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_queue_delete(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_pool_list(result: Page[Pool], fx: dict[str, Any]) -> None:
    assert [p.name for p in result.items] == ["pool1"]
    pool = result.items[0]
    assert (pool.weight, pool.flavor, pool.href) == (100, None, "/v2/pools/pool1")
    assert pool.uri is not None
    assert pool.uri.startswith("redis://127.0.0.1:")
    assert result.marker == "pool1"


def check_pool_get(result: Pool, fx: dict[str, Any]) -> None:
    assert (result.name, result.weight, result.href) == ("pool1", 100, "/v2/pools/pool1")
    assert result.options == _body(fx).get("options")


def check_pool_create(result: None, fx: dict[str, Any]) -> None:
    assert result is None
    assert fx["response"]["headers"]["location"] == "/v2/pools/pool2"


def check_pool_update(result: Pool, fx: dict[str, Any]) -> None:
    assert (result.name, result.weight) == ("pool2", 60)
    assert result.uri is not None
    assert result.uri.endswith("dbid=1")


def check_pool_delete(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def check_flavor_create(result: None, fx: dict[str, Any]) -> None:
    assert result is None
    assert fx["response"]["headers"]["location"] == "/v2/flavors/gold"


def check_flavor_list(result: Page[Flavor], fx: dict[str, Any]) -> None:
    assert [f.name for f in result.items] == ["gold"]
    assert result.items[0].pool_list == ("pool2",)
    assert result.items[0].href == "/v2/flavors/gold"


def check_flavor_get(result: Flavor, fx: dict[str, Any]) -> None:
    assert (result.name, result.href, result.pool_list) == ("gold", "/v2/flavors/gold", ("pool2",))
    assert "FIFO" in result.capabilities
    assert result.capabilities == tuple(_body(fx)["capabilities"])


def check_flavor_update(result: Flavor, fx: dict[str, Any]) -> None:
    assert (result.name, result.pool_list) == ("gold", ("pool2",))


def check_flavor_delete(result: None, fx: dict[str, Any]) -> None:
    assert result is None


def _checker(path: Path) -> Callable[[Any, dict[str, Any]], None]:
    name = "check_" + path.stem.replace("--", "__").replace("-", "_")
    check = globals().get(name)
    assert check is not None, f"no {name} for {path.name}"
    return check  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_recorded_answer_parses_to_the_right_values(path: Path) -> None:
    fixture, call, response = _replay(path)
    check = _checker(path)
    status = fixture["response"]["status"]
    if status >= 400 and fixture["operation"] != Operation.MESSAGE_GET_MANY.value:
        with pytest.raises(ApiError) as info:
            call.parse(response)
        check(info.value, fixture)
    else:
        check(call.parse(response), fixture)


def test_fixtures_have_the_recorded_shape() -> None:
    assert FILES, f"no fixtures in {DATA}; run scripts/record_fixtures.py"
    for path in FILES:
        fixture = _load(path)
        assert set(fixture) == {"operation", "request", "response"}
        assert set(fixture["request"]) == {"method", "path", "query"}
        assert set(fixture["response"]) == {"status", "headers", "body"}
        assert set(fixture["response"]["headers"]) <= {"content-type", "location"}
        assert path.stem.split("--", 1)[0] == fixture["operation"]


def test_recordings_cover_every_v2_operation_except_topics() -> None:
    recorded = {_load(path)["operation"] for path in FILES}
    expected = {op.value for op in V2_ROUTES if not op.value.startswith("topic_")}
    assert recorded == expected
    assert set(BUILD) == {Operation(op) for op in expected}
