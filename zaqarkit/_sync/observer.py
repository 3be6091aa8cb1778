# This file is generated from zaqarkit/_async/observer.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
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
    log_failure,
    log_response,
    request_logger,
    transport_kind,
)
from zaqarkit.core.retry import RetryPolicy
from zaqarkit.core.wire import Call, Request, Response

if TYPE_CHECKING:

    from zaqarkit.transports.base import Transport

__all__ = ["Observer"]

T = TypeVar("T")


class Observer(ObserverBase):
    """Hooks, logging and tracing around a client's requests (an async
    client's hooks may also be coroutine functions)."""

    def traced(
        self,
        deliver: Callable[[Call[T], Transport, RetryPolicy], T],
        call: Call[T],
        transport: Transport,
        policy: RetryPolicy,
    ) -> T:
        """``deliver(call, transport, policy)`` inside the operation's span, its
        duration and message counts recorded when metrics are on."""
        with OperationSpan(self.tracer, call.request, self.metrics) as span:
            return span.result(deliver(call, transport, policy))

    def send(self, transport: Transport, request: Request) -> Response:
        """Send ``request`` through ``transport``, observed."""
        if self._quiet and not request_logger(request).isEnabledFor(logging.DEBUG):
            return transport.handle_request(request)
        request = self._prepare(request)
        kind = transport_kind(request.url)
        for hook in self._request_hooks:
            sent = RequestEvent(request.operation.value, request, kind)
            hook(sent)
        start = time.perf_counter()
        try:
            response = transport.handle_request(request)
        except Exception as exc:
            log_failure(request, exc, time.perf_counter() - start)
            raise
        elapsed = time.perf_counter() - start
        log_response(request, response, elapsed)
        for hook in self._response_hooks:
            answered = ResponseEvent(request.operation.value, request, response, elapsed, kind)
            hook(answered)
        return response
