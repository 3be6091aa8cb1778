"""What a transport is: the two protocols the clients depend on, and the
two a transport that can stream push notifications adds (WebSocket).

A transport moves one prepared :class:`~zaqarkit.core.wire.Request` and hands
back the matching :class:`~zaqarkit.core.wire.Response`. It never interprets
HTTP error statuses (the core's parsers do); it raises only
:class:`~zaqarkit.errors.TransportError` subclasses, when there is no usable
response at all.

The sync and async methods have distinct names (``handle_request`` and
``handle_async_request``) so one object, such as
:class:`~zaqarkit.transports.mock.MockTransport`, can serve both kinds of client.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from zaqarkit.core.wire import Headers, Request, Response

if TYPE_CHECKING:
    from zaqarkit.core.bodies import BodyCodec
    from zaqarkit.transports.websocket import AsyncPushStream, PushStream

__all__ = [
    "AsyncClosing",
    "AsyncPushTransport",
    "AsyncTransport",
    "Closing",
    "PushTransport",
    "Transport",
]

_S = TypeVar("_S", bound="Closing")
_A = TypeVar("_A", bound="AsyncClosing")


@runtime_checkable
class Transport(Protocol):
    """A blocking transport.

    Anything with these two methods qualifies; subclassing is not required.

    >>> from zaqarkit.core.wire import Response
    >>> class Always204:
    ...     def handle_request(self, request):
    ...         return Response(204)
    ...     def close(self):
    ...         pass
    >>> isinstance(Always204(), Transport)
    True
    """

    def handle_request(self, request: Request) -> Response:
        """Send ``request`` and return the complete response (body read)."""
        ...

    def close(self) -> None:
        """Release connections. Idempotent; later requests raise TransportError."""
        ...


@runtime_checkable
class AsyncTransport(Protocol):
    """A transport for ``async`` clients (asyncio or trio).

    ``runtime_checkable`` only checks that the names exist, not that the
    methods are coroutines.

    >>> from zaqarkit.core.wire import Response
    >>> class Always204:
    ...     async def handle_async_request(self, request):
    ...         return Response(204)
    ...     async def aclose(self):
    ...         pass
    >>> isinstance(Always204(), AsyncTransport)
    True
    """

    async def handle_async_request(self, request: Request) -> Response:
        """Send ``request`` and return the complete response (body read)."""
        ...

    async def aclose(self) -> None:
        """Release connections. Idempotent; later requests raise TransportError."""
        ...


@runtime_checkable
class PushTransport(Protocol):
    """A blocking transport that also streams a queue's new messages as
    Zaqar pushes them (:class:`~zaqarkit.transports.WebSocketTransport`
    declares it; HTTP cannot push). The client's ``queue.subscribe()`` and
    consumers use it when the transport has it."""

    def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: Headers = (),
        codec: BodyCodec[Any] | None = None,
    ) -> PushStream[Any]:
        """Subscribe to ``queue_name``'s notifications; the stream yields them."""
        ...


@runtime_checkable
class AsyncPushTransport(Protocol):
    """:class:`PushTransport` for ``async`` clients
    (:class:`~zaqarkit.transports.AsyncWebSocketTransport` declares it)."""

    async def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: Headers = (),
        codec: BodyCodec[Any] | None = None,
    ) -> AsyncPushStream[Any]:
        """Subscribe to ``queue_name``'s notifications; the stream yields them."""
        ...


class Closing:
    """``with`` support for anything that has ``close`` (transports, push
    streams, clients); subclasses implement ``close``.

    >>> class Noop(Closing):
    ...     def close(self):
    ...         print("closed")
    >>> with Noop() as t:
    ...     pass
    closed
    """

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing:
    """``async with`` support for anything that has ``aclose``; subclasses
    implement ``aclose``."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _A) -> _A:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
