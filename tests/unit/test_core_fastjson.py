"""The msgspec paths of zaqarkit.core._json give exactly what the standard
library gives: every recorded answer in tests/data (over HTTP, and rendered as
a Zaqar WebSocket reply) parses to the same values and errors both ways, and a
malformed WebSocket reply still fails its request with ProtocolError."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from zaqarkit.core import ApiV2, Response
from zaqarkit.core import _json as fastjson
from zaqarkit.core.parse import decode_json
from zaqarkit.core.ws import FrameError, Reply, WsSession
from zaqarkit.errors import ProtocolError, ZaqarError

from .test_recorded import FILES, _replay

BENCH_WS = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "ws_recordings.json"

needs_msgspec = pytest.mark.skipif(not fastjson.FAST, reason="msgspec is not installed")


def _std(fn: Any) -> Any:
    """``fn()`` on the standard-library paths only, as without the ``fast`` extra."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fastjson, "dumps_frame", fastjson.dumps_std)
        patch.setattr(fastjson, "loads", fastjson.loads_std)
        patch.setattr(fastjson, "reply_head", lambda data: None)
        patch.setattr(fastjson, "message_listing", lambda data: None)
        return fn()


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except ZaqarError as exc:
        return ("error", type(exc), str(exc))


def _parse_all() -> list[Any]:
    results = []
    for path in FILES:
        _, call, response = _replay(path)
        results.append((path.name, call.request.body, _outcome(call.parse, response)))
    return results


def _parse_all_decoded() -> list[Any]:
    """Every recorded answer as a WebSocket transport hands it over: the body
    already decoded (``Response.data``), no JSON text."""
    results = []
    for path in FILES:
        _, call, response = _replay(path)
        if not response.body:
            continue
        decoded = Response(response.status, response.headers, b"", json.loads(response.body))
        results.append((path.name, _outcome(call.parse, decoded)))
    return results


def _ws_frames() -> list[tuple[str, str]]:
    """Each recorded answer as the WebSocket reply Zaqar would send."""
    frames = []
    for path in FILES:
        fixture, _, _ = _replay(path)
        answer = fixture["response"]
        body = json.loads(answer["body"]) if answer["body"] else None
        reply = {"body": body, "headers": {"status": answer["status"]}}
        frames.append((path.name, json.dumps(reply)))
    for action, sample in json.loads(BENCH_WS.read_text()).items():
        frames.append((f"ws:{action}", json.dumps(sample)))
    return frames


def _receive_all() -> list[Any]:
    """Each reply's status, decoded body and parsed listing: the typed path
    hands the body over as JSON text, the checked path as the object it
    decoded, and both must mean the same."""
    results = []
    api = ApiV2()
    for name, tail in _ws_frames():
        session = WsSession(default_headers=(("Client-ID", "c"), ("X-Project-ID", "p")))
        call = api.message_list("q", limit=10, echo=True)
        out = session.send(call.request)
        # Zaqar echoes the request frame, its headers (and so the id) included.
        frame = '{"request": ' + str(out.data) + ", " + tail[1:]
        event = session.receive(frame)
        assert isinstance(event, Reply), (name, event)
        response = event.response
        results.append(
            (
                name,
                response.status,
                _outcome(lambda r: decode_json(r, allow_empty=True), response),
                _outcome(call.parse, response),
            )
        )
    return results


@needs_msgspec
def test_every_recorded_answer_parses_identically() -> None:
    want = _std(_parse_all)
    fast = _parse_all()
    assert len(fast) == len(FILES) > 40
    for got, expected in zip(fast, want, strict=True):
        name, body, outcome = got
        assert name == expected[0]
        # Request bodies: the same JSON value (msgspec writes 1e16 for 1e+16).
        assert (body is None) == (expected[1] is None), name
        if body is not None:
            assert json.loads(body) == json.loads(expected[1]), name
        assert outcome == expected[2], name
        assert outcome[0] == "ok" or issubclass(outcome[1], ZaqarError), name


@needs_msgspec
def test_every_recorded_answer_decoded_parses_identically() -> None:
    # Listings and claims take the typed path from the decoded object too.
    want = _std(_parse_all_decoded)
    got = _parse_all_decoded()
    assert len(got) >= 25  # every recorded answer that has a body
    assert got == want
    assert all(outcome[0] == "ok" or issubclass(outcome[1], ZaqarError) for _, outcome in got)


@needs_msgspec
def test_every_recorded_answer_as_a_websocket_reply_decodes_identically() -> None:
    want = _std(_receive_all)
    got = _receive_all()
    assert len(got) == len(FILES) + len(json.loads(BENCH_WS.read_text()))
    assert got == want


