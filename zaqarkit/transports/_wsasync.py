"""The async WebSocket driver, one for asyncio and trio: see
:class:`AsyncWebSocketTransport`.

Every input is fed to the machine and its work carried out synchronously
(writing a frame hands it to the library's write buffer): only waiting is
async. A caller waits on its library's own event (``asyncio.Event`` or
``trio.Event``, chosen once per event loop); what arrives is delivered by the
socket backend (on asyncio from the protocol's callback, on trio by the
connection's task); one timer task per transport wakes for request deadlines
and the machine's :class:`~zaqarkit.core.wsconn.Sleep` alike, the only
timeout mechanism (no cancel scope per request: anyio's cost 6-10 % of the
CPU per request on the replay tier).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import inspect
import math
import operator
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from zaqarkit import errors
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.wire import Request, Response
from zaqarkit.core.ws import push_subscription_create
from zaqarkit.core.wsconn import (
    Abort,
    CancelConnect,
    Connect,
    Output,
    Ping,
    RefreshToken,
    Send,
    Sleep,
    State,
)
from zaqarkit.transports._aiows import AsyncioWebSocket
from zaqarkit.transports._loops import EventLoopBinding, current_backend
from zaqarkit.transports._sockets import AsyncWebSocketStream
from zaqarkit.transports._wsdriver import Driver, Waiter, connect_error, logger, token_input
from zaqarkit.transports.base import AsyncClosing, AsyncPushTransport

if TYPE_CHECKING:
    from zaqarkit.transports.websocket import AsyncPushStream

__all__ = ["AsyncWebSocketTransport"]

#: The sort key of a request deadline, ``(deadline, ticket)``.
_DEADLINE = operator.itemgetter(0)


class _AsyncioEvent:
    """``asyncio.Event`` for one waiter: a future. Why not asyncio's: its
    waiter list, loop lookup and cleanup cost a few microseconds on every
    request. Set after its waiter gave up (cancelled), or once its event
    loop has ended (``_bind_loop`` settles what that loop left), it does nothing."""

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def set(self) -> None:
        if not self._future.done():
            try:  # noqa: SIM105 - not contextlib.suppress: this is on every request's path
                self._future.set_result(None)
            except RuntimeError:  # its event loop has ended
                pass

    def wait(self) -> asyncio.Future[None]:
        return self._future


class AsyncWebSocketTransport(Driver, AsyncClosing, AsyncPushTransport):
    """Async transport over one Zaqar WebSocket connection, for asyncio and trio.

    Options are those of :class:`~zaqarkit.transports.websocket.WebSocketTransport`;
    ``token_refresh`` may be a coroutine function. The connection belongs to
    the event loop of the request that opened it; once that loop has ended, the
    next request (on a new loop) connects afresh, while use from a second live
    loop is refused.

    >>> import anyio
    >>> from zaqarkit.core.api import ApiV2
    >>> async def main():
    ...     async with AsyncWebSocketTransport("ws://127.0.0.1:9", timeout=2.0) as t:
    ...         try:
    ...             await t.handle_async_request(ApiV2().health().request)
    ...         except Exception as exc:
    ...             return type(exc).__name__
    >>> anyio.run(main)
    'UnsupportedOperation'
    """

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._loop = EventLoopBinding("WebSocket connection")
        self._scopes: dict[str, anyio.CancelScope] = {}  # "timer", "refresh", "attempt N"
        self._tasks: set[Any] = set()
        self._event: Callable[[], Any] = anyio.Event  # the library's own, set by _bind_loop
        self._closing: AsyncWebSocketStream | None = None  # for aclose() to close politely
        self._reset_timer()
        self.backend: str | None = None

    def _reset_timer(self) -> None:
        #: Request deadlines in order, ``(deadline, ticket)``: the timeout
        #: seldom changes, so they come in the order requests do.
        self._deadlines: deque[tuple[float, int]] = deque()
        self._wake_at = math.inf  # the machine's next Sleep
        self._timer_at = math.inf  # when the timer task wakes; inf: no timer task
        self._rearm: Any = None  # the timer task's event: set, it wakes earlier

    def _feed(self, input: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Give the machine one input; carry out what it asks; return its result."""
        result = input(*args, now=time.monotonic(), **kwargs)
        work = self._settle(self._m.drain())
        if work:
            self._do(work)
        return result

    async def handle_async_request(self, request: Request) -> Response:
        self._bind_loop()
        now = time.monotonic()
        return await self._call(self._m.request(request, now=now), now)

    async def _call(self, ticket: int, now: float) -> Response:
        """Send what the machine has queued and wait for ``ticket``'s outcome:
        its reply, a drop, or the timer task at its deadline (:meth:`_expire`)."""
        waiter = Waiter(self._event())
        self._waiters[ticket] = waiter
        if self.timeout is not None:
            self._add_deadline(now + self.timeout, ticket)
        work = self._settle(self._m.drain())
        if work:
            self._do(work)
        try:
            await waiter.event.wait()
        except BaseException:  # the caller was cancelled: stop tracking it
            self._feed(self._m.timed_out, ticket)
            self._waiters.pop(ticket, None)
            raise
        finally:
            deadlines = self._deadlines
            while deadlines and deadlines[0][1] not in self._waiters:
                deadlines.popleft()  # ended requests: the queue holds those in flight
        return waiter.outcome()

    # -- time: request deadlines and the machine's Sleeps, on one timer task --------------

    def _add_deadline(self, when: float, ticket: int) -> None:
        deadlines = self._deadlines
        if not deadlines or when >= deadlines[-1][0]:
            deadlines.append((when, ticket))
        else:  # the timeout was shortened: keep the queue in deadline order
            bisect.insort(deadlines, (when, ticket), key=_DEADLINE)
        self._arm(when)

    def _arm(self, when: float) -> None:
        """Have the timer task wake at ``when`` at the latest."""
        if when >= self._timer_at:
            return
        if self._timer_at == math.inf:
            self._timer_at = when
            self._spawn("timer", self._run_timer)
        else:  # a task that has not started yet reads the new time itself
            self._timer_at = when
            if self._rearm is not None:
                self._rearm.set()

    async def _run_timer(self) -> None:
        """The timer task: expires requests and fires the machine's Sleeps
        until nothing waits for a time."""
        try:
            while not self.closed:
                head = self._deadlines[0][0] if self._deadlines else math.inf
                self._timer_at = wake = min(self._wake_at, head)
                if wake == math.inf:
                    return
                self._rearm = self._event()
                with anyio.move_on_after(wake - time.monotonic()):
                    await self._rearm.wait()
                now = time.monotonic()
                self._expire(now)
                if self._wake_at <= now:
                    self._wake_at = math.inf
                    self._feed(self._m.timer_fired)
        finally:
            self._timer_at, self._rearm = math.inf, None

    def _expire(self, now: float) -> None:
        """Fail the requests whose deadline has come with the machine's error
        (it knows whether each may have been sent)."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, ticket = deadlines.popleft()
            waiter = self._waiters.pop(ticket, None)
            if waiter is not None:
                error = self._m.timed_out(ticket, now=now)
                if error is not None:  # None: settled by a drain already
                    waiter.settle(None, error)
        work = self._settle(self._m.drain())
        if work:
            self._do(work)

    # -- push streams and closing -----------------------------------------------------

    async def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        codec: BodyCodec[Any] | None = None,
    ) -> AsyncPushStream[Any]:
        """See :meth:`~zaqarkit.transports.websocket.WebSocketTransport.subscribe`."""
        from zaqarkit.transports.websocket import AsyncPushStream  # it imports this module

        self._bind_loop()
        now = time.monotonic()
        stream, ticket = self._start_stream(
            AsyncPushStream, queue_name, now, ttl, options, headers, codec
        )
        if ticket is not None:
            try:
                push_subscription_create(queue_name).parse(await self._call(ticket, now))
            except BaseException:
                await stream.aclose()
                raise
        return stream

    async def unsubscribe(self, stream: AsyncPushStream[Any]) -> None:
        """End ``stream``; delete the server subscription with the last stream."""
        await stream.aclose()

    async def aclose(self) -> None:
        """Fail pending requests with TransportError at once, end push streams,
        close the socket. Idempotent."""
        if self.closed:
            return
        self._bind_loop()
        self._feed(self._m.close)
        ws, self._closing = self._closing, None
        with anyio.CancelScope(shield=True):
            if ws is not None:  # its reader task still runs: it reads the close reply
                with contextlib.suppress(Exception):
                    await ws.close(self._close_timeout)
            for scope in list(self._scopes.values()):
                scope.cancel()

    def _bind_loop(self) -> None:
        # One asyncio.run or trio.run after another (as test frameworks do):
        # what the ended loop left behind is dropped and the next request
        # connects afresh. Use from two live loops at once is refused.
        if not self._loop.rebind():
            return
        self.backend = current_backend()
        if self.backend == "trio":
            import trio

            self._event = trio.Event
        else:
            self._event = _AsyncioEvent
        if self._m.state is not State.IDLE and not self.closed:
            ended = errors.ReadError("the event loop of this WebSocket ended", sent=True)
            for waiter in self._waiters.values():
                waiter.settle(None, ended)
            for stream in self._streams.values():
                stream._wakeup = None  # it belonged to the ended loop
                stream._end(ended)
            self._waiters, self._streams, self._scopes, self._ws = {}, {}, {}, None
            self._m = self._new_machine()
        self._reset_timer()  # its task was the ended loop's

    # -- carrying out the machine's work: nothing here waits --------------------------

    def _do(self, work: list[Output]) -> None:
        for out in work:
            ws = self._ws
            if type(out) is Send:
                self._write(out)
            elif isinstance(out, Sleep):
                # The earliest wins: a timer firing early only makes the machine re-arm.
                self._wake_at = min(self._wake_at, out.until)
                self._arm(self._wake_at)
            elif isinstance(out, Connect):
                self._spawn(f"attempt {out.attempt}", self._connect, out)
            elif isinstance(out, CancelConnect):
                scope = self._scopes.pop(f"attempt {out.attempt}", None)
                if scope is not None:
                    scope.cancel()
            elif isinstance(out, RefreshToken):
                self._spawn("refresh", self._refresh)
            elif ws is not None and isinstance(out, Ping):
                ws.ping()  # whatever arrives next counts as its answer
            elif ws is not None and isinstance(out, Abort):
                ws.abort()
            elif ws is not None:  # CloseSocket: only close() asks, and aclose() waits for it
                self._closing = ws

    def _spawn(self, name: str, target: Callable[..., Awaitable[None]], *args: Any) -> None:
        old = self._scopes.pop(name, None)
        if old is not None:
            old.cancel()
        scope = self._scopes[name] = anyio.CancelScope()

        async def run() -> None:
            with scope:
                try:
                    await target(*args)
                except Exception:  # a trio system task must not raise
                    logger.exception("WebSocket %s task failed", name)
            if self._scopes.get(name) is scope:
                del self._scopes[name]

        if self.backend == "trio":
            import trio

            # A system task: the connection outlives the request that opened it.
            trio.lowlevel.spawn_system_task(run)
        else:
            task = asyncio.get_running_loop().create_task(run())
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)

    def _write(self, out: Send) -> None:
        ws = self._ws if self._ws_attempt == out.attempt else None
        try:
            if ws is None:
                raise OSError("no connection")
            ws.send(out.data)
            self.frames_written += 1
        except Exception as exc:  # the connection is gone: the reader reports it
            if out.ticket is not None:
                self._feed(self._m.write_failed, out.ticket, connect_error(exc), partial=False)

    async def _connect(self, out: Connect) -> None:
        backend: Any = AsyncioWebSocket
        if self.backend == "trio":
            from zaqarkit.transports._triows import TrioWebSocket

            backend = TrioWebSocket
        try:
            ws = await backend.connect(self.url, open_timeout=out.timeout, **self._connect_kwargs)
        except Exception as exc:
            self._feed(self._m.connect_failed, out.attempt, connect_error(exc))
            return
        try:
            await self._serve(ws, out.attempt)
        finally:
            ws.abort()

    async def _serve(self, ws: AsyncWebSocketStream, attempt: int) -> None:
        """The connection's task: the backend delivers what arrives until the end."""
        self._ws, self._ws_attempt = ws, attempt
        try:
            if self._feed(self._m.connected, attempt):
                await ws.serve(self._received)
        except anyio.get_cancelled_exc_class():
            # Closed by aclose() (already accounted for), or its event loop is
            # ending: the next loop's first request starts afresh (_bind_loop).
            ws.abort()
            raise
        if self._ws is ws:
            self._ws = None
        ws.abort()
        self._feed(self._m.lost, attempt, ws.close_code, ws.close_reason)

    def _received(self, messages: list[str | bytes]) -> None:
        """What the backend read: settles callers at once (on asyncio straight
        from the protocol's callback, with no task woken in between)."""
        now = time.monotonic()
        for data in messages:
            self._m.receive(data, now=now)
        if not messages:
            self._m.heard(now=now)  # a pong
        work = self._settle(self._m.drain())
        if work:
            self._do(work)

    async def _refresh(self) -> None:
        assert self._token_refresh is not None
        try:
            value = self._token_refresh()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            self._feed(self._m.token_failed, connect_error(exc))
            return
        token, expiry = token_input(value)
        self._feed(self._m.token, token, **expiry)
