"""The facades' own logic (configuration, laziness, repr, paging glue), with MockTransport."""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import pytest

from zaqarkit import AsyncClient, Client, UnsupportedOperation, ValidationError
from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import MockTransport

CLIENT_ID = "6f1c2f36-3c5b-4c3f-9b0e-55f0e2c3a001"


def _json(status: int, data: Any, **headers: str) -> Response:
    return Response(status, headers, json.dumps(data).encode())


def test_conf_dict_sets_project_roles_and_client_id() -> None:
    conf = {
        "client_uuid": CLIENT_ID,
        "auth_opts": {"backend": "noauth", "options": {"os_project_id": "p9", "roles": ["admin"]}},
    }
    mock = MockTransport(lambda request: Response(204))
    cli = Client("http://zaqar.test:8888/", version=2, conf=conf, transport=mock)
    assert cli.ping() is True
    sent = mock.requests[0]
    assert sent.url == "http://zaqar.test:8888/v2/ping"
    assert sent.header("Client-ID") == CLIENT_ID
    assert sent.header("X-Project-ID") == "p9"
    assert sent.header("X-Roles") == "admin"
    assert cli.client_uuid == CLIENT_ID


def test_one_stable_client_id_per_client() -> None:
    mock = MockTransport(lambda request: Response(204))
    cli = Client("http://zaqar.test", project_id="p", transport=mock)
    cli.ping()
    cli.ping()
    ids = {request.header("Client-ID") for request in mock.requests}
    assert ids == {cli.client_id}
    assert uuid.UUID(cli.client_id)
    other = Client("http://zaqar.test", project_id="p", transport=mock)
    assert other.client_id != cli.client_id


def test_project_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_PROJECT_ID", "from-env")
    monkeypatch.setenv("ZAQARKIT_ROLES", "admin, observer")
    mock = MockTransport(lambda request: Response(204))
    Client("http://zaqar.test:8888/", version=2, transport=mock).ping()
    assert mock.requests[0].header("X-Project-ID") == "from-env"
    assert mock.requests[0].header("X-Roles") == "admin,observer"


def test_no_project_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OS_PROJECT_ID", raising=False)
    with pytest.raises(ValidationError, match="OS_PROJECT_ID"):
        Client("http://zaqar.test:8888/", version=2)


@pytest.mark.parametrize(("version", "prefix"), [(1, "/v1"), ("1.1", "/v1.1"), ("2", "/v2")])
def test_version_selects_the_route_table(version: Any, prefix: str) -> None:
    mock = MockTransport(lambda request: Response(201))
    cli = Client("http://zaqar.test", version=version, project_id="p", transport=mock)
    cli.queue("q").ensure_exists()
    assert mock.requests[0].path == prefix + "/queues/q"


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValidationError, match="version"):
        Client("http://zaqar.test", version=3, project_id="p")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"project_id": "bad\r\nX-Injected: 1"}, "project_id"),
        ({"roles": ["admin\nX: y"]}, "roles"),
        ({"headers": {"X-Trace": "a\rb"}}, "X-Trace"),
    ],
)
def test_bad_identity_is_refused(kwargs: dict[str, Any], field: str) -> None:
    kwargs.setdefault("project_id", "p")
    with pytest.raises(ValidationError) as info:
        Client("http://zaqar.test", **kwargs)
    assert info.value.field == field


def test_bad_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="scheme"):
        Client("ftp://zaqar.test", project_id="p")


def test_queue_handle_does_no_io_and_auto_creates_once() -> None:
    mock = MockTransport(
        lambda request: (
            _json(200, {"_default_message_ttl": 3600}) if request.method == "GET" else Response(201)
        )
    )
    cli = Client("http://zaqar.test/messaging", project_id="p", transport=mock)
    queue = cli.queue("orders", metadata={"color": "red"})
    assert mock.requests == []
    queue.metadata()
    queue.metadata()
    methods = [(r.method, r.url) for r in mock.requests]
    assert methods == [
        ("PUT", "http://zaqar.test/messaging/v2/queues/orders"),
        ("GET", "http://zaqar.test/messaging/v2/queues/orders"),
        ("GET", "http://zaqar.test/messaging/v2/queues/orders"),
    ]
    assert json.loads(mock.requests[0].body or b"") == {"color": "red"}


def test_force_create_creates_at_once_in_sync_client() -> None:
    mock = MockTransport(lambda request: Response(201))
    cli = Client("http://zaqar.test", project_id="p", transport=mock)
    cli.queue("orders", force_create=True)
    assert [(r.method, r.path) for r in mock.requests] == [("PUT", "/v2/queues/orders")]


