"""A push stream's buffer and typed bodies, for the drivers' push streams
(:mod:`zaqarkit.transports.websocket`). Sans-I/O, like the machine that
routes the notifications (:mod:`zaqarkit.core.wsconn`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.wsconn import PushGap
from zaqarkit.errors import BodyDecodeError

__all__ = ["DEFAULT_PUSH_BUFFER", "PushBuffer", "typed_push"]


#: Notifications a push stream holds for a consumer that does not read.
DEFAULT_PUSH_BUFFER = 1000


def typed_push(item: Any, codec: BodyCodec[Any]) -> Any:
    """A push stream's ``item`` with its body decoded by ``codec``: a
    :class:`~zaqarkit.core.ws.Notification` whose body is the codec's type,
    a :class:`~zaqarkit.core.wsconn.PushGap` (``missed=1``, the reason naming the failure) for one
    whose body does not decode, a gap as it is. The message itself is still
    in the queue: a push is a copy, so nothing is lost by not yielding it.

    >>> from zaqarkit.core.bodies import codec_for
    >>> from zaqarkit.core.ws import Notification
    >>> note = Notification("q", "7", 60, {})
    >>> typed_push(note, codec_for(str)).body, typed_push(note, codec_for(int)).reason
    ('7', 'a pushed body did not decode: messages[(push)].body: Expected `int`, got `str`')
    """
    if item.gap:
        return item
    try:
        body = codec.decode(item.body, "(push)")
    except BodyDecodeError as error:
        return PushGap(item.queue_name, f"a pushed body did not decode: {error}", missed=1)
    return replace(item, body=body)


class PushBuffer:
    """A push stream's bounded buffer: up to ``size`` notifications. When it
    is full the oldest is dropped, and the next :meth:`get` returns a
    :class:`~zaqarkit.core.wsconn.PushGap` counting the drops before the notifications kept.

    >>> buf = PushBuffer("q", size=2)
    >>> for n in range(3):
    ...     buf.put(n)
    >>> buf.get(), buf.get(), buf.get(), buf.get()
    (PushGap(queue_name='q', reason='push buffer full (2): oldest dropped', missed=1), 1, 2, None)
    """

    __slots__ = ("_items", "_missed", "queue_name", "size")

    def __init__(self, queue_name: str, size: int = DEFAULT_PUSH_BUFFER) -> None:
        if size < 1:
            raise ValueError("a push buffer holds at least one notification")
        self.queue_name = queue_name
        self.size = size
        self._items: deque[Any] = deque()
        self._missed = 0

    def __len__(self) -> int:
        return len(self._items) + (1 if self._missed else 0)

    def put(self, item: Any) -> None:
        """Add a notification (or a :class:`~zaqarkit.core.wsconn.PushGap`),
        dropping the oldest when full."""
        items = self._items
        if len(items) >= self.size:
            dropped = items.popleft()
            if not isinstance(dropped, PushGap):
                self._missed += 1
        items.append(item)

    def gap(self, reason: str) -> None:
        """Mark a possible gap of unknown size here (a reconnect)."""
        self.put(PushGap(self.queue_name, reason))

    def get(self) -> Any:
        """The next item, or None when empty."""
        if self._missed:
            missed, self._missed = self._missed, 0
            return PushGap(
                self.queue_name, f"push buffer full ({self.size}): oldest dropped", missed
            )
        return self._items.popleft() if self._items else None
