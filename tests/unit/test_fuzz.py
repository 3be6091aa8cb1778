"""Hypothesis: whatever a caller passes and whatever a server answers, nothing
but a zaqarkit error escapes. The public facade is driven through
MockTransport; the core parsers get arbitrary statuses, bodies and headers;
WebSocket frames arrive as text, binary and MessagePack."""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Callable
from typing import Any

import msgpack  # type: ignore[import-untyped,unused-ignore]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zaqarkit import Client, ValidationError, ZaqarError
from zaqarkit.core.api import ApiV2
from zaqarkit.core.api_v1 import ApiV1, ApiV1_1
from zaqarkit.core.wire import Call, Request, Response
from zaqarkit.core.ws import WsSession, decode_frame
from zaqarkit.transports import MockTransport

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

#: Leaves JSON can hold, and leaves it cannot.
_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_bad_leaves = (
    st.sets(st.integers(), max_size=2)
    | st.binary(max_size=4)
    | st.just(datetime.datetime(2026, 1, 1))
    | st.just(float("nan"))
    | st.just(float("inf"))
    | st.just("\ud800")
    | st.just(object())
)
_anything = st.recursive(
    _json_leaves | _bad_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4) | st.tuples(st.integers()), inner, max_size=3)
    ),
    max_leaves=8,
)
_weird = _anything | st.integers() | st.text() | st.none() | st.floats()


def _ok_server(request: Request) -> Response:
    """A plausible server: enough for supported calls to parse."""
    if request.operation.value == "message_post":
        count = len(request.params.get("messages", [])) or 1
        body = {"resources": [f"/v2/queues/q/messages/m{n}" for n in range(count)]}
        return Response(201, {"content-type": "application/json"}, json.dumps(body).encode())
    return Response(204)


def _only_zaqar_errors(action: Callable[[], Any]) -> BaseException | None:
    try:
        action()
    except ZaqarError as exc:
        return exc
    return None


@FUZZ
@given(body=_anything, ttl=_weird, delay=_weird)
def test_post_bodies_never_leak(body: Any, ttl: Any, delay: Any) -> None:
    mock = MockTransport(_ok_server)
    with Client("http://zaqar.test", project_id="p", transport=mock, retries=0) as cli:
        queue = cli.queue("q", auto_create=False)
        error = _only_zaqar_errors(lambda: queue.post({"body": body, "ttl": ttl, "delay": delay}))
        if error is None:
            # What was sent is valid JSON without NaN or infinity.
            json.loads(mock.requests[-1].body or b"", parse_constant=_no_constants)
        else:
            assert isinstance(error, ValidationError)
            assert error.field
            assert mock.requests == []


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} was sent")


@FUZZ
@given(name=_weird, message_id=_weird, marker=_weird, limit=_weird)
def test_identifiers_never_leak(name: Any, message_id: Any, marker: Any, limit: Any) -> None:
    mock = MockTransport(_ok_server)
    with Client("http://zaqar.test", project_id="p", transport=mock, retries=0) as cli:
        for action in (
            lambda: cli.queue(name, auto_create=False).stats(),
            lambda: cli.queue("q", auto_create=False).message(message_id),
            lambda: cli.queue("q", auto_create=False).delete_messages(message_id),
            lambda: list(cli.queue("q", auto_create=False).messages(limit=limit)),
            lambda: cli._engine.send(cli._engine.api.message_list("q", marker=marker)),
            lambda: cli.queue("q", auto_create=False).claim(id=message_id),
        ):
            error = _only_zaqar_errors(action)
            if error is None:
                # Anything that went out fits in an HTTP request line.
                assert all(r.url.isascii() for r in mock.requests)


@FUZZ
@given(project=_weird, header=st.text(max_size=6), value=_weird, roles=st.lists(st.text()))
def test_client_options_never_leak(project: Any, header: str, value: Any, roles: Any) -> None:
    def build() -> None:
        mock = MockTransport(_ok_server)
        with Client(
            "http://zaqar.test",
            project_id=project,
            headers={header: value},
            roles=roles,
            transport=mock,
            retries=0,
        ) as cli:
            cli.ping()
            for request in mock.requests:
                for key, val in request.headers:
                    key.encode("ascii")
                    val.encode("ascii")

    error = _only_zaqar_errors(build)
    assert error is None or isinstance(error, ValidationError)