def test_the_typed_path_takes_well_formed_replies() -> None:
    frame = (
        '{"request": {"action": "x", "headers": {"X-Request-ID": "zk-1"}},'
        ' "headers": {"status": 201}, "body": {"a": [1]}}'
    )
    expected = ("zk-1", 201, b'{"a": [1]}') if fastjson.FAST else None
    assert fastjson.reply_head(frame) == expected
    # No body and a null body are both no content, as an empty HTTP body.
    for tail in ("}", ', "body": null}'):
        empty = frame.partition(', "body"')[0] + tail
        assert fastjson.reply_head(empty) == (("zk-1", 201, b"") if fastjson.FAST else None)
    assert fastjson.reply_head(frame.encode()) is None  # binary: MessagePack, checked path


@pytest.mark.parametrize(
    "text",
    [
        '{"n": NaN, "i": -Infinity}',  # msgspec refuses; json accepts
        '{"big": 100000000000000000000000000}',  # beyond 64 bits
        '"\\ud800"',  # a lone surrogate
        '{"a": 1, "a": 2}',
        "1e400",
        '{"a": -0, "b": 1.0, "c": 1E2, "d": "\\u00e9"}',
        "[" * 3000 + "]" * 3000,  # deeper than msgspec allows
    ],
)
def test_loads_is_json_loads(text: str) -> None:
    def both(fn: Any) -> Any:
        try:
            return ascii(fn(text)), ascii(fn(text.encode("utf-8", "surrogatepass")))
        except (ValueError, RecursionError) as exc:
            return type(exc)

    assert both(fastjson.loads) == both(json.loads)


@pytest.mark.parametrize("text", ["nope", '{"a": ', "", '{"a": 1} x'])
def test_loads_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        fastjson.loads(text)


@pytest.mark.parametrize(
    "value",
    [
        {"nan": math.nan, "inf": math.inf},  # json writes NaN; msgspec would write null
        {1: "int key", False: "bool key", None: "none key"},
        {"big": 2**70},
        (1, "é", None, [True, False]),
        {"nested": {"list": [1.5, -0.0, 10**15]}},
        type("S", (str,), {})("a str subclass"),
    ],
)
def test_dumps_is_json_dumps(value: Any) -> None:
    assert fastjson.dumps_frame(value) == fastjson.dumps_std(value)


def test_dumps_raises_what_json_raises() -> None:
    with pytest.raises(TypeError):
        fastjson.dumps_frame({"x": object()})
    with pytest.raises(UnicodeEncodeError):
        fastjson.dumps_frame({"x": "\ud800"})


