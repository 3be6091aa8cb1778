"""Every parser turns a realistic Zaqar answer into the right model, and every
malformed or error answer into a zaqarkit error (never KeyError/TypeError)."""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zaqarkit.core import ApiV2, Call, Response
from zaqarkit.core import parse as p
from zaqarkit.core.models import (
    Claim,
    Flavor,
    Health,
    HomeDocument,
    Message,
    MessageStat,
    Page,
    Pool,
    Queue,
    SignedURL,
    Stats,
    Subscription,
    Topic,
)
from zaqarkit.errors import (
    ApiError,
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    InternalServerError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    ProtocolError,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    ZaqarError,
)

API = ApiV2()
JSON_HEADERS = {"content-type": "application/json; charset=UTF-8"}
M1 = "5c6939a6a08d4a9a3b1d2c3e"
M2 = "5c6939a6a08d4a9a3b1d2c3f"
CID = "51db7067821e727dc24df754"
SUB = "57692ab13990b48c644bb7e6"


def _json(status: int, data: Any, **headers: str) -> Response:
    return Response(status, {**JSON_HEADERS, **headers}, json.dumps(data).encode())


def _msg(mid: str, body: Any = None, *, claim: str | None = None, q: str = "q") -> dict[str, Any]:
    href = f"/v2/queues/{q}/messages/{mid}" + (f"?claim_id={claim}" if claim else "")
    return {"id": mid, "href": href, "ttl": 300, "age": 12, "body": body}


def _model(mid: str, body: Any = None, *, claim: str | None = None, q: str = "q") -> Message:
    href = f"/v2/queues/{q}/messages/{mid}" + (f"?claim_id={claim}" if claim else "")
    return Message(mid, body, 300, 12, href, claim)


HOME = {
    "json_home": {"resources": {}},
    "resources": {
        "rel/queues": {
            "href-template": "/v2/queues{?marker,limit,detailed}",
            "hints": {"allow": ["GET"], "formats": {"application/json": {}}},
        },
        "rel/ping": {"href-template": "/v2/ping", "hints": {"allow": ["GET"]}},
    },
}
HEALTH = {
    "storage_reachable": True,
    "message_volume": {"free": 1, "claimed": 0, "total": 1},
    "operation_status": {"create_queue": {"succeeded": True, "seconds": 0.01, "ref": None}},
}
STATS = {
    "messages": {
        "claimed": 1,
        "free": 2,
        "total": 3,
        "oldest": {
            "age": 40,
            "created": "2030-01-01T00:00:00Z",
            "href": f"/v2/queues/q/messages/{M1}",
        },
        "newest": {
            "age": 2,
            "created": "2030-01-01T00:00:38Z",
            "href": f"/v2/queues/q/messages/{M2}",
        },
        "delayed": 0,
    }
}
SIGNED = {
    "project": "p1",
    "paths": ["/v2/queues/q/claims", "/v2/queues/q/messages"],
    "methods": ["GET", "POST"],
    "expires": "2030-01-02T03:04:05",
    "signature": "a1b2c3",
}
SUBSCRIPTION = {
    "id": SUB,
    "source": "q",
    "subscriber": "http://hook.example/x",
    "ttl": 3600,
    "age": 5,
    "options": {"post_headers": {"a": "b"}},
    "confirmed": False,
}
SUBSCRIPTION_MODEL = Subscription(
    SUB, "http://hook.example/x", 3600, 5, "q", {"post_headers": {"a": "b"}}, False
)
POOL = {
    "name": "pool1",
    "uri": "redis://127.0.0.1:6379",
    "weight": 100,
    "flavor": None,
    "href": "/v2/pools/pool1",
    "options": {"max_retry_sleep": 1},
}
POOL_MODEL = Pool(
    "pool1", "/v2/pools/pool1", "redis://127.0.0.1:6379", 100, None, {"max_retry_sleep": 1}
)
FLAVOR = {
    "name": "gold",
    "href": "/v2/flavors/gold",
    "pool_list": ["pool1"],
    "capabilities": ["FIFO", "CLAIMS", "DURABILITY", "AOD", "HIGH_THROUGHPUT"],
}
FLAVOR_MODEL = Flavor(
    "gold",
    "/v2/flavors/gold",
    ("pool1",),
    ("FIFO", "CLAIMS", "DURABILITY", "AOD", "HIGH_THROUGHPUT"),
)
METADATA = {
    "color": "red",
    "_max_messages_post_size": 262144,
    "_default_message_ttl": 3600,
    "_default_message_delay": 0,
    "_dead_letter_queue": None,
    "_dead_letter_queue_messages_ttl": None,
    "_max_claim_count": None,
    "_enable_encrypt_messages": False,
}
NO_CONTENT = Response(204, {}, b"")

