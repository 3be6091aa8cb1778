"""URLs, context, operations and routes, errors, models and wire types."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from zaqarkit.core import (
    ROUTES,
    ApiV2,
    ApiVersion,
    Call,
    Context,
    Operation,
    Request,
    Response,
    Route,
    metadata_patch,
    route_for,
)
from zaqarkit.core._records import fast_init
from zaqarkit.core.context import encode_query
from zaqarkit.core.models import Health, Message, Page, SignedURL
from zaqarkit.core.operations import V2_ROUTES
from zaqarkit.core.urls import normalize_endpoint, origin, split_ref
from zaqarkit.core.wire import ReusedCalls
from zaqarkit.errors import (
    ApiError,
    BadRequest,
    ClientError,
    ConnectError,
    NotFound,
    ProtocolError,
    ReadError,
    ServerError,
    ServiceUnavailable,
    TimeoutError,
    TooManyRequests,
    TransportError,
    TransportProtocolError,
    UnsupportedOperation,
    ValidationError,
    ZaqarError,
    error_for_status,
)

# -- urls ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://host", "http://host"),
        ("http://host/", "http://host"),
        ("  https://host:8888/  ", "https://host:8888"),
        ("http://host:8888/messaging", "http://host:8888/messaging"),
        ("http://host:8888/messaging/", "http://host:8888/messaging"),
        ("http://host/messaging/v2", "http://host/messaging"),
        ("http://host/messaging/v2/", "http://host/messaging"),
        ("http://host/v2.0", "http://host"),
        ("http://host/v1.1/", "http://host"),
        ("http://host/v1", "http://host"),
        ("http://host/v22", "http://host/v22"),
        ("http://host/v2/queues", "http://host/v2/queues"),
        ("ws://127.0.0.1:9000", "ws://127.0.0.1:9000"),
        ("wss://user@host/x/", "wss://user@host/x"),
        ("http://[::1]:8888/", "http://[::1]:8888"),
    ],
)
def test_normalize_endpoint(url: str, expected: str) -> None:
    assert normalize_endpoint(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "url: must be a non-empty string, got ''"),
        (None, "url: must be a non-empty string, got None"),
        ("ftp://host", "url: scheme must be one of http, https, ws, wss, got 'ftp'"),
        ("host:8888", "url: scheme must be one of http, https, ws, wss, got 'host'"),
        ("http://host:notaport", "url: is not a valid URL: 'http://host:notaport' ("),
        ("http://host:99999", "url: is not a valid URL: 'http://host:99999' ("),
        ("http://[::1", "url: is not a valid URL: 'http://[::1' ("),
        ("http:///path", "url: has no host: 'http:///path'"),
        ("http://host/?a=1", "url: must not have a query or fragment: 'http://host/?a=1'"),
        ("http://host/#frag", "url: must not have a query or fragment: 'http://host/#frag'"),
    ],
)
def test_normalize_endpoint_rejects(url: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_endpoint(url)  # type: ignore[arg-type]
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_normalize_endpoint_with_custom_schemes() -> None:
    assert normalize_endpoint("ws://h/", schemes=("ws", "wss")) == "ws://h"
    with pytest.raises(ValidationError, match="scheme must be one of ws, wss, got 'http'"):
        normalize_endpoint("http://h", schemes=("ws", "wss"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://Host", ("http", "host", 80)),
        ("https://h", ("https", "h", 443)),
        ("ws://h/x", ("ws", "h", 80)),
        ("wss://h:9", ("wss", "h", 9)),
        ("http://h:8888/a", ("http", "h", 8888)),
        ("redis://h", ("redis", "h", None)),
        ("/relative", ("", "", None)),
    ],
)
def test_origin(url: str, expected: tuple[str, str, int | None]) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("ref", "endpoint", "expected"),
    [
        (
            "/v2/queues?marker=a&limit=2",
            "http://h",
            ("/v2/queues", (("marker", "a"), ("limit", "2"))),
        ),
        ("/v2/queues?marker=a", "http://h/messaging", ("/v2/queues", (("marker", "a"),))),
        ("v2/queues", "http://h", ("/v2/queues", ())),
        ("/v2/queues?name=&x=%2C", "http://h", ("/v2/queues", (("name", ""), ("x", ",")))),
        ("http://h/messaging/v2/queues?m=1", "http://h/messaging", ("/v2/queues", (("m", "1"),))),
        ("http://h:80/v2/queues", "http://h", ("/v2/queues", ())),
        ("HTTP://H/v2/queues", "http://h", ("/v2/queues", ())),
        ("http://h/other/v2/queues", "http://h/messaging", ("/other/v2/queues", ())),
        ("http://h/messaging", "http://h/messaging", ("/messaging", ())),
        ("https://h:443/v2/x", "https://h", ("/v2/x", ())),
    ],
)
def test_split_ref(
    ref: str, endpoint: str, expected: tuple[str, tuple[tuple[str, str], ...]]
) -> None:
    assert split_ref(ref, endpoint) == expected


@pytest.mark.parametrize(
    ("ref", "endpoint", "message"),
    [
        ("", "http://h", "ref: must be a non-empty string, got ''"),
        (None, "http://h", "ref: must be a non-empty string, got None"),
        (
            "http://evil.example/v2/queues",
            "http://h",
            "ref: 'http://evil.example/v2/queues' is on another origin than the endpoint "
            "'http://h'; refusing to send credentials there",
        ),
        ("https://h/v2", "http://h", "ref: 'https://h/v2' is on another origin"),
        ("http://h:81/v2", "http://h", "ref: 'http://h:81/v2' is on another origin"),
        ("//evil/v2", "http://h", "ref: '//evil/v2' is on another origin"),
    ],
)
def test_split_ref_rejects(ref: object, endpoint: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        split_ref(ref, endpoint)  # type: ignore[arg-type]
    assert str(info.value).startswith(message)


# -- context ----------------------------------------------------------------------


def test_context_prepares_url_and_headers() -> None:
    ctx = Context("http://h:8888/messaging", (("Client-ID", "c"), ("X-Project-ID", "p")))
    request = ApiV2().message_post("q", {"body": 1}).request
    prepared = ctx.prepare(request)
    assert prepared.url == "http://h:8888/messaging/v2/queues/q/messages"
    assert prepared.headers == (
        ("Client-ID", "c"),
        ("X-Project-ID", "p"),
        ("Content-Type", "application/json"),
    )
    assert (prepared.method, prepared.path, prepared.body) == (
        request.method,
        request.path,
        request.body,
    )
    assert request.url == ""  # the original is untouched


def test_context_encodes_the_query_keeping_commas() -> None:
    ctx = Context("http://h")
    request = ApiV2().message_delete_many("q", ["a", "b"], claim_ids=["c"]).request
    assert ctx.prepare(request).url == "http://h/v2/queues/q/messages?ids=a,b&claim_ids=c"
    listing = ApiV2().queue_list(marker="a b&c=d", name="x/y").request
    assert ctx.prepare(listing).url == "http://h/v2/queues?marker=a+b%26c%3Dd&name=x%2Fy"
    assert encode_query(()) == ""
    assert Context("http://h").headers == ()


# -- operations and routes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, ApiVersion.V2),
        ("2", ApiVersion.V2),
        (2.0, ApiVersion.V2),
        (" 2.0 ", ApiVersion.V2),
        (1, ApiVersion.V1),
        ("1.0", ApiVersion.V1),
        (1.1, ApiVersion.V1_1),
        ("1.1", ApiVersion.V1_1),
        (ApiVersion.V2.value, ApiVersion.V2),
    ],
)
def test_api_version_parse(value: object, expected: ApiVersion) -> None:
    assert ApiVersion.parse(value) is expected


@pytest.mark.parametrize("value", [3, "v2", "", None, "2.1"])
def test_api_version_parse_rejects(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        ApiVersion.parse(value)
    assert str(info.value) == f"version: must be one of 1, 1.1 or 2, got {value!r}"


def test_api_version_prefixes() -> None:
    assert [v.prefix for v in ApiVersion] == ["/v1", "/v1.1", "/v2"]


def test_route_for_and_unsupported_versions() -> None:
    assert route_for(ApiVersion.V2, Operation.CLAIM_UPDATE) == Route(
        "PATCH", "/queues/{queue_name}/claims/{claim_id}"
    )
    assert ROUTES[ApiVersion.V2] is V2_ROUTES
    with pytest.raises(UnsupportedOperation) as info:
        route_for(ApiVersion.V1_1, Operation.QUEUE_PURGE)
    assert str(info.value) == (
        "operation 'queue_purge' is not available in Zaqar API v1.1; use version='2' "
        "(it is in API v2)"
    )
    assert isinstance(info.value, ZaqarError)


def test_route_for_an_operation_missing_from_a_table() -> None:
    class Partial(ApiV2):
        version = ApiVersion.V1

    with pytest.raises(UnsupportedOperation, match="not available in Zaqar API v1"):
        Partial().message_pop("q", 1)


def test_route_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        V2_ROUTES[Operation.PING] = Route("GET", "/x")  # type: ignore[index]
    with pytest.raises(TypeError):
        ROUTES[ApiVersion.V1] = {}  # type: ignore[index]


@pytest.mark.parametrize(
    ("operation", "value"),
    [
        (Operation.GET_HOME_DOC, "get_home_doc"),
        (Operation.PING, "ping_node"),
        (Operation.HEALTH, "check_node_health"),
        (Operation.QUEUE_GET_STATS, "queue_get_stats"),
        (Operation.QUEUE_SHARE, "signed_url_create"),
        (Operation.MESSAGE_DELETE_MANY, "message_delete_many"),
        (Operation.CLAIM_CREATE, "claim_create"),
        (Operation.SUBSCRIPTION_CREATE, "subscription_create"),
    ],
)
def test_operations_use_zaqars_action_names(operation: Operation, value: str) -> None:
    assert str(operation) == value
    assert operation == value
    assert Operation(value) is operation


def test_every_route_template_starts_with_a_slash_and_formats() -> None:
    keys = {
        "queue_name": "q",
        "topic_name": "t",
        "message_id": "m",
        "claim_id": "c",
        "subscription_id": "s",
        "pool_name": "p",
        "flavor_name": "f",
    }
    for route in V2_ROUTES.values():
        assert route.template.startswith("/")
        assert "{" not in route.template.format_map(keys)
        assert route.method in {"GET", "PUT", "POST", "PATCH", "DELETE"}


# -- metadata_patch ------------------------------------------------------------------


def test_metadata_patch_adds_and_removes_user_keys_only() -> None:
    current = {"a": 1, "b": 2, "_default_message_ttl": 3600, "_flavor": "gold"}
    assert metadata_patch(current, {"a": 5, "c": None}) == [
        {"op": "add", "path": "/metadata/a", "value": 5},
        {"op": "add", "path": "/metadata/c", "value": None},
        {"op": "remove", "path": "/metadata/b"},
    ]
    assert metadata_patch({}, {}) == []


def test_metadata_patch_escapes_json_pointer_characters() -> None:
    ops = metadata_patch({"x/y": 1}, {"a~b": 1})
    assert ops == [
        {"op": "add", "path": "/metadata/a~0b", "value": 1},
        {"op": "remove", "path": "/metadata/x~1y"},
    ]
    # the builder accepts what metadata_patch produces
    assert ApiV2().queue_update("q", ops).request.body == (
        b'[{"op":"add","path":"/metadata/a~0b","value":1},{"op":"remove","path":"/metadata/x~1y"}]'
    )


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "BadRequest"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "NotFound"),
        (405, "MethodNotAllowed"),
        (406, "NotAcceptable"),
        (409, "Conflict"),
        (413, "PayloadTooLarge"),
        (415, "UnsupportedMediaType"),
        (429, "TooManyRequests"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailable"),
        (502, "ServerError"),
        (599, "ServerError"),
        (418, "ClientError"),
        (499, "ClientError"),
        (302, "ApiError"),
        (200, "ApiError"),
    ],
)
def test_error_for_status(status: int, name: str) -> None:
    cls = error_for_status(status)
    assert cls.__name__ == name
    assert issubclass(cls, ApiError)


def test_error_hierarchy() -> None:
    for cls in (ValidationError, UnsupportedOperation, ProtocolError, TransportError, ApiError):
        assert issubclass(cls, ZaqarError)
    assert issubclass(ValidationError, ValueError)
    for cls in (ConnectError, TimeoutError, ReadError, TransportProtocolError):
        assert issubclass(cls, TransportError)
    assert issubclass(NotFound, ClientError)
    assert issubclass(ServiceUnavailable, ServerError)
    # `except TimeoutError:` / `except ConnectionError:` in user code catch ours too.
    import builtins

    assert issubclass(TimeoutError, builtins.TimeoutError)
    assert issubclass(ConnectError, builtins.ConnectionError)
    assert not issubclass(ReadError, OSError)


@pytest.mark.parametrize(
    ("error", "sent", "retryable"),
    [
        (ConnectError("refused", operation="message_post"), False, True),
        (ReadError("reply lost", operation="message_post"), True, False),
        (ReadError("reply lost", operation="claim_create"), True, False),
        (ReadError("reply lost", operation="message_delete"), True, False),
        (ReadError("reply lost", operation="message_delete", retryable=True), True, True),
        (TimeoutError("slow", operation="queue_list", retryable=True), True, True),
        (TimeoutError("slow", sent=False, operation="message_post"), False, True),
        (ReadError("lost"), True, False),
        (ReadError("lost", retryable=True), True, True),
    ],
)
def test_transport_error_outcome(error: TransportError, sent: bool, retryable: bool) -> None:
    assert (error.sent, error.retryable) == (sent, retryable)


def test_api_error_retryable_statuses() -> None:
    assert [
        s for s in (400, 404, 409, 429, 500, 502, 503, 504) if error_for_status(s)(s).retryable
    ] == [429, 502, 503, 504]


def test_api_error_message_and_attributes() -> None:
    error = BadRequest(
        400, "Invalid API request", "Limit is too big.", "queue_list", request_id="req-9"
    )
    assert str(error) == "400 Invalid API request: Limit is too big. (operation queue_list)"
    assert (error.status, error.title, error.description, error.operation, error.request_id) == (
        400,
        "Invalid API request",
        "Limit is too big.",
        "queue_list",
        "req-9",
    )
    assert str(ApiError(500)) == "500"
    assert str(ApiError(404, description="gone")) == "404: gone"
    # Falcon titles carry the status already: it is not repeated
    assert str(ApiError(404, "404 Not Found", "Queue q does not exist")) == (
        "404 Not Found: Queue q does not exist"
    )
    assert TooManyRequests(429).retry_after is None
    assert ServiceUnavailable(503).retry_after is None


def test_transport_error_retryable() -> None:
    assert TransportError("x").retryable is False
    assert TransportError("x", retryable=True).retryable is True
    assert ConnectError("refused").retryable is True
    assert ConnectError("refused", retryable=False).retryable is False
    assert ReadError("reset").retryable is False
    assert str(TimeoutError("slow")) == "slow"


def test_validation_error_fields() -> None:
    error = ValidationError("ttl", "must be between 60 and 1209600, got 5")
    assert (error.field, error.rule) == ("ttl", "must be between 60 and 1209600, got 5")
    assert str(error) == "ttl: must be between 60 and 1209600, got 5"


# -- models ----------------------------------------------------------------------


def test_signed_url_hides_its_signature() -> None:
    signed = SignedURL(
        "p",
        ("/v2/queues/q/messages", "/v2/queues/q/claims"),
        ("GET", "POST"),
        "2030-01-01T00:00:00",
        "deadbeef",
    )
    assert "deadbeef" not in repr(signed)
    assert repr(signed) == (
        "SignedURL(project='p', paths=('/v2/queues/q/messages', '/v2/queues/q/claims'), "
        "methods=('GET', 'POST'), expires='2030-01-01T00:00:00', signature='***')"
    )
    assert signed.headers() == {
        "URL-Signature": "deadbeef",
        "URL-Expires": "2030-01-01T00:00:00",
        "URL-Methods": "GET,POST",
        "URL-Paths": "/v2/queues/q/messages,/v2/queues/q/claims",
        "X-Project-ID": "p",
    }


def test_models_are_frozen_and_slotted() -> None:
    page: Page[int] = Page((1, 2))
    assert (page.items, page.marker, page.count) == ((1, 2), None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.count = 3  # type: ignore[misc]
    assert not hasattr(Health({}), "__dict__")


# -- wire -------------------------------------------------------------------------


def test_request_header_lookup_is_case_insensitive() -> None:
    request = Request(
        Operation.PING, "GET", "/v2/ping", headers=(("Client-ID", "a"), ("client-id", "b"))
    )
    assert request.header("CLIENT-ID") == "a"
    assert request.header("X-Missing") is None
    assert request.params == {}


def test_response_headers_are_read_lower_cased() -> None:
    response = Response(201, {"location": "/v2/queues/q"})
    assert response.header("Location") == "/v2/queues/q"
    assert response.header("Content-Type") is None
    assert response.body == b""


def test_call_bundles_request_and_parser() -> None:
    request = Request(Operation.PING, "GET", "/v2/ping")
    call: Call[int] = Call(request, lambda r: r.status)
    assert call.parse(Response(204)) == 204
    assert call.request is request


# -- core._records.fast_init ----------------------------------------------------------


def _point_classes() -> tuple[type[Any], type[Any]]:
    def define() -> type[Any]:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Point:
            x: int
            tags: list[str] = dataclasses.field(default_factory=list)
            label: str = "origin"
            weight: float = dataclasses.field(default=1.0, kw_only=True)

        return Point

    return define(), fast_init(define())


def test_fast_init_builds_what_the_dataclass_init_builds() -> None:
    plain, fast = _point_classes()
    for args, kwargs in [((1,), {}), ((1, ["a"]), {"label": "b"}), ((2,), {"weight": 3.5})]:
        assert dataclasses.astuple(fast(*args, **kwargs)) == dataclasses.astuple(
            plain(*args, **kwargs)
        )
    first, second = fast(1), fast(1)
    assert first.tags == []
    assert first.tags is not second.tags  # a fresh default each time
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.x = 2
    with pytest.raises(TypeError):
        fast(1, [], "b", 2.0)  # weight stays keyword-only
    assert fast.__new__.__qualname__.endswith("Point.__new__")
    assert type(first) is fast
    assert type(first).__name__ == "Point"
    assert inspect.signature(fast).parameters == inspect.signature(plain).parameters


def test_fast_init_records_copy_and_pickle() -> None:
    _, fast = _point_classes()
    point = fast(4, ["t"], "p", weight=2.0)
    for copied in (copy.copy(point), copy.deepcopy(point)):
        assert (copied, type(copied)) == (point, fast)
    assert copy.deepcopy(point).tags is not point.tags
    message = Message("m1", {"k": [1]}, 60, 3, claim_id="c1")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(message, protocol))
        assert (restored, type(restored)) == (message, Message)
    assert dataclasses.replace(message, ttl=5) == Message("m1", {"k": [1]}, 5, 3, claim_id="c1")


def test_fast_init_builds_generic_records() -> None:
    page = Page((Message("m1", None, 1, 0),), "next", 1)
    assert (type(page), page.marker, page.count, page.items[0].id) == (Page, "next", 1, "m1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.marker = None  # type: ignore[misc]


def test_fast_init_refuses_classes_it_would_get_wrong() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        x: int

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Base:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived(Base):  # its twin would inherit the frozen __setattr__
        y: int

    for cls in (Mutable, NoSlots, Checked, Derived):
        with pytest.raises(TypeError, match=cls.__name__):
            fast_init(cls)


def test_prepare_fills_in_the_url_and_every_header() -> None:
    ctx = Context("http://h/p", (("Client-ID", "c"),))
    first = ctx.prepare(ApiV2().message_list("q", limit=5).request)
    assert first.url == "http://h/p/v2/queues/q/messages?limit=5"
    assert first.headers == (("Client-ID", "c"),)
    # A context keeps nothing: preparing again gives an equal request.
    assert ctx.prepare(ApiV2().message_list("q", limit=5).request) == first
    assert ctx == Context("http://h/p", (("Client-ID", "c"),))
    assert hash(ctx) == hash(Context("http://h/p", (("Client-ID", "c"),)))


def test_reused_calls_hand_back_the_prepared_call_for_the_same_arguments() -> None:
    ctx = Context("http://h/p", (("Client-ID", "c"),))
    built: list[int] = []

    def prepare(call: Call[Any]) -> Call[Any]:
        return Call(ctx.prepare(call.request), call.parse)

    reused = ReusedCalls(prepare)

    def listing(marker: str) -> Call[Any]:
        def build() -> Call[Any]:
            built.append(marker)
            return ApiV2().message_list("q", marker=marker)

        return reused.get(("list", "q"), (marker,), build)

    marker = "m1"
    first = listing(marker)
    assert listing(marker) is first
    assert first.request.url == "http://h/p/v2/queues/q/messages?marker=m1"
    assert first.request.headers == (("Client-ID", "c"),)
    # Equal is not enough: the arguments must be the same objects.
    equal = "".join(["m", "1"])
    assert listing(equal) is not first
    assert built == ["m1", "m1"]
    # Each site keeps its own last call.
    other = reused.get(("list", "r"), (marker,), lambda: ApiV2().message_list("r"))
    assert listing(equal) is listing(equal)
    assert other.request.path.endswith("/r/messages")
    assert len(built) == 2
