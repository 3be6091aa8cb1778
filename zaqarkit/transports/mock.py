"""An in-memory transport for tests: a handler function plays the server."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import TransportError
from zaqarkit.transports.base import AsyncClosing, Closing

__all__ = ["Handler", "MockTransport"]

#: A function standing in for the server: plain or ``async def``.
Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport(Closing, AsyncClosing):
    """Answers every request by calling ``handler(request)``; no network involved.

    It serves sync clients (``handle_request``) and async ones
    (``handle_async_request``, under asyncio or trio). An ``async def``
    handler works on the async side only. Every request that reaches the
    handler is appended to :attr:`requests`, so tests can assert on what was
    sent. To inject a fault, raise a :class:`~zaqarkit.errors.TransportError`
    subclass from the handler.

    >>> from zaqarkit.core.operations import Operation
    >>> from zaqarkit.core.wire import Request, Response
    >>> def server(request):
    ...     if request.method == "GET":
    ...         return Response(200, {"content-type": "application/json"}, b'{"ok": true}')
    ...     return Response(204)
    >>> transport = MockTransport(server)
    >>> transport.handle_request(Request(Operation.PING, "GET", "/v2/ping")).body
    b'{"ok": true}'
    >>> len(transport.requests), transport.requests[0].path
    (1, '/v2/ping')

    Faults are plain exceptions:

    >>> from zaqarkit.errors import ConnectError
    >>> def down(request):
    ...     raise ConnectError("injected")
    >>> MockTransport(down).handle_request(Request(Operation.PING, "GET", "/v2/ping"))
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ConnectError: injected
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        #: Every request handed to the handler, in order.
        self.requests: list[Request] = []
        self.closed = False

    def handle_request(self, request: Request) -> Response:
        if self.closed:
            raise TransportError("transport is closed")
        if inspect.iscoroutinefunction(self.handler):
            raise TypeError(
                f"MockTransport handler {self.handler!r} is async; "
                "use it through handle_async_request (an async client)"
            )
        self.requests.append(request)
        result = self.handler(request)
        if inspect.isawaitable(result):
            # An async callable that iscoroutinefunction cannot see (an object
            # with an async __call__). Close the coroutine so it does not warn.
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError(
                f"MockTransport handler {self.handler!r} returned an awaitable; "
                "use it through handle_async_request (an async client)"
            )
        return _checked(result)

    async def handle_async_request(self, request: Request) -> Response:
        if self.closed:
            raise TransportError("transport is closed")
        self.requests.append(request)
        result = self.handler(request)
        if inspect.isawaitable(result):
            result = await result
        return _checked(result)

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def _checked(result: object) -> Response:
    # A handler returning, say, a dict would otherwise fail much later in a parser.
    if not isinstance(result, Response):
        raise TypeError(
            f"MockTransport handler must return a Response, got {type(result).__name__}"
        )
    return result