# (name, builder, response, expected result)
PARSE_CASES: list[tuple[str, Callable[[ApiV2], Call[Any]], Response, Any]] = [
    (
        "home_document",
        lambda a: a.home_document(),
        Response(200, {"content-type": "application/json-home"}, json.dumps(HOME).encode()),
        HomeDocument(HOME["resources"]),
    ),
    ("ping", lambda a: a.ping(), NO_CONTENT, True),
    ("ping-503", lambda a: a.ping(), Response(503), False),
    ("health", lambda a: a.health(), _json(200, HEALTH), Health(HEALTH)),
    (
        "queue_list",
        lambda a: a.queue_list(limit=2, with_count=True),
        _json(
            200,
            {
                "queues": [
                    {"name": "a", "href": "/v2/queues/a"},
                    {"name": "b", "href": "/v2/queues/b"},
                ],
                "links": [{"rel": "next", "href": "/v2/queues?marker=b&limit=2&with_count=true"}],
                "count": 5,
            },
        ),
        Page(
            (Queue("a", "/v2/queues/a"), Queue("b", "/v2/queues/b")),
            "b",
            5,
        ),
    ),
    (
        "queue_list-detailed",
        lambda a: a.queue_list(detailed=True),
        _json(
            200,
            {
                "queues": [{"name": "a", "href": "/v2/queues/a", "metadata": {"k": 1}}],
                "links": [
                    {"rel": "self", "href": "/v2/queues"},
                    {"rel": "next", "href": "/v2/queues?marker=a&detailed=true"},
                ],
            },
        ),
        Page((Queue("a", "/v2/queues/a", {"k": 1}),), "a"),
    ),
    (
        "queue_list-sql-count-true",
        lambda a: a.queue_list(with_count=True),
        _json(200, {"queues": [{"name": "a"}], "links": [], "count": True}),
        Page((Queue("a"),), None, None),
    ),
    (
        "queue_list-count-not-an-int",
        lambda a: a.queue_list(with_count=True),
        _json(200, {"queues": [], "links": [], "count": "3"}),
        Page(()),
    ),
    (
        "queue_list-empty",
        lambda a: a.queue_list(),
        _json(200, {"queues": [], "links": []}),
        Page((), None, None),
    ),
    ("queue_list-204-v1-style", lambda a: a.queue_list(), NO_CONTENT, Page(())),
    (
        "queue_create-201",
        lambda a: a.queue_create("q"),
        Response(201, {"location": "/v2/queues/q"}),
        True,
    ),
    ("queue_create-204", lambda a: a.queue_create("q"), NO_CONTENT, False),
    ("queue_get", lambda a: a.queue_get("q"), _json(200, METADATA), METADATA),
    (
        "queue_update",
        lambda a: a.queue_update("q", [{"op": "add", "path": "/metadata/color", "value": "red"}]),
        _json(200, METADATA),
        METADATA,
    ),
    ("queue_delete", lambda a: a.queue_delete("q"), NO_CONTENT, None),
    (
        "queue_stats",
        lambda a: a.queue_stats("q"),
        _json(200, STATS),
        Stats(
            1,
            2,
            3,
            MessageStat(40, "2030-01-01T00:00:00Z", f"/v2/queues/q/messages/{M1}", M1),
            MessageStat(2, "2030-01-01T00:00:38Z", f"/v2/queues/q/messages/{M2}", M2),
            {"delayed": 0},
        ),
    ),
    (
        "queue_stats-empty",
        lambda a: a.queue_stats("q"),
        _json(200, {"messages": {"claimed": 0, "free": 0, "total": 0}}),
        Stats(0, 0, 0),
    ),
    (
        "queue_stats-ws-ids",
        lambda a: a.queue_stats("q"),
        Response(
            200,
            data={
                "messages": {
                    "claimed": 0,
                    "free": 1,
                    "total": 1,
                    "oldest": {"age": 1, "created": "c", "id": M1},
                    "newest": {"age": 1, "created": "c", "id": M1},
                }
            },
        ),
        Stats(0, 1, 1, MessageStat(1, "c", None, M1), MessageStat(1, "c", None, M1)),
    ),
    ("queue_purge", lambda a: a.queue_purge("q"), NO_CONTENT, None),
    (
        "queue_share",
        lambda a: a.queue_share("q", paths=["messages", "claims"], methods=["GET", "POST"]),
        _json(200, SIGNED),
        SignedURL(
            "p1",
            ("/v2/queues/q/claims", "/v2/queues/q/messages"),
            ("GET", "POST"),
            "2030-01-02T03:04:05",
            "a1b2c3",
        ),
    ),
    (
        "message_post",
        lambda a: a.message_post("q", [{"body": 1}, {"body": 2}]),
        _json(
            201,
            {"resources": [f"/v2/queues/q/messages/{M1}", f"/v2/queues/q/messages/{M2}"]},
            location=f"/v2/queues/q/messages?ids={M1},{M2}",
        ),
        (M1, M2),
    ),
    (
        "message_post-ws",
        lambda a: a.message_post("q", {"body": 1}),
        Response(201, data={"message_ids": [M1]}),
        (M1,),
    ),
    (
        "message_list",
        lambda a: a.message_list("q", limit=2, echo=True),
        _json(
            200,
            {
                "messages": [_msg(M1, {"a": 1}), _msg(M2, [1, 2], claim=CID)],
                "links": [{"rel": "next", "href": f"/v2/queues/q/messages?marker={M2}&limit=2"}],
            },
        ),
        Page(
            (_model(M1, {"a": 1}), _model(M2, [1, 2], claim=CID)),
            M2,
        ),
    ),
    (
        "message_list-empty",
        lambda a: a.message_list("q"),
        _json(200, {"messages": [], "links": []}),
        Page(()),
    ),
    (
        "message_list-ws",
        lambda a: a.message_list("q"),
        Response(
            200,
            data={"messages": [{"id": M1, "claim_id": CID, "ttl": 300, "age": 12, "body": "x"}]},
        ),
        Page((Message(M1, "x", 300, 12, None, CID),)),
    ),
    (
        "message_get",
        lambda a: a.message_get("q", M1),
        _json(200, {**_msg(M1, "hello"), "checksum": "MD5:abc"}),
        Message(M1, "hello", 300, 12, f"/v2/queues/q/messages/{M1}", None, None, "MD5:abc"),
    ),
    (
        "message_get-href-only",
        lambda a: a.message_get("q", M1),
        _json(
            200,
            {
                "href": f"/v2/queues/q/messages/{M1}?claim_id={CID}",
                "ttl": 300,
                "age": 12,
                "body": None,
            },
        ),
        _model(M1, claim=CID),
    ),
    (
        "message_get_many",
        lambda a: a.message_get_many("q", [M1, M2, "gone"]),
        _json(200, {"messages": [_msg(M1, 1), _msg(M2, 2)]}),
        (_model(M1, 1), _model(M2, 2)),
    ),
    (
        "message_get_many-none-found",
        lambda a: a.message_get_many("q", [M1]),
        _json(404, {"title": "Not found", "description": "Message not found"}),
        (),
    ),
    ("message_delete", lambda a: a.message_delete("q", M1, claim_id=CID), NO_CONTENT, None),
    ("message_delete_many", lambda a: a.message_delete_many("q", [M1, M2]), NO_CONTENT, None),
    (
        "message_pop",
        lambda a: a.message_pop("q", 2),
        _json(
            200,
            {
                "messages": [
                    {
                        "id": M1,
                        "age": 3,
                        "ttl": 300,
                        "body": {"x": 1},
                        "claim_id": CID,
                        "claim_count": 1,
                    },
                ]
            },
        ),
        (Message(M1, {"x": 1}, 300, 3, None, CID, 1),),
    ),
    ("message_pop-empty", lambda a: a.message_pop("q"), _json(200, {"messages": []}), ()),
    ("message_pop-no-body", lambda a: a.message_pop("q"), NO_CONTENT, ()),
    (
        "claim_create",
        lambda a: a.claim_create("q", ttl=300, grace=60, limit=2),
        _json(
            201,
            {"messages": [_msg(M1, 1, claim=CID), _msg(M2, 2, claim=CID)]},
            location=f"/v2/queues/q/claims/{CID}",
        ),
        Claim(
            CID,
            ttl=300,
            age=0,
            grace=60,
            href=f"/v2/queues/q/claims/{CID}",
            messages=(_model(M1, 1, claim=CID), _model(M2, 2, claim=CID)),
        ),
    ),
    (
        "claim_create-id-from-message-href",
        lambda a: a.claim_create("q"),
        _json(201, {"messages": [_msg(M1, 1, claim=CID)]}),
        Claim(CID, age=0, messages=(_model(M1, 1, claim=CID),)),
    ),
    (
        "claim_create-bare-list",
        lambda a: a.claim_create("q"),
        _json(201, [_msg(M1, 1, claim=CID)], location=f"/v2/queues/q/claims/{CID}"),
        Claim(CID, age=0, href=f"/v2/queues/q/claims/{CID}", messages=(_model(M1, 1, claim=CID),)),
    ),
    (
        "claim_create-204-nothing-to-claim",
        lambda a: a.claim_create("q", ttl=120),
        NO_CONTENT,
        Claim(None, ttl=120),
    ),
    (
        "claim_create-204-with-stray-text",
        lambda a: a.claim_create("q"),
        Response(204, {}, b'""'),
        Claim(None),
    ),
    (
        "claim_create-ws",
        lambda a: a.claim_create("q", grace=90),
        Response(
            201,
            data={
                "claim_id": CID,
                "messages": [{"id": M1, "claim_id": CID, "ttl": 300, "age": 0, "body": 1}],
            },
        ),
        Claim(CID, age=0, grace=90, messages=(Message(M1, 1, 300, 0, None, CID),)),
    ),
    (
        "claim_create-201-empty",
        lambda a: a.claim_create("q"),
        _json(201, {"messages": []}),
        Claim(None, age=0),
    ),
    (
        "claim_get",
        lambda a: a.claim_get("q", CID),
        _json(
            200,
            {
                "age": 19,
                "ttl": 300,
                "href": f"/v2/queues/q/claims/{CID}",
                "messages": [_msg(M1, 1, claim=CID)],
            },
        ),
        Claim(
            CID,
            ttl=300,
            age=19,
            href=f"/v2/queues/q/claims/{CID}",
            messages=(_model(M1, 1, claim=CID),),
        ),
    ),
    (
        "claim_get-ws",
        lambda a: a.claim_get("q", CID),
        Response(200, data={"age": 1, "ttl": 60}),
        Claim(CID, ttl=60, age=1),
    ),
    ("claim_update", lambda a: a.claim_update("q", CID, ttl=600), NO_CONTENT, None),
    ("claim_delete", lambda a: a.claim_delete("q", CID), NO_CONTENT, None),
    (
        "subscription_list",
        lambda a: a.subscription_list("q", limit=1),
        _json(
            200,
            {
                "subscriptions": [SUBSCRIPTION],
                "links": [
                    {"rel": "next", "href": f"/v2/queues/q/subscriptions?marker={SUB}&limit=1"}
                ],
            },
        ),
        Page((SUBSCRIPTION_MODEL,), SUB),
    ),
    (
        "subscription_create",
        lambda a: a.subscription_create("q", "http://hook.example/x"),
        _json(201, {"subscription_id": SUB}, location="/v2/queues/q/subscriptions"),
        SUB,
    ),
    (
        "push_subscription_create",
        lambda a: a.push_subscription_create("q"),
        Response(201, data={"subscription_id": SUB}),
        SUB,
    ),
    (
        "subscription_create-ws",
        lambda a: a.subscription_create("q", "http://hook.example/x"),
        Response(201, data={"subscription_id": SUB, "message": "Subscription q created."}),
        SUB,
    ),
    (
        "subscription_get",
        lambda a: a.subscription_get("q", SUB),
        _json(200, SUBSCRIPTION),
        SUBSCRIPTION_MODEL,
    ),
    (
        "subscription_get-minimal",
        lambda a: a.subscription_get("q", SUB),
        _json(200, {"id": SUB, "subscriber": "mailto:a@b", "ttl": 60}),
        Subscription(SUB, "mailto:a@b", 60),
    ),
    (
        "subscription_update",
        lambda a: a.subscription_update("q", SUB, ttl=60),
        Response(204, {"location": f"/v2/queues/q/subscriptions/{SUB}"}),
        None,
    ),
    ("subscription_delete", lambda a: a.subscription_delete("q", SUB), NO_CONTENT, None),
    ("subscription_confirm", lambda a: a.subscription_confirm("q", SUB), NO_CONTENT, None),
    (
        "pool_list",
        lambda a: a.pool_list(detailed=True),
        _json(200, {"pools": [POOL], "links": [{"rel": "next", "href": "/v2/pools?marker=pool1"}]}),
        Page((POOL_MODEL,), "pool1"),
    ),
    (
        "pool_create",
        lambda a: a.pool_create("pool1", "redis://r", 1),
        Response(201, {"location": "/v2/pools/pool1"}),
        None,
    ),
    ("pool_get", lambda a: a.pool_get("pool1", detailed=True), _json(200, POOL), POOL_MODEL),
    (
        "pool_get-plain",
        lambda a: a.pool_get("pool1"),
        _json(
            200,
            {
                "name": "pool1",
                "uri": "redis://r",
                "weight": 1,
                "flavor": "gold",
                "href": "/v2/pools/pool1",
            },
        ),
        Pool("pool1", "/v2/pools/pool1", "redis://r", 1, "gold"),
    ),
    ("pool_update", lambda a: a.pool_update("pool1", weight=100), _json(200, POOL), POOL_MODEL),
    ("pool_delete", lambda a: a.pool_delete("pool1"), NO_CONTENT, None),
    (
        "flavor_list",
        lambda a: a.flavor_list(),
        _json(200, {"flavors": [{"name": "gold", "href": "/v2/flavors/gold"}], "links": []}),
        Page((Flavor("gold", "/v2/flavors/gold"),)),
    ),
    (
        "flavor_create",
        lambda a: a.flavor_create("gold", ["pool1"]),
        Response(201, {"location": "/v2/flavors/gold"}),
        None,
    ),
    ("flavor_get", lambda a: a.flavor_get("gold"), _json(200, FLAVOR), FLAVOR_MODEL),
    (
        "flavor_update",
        lambda a: a.flavor_update("gold", ["pool1"]),
        _json(200, FLAVOR),
        FLAVOR_MODEL,
    ),
    ("flavor_delete", lambda a: a.flavor_delete("gold"), NO_CONTENT, None),
    (
        "topic_list",
        lambda a: a.topic_list(detailed=True),
        _json(
            200,
            {
                "topics": [{"name": "t", "href": "/v2/topics/t", "metadata": {"k": 1}}],
                "links": [{"rel": "next", "href": "/v2/topics?marker=t&detailed=true"}],
            },
        ),
        Page((Topic("t", "/v2/topics/t", {"k": 1}),), "t"),
    ),
    (
        "topic_list-plain",
        lambda a: a.topic_list(),
        _json(200, {"topics": [{"name": "t", "href": "/v2/topics/t"}], "links": []}),
        Page((Topic("t", "/v2/topics/t"),)),
    ),
    ("topic_create", lambda a: a.topic_create("t"), Response(201), True),
    ("topic_create-exists", lambda a: a.topic_create("t"), NO_CONTENT, False),
    ("topic_get", lambda a: a.topic_get("t"), _json(200, {"k": 1}), {"k": 1}),
    (
        "topic_update",
        lambda a: a.topic_update("t", [{"op": "add", "path": "/metadata/k", "value": 2}]),
        _json(200, {"k": 2}),
        {"k": 2},
    ),
    ("topic_delete", lambda a: a.topic_delete("t"), NO_CONTENT, None),
    (
        "topic_stats",
        lambda a: a.topic_stats("t"),
        _json(200, {"messages": {"claimed": 0, "free": 1, "total": 1}}),
        Stats(0, 1, 1),
    ),
    ("topic_purge", lambda a: a.topic_purge("t"), NO_CONTENT, None),
    (
        "topic_message_post",
        lambda a: a.topic_message_post("t", {"body": 1}),
        _json(201, {"resources": [f"/v2/topics/t/messages/{M1}"]}),
        (M1,),
    ),
    (
        "topic_message_list",
        lambda a: a.topic_message_list("t"),
        _json(200, {"messages": [_msg(M1, 1, q="t")], "links": []}),
        Page((Message(M1, 1, 300, 12, f"/v2/queues/t/messages/{M1}"),)),
    ),
    (
        "topic_subscription_list",
        lambda a: a.topic_subscription_list("t"),
        _json(200, {"subscriptions": [], "links": []}),
        Page(()),
    ),
    (
        "topic_subscription_create",
        lambda a: a.topic_subscription_create("t", "https://h/x"),
        _json(201, {"subscription_id": SUB}),
        SUB,
    ),
    (
        "topic_subscription_get",
        lambda a: a.topic_subscription_get("t", SUB),
        _json(200, SUBSCRIPTION),
        SUBSCRIPTION_MODEL,
    ),
    (
        "topic_subscription_update",
        lambda a: a.topic_subscription_update("t", SUB, ttl=60),
        NO_CONTENT,
        None,
    ),
    (
        "topic_subscription_delete",
        lambda a: a.topic_subscription_delete("t", SUB),
        NO_CONTENT,
        None,
    ),
]


