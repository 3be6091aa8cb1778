"""python-zaqarclient's ``_Iterator``, over zaqarkit's listings.

Unlike python-zaqarclient's, it walks every page whether or not
:meth:`_Iterator.stream` was called (python-zaqarclient stops after the first
page unless it was). Like it, the first page is requested when the listing is
asked for, so errors surface there rather than at the first ``next()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from zaqarkit.compat.zaqarclient._adapt import translated

T = TypeVar("T")
S = TypeVar("S")

_EMPTY = object()


class _Iterator(Generic[T]):
    """An iterator of python-zaqarclient resource objects.

    >>> it = _Iterator([1, 2, 3], str)
    >>> list(it.stream())
    ['1', '2', '3']
    """

    def __init__(self, source: Iterable[S], create: Callable[[S], T]) -> None:
        self._source: Iterator[Any] = iter(source)
        self._create: Callable[[Any], T] = create
        with translated():
            self._head: Any = next(self._source, _EMPTY)

    def __iter__(self) -> _Iterator[T]:
        return self

    def stream(self, enabled: bool = True) -> _Iterator[T]:
        """Accepted for python-zaqarclient: this iterator always follows every page."""
        return self

    def __next__(self) -> T:
        if self._head is not _EMPTY:
            item, self._head = self._head, _EMPTY
            return self._create(item)
        with translated():
            return self._create(next(self._source))

    next = __next__