# -- core parsers ------------------------------------------------------------------


def _calls() -> list[Call[Any]]:
    calls: list[Call[Any]] = []
    for api in (ApiV2(), ApiV1_1(), ApiV1()):
        for build in (
            lambda a: a.ping(),
            lambda a: a.health(),
            lambda a: a.queue_list(),
            lambda a: a.queue_create("q"),
            lambda a: a.queue_get("q"),
            lambda a: a.queue_stats("q"),
            lambda a: a.queue_delete("q"),
            lambda a: a.message_post("q", [{"body": 1, "ttl": 60}, {"body": 2, "ttl": 60}]),
            lambda a: a.message_list("q"),
            lambda a: a.message_get("q", "m"),
            lambda a: a.message_get_many("q", ["a", "b"]),
            lambda a: a.message_pop("q", 2),
            lambda a: a.message_delete("q", "m"),
            lambda a: a.claim_create("q", ttl=60, grace=60),
            lambda a: a.claim_get("q", "c"),
            lambda a: a.subscription_create("q", "http://h/x"),
            lambda a: a.subscription_get("q", "s"),
            lambda a: a.subscription_list("q"),
            lambda a: a.pool_list(),
            lambda a: a.pool_get("p"),
            lambda a: a.flavor_get("f"),
            lambda a: a.flavor_list(),
            lambda a: a.queue_share("q"),
            lambda a: a.home_document(),
        ):
            with contextlib.suppress(ZaqarError):  # not offered by this version
                calls.append(build(api))
    return calls


CALLS = _calls()

_json_values = st.recursive(
    _json_leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "resources",
                    "message_ids",
                    "id",
                    "href",
                    "body",
                    "ttl",
                    "age",
                    "links",
                    "queues",
                    "claimed",
                    "free",
                    "total",
                    "subscriptions",
                    "pools",
                    "flavors",
                    "count",
                    "title",
                    "description",
                    "claim_id",
                    "rel",
                    "name",
                    "storage_reachable",
                    "expires",
                    "signature",
                    "paths",
                    "methods",
                    "project",
                    "subscriber",
                    "options",
                ]
            )
            | st.text(),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)
_bodies = st.binary(max_size=64) | _json_values.map(lambda v: json.dumps(v).encode())
_headers = st.dictionaries(
    st.sampled_from(["location", "content-type", "retry-after", "x-openstack-request-id"])
    | st.text(max_size=8),
    st.text(max_size=40)
    | st.sampled_from(
        ["/v2/queues/q/claims/c1", "/v2/queues/q/messages?ids=a,b", "2", "nan", "-1", "inf"]
    ),
    max_size=3,
)


@FUZZ
@given(
    index=st.integers(0, len(CALLS) - 1),
    status=st.sampled_from([200, 201, 204, 400, 401, 404, 409, 429, 500, 503])
    | st.integers(100, 599),
    body=_bodies,
    headers=_headers,
)
def test_parsers_raise_only_zaqar_errors(
    index: int, status: int, body: bytes, headers: dict[str, str]
) -> None:
    call = CALLS[index]
    with contextlib.suppress(ZaqarError):
        call.parse(Response(status, headers, body))


@FUZZ
@given(index=st.integers(0, len(CALLS) - 1), data=_json_values, status=st.integers(100, 599))
def test_parsers_of_decoded_bodies(index: int, data: Any, status: int) -> None:
    # WebSocket replies (and MessagePack) reach the parsers already decoded.
    with contextlib.suppress(ZaqarError):
        CALLS[index].parse(Response(status, {}, b"", data))


# -- WebSocket frames -----------------------------------------------------------------

_small = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=8)
    | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "message_ids",
                    "id",
                    "body",
                    "ttl",
                    "age",
                    "queue_name",
                    "status",
                    "links",
                ]
            )
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)
_reply = st.fixed_dictionaries(
    {
        "request": st.fixed_dictionaries(
            {
                "headers": st.fixed_dictionaries(
                    {"X-Request-ID": st.sampled_from(["zk-1", "zk-2", "zk-3", "other"])}
                )
            }
        )
        | _small,
        "headers": st.fixed_dictionaries({"status": st.integers(100, 599) | _small}) | _small,
        "body": _small,
    }
)
_frames = (
    st.text(max_size=80)
    | st.binary(max_size=80)
    | _small.map(json.dumps)
    | _small.map(lambda v: msgpack.packb(v, use_bin_type=True))
    | _reply.map(json.dumps)
    | _reply.map(lambda v: msgpack.packb(v, use_bin_type=True))
)
WS_CALLS = [
    ApiV2().message_post("q", [{"body": 1}, {"body": 2}]),
    ApiV2().message_list("q"),
    ApiV2().claim_create("q", ttl=60, grace=60),
    ApiV2().queue_stats("q"),
]