@pytest.mark.parametrize(
    ("build", "response", "expected"),
    [case[1:] for case in PARSE_CASES],
    ids=[case[0] for case in PARSE_CASES],
)
def test_parser_returns_the_model(
    build: Callable[[ApiV2], Call[Any]], response: Response, expected: Any
) -> None:
    assert build(API).parse(response) == expected


def test_every_builder_has_a_parse_case() -> None:
    builders = {
        name
        for name, _ in inspect.getmembers(ApiV2, inspect.isfunction)
        if not name.startswith("_") and name != "follow"
    }
    assert {name.split("-", 1)[0] for name, *_ in PARSE_CASES} == builders


def test_claim_ids_and_derived_values() -> None:
    page = API.message_list("q").parse(_json(200, {"messages": [_msg(M1, claim=CID)]}))
    assert page.items[0].claim_id == CID
    assert p.claim_id_from_href(f"/v2/queues/q/messages/{M1}?claim_id={CID}&x=1") == CID
    assert p.claim_id_from_href(f"/v2/queues/q/messages/{M1}?x=1") is None
    assert p.claim_id_from_href(f"/v2/queues/q/messages/{M1}") is None
    assert p.claim_id_from_href(None) is None
    assert p.claim_id_from_href("") is None


_HREF_PIECES = [
    "/",
    "?",
    "&",
    "=",
    "claim_id",
    "c1",
    "x",
    "#",
    "%41",
    "+",
    " ",
    "\t",
    "\n",
    "\r",
    ";",
    "//",
    "[",
    "http:",
    "\u00e9",
    "\x00",
    "/v2/queues/q/messages/m1",
]


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_HREF_PIECES), max_size=10).map("".join))
def test_claim_id_from_href_reads_as_urllib_does(href: str) -> None:
    """The hand-read fast path answers exactly what parse_qs(urlsplit()) does."""
    from urllib.parse import parse_qs, urlsplit

    try:
        values = parse_qs(urlsplit(href).query).get("claim_id") if "?" in href else None
        expected: Any = values[0] if values else None
    except ValueError as exc:  # a malformed host: urllib's own error
        expected = ("ValueError", str(exc))
    try:
        got: Any = p.claim_id_from_href(href)
    except ValueError as exc:
        got = ("ValueError", str(exc))
    assert got == expected


