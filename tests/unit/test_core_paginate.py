"""The pagination flow asks for the page after each marker, stops on an empty or stale page
and never loops."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from zaqarkit.core import ApiV2, Call, Context, Pagination, Request, Response
from zaqarkit.core.models import Message, Page, Queue
from zaqarkit.core.paginate import by_id

API = ApiV2()
Server = Callable[[Request], Response]


def _drive(
    pages: Pagination[Any], server: Server, *, max_requests: int = 50
) -> tuple[list[Any], list[Request]]:
    """The facade's three-line loop, with a guard so a looping flow fails the test."""
    items: list[Any] = []
    sent: list[Request] = []
    while (call := pages.next_call()) is not None:
        assert len(sent) < max_requests, "pagination did not terminate"
        sent.append(call.request)
        items.extend(pages.accept(call.parse(server(call.request))))
    return items, sent


def _page(key: str, entries: list[dict[str, Any]], next_href: str | None) -> Response:
    links = [] if next_href is None else [{"rel": "next", "href": next_href}]
    return Response(
        200,
        {"content-type": "application/json"},
        json.dumps({key: entries, "links": links}).encode(),
    )


def _message(mid: str) -> dict[str, Any]:
    return {"id": mid, "href": f"/v2/queues/q/messages/{mid}", "ttl": 60, "age": 1, "body": mid}


def _zaqar_queues(names: list[str], *, redis_quirk: bool) -> Server:
    """Zaqar's queue listing: a next link on every non-empty page, keeping only
    marker/limit/detailed/name/with_count. With ``redis_quirk`` the marker's
    rank decides the start as ``rank + 1 if rank else 0``: a marker at rank 0
    or not a member restarts from the beginning."""

    def serve(request: Request) -> Response:
        query = dict(request.query)
        limit = int(query.get("limit", "10"))
        marker = query.get("marker")
        if marker is None:
            start = 0
        elif redis_quirk:
            rank = names.index(marker) if marker in names else None
            start = rank + 1 if rank else 0
        else:
            start = next((i for i, n in enumerate(names) if n > marker), len(names))
        chosen = names[start : start + limit]
        if not chosen:
            return _page("queues", [], None)
        kept = {k: v for k, v in query.items() if k in ("limit", "detailed", "name", "with_count")}
        href = "/v2/queues?" + urlencode({"marker": chosen[-1], **kept})
        return _page("queues", [{"name": n, "href": f"/v2/queues/{n}"} for n in chosen], href)

    return serve


def test_follows_next_links_and_stops_on_the_empty_page() -> None:
    names = [f"q{i:02d}" for i in range(7)]
    items, sent = _drive(
        Pagination(API.queue_list(limit=3)), _zaqar_queues(names, redis_quirk=False)
    )
    assert [q.name for q in items] == names
    assert [r.query for r in sent] == [
        (("limit", "3"),),
        (("limit", "3"), ("marker", "q02")),
        (("limit", "3"), ("marker", "q05")),
        (("limit", "3"), ("marker", "q06")),
    ]
    assert all(r.path == "/v2/queues" for r in sent)


@pytest.mark.parametrize("limit", [2, 3, 5, 20])
def test_redis_rank_zero_quirk_yields_every_item_once(limit: int) -> None:
    names = ["aaa", "bbb", "ccc", "ddd", "eee"]
    items, _ = _drive(
        Pagination(API.queue_list(limit=limit)), _zaqar_queues(names, redis_quirk=True)
    )
    assert [q.name for q in items] == names


def test_redis_limit_one_ends_after_the_first_item_instead_of_looping() -> None:
    names = ["aaa", "bbb", "ccc"]
    items, sent = _drive(
        Pagination(API.queue_list(limit=1)), _zaqar_queues(names, redis_quirk=True)
    )
    assert [q.name for q in items] == ["aaa"]
    assert len(sent) == 2


def test_a_marker_that_restarts_from_the_beginning_terminates() -> None:
    # GET /v2/queues?marker=bbb with queues aaa and ccc returns both again
    def serve(request: Request) -> Response:
        return _page(
            "queues",
            [{"name": "aaa"}, {"name": "ccc"}],
            "/v2/queues?marker=bbb",
        )

    items, sent = _drive(Pagination(API.queue_list()), serve)
    assert [q.name for q in items] == ["aaa", "ccc"]
    assert len(sent) == 2


def test_one_message_returned_on_every_next_page_is_yielded_once() -> None:
    calls = 0

    def serve(request: Request) -> Response:
        nonlocal calls
        calls += 1
        return _page("messages", [_message("m1")], f"/v2/queues/q/messages?marker=m1&n={calls}")

    items, sent = _drive(Pagination(API.message_list("q", echo=True)), serve)
    assert items == [Message("m1", "m1", 60, 1, "/v2/queues/q/messages/m1")]
    assert len(sent) == 2


def test_a_repeated_marker_stops_even_when_the_page_brought_new_items() -> None:
    pages = iter(
        [
            _page("messages", [_message("m1")], "/v2/queues/q/messages?marker=x"),
            _page("messages", [_message("m2")], "/v2/queues/q/messages?marker=x"),
            _page("messages", [_message("m3")], "/v2/queues/q/messages?marker=y"),
        ]
    )
    items, sent = _drive(Pagination(API.message_list("q")), lambda r: next(pages))
    assert [m.id for m in items] == ["m1", "m2"]
    assert len(sent) == 2


