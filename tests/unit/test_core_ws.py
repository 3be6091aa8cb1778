"""The sans-I/O WebSocket session, driven with hand-made frames."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import msgpack  # type: ignore[import-untyped,unused-ignore]
import pytest

from zaqarkit.core.api import ApiV2
from zaqarkit.core.context import Context
from zaqarkit.core.operations import Operation, ws_action, ws_supports
from zaqarkit.core.paginate import Pagination
from zaqarkit.core.wire import Call, Request
from zaqarkit.core.ws import (
    CORRELATION_HEADER,
    FrameError,
    Notification,
    Outgoing,
    Reply,
    WsSession,
    frame_body,
    push_subscription_create,
)
from zaqarkit.errors import (
    BadRequest,
    Conflict,
    NotFound,
    UnsupportedOperation,
    ValidationError,
)

api = ApiV2()
CTX = Context("ws://h:9000", (("Client-ID", "cid"), ("X-Project-ID", "proj")))


def sent(out: Outgoing) -> dict[str, Any]:
    if isinstance(out.data, bytes):
        frame: dict[str, Any] = msgpack.unpackb(out.data, raw=False)
        return frame
    result: dict[str, Any] = json.loads(out.data)
    return result


def reply(out: Outgoing, status: int, body: Any = None, *, binary: bool = False) -> str | bytes:
    frame = sent(out)
    data = {
        "request": {
            "action": frame["action"],
            "body": frame.get("body", {}),
            "headers": frame["headers"],
            "api": "v2",
        },
        "headers": {"status": status},
        "body": body,
    }
    return msgpack.packb(data) if binary else json.dumps(data)


def notification(queue: str, body: Any) -> str:
    return json.dumps(
        {"body": body, "ttl": 60, "queue_name": queue, "Message_Type": "Notification"}
    )


# -- frames ----------------------------------------------------------------------


def test_frame_carries_action_headers_correlation_and_body() -> None:
    session = WsSession()
    out = session.send(CTX.prepare(api.message_post("q", [{"body": 1, "ttl": 60}]).request))
    frame = sent(out)
    assert frame["action"] == "message_post"
    assert frame["headers"]["Client-ID"] == "cid"
    assert frame["headers"]["X-Project-ID"] == "proj"
    assert frame["headers"][CORRELATION_HEADER] == out.request_id
    assert "Content-Type" not in frame["headers"]  # HTTP-only
    assert frame["body"] == {"queue_name": "q", "messages": [{"body": 1, "ttl": 60}]}


def test_default_headers_fill_what_the_request_lacks() -> None:
    session = WsSession(default_headers=(("Client-ID", "dflt"), ("X-Project-ID", "p0")))
    frame = sent(session.send(CTX.prepare(api.queue_get("q").request)))
    assert frame["headers"]["Client-ID"] == "cid"  # the request's own wins
    frame = sent(session.send(api.queue_get("q").request))
    assert frame["headers"]["Client-ID"] == "dflt"
    assert frame["headers"]["X-Project-ID"] == "p0"


def test_signed_url_lists_travel_as_lists() -> None:
    # Zaqar's WebSocket handler signs the frame's values as they are.
    signed = (
        ("URL-Methods", "GET,POST"),
        ("URL-Paths", "/v2/queues/q/messages"),
        ("URL-Signature", "ab"),
        ("Content-Type", "application/json"),
    )
    request = replace(api.message_list("q").request, headers=signed)
    headers = sent(WsSession().send(request))["headers"]
    assert headers["URL-Methods"] == ["GET", "POST"]
    assert headers["URL-Paths"] == ["/v2/queues/q/messages"]
    assert headers["URL-Signature"] == "ab"
    assert "Content-Type" not in headers


def test_pop_is_message_delete_many_with_pop() -> None:
    frame = sent(WsSession().send(api.message_pop("q", 3).request))
    assert frame["action"] == "message_delete_many"
    assert frame["body"] == {"queue_name": "q", "pop": 3}


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (
            api.message_list("q", limit=5, marker="m1", echo=True, include_claimed=False),
            {"queue_name": "q", "limit": 5, "marker": "m1", "echo": True, "include_claimed": False},
        ),
        (api.queue_list(limit=3, detailed=True), {"limit": 3, "detailed": True}),
        (api.message_get_many("q", ["a", "b"]), {"queue_name": "q", "message_ids": ["a", "b"]}),
        (
            api.message_delete_many("q", ["a"], claim_ids=["c"]),
            {"queue_name": "q", "message_ids": ["a"], "claim_ids": ["c"]},
        ),
        (
            api.message_delete("q", "m", claim_id="c"),
            {"queue_name": "q", "message_id": "m", "claim_id": "c"},
        ),
        (
            api.claim_create("q", ttl=60, grace=60, limit=2),
            {"queue_name": "q", "ttl": 60, "grace": 60, "limit": 2},
        ),
        (api.subscription_list("q", limit=2), {"queue_name": "q", "limit": 2}),
        (api.queue_purge("q", ["messages"]), {"queue_name": "q", "resource_types": ["messages"]}),
    ],
)
def test_frame_body_is_the_typed_canonical_params(call: Any, body: dict[str, Any]) -> None:
    assert frame_body(call.request) == body


def test_marker_that_looks_like_a_flag_stays_a_string() -> None:
    assert frame_body(api.queue_list(marker="true").request) == {"marker": "true"}


@pytest.mark.parametrize(
    "op",
    [
        Operation.PING,
        Operation.HEALTH,
        Operation.GET_HOME_DOC,
        Operation.QUEUE_UPDATE,
        Operation.QUEUE_SHARE,
        Operation.SUBSCRIPTION_UPDATE,
        Operation.SUBSCRIPTION_CONFIRM,
        Operation.POOL_LIST,
        Operation.FLAVOR_GET,
        Operation.TOPIC_LIST,
    ],
)
def test_unsupported_operations_name_operation_and_transport(op: Operation) -> None:
    assert not ws_supports(op)
    expected = f"{op.value} is not available over WebSocket.*http_url="
    with pytest.raises(UnsupportedOperation, match=expected):
        ws_action(op)
    with pytest.raises(UnsupportedOperation):
        WsSession().send(Request(op, "GET", "/v2/x"))


def test_msgpack_frames_are_binary() -> None:
    session = WsSession(codec="msgpack")
    call = api.message_post("q", [{"body": {"k": "v"}, "ttl": 60}])
    out = session.send(call.request)
    assert isinstance(out.data, bytes)
    assert sent(out)["body"]["messages"][0]["body"] == {"k": "v"}
    event = session.receive(reply(out, 201, {"message_ids": ["m1"]}, binary=True))
    assert isinstance(event, Reply)
    assert call.parse(event.response) == ("m1",)


def test_unknown_codec_is_rejected() -> None:
    with pytest.raises(ValidationError):
        WsSession(codec="xml")  # type: ignore[arg-type]


# -- correlation -------------------------------------------------------------------


def test_out_of_order_replies_reach_their_requests() -> None:
    session = WsSession()
    calls = [api.message_get("q", f"m{i}") for i in range(5)]
    outs = [session.send(c.request) for c in calls]
    assert len({out.request_id for out in outs}) == 5
    for i in (3, 0, 4, 1, 2):
        message = {"id": f"m{i}", "ttl": 60, "age": 1, "body": i}
        event = session.receive(reply(outs[i], 200, {"messages": message}))
        assert isinstance(event, Reply)
        assert event.request_id == outs[i].request_id
        assert calls[i].parse(event.response).body == i  # {"messages": {..}} unwrapped


def test_reply_without_echoed_headers_has_no_id() -> None:
    # An undecodable frame is answered with empty request headers, in order:
    # the connection machine gives such a reply to its oldest request in flight.
    session = WsSession()
    data = json.dumps(
        {
            "request": {"action": None, "body": {}, "headers": {}},
            "headers": {"status": 400},
            "body": {"error": "Can't decode"},
        }
    )
    event = session.receive(data)
    assert isinstance(event, Reply)
    assert event.request_id is None
    assert event.response.status == 400


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '{"what": 1}', b"\xc1"])
def test_garbage_frames_are_frame_errors(data: str | bytes) -> None:
    assert isinstance(WsSession().receive(data), FrameError)


# -- error mapping ------------------------------------------------------------------


def test_endpoint_error_body_maps_to_typed_error() -> None:
    session = WsSession()
    call = api.message_get("q", "nope")
    out = session.send(call.request)
    event = session.receive(
        reply(out, 404, {"exception": "Message nope does not exist", "error": None})
    )
    assert isinstance(event, Reply)
    with pytest.raises(NotFound, match="Message nope does not exist") as info:
        call.parse(event.response)
    assert info.value.status == 404


def test_protocol_error_body_maps_to_bad_request() -> None:
    session = WsSession()
    call = api.queue_list()
    out = session.send(call.request)
    event = session.receive(reply(out, 400, {"error": "Schema validation failed."}))
    assert isinstance(event, Reply)
    with pytest.raises(BadRequest, match="Schema validation failed"):
        call.parse(event.response)


def test_string_error_body_is_the_description() -> None:
    session = WsSession()
    call = api.subscription_create("q", "http://example.com/hook")
    out = session.send(call.request)
    event = session.receive(reply(out, 409, "Subscription q not created."))
    assert isinstance(event, Reply)
    with pytest.raises(Conflict, match="not created"):
        call.parse(event.response)


# -- reply shapes ---------------------------------------------------------------------


def test_queue_create_string_body_and_status() -> None:
    session = WsSession()
    call = api.queue_create("q")
    out = session.send(call.request)
    event = session.receive(reply(out, 204, "Queue q created."))
    assert isinstance(event, Reply)
    assert call.parse(event.response) is False


def test_missing_queue_stats_are_zeros_as_over_http() -> None:
    session = WsSession()
    call = api.queue_stats("nope")
    out = session.send(call.request)
    event = session.receive(reply(out, 404, {"messages": {"claimed": 0, "free": 0, "total": 0}}))
    assert isinstance(event, Reply)
    assert call.parse(event.response).total == 0


def test_claim_create_ids() -> None:
    session = WsSession()
    call = api.claim_create("q", ttl=60, grace=60)
    out = session.send(call.request)
    msg = {"id": "m1", "claim_id": "c1", "ttl": 60, "age": 0, "body": 1}
    event = session.receive(reply(out, 201, {"claim_id": "c1", "messages": [msg]}))
    assert isinstance(event, Reply)
    assert call.parse(event.response).id == "c1"
    out = session.send(call.request)
    event = session.receive(reply(out, 204, {"claim_id": "c2"}))
    assert isinstance(event, Reply)
    assert call.parse(event.response).id is None  # nothing claimed, as over HTTP


def test_a_full_queue_page_continues_after_its_last_name() -> None:
    # Zaqar's WS listing reply has no links: the parser takes the marker
    # from the last item of a full page; a short page is the last.
    session = WsSession()
    call = api.queue_list(limit=2, detailed=True)
    pages = Pagination(Call(CTX.prepare(call.request), call.parse))
    bodies = [
        {"queues": [{"name": "a"}, {"name": "b"}]},
        {"queues": [{"name": "c"}]},
    ]
    seen = []
    frames = []
    while (next_call := pages.next_call()) is not None:
        out = session.send(next_call.request)
        frames.append(sent(out)["body"])
        event = session.receive(reply(out, 200, bodies[len(frames) - 1]))
        assert isinstance(event, Reply)
        seen += [q.name for q in pages.accept(next_call.parse(event.response))]
    assert seen == ["a", "b", "c"]
    assert frames == [{"limit": 2, "detailed": True}, {"limit": 2, "detailed": True, "marker": "b"}]


def test_ws_reply_shapes_parse_like_their_http_answers() -> None:
    session = WsSession()
    get = api.message_get("q", "m1")
    msg = {"id": "m1", "ttl": 60, "age": 0, "body": 1}
    wrapped = session.receive(reply(session.send(get.request), 200, {"messages": msg}))
    assert isinstance(wrapped, Reply)
    assert get.parse(wrapped.response).id == "m1"
    stats = api.queue_stats("gone")
    zeros = {"messages": {"claimed": 0, "free": 0, "total": 0}}
    missing = session.receive(reply(session.send(stats.request), 404, zeros))
    assert isinstance(missing, Reply)
    assert stats.parse(missing.response).total == 0
    claim = api.claim_create("q")
    empty = session.receive(reply(session.send(claim.request), 204, {"claim_id": "c1"}))
    assert isinstance(empty, Reply)
    assert claim.parse(empty.response).id is None  # nothing was claimed, as over HTTP


def test_message_listing_is_single_page() -> None:
    session = WsSession()
    call = api.message_list("q", limit=1)
    out = session.send(call.request)
    msg = {"id": "m1", "ttl": 60, "age": 0, "body": 1}
    event = session.receive(reply(out, 200, {"messages": [msg]}))
    assert isinstance(event, Reply)
    assert call.parse(event.response).marker is None


# -- push ---------------------------------------------------------------------------------


def test_push_subscription_has_no_subscriber() -> None:
    call = push_subscription_create("q", ttl=3600, options={"a": 1})
    frame = sent(WsSession().send(call.request))
    assert frame["action"] == "subscription_create"
    assert frame["body"] == {"queue_name": "q", "ttl": 3600, "options": {"a": 1}}


def test_notifications_are_routed_by_queue_name() -> None:
    session = WsSession()
    call = push_subscription_create("orders")
    out = session.send(call.request)
    # A notification may overtake nothing but may sit between replies.
    other = session.send(api.queue_get("x").request)
    event = session.receive(reply(out, 201, {"subscription_id": "s1", "message": "ok"}))
    assert isinstance(event, Reply)
    assert call.parse(event.response) == "s1"
    note = session.receive(notification("orders", {"n": 1}))
    assert isinstance(note, Notification)
    assert (note.queue_name, note.body, note.ttl, note.subscribed) == ("orders", {"n": 1}, 60, True)
    assert isinstance(session.receive(reply(other, 200, {})), Reply)


# -- closing ------------------------------------------------------------------------------


def test_authenticate_frame_is_headers_only() -> None:
    # What a drop, a close or close code 4003 mean is the connection
    # machine's (tests/unit/test_core_ws_connection.py): the session keeps no
    # state to lose.
    frame = sent(WsSession().authenticate("tok", "proj"))
    assert frame["action"] == "authenticate"
    assert frame["headers"]["X-Auth-Token"] == "tok"
    assert "body" not in frame