def test_health_reachability() -> None:
    assert Health({"storage_reachable": True}).storage_reachable is True
    assert Health({"catalog_reachable": False, "pool1": {}}).storage_reachable is False
    assert Health({"catalog_reachable": 1}).storage_reachable is True
    assert Health({}).storage_reachable is None


# -- errors -------------------------------------------------------------------------

ERROR_TABLE = [
    (400, BadRequest, "Invalid API request", "Limit must be at least 1."),
    (401, Unauthorized, "Unauthorized", "Authentication required"),
    (403, Forbidden, "Not authorized", "This message is claimed; it cannot be deleted."),
    (404, NotFound, "Not found", "Queue q does not exist."),
    (405, MethodNotAllowed, "Method not allowed", ""),
    (406, NotAcceptable, "Media type not acceptable", "JSON only"),
    (409, Conflict, "Resource conflict", "Key color does not exist"),
    (413, PayloadTooLarge, "Invalid request body", "too large"),
    (415, UnsupportedMediaType, "Unsupported media type", "use json-patch"),
    (429, TooManyRequests, "Too many requests", "slow down"),
    (500, InternalServerError, "Internal server error", "boom"),
    (
        503,
        ServiceUnavailable,
        "Service temporarily unavailable",
        "Queue could not be created. Please try again in a few seconds.",
    ),
    (502, ServerError, "Bad gateway", ""),
    (504, ServerError, "", ""),
    (418, ClientError, "I'm a teapot", ""),
    (422, ClientError, "", "unprocessable"),
]