def test_post_skips_the_put_because_posting_creates_the_queue() -> None:
    mock = MockTransport(lambda request: _json(201, {"resources": ["/v2/queues/q/messages/m1"]}))
    cli = Client("http://zaqar.test", project_id="p", transport=mock)
    assert cli.queue("q").post({"body": 1}) == ["m1"]
    assert [r.method for r in mock.requests] == ["POST"]


def test_listing_walks_every_page_against_the_prefix() -> None:
    pages = {
        "limit=2": {
            "queues": [{"name": "a"}, {"name": "b"}],
            "links": [{"rel": "next", "href": "/v2/queues?marker=b&limit=2"}],
        },
        "limit=2&marker=b": {
            "queues": [{"name": "c"}],
            "links": [{"rel": "next", "href": "/v2/queues?marker=c&limit=2"}],
        },
        "limit=2&marker=c": {"queues": [], "links": []},
    }

    def handler(request: Request) -> Response:
        query = request.url.partition("?")[2]
        return _json(200, pages[query])

    mock = MockTransport(handler)
    cli = Client("http://zaqar.test/messaging", project_id="p", transport=mock)
    assert [q.name for q in cli.queues(limit=2)] == ["a", "b", "c"]
    assert [r.url for r in mock.requests] == [
        "http://zaqar.test/messaging/v2/queues?limit=2",
        "http://zaqar.test/messaging/v2/queues?limit=2&marker=b",
        "http://zaqar.test/messaging/v2/queues?limit=2&marker=c",
    ]


def _poll_answers(request: Request) -> Response:
    message = {"id": "m1", "href": "/v2/queues/q/messages/m1", "ttl": 60, "age": 1, "body": 1}
    if request.path.endswith("/claims"):
        return _json(201, {"messages": [message]}, location="/v2/queues/q/claims/c1")
    if request.method == "DELETE":  # a pop
        return _json(200, {"messages": [message]})
    return _json(200, {"messages": [message], "links": []})


def test_repeated_polls_send_the_request_built_the_first_time() -> None:
    mock = MockTransport(_poll_answers)
    queue = Client("http://zaqar.test", project_id="p", transport=mock).queue(
        "q", auto_create=False
    )
    for _ in range(2):
        assert [m.id for m in queue.messages(limit=5, echo=True)] == ["m1"]
        assert [m.id for m in queue.claim(ttl=60, grace=60, limit=5)] == ["m1"]
        assert [m.id for m in queue.pop(2)] == ["m1"]
    list1, claim1, pop1, list2, claim2, pop2 = mock.requests
    # Built and prepared once: the very same request objects went out again.
    assert (list2, claim2, pop2) == (list1, claim1, pop1)
    assert list2 is list1
    assert claim2 is claim1
    assert pop2 is pop1
    assert list1.url == "http://zaqar.test/v2/queues/q/messages?limit=5&echo=true"
    # Other arguments build another request.
    list(queue.messages(limit=5, echo=True, marker="m0"))
    assert mock.requests[-1].url.endswith("limit=5&marker=m0&echo=true")


@pytest.mark.parametrize("bad", [5.0, True])
def test_an_equal_but_invalid_argument_is_still_refused(bad: Any) -> None:
    # 5.0 == 5 and True == 1: the repeat check is identity, never equality,
    # so a value validation refuses is refused after a valid one too.
    mock = MockTransport(_poll_answers)
    queue = Client("http://zaqar.test", project_id="p", transport=mock).queue(
        "q", auto_create=False
    )
    good = 1 if bad is True else 5
    list(queue.messages(limit=good))
    queue.pop(good)
    queue.claim(ttl=60, limit=good)
    sent = len(mock.requests)
    with pytest.raises(ValidationError, match="limit"):
        list(queue.messages(limit=bad))
    with pytest.raises(ValidationError, match="count"):
        queue.pop(bad)
    with pytest.raises(ValidationError, match="limit"):
        queue.claim(ttl=60, limit=bad)
    assert len(mock.requests) == sent


@pytest.mark.anyio
async def test_async_polls_reuse_their_request_too() -> None:
    mock = MockTransport(_poll_answers)
    async with AsyncClient("http://zaqar.test", project_id="p", transport=mock) as cli:
        queue = cli.queue("q", auto_create=False)
        claims = [await queue.claim(ttl=60, limit=3) for _ in range(2)]
    assert [[m.id for m in claim] for claim in claims] == [["m1"], ["m1"]]
    assert mock.requests[0] is mock.requests[1]


