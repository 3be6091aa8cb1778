"""Packing messages into posts under the server's limits (sans-I/O).

Zaqar refuses a post whose body exceeds ``max_messages_post_size`` (256 KiB by
default; ``zaqar/transport/validation.py`` ``message_length``). Over HTTP it
measures the request's ``Content-Length``; over WebSocket it measures
``len(str(messages))``, the Python repr of the decoded list
(``zaqar/api/v2/endpoints.py`` ``message_post``), which is longer than the
JSON for the same messages (a space after every ``:`` and ``,``). The packer
measures each message the way the server will and closes a batch before it
would overflow, or when it holds ``max_count`` messages.

>>> packer = Packer(limit=60, max_count=10, measure=http_size, overhead=HTTP_OVERHEAD)
>>> [len(b) for b in packer.pack([{"body": "x" * 10}] * 3)]
[2, 1]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zaqarkit.core.validate import Limits
from zaqarkit.errors import ValidationError

__all__ = [
    "DEFAULT_MAX_COUNT",
    "HTTP_OVERHEAD",
    "WS_OVERHEAD",
    "Batch",
    "Packer",
    "http_size",
    "packer_for",
    "ws_size",
]

#: Messages per post. Zaqar v2 sets no count limit of its own, but v1 refused
#: more than ``max_messages_per_page`` per post; 10 keeps every version happy
#: and is python-zaqarclient's own batch size.
DEFAULT_MAX_COUNT = 10

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

#: ``{"messages":[`` + ``]}``: what v2 wraps around the items over HTTP.
HTTP_OVERHEAD = len('{"messages":[]}')
#: ``[`` + ``]``: the repr of the list the WebSocket server measures.
WS_OVERHEAD = 2


def http_size(item: Any) -> int:
    """Bytes of one message in an HTTP post body (compact JSON, UTF-8)."""
    return len(_JSON.encode(item).encode())


def ws_size(item: Any) -> int:
    """What Zaqar's WebSocket endpoint counts for one message: its repr length."""
    return len(str(item))


@dataclass(slots=True)
class Batch:
    """Messages of one post and their positions in the input."""

    items: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    size: int = 0

    def __len__(self) -> int:
        return len(self.items)


class Packer:
    """Greedy, order-keeping packing under a byte limit and a count limit.

    ``measure`` gives one message's size; a batch of ``n`` messages costs
    ``overhead + sum(sizes) + separator * (n - 1)``. A message that cannot fit
    alone raises :class:`ValidationError` naming ``messages[index]``; nothing
    of it has been packed.
    """

    def __init__(
        self,
        *,
        limit: int,
        max_count: int = DEFAULT_MAX_COUNT,
        measure: Callable[[Any], int] = http_size,
        overhead: int = HTTP_OVERHEAD,
        separator: int = 1,
    ) -> None:
        if max_count < 1:
            raise ValidationError("max_count", f"must be at least 1, got {max_count}")
        self.limit = limit
        self.max_count = max_count
        self.measure = measure
        self.overhead = overhead
        self.separator = separator
        self._current = Batch()

    def cost(self, item: Any, index: int) -> int:
        """The size ``item`` adds to a batch; raises if it could never be sent."""
        size = self.measure(item)
        if self.overhead + size > self.limit:
            raise ValidationError(
                f"messages[{index}]",
                f"is {size} bytes encoded; alone in a post it would exceed the "
                f"{self.limit}-byte limit (max_messages_post_size)",
            )
        return size

    def add(self, item: dict[str, Any], index: int, size: int | None = None) -> Batch | None:
        """Add one message; returns the batch it closed, if adding it closed one."""
        if size is None:
            size = self.cost(item, index)
        current = self._current
        closed = None
        if current.items and (
            len(current) >= self.max_count or current.size + self.separator + size > self.limit
        ):
            closed = current
            current = self._current = Batch()
        current.size = (
            (current.size + self.separator + size) if current.items else (self.overhead + size)
        )
        current.items.append(item)
        current.indexes.append(index)
        if len(current) >= self.max_count and closed is None:
            self._current = Batch()
            return current
        return closed

    def full(self) -> bool:
        """Whether the open batch cannot take another message."""
        return len(self._current) >= self.max_count

    def pending(self) -> int:
        return len(self._current)

    def flush(self) -> Batch | None:
        """Close and return the open batch (None when it is empty)."""
        current = self._current
        if not current.items:
            return None
        self._current = Batch()
        return current

    def pack(
        self, items: Iterable[dict[str, Any]], start: int = 0
    ) -> Iterator[list[dict[str, Any]]]:
        """Every batch of ``items`` in order (a convenience over add/flush)."""
        for index, item in enumerate(items, start):
            closed = self.add(item, index)
            if closed is not None:
                yield closed.items
        last = self.flush()
        if last is not None:
            yield last.items


def packer_for(
    limits: Limits,
    *,
    websocket: bool,
    max_count: int = DEFAULT_MAX_COUNT,
    max_bytes: int | None = None,
) -> Packer:
    """The packer for a client's limits and transport kind.

    >>> packer_for(Limits(), websocket=False).limit
    262144
    """
    limit = limits.max_messages_post_size if max_bytes is None else max_bytes
    if websocket:
        return Packer(
            limit=limit, max_count=max_count, measure=ws_size, overhead=WS_OVERHEAD, separator=2
        )
    return Packer(limit=limit, max_count=max_count)
