"""Pagination as a pure flow.

The facade drives it with a three-line loop, identical for sync and async::

    pages = Pagination(first_call)
    while (call := pages.next_call()) is not None:
        for item in pages.accept(send(call)):
            yield item
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from zaqarkit.core.models import Page
from zaqarkit.core.render import with_params
from zaqarkit.core.wire import Call

__all__ = ["Pagination", "by_id"]

T = TypeVar("T")


def _default_key(item: object) -> Hashable:
    value: Hashable = getattr(item, "id", None)
    if value is not None:
        return value  # one listing holds one kind of item: ids cannot meet names
    value = getattr(item, "name", None)
    return value if value is not None else id(item)


#: The ``key`` for listings whose items always have an ``id`` (messages): read
#: in C, where the default key is a Python call per item.
by_id: Callable[[Any], Hashable] = operator.attrgetter("id")


class Pagination(Generic[T]):
    """Ask for the page after each page's ``marker`` until a page brings
    nothing new.

    Each next request is the first one with another ``marker``, rendered
    again from its canonical parameters: every filter and flag of the first
    request is kept, and an href from the server is never followed (it could
    point anywhere). Over WebSocket, where Zaqar's replies carry no links,
    the marker comes from the page's last item (:func:`zaqarkit.core.parse.page`).

    Zaqar sends a ``next`` link even on the last page, so the listing ends on
    an empty page. Its redis drivers also restart from the beginning when the
    marker is the first item of the collection or is not a member at all (a
    queue holding one message returns it on every ``next`` page, forever). So
    the flow stops as soon as a page holds no item it has not yielded before,
    or when the server hands back a marker it already used, and it yields
    every item once.

    What a caller cannot get past: with ``limit=1`` the redis driver never
    moves beyond the first item (page two repeats page one), so such a listing
    ends after one item. Use a page size of 2 or more.

    >>> from zaqarkit.core.api import ApiV2
    >>> from zaqarkit.core.models import Queue
    >>> pages = Pagination(ApiV2().queue_list(limit=2, detailed=True))
    >>> pages.accept(Page((Queue("a"), Queue("b")), marker="b"))
    [Queue(name='a', href=None, metadata=None), Queue(name='b', href=None, metadata=None)]
    >>> pages.next_call().request.query
    (('limit', '2'), ('detailed', 'true'), ('marker', 'b'))
    """

    def __init__(
        self,
        first: Call[Page[T]],
        *,
        key: Callable[[T], Hashable] = _default_key,
    ) -> None:
        self._first = first
        self._key = key
        self._pending: Call[Page[T]] | None = first
        # The next page becomes a request only when asked for: a caller that
        # stops after the first page never pays for it.
        self._next_marker: str | None = None
        self._seen: set[Hashable] = set()
        self._used: set[str] = set()

    def next_call(self) -> Call[Page[T]] | None:
        """The next request to send, or None when the listing is complete."""
        if self._next_marker is not None:
            request = with_params(self._first.request, marker=self._next_marker)
            self._pending, self._next_marker = Call(request, self._first.parse), None
        return self._pending

    def accept(self, page: Page[T]) -> list[T]:
        """Take the parsed page of the last call; return its items not yet seen."""
        items = page.items
        keys = list(map(self._key, items))
        seen = self._seen
        distinct = set(keys)
        if len(distinct) == len(keys) and seen.isdisjoint(distinct):
            # Every item is new (every first page, and each page of a
            # listing that moves on): set operations instead of a loop.
            seen |= distinct
            fresh = list(items)
        else:
            fresh = []
            for item, key in zip(items, keys, strict=True):
                if key not in seen:
                    seen.add(key)
                    fresh.append(item)
        marker = page.marker
        self._pending = self._next_marker = None
        if fresh and marker is not None and marker not in self._used:
            self._used.add(marker)
            self._next_marker = marker
        return fresh
