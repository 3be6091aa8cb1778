"""Multi-request operations as pure flows.

A flow is a generator that yields each :class:`~zaqarkit.core.wire.Call` it
needs sent, is sent back that call's parsed result, and returns the
operation's answer. The facades drive every flow with the same short loop,
so the decision of what to send next is written once::

    call = next(flow)
    while True:
        try:
            call = flow.send(send(call))
        except StopIteration as done:
            return done.value

>>> from zaqarkit.core.api import ApiV2
>>> from zaqarkit.core.models import Page, Queue
>>> flow = queue_exists(ApiV2(), "b")
>>> next(flow).request.query
(('limit', '20'),)
>>> try:
...     flow.send(Page((Queue("a"), Queue("b"))))
... except StopIteration as done:
...     print(done.value)
True
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

from zaqarkit.core.api import ApiV2
from zaqarkit.core.api_v1 import queue_exists_call
from zaqarkit.core.paginate import Pagination
from zaqarkit.core.wire import Call

__all__ = ["Flow", "queue_count", "queue_exists"]

R = TypeVar("R")

#: Yields calls, is sent each call's result, returns ``R``.
Flow = Generator[Call[Any], Any, R]

#: Page size of the existence check: the name sorts early or late, and most
#: projects have few queues.
_EXISTS_PAGE = 20


def queue_exists(api: ApiV2, name: str) -> Flow[bool]:
    """Whether queue ``name`` exists: ``HEAD`` on v1, the listing otherwise.

    v1.1 and v2 have no HEAD on queues, and their ``GET /queues/{name}``
    answers 200 (empty or default metadata) even for a queue that was never
    created, so only the listing can tell. It is sorted by name, so the walk
    stops at the first name not before ``name``.
    """
    head = queue_exists_call(api, name)
    if head is not None:
        found: bool = yield head
        return found
    pages = Pagination(api.queue_list(limit=_EXISTS_PAGE))
    while (call := pages.next_call()) is not None:
        for item in pages.accept((yield call)):
            if item.name >= name:
                return bool(item.name == name)
    return False


def queue_count(api: ApiV2) -> Flow[int]:
    """How many queues the project has.

    One request where the server counts (HTTP v2, ``with_count=true``).
    API v1/v1.1 have no such flag, Zaqar's WebSocket ``queue_list`` ignores
    it and the SQL catalog answers ``"count": true``: then the listing is
    paged through and counted.
    """
    if api.counts_queues:
        page = yield api.queue_list(limit=1, with_count=True)
        if page.count is not None:
            return int(page.count)
        if not page.items:
            return 0  # Zaqar leaves "count" out when it is zero
    pages = Pagination(api.queue_list(limit=api.limits.max_per_page))
    total = 0
    while (call := pages.next_call()) is not None:
        total += len(pages.accept((yield call)))
    return total