def test_flavor_pool_group_is_deprecated_and_mapped() -> None:
    mock = MockTransport(lambda request: Response(201))
    cli = Client("http://zaqar.test", project_id="p", transport=mock)
    with pytest.warns(DeprecationWarning, match="pool_list"):
        flavor = cli.flavor("tasty", pool="my-pool-group", auto_create=True)
    assert flavor.pool_list == ["my-pool-group"]
    flavor.delete()
    assert [(r.method, r.path) for r in mock.requests] == [
        ("PUT", "/v2/flavors/tasty"),
        ("DELETE", "/v2/flavors/tasty"),
    ]
    assert json.loads(mock.requests[0].body or b"") == {"pool_list": ["my-pool-group"]}


def test_reprs_are_short_and_informative() -> None:
    cli = Client(
        "http://zaqar.test:8888",
        project_id="p",
        transport=MockTransport(lambda request: Response(204)),
    )
    assert repr(cli) == "<Client http://zaqar.test:8888 v2 project='p'>"
    assert repr(cli.queue("q")) == "<Queue 'q'>"
    assert repr(cli.pool("p1")) == "<Pool 'p1' weight=None>"


def test_subscribe_over_http_explains_itself() -> None:
    cli = Client(
        "http://zaqar.test", project_id="p", transport=MockTransport(lambda request: Response(204))
    )
    with pytest.raises(UnsupportedOperation, match="WebSocket"), cli.queue("q").subscribe():
        pass


def test_closed_client_refuses_requests() -> None:
    from zaqarkit import TransportError

    cli = Client(
        "http://zaqar.test", project_id="p", transport=MockTransport(lambda request: Response(204))
    )
    cli.close()
    cli.close()
    with pytest.raises(TransportError, match="closed"):
        cli.health()


@pytest.mark.anyio
async def test_async_client_uses_the_same_settings() -> None:
    async def handler(request: Request) -> Response:
        return _json(201, {"resources": ["/v2/queues/q/messages/a", "/v2/queues/q/messages/b"]})

    mock = MockTransport(handler)
    async with AsyncClient(
        "http://zaqar.test", project_id="p", client_id=CLIENT_ID, transport=mock
    ) as cli:
        ids = await cli.queue("q").post([{"body": 1}, {"body": 2}])
    assert ids == ["a", "b"]
    assert mock.requests[0].header("Client-ID") == CLIENT_ID


def test_websocket_url_without_the_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if websockets were absent.
    monkeypatch.setitem(sys.modules, "zaqarkit.transports.websocket", None)
    with pytest.raises(UnsupportedOperation, match=r"pip install 'zaqarkit\[websockets\]'"):
        Client("ws://zaqar.test:9000", project_id="p")


def test_msgpack_without_the_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from zaqarkit.core.ws import WsSession

    monkeypatch.setitem(sys.modules, "msgpack", None)
    with pytest.raises(ValidationError, match="msgpack package"):
        WsSession(codec="msgpack")


@pytest.mark.anyio
async def test_closing_a_listing_leaves_no_generator_to_the_loop_finalizer() -> None:
    # An inner listing generator left open is finalized by the event loop's
    # hook (a cross-thread wakeup and a task per listing on asyncio and trio);
    # closing the outer one closes the inner one at once.
    page = {
        "messages": [
            {"id": f"m{n}", "body": n, "ttl": 60, "age": 1, "href": f"/v2/queues/q/messages/m{n}"}
            for n in range(3)
        ],
        "links": [{"rel": "next", "href": "/v2/queues/q/messages?marker=3"}],
    }
    mock = MockTransport(lambda request: _json(200, page))
    firstiter, finalizer = sys.get_asyncgen_hooks()
    finalized: list[Any] = []

    def counting(agen: Any) -> None:
        finalized.append(agen)
        if finalizer is not None:
            finalizer(agen)

    sys.set_asyncgen_hooks(firstiter, counting)
    try:
        async with AsyncClient("http://zaqar.test", project_id="p", transport=mock) as cli:
            listing = cli.queue("q", auto_create=False).messages(limit=3)
            bodies = [(await listing.__anext__()).body for _ in range(3)]
            await listing.aclose()
            del listing
            import gc

            gc.collect()
    finally:
        sys.set_asyncgen_hooks(firstiter, finalizer)
    assert bodies == [0, 1, 2]
    assert finalized == []