@pytest.mark.parametrize(("status", "cls", "title", "description"), ERROR_TABLE)
def test_every_error_status_raises_its_class(
    status: int, cls: type[ApiError], title: str, description: str
) -> None:
    body: dict[str, str] = {"title": title}
    if description:
        body["description"] = description
    response = Response(
        status, {**JSON_HEADERS, "x-openstack-request-id": "req-1"}, json.dumps(body).encode()
    )
    with pytest.raises(cls) as info:
        API.queue_get("q").parse(response)
    error = info.value
    assert type(error) is cls
    assert (error.status, error.title, error.description) == (status, title, description)
    assert error.operation == "queue_get"
    assert error.request_id == "req-1"
    expected = " ".join(filter(None, [str(status), title]))
    if description:
        expected += f": {description}"
    assert str(error) == expected + " (operation queue_get)"
    assert isinstance(error, ClientError if status < 500 else ServerError)


@pytest.mark.parametrize(
    ("status", "value", "expected"),
    [
        (429, "30", 30.0),
        (429, "1.5", 1.5),
        (429, "-3", 0.0),
        (429, "Wed, 21 Oct 2015 07:28:00 GMT", None),
        (503, "7", 7.0),
        (503, None, None),
        (429, None, None),
    ],
)
def test_retry_after(status: int, value: str | None, expected: float | None) -> None:
    headers = {} if value is None else {"retry-after": value}
    with pytest.raises((TooManyRequests, ServiceUnavailable)) as info:
        p.raise_for_status(Response(status, headers, b""))
    assert info.value.retry_after == expected  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e400"])