def test_a_page_mixing_old_and_new_items_yields_only_the_new_ones() -> None:
    pages = iter(
        [
            _page("messages", [_message("m1"), _message("m2")], "/v2/queues/q/messages?marker=2"),
            _page("messages", [_message("m2"), _message("m3")], "/v2/queues/q/messages?marker=3"),
            _page("messages", [], None),
        ]
    )
    items, sent = _drive(Pagination(API.message_list("q")), lambda r: next(pages))
    assert [m.id for m in items] == ["m1", "m2", "m3"]
    assert len(sent) == 3


@pytest.mark.parametrize("key", [None, by_id], ids=["default-key", "by_id"])
def test_an_item_repeated_within_one_page_is_yielded_once(key: Any) -> None:
    pages = iter(
        [
            _page(
                "messages",
                [_message("m1"), _message("m2"), _message("m1")],
                "/v2/queues/q/messages?marker=2",
            ),
            _page("messages", [_message("m3"), _message("m3")], "/v2/queues/q/messages?marker=3"),
            _page("messages", [], None),
        ]
    )
    flow = (
        Pagination(API.message_list("q"))
        if key is None
        else Pagination(API.message_list("q"), key=key)
    )
    items, sent = _drive(flow, lambda r: next(pages))
    assert [m.id for m in items] == ["m1", "m2", "m3"]
    assert len(sent) == 3


def test_a_missing_next_link_ends_the_listing() -> None:
    items, sent = _drive(
        Pagination(API.queue_list()),
        lambda r: _page("queues", [{"name": "a"}], None),
    )
    assert [q.name for q in items] == ["a"]
    assert len(sent) == 1


def test_an_empty_first_page_ends_at_once() -> None:
    items, sent = _drive(
        Pagination(API.queue_list()),
        lambda r: _page("queues", [], "/v2/queues?marker="),
    )
    assert (items, len(sent)) == ([], 1)


def test_the_next_request_is_rendered_from_the_first_not_from_the_href() -> None:
    endpoint = "http://host:8888/messaging"
    ctx = Context(endpoint)
    pages = Pagination(API.queue_list(limit=2))
    first = pages.next_call()
    assert first is not None
    assert ctx.prepare(first.request).url == "http://host:8888/messaging/v2/queues?limit=2"
    # Only the marker of the server's link is used: its path, origin and other
    # keys are not (an href on another origin would take the credentials there).
    pages.accept(
        first.parse(
            _page("queues", [{"name": "a"}], "http://evil.example/elsewhere?marker=a&limit=99")
        )
    )
    second = pages.next_call()
    assert second is not None
    assert ctx.prepare(second.request).url == (
        "http://host:8888/messaging/v2/queues?limit=2&marker=a"
    )
    assert second.parse is first.parse


def test_query_filters_the_server_drops_are_carried_to_every_page() -> None:
    names = ["a", "b", "c"]
    first = API.queue_list(limit=2, detailed=True, color="red", size=3)
    items, sent = _drive(Pagination(first), _zaqar_queues(names, redis_quirk=False))
    assert [q.name for q in items] == names
    assert sent[1].query == (
        ("limit", "2"),
        ("detailed", "true"),
        ("color", "red"),
        ("size", "3"),
        ("marker", "b"),
    )
    assert sent[2].query == (
        ("limit", "2"),
        ("detailed", "true"),
        ("color", "red"),
        ("size", "3"),
        ("marker", "c"),
    )


def test_next_call_keeps_operation_method_and_parser() -> None:
    first = API.subscription_list("q", limit=2)
    pages = Pagination(first)
    assert pages.next_call() is first
    pages.accept(
        first.parse(
            _page(
                "subscriptions",
                [{"id": "s1", "subscriber": "http://x", "ttl": 60}],
                "/v2/queues/q/subscriptions?marker=s1&limit=2",
            )
        )
    )
    nxt = pages.next_call()
    assert nxt is not None
    assert (nxt.request.operation, nxt.request.method) == (first.request.operation, "GET")
    assert nxt.parse is first.parse
    assert nxt.request.path == "/v2/queues/q/subscriptions"


def test_custom_key_and_items_without_id_or_name() -> None:
    class Thing:
        pass

    a, b = Thing(), Thing()
    first: Call[Page[Thing]] = Call(
        Request(API.queue_list().request.operation, "GET", "/v2/x"), lambda r: Page(())
    )
    pages = Pagination(first)
    assert pages.accept(Page((a, b, a), "1")) == [a, b]
    assert pages.accept(Page((b,), "2")) == []
    assert pages.next_call() is None

    by_body: Pagination[Message] = Pagination(API.message_list("q"), key=lambda m: m.body)
    one = Message("m1", "same", 60, 1)
    two = Message("m2", "same", 60, 1)
    assert by_body.accept(Page((one, two), "m2")) == [one]


def test_the_flow_is_a_generator_friendly_loop() -> None:
    names = [f"n{i:02d}" for i in range(25)]
    server = _zaqar_queues(names, redis_quirk=False)

    def iterate() -> Iterator[Queue]:
        pages = Pagination(API.queue_list(limit=20))
        while (call := pages.next_call()) is not None:
            yield from pages.accept(call.parse(server(call.request)))

    assert [q.name for q in iterate()] == names
