"""WebSocket transports: sync, asyncio and trio.

Every decision (connecting, backoff, bootstrap, keepalive, re-authentication,
what a drop or a timeout means, shared push subscriptions) is taken by the
sans-I/O :class:`~zaqarkit.core.wsconn.WsConnection`. The two drivers
only feed it inputs and carry out its outputs:

- :class:`WebSocketTransport` (threads, :mod:`zaqarkit.transports._wssync`):
  callers write their own frames under a write lock bounded by their
  deadline, and read their replies themselves when no other thread is
  reading (leader/followers); a background reader per connection for the
  quiet times, a short-lived thread per connect attempt, one timer thread.
- :class:`AsyncWebSocketTransport` (asyncio or trio, detected with
  ``sniffio``; :mod:`zaqarkit.transports._wsasync`): a task per connection
  (an asyncio task or a trio *system* task, which outlives the request that
  happened to connect) and one timer task for deadlines and keepalive.

What both share (configuration, delivering outcomes and push events, a push
stream's state) is in :mod:`zaqarkit.transports._wsdriver`; this module has
the public names and the push streams. The sockets are the backends of
:mod:`zaqarkit.transports._sockets` (one interface: a blocking socket, an
asyncio protocol, a trio stream). Importing this module imports
``websockets`` (its sans-I/O handshake); ``zaqarkit.transports`` does not.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

import anyio

from zaqarkit import errors
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.ws import Notification
from zaqarkit.core.wsconn import PushGap
from zaqarkit.transports._wsasync import AsyncWebSocketTransport
from zaqarkit.transports._wsdriver import DEFAULT_MAX_SIZE, DEFAULT_TIMEOUT, StreamBase
from zaqarkit.transports._wssync import WebSocketTransport
from zaqarkit.transports.base import AsyncClosing, Closing

__all__ = [
    "DEFAULT_MAX_SIZE",
    "DEFAULT_TIMEOUT",
    "AsyncPushStream",
    "AsyncWebSocketTransport",
    "Notification",
    "PushGap",
    "PushStream",
    "WebSocketTransport",
]

#: A pushed body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")


class PushStream(StreamBase, Closing, Generic[B]):
    """Notifications pushed for one queue, as a blocking iterator.

    Yields :class:`~zaqarkit.core.ws.Notification` objects and, where some
    may be missing (after every reconnect; when more than ``push_buffer``
    notifications were waiting, the oldest dropped), a
    :class:`~zaqarkit.core.wsconn.PushGap`; both have ``gap``. Iteration
    ends when the stream is closed, or raises the error that ended it.

    Example::

        with transport.subscribe("orders", ttl=3600) as stream:
            for note in stream:
                if not note.gap:
                    print(note.body)
    """

    def __init__(
        self,
        transport: WebSocketTransport,
        number: int,
        queue: str,
        size: int,
        codec: BodyCodec[Any] | None = None,
    ) -> None:
        super().__init__(transport, number, queue, size, codec)
        self._ready = threading.Condition(transport._lock)

    def _wake(self) -> None:
        self._ready.notify_all()  # called with the transport's lock held

    def get(self, timeout: float | None = None) -> Notification[B] | PushGap:
        """The next item; TimeoutError after ``timeout`` seconds, TransportError
        (or the ending error) once the stream has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            while (item := self._take()) is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise self._timeout(timeout)
                self._ready.wait(left)
            return item

    def __iter__(self) -> Iterator[Notification[B] | PushGap]:
        return self

    def __next__(self) -> Notification[B] | PushGap:
        try:
            return self.get()
        except errors.TransportError:
            if self._error is not None:
                raise
            raise StopIteration from None

    def close(self) -> None:
        """Unsubscribe (the server subscription is deleted with the last stream)."""
        self._unsubscribe()


class AsyncPushStream(StreamBase, AsyncClosing, Generic[B]):
    """Notifications pushed for one queue, as an async iterator (asyncio or
    trio); items as :class:`PushStream`'s.

    Example::

        async with await transport.subscribe("orders") as stream:
            async for note in stream:
                print(note.gap or note.body)
    """

    _wakeup: anyio.Event | None = None

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def get(self, timeout: float | None = None) -> Notification[B] | PushGap:
        """The next item; TimeoutError after ``timeout`` seconds, TransportError
        (or the ending error) once the stream has ended."""
        with anyio.move_on_after(math.inf if timeout is None else timeout):
            while (item := self._take()) is None:
                self._wakeup = self._wakeup or anyio.Event()
                await self._wakeup.wait()
            return item
        raise self._timeout(timeout)

    def __aiter__(self) -> AsyncIterator[Notification[B] | PushGap]:
        return self

    async def __anext__(self) -> Notification[B] | PushGap:
        try:
            return await self.get()
        except errors.TransportError:
            if self._error is not None:
                raise
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Unsubscribe (the server subscription is deleted with the last stream)."""
        self._unsubscribe()
