"""Hooks, logging and tracing around one client's requests (the pieces both
facades share are in :mod:`zaqarkit._observe`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from zaqarkit._observe import (
    ObserverBase,
    OperationSpan,
    RequestEvent,
    ResponseEvent,
    call_hook,  # async-only
    log_failure,
    log_response,
    request_logger,
    transport_kind,
)
from zaqarkit.core.retry import RetryPolicy
from zaqarkit.core.wire import Call, Request, Response

if TYPE_CHECKING:
    from collections.abc import Awaitable  # async-only

    from zaqarkit.transports.base import AsyncTransport

__all__ = ["AsyncObserver"]

T = TypeVar("T")


class AsyncObserver(ObserverBase):
    """Hooks, logging and tracing around a client's requests (an async
    client's hooks may also be coroutine functions)."""

    _allow_async = True  # async-only

    async def traced(
        self,
        deliver: Callable[  # async-only
            [Call[T], AsyncTransport, RetryPolicy], Awaitable[T]  # async-only
        ],  # async-only
        # sync-only: deliver: Callable[[Call[T], Transport, RetryPolicy], T],
        call: Call[T],
        transport: AsyncTransport,
        policy: RetryPolicy,
    ) -> T:
        """``deliver(call, transport, policy)`` inside the operation's span, its
        duration and message counts recorded when metrics are on."""
        with OperationSpan(self.tracer, call.request, self.metrics) as span:
            return span.result(await deliver(call, transport, policy))

    async def send(self, transport: AsyncTransport, request: Request) -> Response:
        """Send ``request`` through ``transport``, observed."""
        if self._quiet and not request_logger(request).isEnabledFor(logging.DEBUG):
            return await transport.handle_async_request(request)
        request = self._prepare(request)
        kind = transport_kind(request.url)
        for hook in self._request_hooks:
            sent = RequestEvent(request.operation.value, request, kind)
            await call_hook(hook, sent)  # async-only
            # sync-only: hook(sent)
        start = time.perf_counter()
        try:
            response = await transport.handle_async_request(request)
        except Exception as exc:
            log_failure(request, exc, time.perf_counter() - start)
            raise
        elapsed = time.perf_counter() - start
        log_response(request, response, elapsed)
        for hook in self._response_hooks:
            answered = ResponseEvent(request.operation.value, request, response, elapsed, kind)
            await call_hook(hook, answered)  # async-only
            # sync-only: hook(answered)
        return response