def test_retry_after_rejects_non_finite_values(value: str) -> None:
    with pytest.raises(TooManyRequests) as info:
        p.raise_for_status(Response(429, {"retry-after": value}, b""))
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("response", "title", "description"),
    [
        (_json(404, {"title": "Not found"}), "Not found", ""),
        (_json(400, {"description": "only a description"}), "", "only a description"),
        (
            Response(400, data={"error": "queue_get is not a valid action", "exception": None}),
            "queue_get is not a valid action",
            "",
        ),
        (
            _json(404, {"error": None, "exception": "Queue q does not exist"}),
            "",
            "Queue q does not exist",
        ),
        (_json(500, {"title": None, "description": None}), "", ""),
        (_json(400, "Queue q not created."), "", "Queue q not created."),
        (_json(400, ["odd"]), "", ""),
        (_json(400, 3), "", ""),
        (
            Response(502, {"content-type": "text/html"}, b"<html>Bad Gateway</html>\n"),
            "",
            "<html>Bad Gateway</html>",
        ),
        (Response(500, {}, b"\xff\xfe not json"), "", "\ufffd\ufffd not json"),
        (Response(500, {}, b""), "", ""),
        (_json(400, {"title": {"nested": 1}, "code": 400}), "{'nested': 1}", ""),
    ],
)
def test_error_bodies(response: Response, title: str, description: str) -> None:
    with pytest.raises(ApiError) as info:
        p.raise_for_status(response)
    assert (info.value.title, info.value.description) == (title, description)
    assert info.value.operation is None


def test_error_without_title_or_description_has_a_bare_message() -> None:
    with pytest.raises(InternalServerError) as info:
        p.raise_for_status(Response(500))
    assert str(info.value) == "500"
    assert info.value.request_id is None


def test_long_non_json_error_body_is_truncated() -> None:
    with pytest.raises(ServerError) as info:
        p.raise_for_status(Response(502, {}, b"x" * 1000))
    assert info.value.description == "x" * 200


@pytest.mark.parametrize("status", [100, 200, 201, 204, 300, 304, 399])
def test_non_error_statuses_do_not_raise(status: int) -> None:
    assert p.raise_for_status(Response(status, {}, b"garbage")) is None


@pytest.mark.parametrize(
    ("build", "status"),
    [
        (lambda a: a.queue_create("q"), 200),
        (lambda a: a.queue_create("q"), 202),
        (lambda a: a.topic_create("t"), 200),
        (lambda a: a.claim_create("q"), 202),
    ],
)
def test_unexpected_success_status_is_a_protocol_error(
    build: Callable[[ApiV2], Call[Any]], status: int
) -> None:
    with pytest.raises(ProtocolError, match=rf"answered status {status}, expected 20"):
        build(API).parse(Response(status, {}, b"{}"))


def test_ping_raises_on_other_errors() -> None:
    with pytest.raises(InternalServerError):
        API.ping().parse(Response(500))


def test_get_many_404_is_empty_but_other_errors_raise() -> None:
    assert API.message_get_many("q", ["a"]).parse(Response(404)) == ()
    with pytest.raises(BadRequest):
        API.message_get_many("q", ["a"]).parse(Response(400))


def test_follow_parses_any_json_and_raises_errors() -> None:
    call = API.follow("/v2/queues/q/claims/c")
    assert call.parse(_json(200, {"age": 1})) == {"age": 1}
    assert call.parse(NO_CONTENT) is None
    with pytest.raises(NotFound, match=r"\(operation GET /v2/queues/q/claims/c\)"):
        call.parse(_json(404, {"title": "Not found"}))


# -- malformed responses -----------------------------------------------------------