@pytest.mark.parametrize(
    "tail",
    [
        '"headers": {"status": "201"}, "body": {}}',
        '"headers": {"status": true}, "body": {}}',
        '"headers": {"status": 201.0}, "body": {}}',
        '"headers": {}, "body": {}}',
        '"headers": [201], "body": {}}',
    ],
)
@pytest.mark.parametrize("path", ["fast", "std"])
def test_a_reply_without_an_integer_status_fails_its_request(
    tail: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "std":
        monkeypatch.setattr(fastjson, "reply_head", lambda data: None)
    session = WsSession(default_headers=(("Client-ID", "c"), ("X-Project-ID", "p")))
    out = session.send(ApiV2().queue_create("q").request)
    event = session.receive('{"request": ' + str(out.data) + ", " + tail)
    assert isinstance(event, FrameError)
    assert isinstance(event.error, ProtocolError)
    assert event.request_id == out.request_id


def test_a_reply_carries_the_id_it_echoes() -> None:
    # Whether a request is waiting for it is the connection machine's to say.
    session = WsSession()
    frame = '{"request": {"headers": {"X-Request-ID": "zk-9"}}, "headers": {"status": 201}}'
    event = session.receive(frame)
    assert isinstance(event, Reply)
    assert (event.request_id, event.response.status) == ("zk-9", 201)


def test_a_reply_whose_echo_lost_its_id_has_none() -> None:
    # Frames Zaqar could not decode come back without the request's headers:
    # the typed path declines them, the checked path reads them with no id
    # (the machine gives them to the oldest request in flight).
    session = WsSession(default_headers=(("Client-ID", "c"), ("X-Project-ID", "p")))
    event = session.receive('{"request": {}, "headers": {"status": 400}, "body": {"error": "x"}}')
    assert isinstance(event, Reply)
    assert (event.request_id, event.response.status) == (None, 400)


def test_notifications_are_not_replies() -> None:
    session = WsSession()
    event = session.receive(
        '{"body": {"a": 1}, "ttl": 60, "queue_name": "q", "Message_Type": "Notification"}'
    )
    assert getattr(event, "body", None) == {"a": 1}


def test_response_data_is_what_parse_uses() -> None:
    # decode_json prefers the already-decoded body of a WebSocket reply.
    response = Response(200, data={"messages": []})
    assert ApiV2().message_list("q").parse(response).items == ()


_MSG = {"id": "m1", "href": "/v2/queues/q/messages/m1", "ttl": 60, "age": 1, "body": {"a": 1}}
_CLAIMED = {**_MSG, "href": "/v2/queues/q/messages/m1?claim_id=c9"}


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [_MSG, {**_MSG, "id": "m2", "checksum": "x", "claim_count": 2}]},
        {"messages": [], "links": [{"rel": "next", "href": "/v2/queues/q/messages?marker=1"}]},
        {"messages": [_MSG], "links": [{"rel": "self"}, {"rel": "next", "href": "/n"}], "count": 7},
        {"messages": [_MSG], "count": True},  # the SQL catalog's bogus count
        {"messages": [{**_MSG, "id": None}]},  # the id comes from the href
        {"messages": [{**_MSG, "body": None, "extra": [1]}]},
        {"messages": [_CLAIMED]},  # the claim id comes from the href
        # Hrefs the claimed-href shortcut must leave to claim_id_from_href:
        *(
            {
                "messages": [
                    _CLAIMED,
                    {**_MSG, "id": "m2", "href": f"/v2/queues/q/messages/m2{rest}"},
                ]
            }
            for rest in (
                "?claim_id=c8",
                "#x?claim_id=c9",
                "?a=1?claim_id=c9",
                "?a=1&claim_id=c9",
                "?claim_id=c9#x",
                "?claim_id=c%209",
                "?claim_id=c9&claim_id=c8",
            )
        ),
        {"messages": [{**_CLAIMED, "href": "http://h/v2/queues/q/messages/m1?claim_id=c9"}]},
        {"messages": [{k: v for k, v in _MSG.items() if k != "body"}]},
        {"messages": [{k: v for k, v in _MSG.items() if k != "ttl"}]},
        {"messages": [{**_MSG, "ttl": True}]},
        {"messages": [{**_MSG, "age": 1.0}]},
        {"messages": [{**_MSG, "ttl": 2**70}]},
        {"messages": [{**_MSG, "id": 5}]},
        {"messages": [{**_MSG, "id": None, "href": None}]},
        {"messages": [{**_MSG, "claim_id": 3}]},
        {"messages": [{**_MSG, "checksum": []}]},
        {"messages": ["not a message"]},
        {"messages": {"id": "m1"}},
        {"messages": [_MSG], "links": [{"rel": "next"}]},
        {"messages": [_MSG], "links": [{"rel": "next", "href": 3}]},
        {"messages": [_MSG], "links": {"rel": "next"}},
        {"messages": [_MSG], "links": ["x"]},
        {"links": []},
        [_MSG],
        "text",
    ],
)
def test_the_typed_listing_path_parses_as_the_checked_one(body: Any) -> None:
    """Listings and claims decoded straight into messages give the models, or
    the ProtocolError, of the dict-by-dict path, whatever the body."""
    raw = json.dumps(body).encode()
    api = ApiV2()
    cases = [
        (api.message_list("q", limit=10, echo=True), Response(200, {}, raw)),
        (
            api.claim_create("q", ttl=60, grace=60),
            Response(201, {"location": "/v2/queues/q/claims/c9"}, raw),
        ),
        (api.claim_create("q", ttl=60, grace=60), Response(201, {}, raw)),
        (
            api.claim_create("q", ttl=60, grace=60),  # a claim id parse_qs would unescape
            Response(201, {"location": "/v2/queues/q/claims/c%209"}, raw),
        ),
        # As a WebSocket transport hands them over: decoded, no JSON text.
        (api.message_list("q", limit=10, echo=True), Response(200, {}, b"", body)),
        (api.claim_create("q", ttl=60, grace=60), Response(201, {}, b"", body)),
    ]
    for call, response in cases:
        got = _outcome(call.parse, response)
        assert got == _std(lambda c=call, r=response: _outcome(c.parse, r))
        assert got[0] == "ok" or got[1] is ProtocolError


@needs_msgspec
def test_the_typed_listing_path_is_taken_for_well_formed_listings() -> None:
    raw = json.dumps({"messages": [_CLAIMED], "links": []}).encode()
    listing = fastjson.message_listing(raw)
    assert listing is not None
    assert [m.id for m in listing[0]] == ["m1"]
    assert fastjson.message_listing(b'{"messages": [{"id": "m1"}]}') is None
    decoded = fastjson.message_listing({"messages": [_CLAIMED]})
    assert decoded is not None
    assert [m.id for m in decoded[0]] == ["m1"]
    assert fastjson.message_listing({"messages": [{**_MSG, "ttl": True}]}) is None
