"""The multi-request flows (queue existence, queue count) decide every request
in the core; these drive them against an in-memory Zaqar listing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from zaqarkit.core import flows
from zaqarkit.core.api_v1 import api_for
from zaqarkit.core.wire import Request, Response

Server = Callable[[Request], Response]


def drive(flow: flows.Flow[Any], server: Server) -> tuple[Any, list[Request]]:
    sent: list[Request] = []
    call = next(flow)
    while True:
        assert len(sent) < 50, "the flow did not terminate"
        sent.append(call.request)
        try:
            call = flow.send(call.parse(server(call.request)))
        except StopIteration as done:
            return done.value, sent


def listing(names: list[str], *, count: bool = True) -> Server:
    """Zaqar's sorted queue listing, with a next link on every page."""

    def serve(request: Request) -> Response:
        query = dict(request.query)
        marker, limit = query.get("marker", ""), int(query.get("limit", "10"))
        chosen = [n for n in sorted(names) if n > marker][:limit]
        body: dict[str, Any] = {"queues": [{"name": n} for n in chosen], "links": []}
        if chosen:
            body["links"] = [{"rel": "next", "href": f"/v2/queues?marker={chosen[-1]}"}]
        if count and query.get("with_count") == "true" and names:
            body["count"] = len(names)  # Zaqar omits it when there is no queue
        return Response(200, {}, json.dumps(body).encode())

    return serve


NAMES = [f"q{i:03d}" for i in range(45)]


@pytest.mark.parametrize(
    ("name", "found", "requests"),
    [
        ("q000", True, 1),
        ("q030", True, 2),
        ("q044", True, 3),
        ("q0305", False, 2),
        ("zzz", False, 4),
    ],
)
def test_exists_walks_the_sorted_listing_only_as_far_as_the_name(
    name: str, found: bool, requests: int
) -> None:
    result, sent = drive(flows.queue_exists(api_for(2), name), listing(NAMES))
    assert (result, len(sent)) == (found, requests)
    assert all(r.method == "GET" and r.path == "/v2/queues" for r in sent)


@pytest.mark.parametrize(("status", "found"), [(204, True), (404, False)])
def test_exists_on_v1_is_one_head(status: int, found: bool) -> None:
    result, sent = drive(flows.queue_exists(api_for(1), "q"), lambda r: Response(status))
    assert (result, [(r.method, r.path) for r in sent]) == (found, [("HEAD", "/v1/queues/q")])


def test_count_is_one_request_where_the_server_counts() -> None:
    result, sent = drive(flows.queue_count(api_for(2)), listing(NAMES))
    assert (result, len(sent)) == (45, 1)
    assert sent[0].query == (("limit", "1"), ("with_count", "true"))


def test_count_of_no_queue_is_zero_without_paging() -> None:
    result, sent = drive(flows.queue_count(api_for(2)), listing([]))
    assert (result, len(sent)) == (0, 1)


def test_count_pages_through_where_the_server_does_not_count() -> None:
    result, sent = drive(flows.queue_count(api_for(2)), listing(NAMES, count=False))
    # one count attempt, then pages of 20 (max_per_page): 20 + 20 + 5, and the empty page
    assert (result, len(sent)) == (45, 5)
    result, sent = drive(flows.queue_count(api_for(1.1)), listing(NAMES))
    assert (result, [dict(r.query).get("with_count") for r in sent]) == (45, [None] * 4)