MALFORMED: list[tuple[str, Callable[[ApiV2], Call[Any]], Response, str]] = [
    (
        "not json",
        lambda a: a.queue_get("q"),
        Response(200, {}, b"<html>"),
        "expected a JSON body in the 200 response, got '<html>'",
    ),
    (
        "empty body",
        lambda a: a.queue_get("q"),
        Response(200),
        "expected a JSON body in the 200 response, got none",
    ),
    (
        "bad utf-8",
        lambda a: a.health(),
        Response(200, {}, b'{"a": "\xff"}'),
        "expected a JSON body in the 200 response",
    ),
    (
        "wrong shape",
        lambda a: a.queue_get("q"),
        _json(200, []),
        "malformed response: queue metadata should be a JSON object, got []",
    ),
    (
        "listing not object",
        lambda a: a.queue_list(),
        _json(200, ["a"]),
        "malformed response: listing should be a JSON object, got ['a']",
    ),
    (
        "listing key missing",
        lambda a: a.queue_list(),
        _json(200, {"links": []}),
        "malformed response: listing.queues should be a JSON array, got None",
    ),
    (
        "item not object",
        lambda a: a.queue_list(),
        _json(200, {"queues": ["a"]}),
        "malformed response: queue should be a JSON object, got 'a'",
    ),
    (
        "name missing",
        lambda a: a.queue_list(),
        _json(200, {"queues": [{"href": "/x"}]}),
        "malformed response: queue has no 'name', got {'href': '/x'}",
    ),
    (
        "name wrong type",
        lambda a: a.pool_get("p"),
        _json(200, {"name": 1}),
        "malformed response: pool.name has the wrong type, got 1",
    ),
    (
        "metadata not object",
        lambda a: a.queue_list(),
        _json(200, {"queues": [{"name": "a", "metadata": []}]}),
        "malformed response: queue.metadata should be a JSON object, got []",
    ),
    (
        "topic metadata",
        lambda a: a.topic_list(),
        _json(200, {"topics": [{"name": "a", "metadata": 1}]}),
        "malformed response: topic.metadata should be a JSON object, got 1",
    ),
    (
        "links not list",
        lambda a: a.queue_list(),
        _json(200, {"queues": [], "links": {}}),
        "malformed response: links should be a JSON array, got {}",
    ),
    (
        "link not object",
        lambda a: a.queue_list(),
        _json(200, {"queues": [], "links": ["x"]}),
        "malformed response: link should be a JSON object, got 'x'",
    ),
    (
        "next link without href",
        lambda a: a.queue_list(),
        _json(200, {"queues": [], "links": [{"rel": "next"}]}),
        "malformed response: link has no 'href', got {'rel': 'next'}",
    ),
    (
        "bool where int expected",
        lambda a: a.message_get("q", "m"),
        _json(200, {"id": "m", "ttl": True, "age": 1, "body": 1}),
        "malformed response: message.ttl has the wrong type, got True",
    ),
    (
        "float where int expected",
        lambda a: a.message_get("q", "m"),
        _json(200, {"id": "m", "ttl": 60, "age": 1.5, "body": 1}),
        "malformed response: message.age has the wrong type, got 1.5",
    ),
    (
        "message without id or href",
        lambda a: a.message_get("q", "m"),
        _json(200, {"ttl": 60, "age": 1, "body": 1}),
        "malformed response: message has neither 'id' nor 'href'",
    ),
    (
        "message without body",
        lambda a: a.message_get("q", "m"),
        _json(200, {"id": "m", "ttl": 60, "age": 1}),
        "malformed response: message has no 'body'",
    ),
    (
        "message id wrong type",
        lambda a: a.message_get("q", "m"),
        _json(200, {"id": 5, "ttl": 60, "age": 1, "body": 1}),
        "malformed response: message.id has the wrong type, got 5",
    ),
    (
        "get many without messages",
        lambda a: a.message_get_many("q", ["m"]),
        _json(200, {}),
        "malformed response: messages should be a JSON array, got None",
    ),
    (
        "pop not object",
        lambda a: a.message_pop("q"),
        _json(200, [1]),
        "malformed response: pop response should be a JSON object, got [1]",
    ),
    (
        "stats without messages",
        lambda a: a.queue_stats("q"),
        _json(200, {}),
        "malformed response: stats.messages should be a JSON object, got None",
    ),
    (
        "stats count missing",
        lambda a: a.queue_stats("q"),
        _json(200, {"messages": {"claimed": 0, "free": 0}}),
        "malformed response: stats.messages has no 'total'",
    ),
    (
        "stats oldest wrong",
        lambda a: a.queue_stats("q"),
        _json(200, {"messages": {"claimed": 0, "free": 0, "total": 1, "oldest": "x"}}),
        "malformed response: stats message should be a JSON object, got 'x'",
    ),
    (
        "stats created wrong",
        lambda a: a.queue_stats("q"),
        _json(200, {"messages": {"claimed": 0, "free": 0, "total": 1, "newest": {"age": 1}}}),
        "malformed response: stats message has no 'created'",
    ),
    (
        "subscription options",
        lambda a: a.subscription_get("q", "s"),
        _json(200, {"id": "s", "subscriber": "http://h", "ttl": 60, "options": "x"}),
        "malformed response: subscription.options should be a JSON object, got 'x'",
    ),
    (
        "subscription confirmed",
        lambda a: a.subscription_get("q", "s"),
        _json(200, {"id": "s", "subscriber": "http://h", "ttl": 60, "confirmed": "yes"}),
        "malformed response: subscription.confirmed has the wrong type, got 'yes'",
    ),
    (
        "subscription id",
        lambda a: a.subscription_create("q", "http://h"),
        _json(201, {}),
        "malformed response: subscription has no 'subscription_id', got {}",
    ),
    (
        "pool options",
        lambda a: a.pool_get("p"),
        _json(200, {"name": "p", "options": []}),
        "malformed response: pool.options should be a JSON object, got []",
    ),
    (
        "pool weight",
        lambda a: a.pool_get("p"),
        _json(200, {"name": "p", "weight": "1"}),
        "malformed response: pool.weight has the wrong type, got '1'",
    ),
    (
        "flavor pool_list",
        lambda a: a.flavor_get("f"),
        _json(200, {"name": "f", "pool_list": "p"}),
        "malformed response: flavor.pool_list should be a JSON array, got 'p'",
    ),
    (
        "flavor capabilities",
        lambda a: a.flavor_get("f"),
        _json(200, {"name": "f", "capabilities": [1]}),
        "malformed response: flavor.capabilities should hold strings, got [1]",
    ),
    (
        "signed url paths",
        lambda a: a.queue_share("q"),
        _json(200, {**SIGNED, "paths": "x"}),
        "malformed response: signed URL.paths has the wrong type, got 'x'",
    ),
    (
        "signed url signature",
        lambda a: a.queue_share("q"),
        _json(200, {k: v for k, v in SIGNED.items() if k != "signature"}),
        "malformed response: signed URL has no 'signature'",
    ),
    (
        "health not object",
        lambda a: a.health(),
        _json(200, "ok"),
        "malformed response: health should be a JSON object, got 'ok'",
    ),
    (
        "home without resources",
        lambda a: a.home_document(),
        _json(200, {}),
        "malformed response: home document.resources should be a JSON object, got None",
    ),
    (
        "post resources",
        lambda a: a.message_post("q", {"body": 1}),
        _json(201, {"resources": [1]}),
        "malformed response: post response.resources should hold strings, got [1]",
    ),
    (
        "post ids",
        lambda a: a.message_post("q", {"body": 1}),
        Response(201, data={"message_ids": "m1"}),
        "malformed response: post response.message_ids should be a JSON array, got 'm1'",
    ),
    (
        "claim without id",
        lambda a: a.claim_create("q"),
        _json(201, {"messages": [{"id": "m", "ttl": 60, "age": 0, "body": 1}]}),
        "malformed response: claim response carries no claim id (no Location, no claim_id)",
    ),
    (
        "claim messages",
        lambda a: a.claim_create("q"),
        _json(201, {"messages": None}),
        "malformed response: messages should be a JSON array, got None",
    ),
    (
        "claim scalar",
        lambda a: a.claim_create("q"),
        _json(201, 5),
        "malformed response: messages should be a JSON array, got 5",
    ),
    (
        "claim claim_id",
        lambda a: a.claim_create("q"),
        Response(201, data={"claim_id": 1}),
        "malformed response: claim.claim_id has the wrong type, got 1",
    ),
    (
        "claim detail ttl",
        lambda a: a.claim_get("q", "c"),
        _json(200, {"age": 1}),
        "malformed response: claim has no 'ttl'",
    ),
    (
        "claim detail messages",
        lambda a: a.claim_get("q", "c"),
        _json(200, {"age": 1, "ttl": 60, "messages": {}}),
        "malformed response: claim.messages should be a JSON array, got {}",
    ),
    (
        "patch answer",
        lambda a: a.queue_update("q", [{"op": "remove", "path": "/metadata/a"}]),
        _json(200, None),
        "malformed response: metadata should be a JSON object, got None",
    ),
    (
        "pool update no body",
        lambda a: a.pool_update("p", weight=1),
        NO_CONTENT,
        "expected a JSON body in the 204 response, got none",
    ),
]


