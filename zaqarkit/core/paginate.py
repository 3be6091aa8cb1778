"""Pagination as a pure flow.

The facade drives it with a three-line loop, identical for sync and async::

    pages = Pagination(first_call, endpoint)
    while (call := pages.next_call()) is not None:
        for item in pages.accept(send(call)):
            yield item
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Generic, TypeVar

from zaqarkit.core.models import Page
from zaqarkit.core.urls import split_ref
from zaqarkit.core.wire import Call

__all__ = ["Pagination"]

T = TypeVar("T")


def _default_key(item: object) -> Hashable:
    value: Hashable = getattr(item, "id", None)
    if value is not None:
        return value  # one listing holds one kind of item: ids cannot meet names
    value = getattr(item, "name", None)
    return value if value is not None else id(item)


class Pagination(Generic[T]):
    """Follow ``links[rel=next]`` until a page brings nothing new.

    Zaqar sends a ``next`` link even on the last page, so the listing ends on
    an empty page. Its redis drivers also restart from the beginning when the
    marker is the first item of the collection or is not a member at all (a
    queue holding one message returns it on every ``next`` page, forever). So
    the flow stops as soon as a page holds no item it has not yielded before,
    or when the server hands back an href it already followed, and it yields
    every item once.

    What a caller cannot get past: with ``limit=1`` the redis driver never
    moves beyond the first item (page two repeats page one), so such a listing
    ends after one item. Use a page size of 2 or more.

    Query keys of the first request that the server drops from its ``next``
    link (queue metadata filters) are carried over to every following page.

    >>> from zaqarkit.core.wire import Call, Request, Response
    >>> from zaqarkit.core.operations import Operation
    >>> first = Call(Request(Operation.QUEUE_LIST, "GET", "/v2/queues"), lambda r: r)
    >>> pages = Pagination(first, "http://h")
    >>> pages.next_call() is first
    True
    """

    def __init__(
        self,
        first: Call[Page[T]],
        endpoint: str,
        *,
        key: Callable[[T], Hashable] = _default_key,
    ) -> None:
        self._first = first
        self._endpoint = endpoint
        self._key = key
        self._pending: Call[Page[T]] | None = first
        # The next page's (path, query) becomes a request only when asked for:
        # a caller that stops after the first page never pays for it.
        self._next_ref: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._seen: set[Hashable] = set()
        self._followed: set[str] = set()

    def next_call(self) -> Call[Page[T]] | None:
        """The next request to send, or None when the listing is complete."""
        if self._next_ref is not None:
            self._pending, self._next_ref = self._follow(*self._next_ref), None
        return self._pending

    def accept(self, page: Page[T]) -> list[T]:
        """Take the parsed page of the last call; return its items not yet seen."""
        fresh: list[T] = []
        seen, key_of = self._seen, self._key
        for item in page.items:
            key = key_of(item)
            if key not in seen:
                seen.add(key)
                fresh.append(item)
        href = page.next_href
        self._pending = self._next_ref = None
        if fresh and href is not None and href not in self._followed:
            self._followed.add(href)
            self._next_ref = split_ref(href, self._endpoint)  # refuses another origin now
        return fresh

    def _follow(self, path: str, query: tuple[tuple[str, str], ...]) -> Call[Page[T]]:
        present = {name for name, _ in query}
        carried = tuple(pair for pair in self._first.request.query if pair[0] not in present)
        request = replace(self._first.request, path=path, query=query + carried)
        return Call(request, self._first.parse)