@FUZZ
@given(frames=st.lists(_frames, max_size=5), codec=st.sampled_from(["json", "msgpack"]))
def test_ws_frames_raise_only_zaqar_errors(frames: list[str | bytes], codec: str) -> None:
    for data in frames:
        with contextlib.suppress(ZaqarError):
            decode_frame(data)
    session = WsSession(codec=codec, id_prefix="zk")  # type: ignore[arg-type]
    pending = {session.send(call.request).request_id: call for call in WS_CALLS}
    for data in frames:
        event = session.receive(data)
        response = getattr(event, "response", None)
        call = pending.get(getattr(event, "request_id", None) or "")
        if response is not None and call is not None:
            with contextlib.suppress(ZaqarError):
                call.parse(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({1, 2}, "messages[0].body"),
        (b"raw", "messages[0].body"),
        ({"at": datetime.datetime(2026, 1, 1)}, "messages[0].body.at"),
        ({(1, 2): "x"}, "messages[0].body"),
        ({"s": "\ud800"}, "messages[0].body.s"),
        (float("nan"), "messages[0].body"),
        ([1, float("-inf")], "messages[0].body[1]"),
    ],
)
def test_unencodable_bodies_name_the_field(body: Any, field: str) -> None:
    mock = MockTransport(_ok_server)
    with (
        Client("http://zaqar.test", project_id="p", transport=mock) as cli,
        pytest.raises(ValidationError) as info,
    ):
        cli.queue("q", auto_create=False).post([{"body": "fine"}, {"body": body}][1:])
    assert info.value.field == field
    assert mock.requests == []


def test_circular_body() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with (
        Client("http://zaqar.test", project_id="p", transport=MockTransport(_ok_server)) as cli,
        pytest.raises(ValidationError, match="circular") as info,
    ):
        cli.queue("q", auto_create=False).post({"body": loop})
    assert info.value.field == "messages[0].body.self"


def test_oversize_body() -> None:
    with (
        Client("http://zaqar.test", project_id="p", transport=MockTransport(_ok_server)) as cli,
        pytest.raises(ValidationError, match="max_messages_post_size"),
    ):
        cli.queue("q", auto_create=False).post({"body": "x" * 300_000})


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda c: c.queue("q", auto_create=False).message("caf\u00e9"), "message_id"),
        (lambda c: c.queue("q", auto_create=False).claim(id="\u00e9"), "claim_id"),
        (
            lambda c: Client(
                "http://z", project_id="caf\u00e9", transport=MockTransport(_ok_server)
            ).ping(),
            "project_id",
        ),
        (
            lambda c: Client(
                "http://z",
                project_id="p",
                headers={"X-A": "\u00e9"},
                transport=MockTransport(_ok_server),
            ).ping(),
            "X-A",
        ),
        (
            lambda c: Client(
                "http://z",
                project_id="p",
                headers={"X A": "v"},
                transport=MockTransport(_ok_server),
            ).ping(),
            "headers",
        ),
    ],
)
def test_non_ascii_where_zaqar_forbids_it(build: Callable[[Client], Any], field: str) -> None:
    mock = MockTransport(_ok_server)
    with (
        Client("http://zaqar.test", project_id="p", transport=mock) as cli,
        pytest.raises(ValidationError) as info,
    ):
        build(cli)
    assert info.value.field == field
    assert mock.requests == []


def test_non_ascii_marker_is_percent_encoded() -> None:
    mock = MockTransport(lambda r: Response(200, {}, b'{"messages": [], "links": []}'))
    with Client("http://zaqar.test", project_id="p", transport=mock) as cli:
        cli._engine.send(cli._engine.api.message_list("q", marker="caf\u00e9"))
    assert mock.requests[0].url.endswith("marker=caf%C3%A9")