@pytest.mark.parametrize(
    ("build", "response", "message"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_responses_raise_protocol_error(
    build: Callable[[ApiV2], Call[Any]], response: Response, message: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        build(API).parse(response)
    assert message in str(info.value)


def test_long_malformed_values_are_shortened_in_the_message() -> None:
    with pytest.raises(ProtocolError) as info:
        API.queue_get("q").parse(_json(200, ["x" * 500]))
    text = str(info.value)
    assert text.endswith("...")
    assert len(text) < 200


def test_protocol_error_chains_the_json_error() -> None:
    with pytest.raises(ProtocolError) as info:
        p.decode_json(Response(200, {}, b"{"))
    assert isinstance(info.value.__cause__, ValueError)


def test_deeply_nested_json_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        p.decode_json(Response(200, {}, b"[" * 100_000 + b"]" * 100_000))


def test_decode_json_prefers_already_decoded_data() -> None:
    assert p.decode_json(Response(200, {}, b"not json", data={"a": 1})) == {"a": 1}
    assert p.decode_json(Response(200, data=[1]), allow_empty=True) == [1]
    assert p.decode_json(Response(204), allow_empty=True) is None


# -- fuzzing: only zaqarkit errors ever escape a parser ---------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "href",
                    "name",
                    "ttl",
                    "age",
                    "body",
                    "messages",
                    "links",
                    "rel",
                    "count",
                    "claim_id",
                    "resources",
                    "message_ids",
                    "claimed",
                    "free",
                    "total",
                    "oldest",
                    "newest",
                    "created",
                    "subscriber",
                    "options",
                    "confirmed",
                    "uri",
                    "weight",
                    "pool_list",
                    "capabilities",
                    "paths",
                    "methods",
                    "expires",
                    "signature",
                    "project",
                    "resources",
                    "title",
                    "description",
                    "error",
                    "exception",
                    "subscription_id",
                    "metadata",
                    "queues",
                    "pools",
                    "flavors",
                    "topics",
                    "subscriptions",
                    "next",
                    "storage_reachable",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=12,
)

ALL_BUILDERS = [case[1] for case in PARSE_CASES]


@settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    index=st.integers(0, len(ALL_BUILDERS) - 1),
    status=st.sampled_from([200, 201, 204, 300, 400, 404, 429, 500, 503]) | st.integers(100, 599),
    data=JSON_VALUES,
    as_bytes=st.booleans(),
    location=st.none() | st.text(max_size=12),
)
def test_random_json_never_escapes_as_a_foreign_error(
    index: int, status: int, data: Any, as_bytes: bool, location: str | None
) -> None:
    call = ALL_BUILDERS[index](API)
    headers = {} if location is None else {"location": location}
    if as_bytes:
        response = Response(status, headers, json.dumps(data).encode())
    else:
        response = Response(status, headers, b"", data=data)
    with contextlib.suppress(ZaqarError):
        call.parse(response)


@settings(max_examples=200, deadline=None, database=None)
@given(
    index=st.integers(0, len(ALL_BUILDERS) - 1),
    body=st.binary(max_size=40),
    status=st.integers(100, 599),
)
def test_random_bytes_never_escape_as_a_foreign_error(index: int, body: bytes, status: int) -> None:
    with contextlib.suppress(ZaqarError):
        ALL_BUILDERS[index](API).parse(Response(status, {}, body))
