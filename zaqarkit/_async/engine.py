"""The call engine: every request of a client, its resources, its consumer
and its producer runs through :class:`AsyncEngine`.

The engine routes a call to its transport, drives the core's call flow
(:func:`zaqarkit.core.retry.call_flow`: re-authentication, retries, their
sleeps) under the call's deadline, observes every attempt (hooks, logs,
spans) and parses the answer. It is also the session the resources hold:
``send`` a call, ``run`` a multi-step flow, ``iterate`` a listing, the API
tables (``api``) and what the resources need to know of the client
(``websocket``, ``push``, ``reusable``). Generated to ``zaqarkit/_sync/engine.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio  # async-only

from zaqarkit import _calls
from zaqarkit.auth import Auth
from zaqarkit.core.api import ApiV2
from zaqarkit.core.auth import with_credentials
from zaqarkit.core.context import Context
from zaqarkit.core.flows import Flow
from zaqarkit.core.models import Page
from zaqarkit.core.operations import Operation, ws_action, ws_supports
from zaqarkit.core.paginate import Pagination
from zaqarkit.core.retry import Outcome, RetryPolicy, SendAttempt, SleepBeforeRetry, call_flow
from zaqarkit.core.timeouts import Timeout
from zaqarkit.core.wire import Call, Headers, ReusedCalls
from zaqarkit.errors import TransportError, UnsupportedOperation
from zaqarkit.transports import AsyncTransport, deadline
from zaqarkit.transports.base import AsyncPushTransport

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from zaqarkit._async.observer import AsyncObserver

__all__ = ["AsyncEngine"]

T = TypeVar("T")


class AsyncEngine:
    """Sends one client's calls: routing, credentials, retries, deadline,
    observation, parsing. Resources hold it instead of the client.

    ``fallback`` is an HTTP transport and its context for the operations Zaqar
    does not serve over WebSocket; without one, over WebSocket, those are
    refused before any I/O.
    """

    def __init__(
        self,
        api: ApiV2,
        transport: AsyncTransport,
        context: Context,
        auth: Auth,
        observer: AsyncObserver,
        *,
        timeout: Timeout,
        retries: RetryPolicy,
        websocket: bool,
        fallback: tuple[AsyncTransport, Context] | None = None,
        remake: Callable[[], AsyncTransport] | None = None,
    ) -> None:
        self.api = api
        self.transport = transport
        self.context = context
        self.auth = auth
        self.observer = observer
        self.timeout = timeout
        self.retries = retries
        #: Whether the client speaks WebSocket (Zaqar measures bodies differently there).
        self.websocket = websocket
        self.fallback = fallback
        #: Makes a new transport like the first (None: the caller's transport).
        self._remake = remake
        self.closed = False
        # Over WebSocket, what Zaqar has no action for is refused before any I/O.
        self._ws_only = websocket and fallback is None
        self._reused = ReusedCalls(self._prepared)

    @property
    def push(self) -> AsyncPushTransport | None:
        """The transport, when it can stream push notifications."""
        transport = self.transport
        return transport if isinstance(transport, AsyncPushTransport) else None

    async def push_headers(self) -> Headers:
        """The headers a push subscription frame carries: identity and credentials."""
        return self.context.headers + await self.auth.async_headers()

    def check(self, *calls: Call[Any] | Operation) -> None:
        """Raise UnsupportedOperation, before anything is sent, for a call (or
        operation) this client's transport cannot carry; API versions refuse
        at build time already."""
        if self._ws_only:
            for call in calls:
                ws_action(call if isinstance(call, Operation) else call.request.operation)

    def reusable(
        self, site: Hashable, args: tuple[object, ...], build: Callable[[], Call[T]]
    ) -> Call[T]:
        """The call ``build()`` makes, built and prepared once while a polling
        site (``site``) repeats the same ``args`` (see
        :class:`~zaqarkit.core.wire.ReusedCalls`).

        Example::

            site = (Operation.MESSAGE_POP, "jobs")
            pop = engine.reusable(site, (count,), lambda: engine.api.message_pop("jobs", count))
        """
        return self._reused.get(site, args, build)

    def _route(self, call: Call[Any]) -> tuple[AsyncTransport, Context]:
        if self.fallback is not None and not ws_supports(call.request.operation):
            return self.fallback
        return self.transport, self.context

    def _prepared(self, call: Call[T]) -> Call[T]:
        return Call(self._route(call)[1].prepare(call.request), call.parse)

    async def send(self, call: Call[T], retries: RetryPolicy | None = None) -> T:
        """Send ``call`` (retried per ``retries``, else the client's policy)
        and return its parsed answer.

        Example::

            queue_stats = await engine.send(engine.api.queue_stats("orders"))
        """
        if self.closed:
            raise TransportError("the client is closed", sent=False)
        transport, context = self._route(call)
        if self._ws_only:
            ws_action(call.request.operation)  # refused before any I/O
        request = call.request
        if not request.url:
            request = context.prepare(request)
        call = Call(request, call.parse)
        policy = retries or self.retries
        if self.observer.per_operation:
            # One span for the whole operation, its retries included (_observe).
            return await self.observer.traced(self._deliver, call, transport, policy)
        return await self._deliver(call, transport, policy)

    async def _deliver(self, call: Call[T], transport: AsyncTransport, policy: RetryPolicy) -> T:
        request = call.request
        total = self.timeout.total
        # Every decision (re-authenticate on 401, retry, how long to wait) is
        # the core's call flow, the first attempt's included; this loop only
        # executes its steps.
        flow = call_flow(
            policy,
            str(request.operation),
            now=_calls.clock(),
            rand=_calls.jitter,
            total=total,
            unsafe=_calls.unsafe_requested(),
        )
        step = next(flow)
        used: Headers = ()
        with deadline.scope(total):
            while True:
                if isinstance(step, SendAttempt):
                    used = await self.auth.async_headers()
                    try:
                        # Hooks and a DEBUG line per request sent (_observe).
                        result: Any = await self.observer.send(
                            transport, with_credentials(request, used)
                        )
                    except TransportError as exc:
                        result = exc
                    reply: Any = Outcome(result, _calls.clock())
                elif isinstance(step, SleepBeforeRetry):
                    _calls.log_retry(step, policy)
                    await anyio.sleep(step.seconds)  # async-only
                    # sync-only: _calls.sleep(step.seconds)
                    reply = _calls.clock()
                else:
                    reply = self.auth.invalidate(used)
                try:
                    step = flow.send(reply)
                except StopIteration as done:
                    return self.auth.parse(call, request, done.value)

    async def run(self, flow: Flow[T]) -> T:
        """Drive a core flow (:mod:`zaqarkit.core.flows`): send what it yields.

        Example::

            exists = await engine.run(flows.queue_exists(engine.api, "orders"))
        """
        call = next(flow)
        while True:
            try:
                call = flow.send(await self.send(call))
            except StopIteration as done:
                return cast(T, done.value)

    async def iterate(
        self, first: Call[Page[T]], key: Callable[[T], Hashable] | None = None
    ) -> AsyncGenerator[T]:
        """Every item of a listing, page after page (``key`` names an item for
        the pagination's repeat check; see :class:`~zaqarkit.core.paginate.Pagination`).

        Example::

            async for queue in engine.iterate(engine.api.queue_list()):
                print(queue.name)
        """
        pages = Pagination(first) if key is None else Pagination(first, key=key)
        while (call := pages.next_call()) is not None:
            for item in pages.accept(await self.send(call)):
                yield item

    async def reconnect(self) -> None:
        """Replace the transport by a new one and close the old one (see
        :meth:`zaqarkit.AsyncClient.reconnect`)."""
        if self.closed:
            raise TransportError("the client is closed", sent=False)
        if self._remake is None:
            raise UnsupportedOperation(
                "reconnect() replaces the transport the client made; this one was "
                "passed as transport= (reconnect it yourself)"
            )
        old, self.transport = self.transport, self._remake()
        await old.aclose()

    async def aclose(self) -> None:
        """Refuse further calls; the client closes the transports it owns."""
        self.closed = True
