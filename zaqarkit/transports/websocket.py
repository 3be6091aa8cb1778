"""WebSocket transports: sync, asyncio and trio.

Every decision (connecting, backoff, bootstrap, keepalive, re-authentication,
what a drop or a timeout means, shared push subscriptions) is taken by the
sans-I/O :class:`~zaqarkit.core.wsconn.WsConnection`. The two drivers here
only feed it inputs and carry out its outputs:

- :class:`WebSocketTransport` (threads): callers write their own frames under
  a write lock bounded by their deadline, and read their replies themselves
  when no other thread is reading (leader/followers, see ``_await``); a
  background reader per connection for the quiet times, a short-lived thread
  per connect attempt, one timer thread.
- :class:`AsyncWebSocketTransport` (asyncio or trio, detected with
  ``sniffio``): a task per connection (an asyncio task or a trio *system*
  task, which outlives the request that happened to connect) and a timer task.

What both share (configuration, delivering outcomes and push events) is
:class:`_Driver`. The sockets are the backends of
:mod:`zaqarkit.transports._sockets` (one interface: a blocking socket, an
asyncio protocol, a trio stream). Importing this module imports
``websockets`` (its sans-I/O handshake); ``zaqarkit.transports`` does not.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as _dt
import inspect
import logging
import math
import operator
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Generic, TypeAlias, TypeVar

import anyio

from zaqarkit import errors
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.wire import Request, Response
from zaqarkit.core.ws import Notification
from zaqarkit.core.wsconn import (
    DEFAULT_PUSH_BUFFER,
    Abort,
    Answer,
    CancelConnect,
    CloseSocket,
    Connect,
    Failed,
    Gap,
    Log,
    Output,
    Ping,
    Push,
    PushBuffer,
    PushGap,
    RefreshToken,
    Send,
    Sleep,
    State,
    StreamEnded,
    WsConnection,
    typed_push,
)
from zaqarkit.transports._aiows import AsyncioWebSocket
from zaqarkit.transports._loops import EventLoopBinding, current_backend
from zaqarkit.transports._sockets import OPTIONS as _SOCKET_OPTIONS
from zaqarkit.transports._sockets import AsyncWebSocketStream, ConnectionEnded, WriteTimeout
from zaqarkit.transports._wsconn import SyncWebSocket
from zaqarkit.transports.base import AsyncClosing, Closing

__all__ = [
    "AsyncPushStream",
    "AsyncWebSocketTransport",
    "Notification",
    "PushGap",
    "PushStream",
    "WebSocketTransport",
]

logger = logging.getLogger("zaqarkit.websocket")

#: Seconds allowed per request (connect and reconnect waits included).
DEFAULT_TIMEOUT = 30.0
#: Zaqar's largest reply is a page of 20 messages of 256 KiB each.
DEFAULT_MAX_SIZE = 16 * 2**20

#: A token, a ``(token, project_id)`` pair or a ``(token, project_id,
#: expires_at)`` triple (an aware UTC datetime, or None), possibly from a coroutine.
TokenValue: TypeAlias = "str | tuple[str, str] | tuple[str, str, _dt.datetime | None]"
TokenRefresh = Callable[[], "TokenValue | Awaitable[TokenValue]"]


class _Signal:
    """A one-shot event on a bare C lock: waking a blocked caller this way costs
    a fraction of ``threading.Event`` (a Condition written in Python)."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def set(self) -> None:
        try:  # noqa: SIM105 - not contextlib.suppress: this is on every request's path
            self._lock.release()
        except RuntimeError:  # already set
            pass

    def wait(self, timeout: float | None = None) -> bool:
        return self._lock.acquire(timeout=-1 if timeout is None else timeout)


class _Waiter:
    """One request's outcome, set once."""

    __slots__ = ("error", "event", "response")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.response: Response | None = None
        self.error: errors.ZaqarError | None = None

    @property
    def settled(self) -> bool:
        return self.response is not None or self.error is not None

    def settle(self, response: Response | None, error: errors.ZaqarError | None) -> None:
        self.response, self.error = response, error
        self.event.set()

    def outcome(self) -> Response:
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


class _StreamBase:
    """A push stream's state, whatever wakes its reader: a bounded buffer
    (:class:`~zaqarkit.core.wsconn.PushBuffer`) and how it ended. With a
    ``codec`` (``body_type=``) each notification's body is decoded as it is
    taken (:func:`~zaqarkit.core.wsconn.typed_push`)."""

    def __init__(
        self,
        transport: Any,
        number: int,
        queue_name: str,
        size: int,
        codec: BodyCodec[Any] | None = None,
    ) -> None:
        self.queue_name = queue_name
        self._transport = transport
        self._number = number
        self._buffer = PushBuffer(queue_name, size)
        self._ended = False
        self._error: errors.ZaqarError | None = None
        self._codec = codec

    @property
    def subscription_id(self) -> str | None:
        """The server's id for the subscription; changes after a reconnect."""
        machine: WsConnection = self._transport._m
        return machine.subscription_id(self._number)

    @property
    def closed(self) -> bool:
        return self._ended

    def _take(self) -> Notification[Any] | PushGap | None:
        """The next item; raises once ended and drained; None when empty."""
        item = self._buffer.get()
        if item is None and self._ended:
            if self._error is not None:
                raise self._error
            raise errors.TransportError(
                f"push stream for {self.queue_name!r} is closed", sent=False
            )
        if self._codec is not None and item is not None:
            item = typed_push(item, self._codec)
            if item.gap and item.missed == 1 and item.reason.startswith("a pushed body"):
                logger.warning(
                    "push for %r skipped: %s (the message stays in the queue)",
                    self.queue_name,
                    item.reason,
                )
        return item  # type: ignore[no-any-return]

    def _timeout(self, timeout: float | None) -> errors.TimeoutError:
        return errors.TimeoutError(
            f"no notification for {self.queue_name!r} within {timeout} s", sent=False
        )

    def _put(self, item: Any) -> None:
        if not self._ended:
            if isinstance(item, str):
                self._buffer.gap(item)
            else:
                self._buffer.put(item)
            self._wake()

    def _end(self, error: errors.ZaqarError | None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._wake()

    def _wake(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} queue={self.queue_name!r} id={self.subscription_id!r}>"


class _Driver:
    """Configuration and the machine, and what both drivers do alike: deliver
    outcomes and push events (:meth:`_settle`), under the caller's lock.

    ``token_refresh`` returns a token, or a ``(token, project_id)`` pair when
    the project is only known once authenticated (Keystone); the async
    transport also accepts a coroutine function. It is called when
    connecting without a token and after close code 4003.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        codec: str = "json",
        auth_token: str | None = None,
        project_id: str | None = None,
        client_id: str | None = None,
        token_refresh: TokenRefresh | None = None,
        reconnect: bool = True,
        backoff_initial: float = 0.2,
        backoff_max: float = 30.0,
        open_timeout: float | None = 10.0,
        close_timeout: float = 2.0,
        max_size: int | None = DEFAULT_MAX_SIZE,
        compression: str | None = None,
        connect_kwargs: Mapping[str, Any] | None = None,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        push_buffer: int = DEFAULT_PUSH_BUFFER,
    ) -> None:
        if auth_token is not None and project_id is None:
            raise errors.ValidationError("project_id", "is required with auth_token")
        if push_buffer < 1:
            raise errors.ValidationError("push_buffer", "must be at least 1")
        self.url = url
        self.timeout = timeout
        self._token_refresh = token_refresh
        self._close_timeout = close_timeout
        self._push_buffer = push_buffer
        unknown = set(connect_kwargs or ()) - _SOCKET_OPTIONS
        if unknown:
            raise errors.ValidationError(
                "connect_kwargs",
                f"unknown option(s) {sorted(unknown)}; known: {sorted(_SOCKET_OPTIONS)}",
            )
        # Frames are small JSON: deflate costs more CPU than it saves on loopback.
        self._connect_kwargs = {
            "max_size": max_size,
            "compression": compression,
            **(connect_kwargs or {}),
        }
        headers = [("Client-ID", client_id or str(uuid.uuid4()))]
        if project_id is not None:
            headers.append(("X-Project-ID", project_id))
        self._machine_options = dict(
            codec=codec,
            default_headers=tuple(headers),
            reconnect=reconnect,
            backoff=(backoff_initial, backoff_max),
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            auth_token=auth_token,
            project_id=project_id,
            refresh=token_refresh is not None,
            jitter=random.random,
        )
        self._m = self._new_machine()
        self._waiters: dict[int, _Waiter] = {}
        self._settled = 0  # waiters settled so far
        self._streams: dict[int, Any] = {}
        self._ws: Any = None
        self._ws_attempt = 0  # the machine's attempt that opened self._ws
        #: Frames handed completely to the socket (for tests and diagnostics:
        #: only a frame written whole can have reached the server).
        self.frames_written = 0

    def _new_machine(self) -> WsConnection:
        return WsConnection(id_prefix=f"zk{uuid.uuid4().hex[:8]}", **self._machine_options)  # type: ignore[arg-type]

    @property
    def closed(self) -> bool:
        return self._m.state is State.CLOSED

    @property
    def connected(self) -> bool:
        return self._m.state is State.OPEN

    def _settle(self, outs: list[Output]) -> list[Output]:
        """Deliver outcomes, push events and log lines; return the I/O work."""
        work: list[Output] = []
        for out in outs:
            if type(out) is Send:  # the common case first: this runs on every request
                work.append(out)
            elif isinstance(out, (Answer, Failed)):
                waiter = self._waiters.pop(out.ticket, None)
                if waiter is not None:
                    self._settled += 1
                    if isinstance(out, Answer):
                        waiter.settle(out.response, None)
                    else:
                        waiter.settle(None, out.error)
            elif isinstance(out, (Push, Gap)):
                item = out.notification if isinstance(out, Push) else out.reason
                for number in out.streams:
                    stream = self._streams.get(number)
                    if stream is not None:
                        stream._put(item)
            elif isinstance(out, StreamEnded):
                for number in out.streams:
                    stream = self._streams.pop(number, None)
                    if stream is not None:
                        stream._end(out.error)
            elif isinstance(out, Log):
                logging.getLogger(out.logger).log(out.level, "%s (%s)", out.message, self.url)
            else:
                work.append(out)
        return work


def _token_input(value: Any) -> tuple[Any, dict[str, Any]]:
    """The machine's ``token`` input for what ``token_refresh`` returned: a
    known expiry becomes a time on the monotonic clock the machine runs on."""
    if isinstance(value, tuple) and len(value) == 3:
        token, project, expires = value
        if expires is None:
            return (token, project), {}
        left = (expires - _dt.datetime.now(_dt.UTC)).total_seconds()
        return (token, project), {"expires_at": time.monotonic() + left}
    return value, {}


def _connect_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# -- sync ------------------------------------------------------------------------


#: A pushed body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")


class PushStream(_StreamBase, Closing, Generic[B]):
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
        self._transport._feed(self._transport._m.unsubscribe, self._number)


class WebSocketTransport(_Driver, Closing):
    """Blocking transport over one Zaqar WebSocket connection, shared by threads.

    ``url`` is the WebSocket endpoint (``ws://host:9000``). ``timeout`` bounds
    each call in seconds, connecting and writing included; ``None`` waits
    forever. ``codec="msgpack"`` sends binary MessagePack frames. ``project_id``
    and ``client_id`` fill ``X-Project-ID`` and ``Client-ID`` on frames that
    lack them. With ``auth_token`` the transport sends Zaqar's ``authenticate``
    frame after each connect (never without one: a no-auth Zaqar does not
    answer it); ``token_refresh`` is called for a token when there is none and
    after close code 4003. ``reconnect=False`` turns automatic reconnection off
    (the next request reconnects). A line quiet for ``ping_interval`` seconds
    is pinged, and dropped when nothing arrives ``ping_timeout`` seconds after.
    ``push_buffer`` bounds each push stream. ``connect_kwargs`` go to the
    connection (``ssl``, ``additional_headers``, ``subprotocols``, ...).

    >>> from zaqarkit.core.api import ApiV2
    >>> transport = WebSocketTransport("ws://127.0.0.1:9", timeout=2.0, project_id="demo")
    >>> transport.handle_request(ApiV2().ping().request)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.UnsupportedOperation: ping_node is not available over WebSocket \
(Zaqar implements no such action): pass http_url='http://...' (the server's HTTP endpoint) \
to the client and it is sent there, or use an http:// url=
    >>> transport.close()
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._lock = threading.Lock()
        self._written_lock = threading.Lock()
        self._tick = threading.Condition(self._lock)
        # The read role (see _await): one thread at a time reads the socket.
        self._reading = False
        self._read_turn = threading.Condition(self._lock)
        self._released_at = -math.inf  # when a caller last gave the role up
        self._wake_at: float | None = None
        self._timer: threading.Thread | None = None
        self._connecting: dict[int, socket.socket] = {}
        super().__init__(url, **options)

    def _feed(self, input: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Give the machine one input; carry out what it asks; return its result."""
        with self._lock:
            result = input(*args, now=time.monotonic(), **kwargs)
            work = self._settle(self._m.drain())
        if work:
            self._do(work, self._background_deadline())
        return result

    def _background_deadline(self) -> float | None:
        # Frames written by the transport's own threads (bootstrap, queued
        # requests) are bounded too: a peer that stops reading must not stall
        # the reader forever.
        return None if self.timeout is None else time.monotonic() + self.timeout

    def handle_request(self, request: Request) -> Response:
        response = self._call(self._m.request, request)
        assert response is not None
        return response

    def _call(self, input: Callable[..., int | None], *args: Any) -> Response | None:
        """Feed ``input`` (which returns a ticket, or None: nothing to wait
        for) and wait for the ticket's outcome until the call's deadline."""
        now = time.monotonic()
        deadline = None if self.timeout is None else now + self.timeout
        waiter = _Waiter(_Signal())
        held = self._take_role()
        try:
            if held is not None and not self._receive(*held, 0):
                self._release(recent=False)  # it had ended: the machine knows now
                held = None
            with self._lock:
                ticket = input(*args, now=time.monotonic())
                if ticket is None:
                    return None
                self._waiters[ticket] = waiter
                work = self._settle(self._m.drain())
            if work:
                self._do(work, deadline)
            settled, held = self._await(waiter, deadline, held), None
        finally:
            if held is not None:  # input() refused the request
                self._release(recent=False)
        if not settled:
            error = self._feed(self._m.timed_out, ticket)
            if error is not None:
                with self._lock:
                    self._waiters.pop(ticket, None)
                    if not self._reading:
                        self._promote()  # a role handed to us while we gave up
                raise error
            # Settled while we timed out: _settle runs under the lock in the
            # same hold as the drain, so the outcome is there already.
        return waiter.outcome()

    # -- the read role ------------------------------------------------------------------
    #
    # Leader/followers: a caller waiting for its reply reads the socket itself
    # when nobody else does, so the reply wakes no other thread first (that
    # hop, reader thread to caller, cost about a third of the CPU per request
    # on the replay tier). Other waiting callers sleep on their signal; the
    # reader settles their replies, and hands the role to one of them when
    # its own reply is in. The connection's background reader takes the role
    # when no caller has read for IDLE_GRACE seconds (so pushes, pongs and a
    # server's close are read while nobody calls), at once for push streams
    # and a closing transport, and gives it back after settling a caller's
    # reply. A caller taking the role first reads what is already there (one
    # non-blocking recv): a connection that ended while nobody read is
    # noticed before a frame is written on it, always.

    #: Seconds without a reading caller before the background reader reads.
    IDLE_GRACE = 0.02

    def _take_role(self) -> tuple[SyncWebSocket, int] | None:
        """The read role on the current connection, if it is free."""
        with self._lock:
            ws = self._ws
            if ws is None or self._reading:
                return None
            self._reading = True
            return ws, self._ws_attempt

    def _await(
        self, waiter: _Waiter, deadline: float | None, held: tuple[SyncWebSocket, int] | None
    ) -> bool:
        """Wait for ``waiter`` to settle, reading the socket while holding the
        read role (``held``, or taken when free); False at the deadline.
        Gives the role up before returning."""
        try:
            while not waiter.settled:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                if held is None:
                    held = self._take_role()
                    if held is None:
                        # Woken by our outcome, or by being handed the read role.
                        waiter.event.wait(left)
                    continue
                if not self._receive(*held, left):
                    self._release(recent=False)
                    held = None
        finally:
            if held is not None:
                self._release(recent=True)
        return waiter.settled

    def _release(self, *, recent: bool) -> None:
        """Give the read role up; hand it to a waiting caller. ``recent``: a
        caller was reading, so the background reader waits IDLE_GRACE from now."""
        with self._lock:
            self._reading = False
            if recent:
                self._released_at = time.monotonic()
            self._promote()

    def _promote(self) -> None:
        # With the lock held and the role free.
        for waiter in self._waiters.values():
            if not waiter.settled:
                waiter.event.set()  # it wakes unsettled and takes the role
                return
        if self._background_may_read():
            self._read_turn.notify_all()

    def _background_may_read(self) -> bool:
        if self._reading:
            return False
        if self._streams or self._m.state is State.CLOSED:
            return True
        return time.monotonic() - self._released_at >= self.IDLE_GRACE

    def _receive(self, ws: SyncWebSocket, attempt: int, timeout: float | None) -> bool:
        """One read by the holder of the read role; False once the connection ended."""
        try:
            messages = ws.read(timeout)
        except ConnectionEnded:
            self._ended(ws, attempt)
            return False
        except Exception:  # never let a read die silently with requests pending
            logger.exception("WebSocket reader failed")
            ws.abort()
            self._ended(ws, attempt)
            return False
        if messages is None:
            return True
        with self._lock:
            now = time.monotonic()
            if messages:
                for data in messages:
                    self._m.receive(data, now=now)
            else:
                self._m.heard(now=now)
            work = self._settle(self._m.drain())
        if work:
            self._do(work, self._background_deadline())
        return True

    def _ended(self, ws: SyncWebSocket, attempt: int) -> None:
        with self._lock:
            if self._ws is not ws:
                return  # reported already
            self._ws = None
        self._feed(self._m.lost, attempt, ws.close_code, ws.close_reason)

    def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        codec: BodyCodec[Any] | None = None,
    ) -> PushStream[Any]:
        """Ask Zaqar to push ``queue_name``'s new messages to this socket.

        Streams for the same queue share one server subscription. ``headers``
        are sent with the subscription frames (``X-Project-ID`` if the
        transport has no ``project_id``). With ``codec``, bodies are decoded
        (see :func:`zaqarkit.core.wsconn.typed_push`).
        """
        from zaqarkit.core.ws import push_subscription_create

        created: list[PushStream[Any]] = []

        def start(now: float) -> int | None:
            number, ticket = self._m.subscribe(
                queue_name, now=now, ttl=ttl, options=options, headers=headers
            )
            created.append(PushStream(self, number, queue_name, self._push_buffer, codec))
            self._streams[number] = created[0]
            return ticket

        response = self._call(start)
        if response is not None:
            try:
                push_subscription_create(queue_name).parse(response)
            except BaseException:
                created[0].close()
                raise
        return created[0]

    def unsubscribe(self, stream: PushStream[Any]) -> None:
        """End ``stream``; delete the server subscription with the last stream."""
        stream.close()

    def close(self) -> None:
        """Fail pending requests with TransportError at once, end push streams,
        close the socket (bounded by ``close_timeout``). Idempotent."""
        self._feed(self._m.close)
        with self._lock:
            self._tick.notify_all()
            self._read_turn.notify_all()
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join(self._close_timeout)

    # -- carrying out the machine's work (outside the lock) --------------------------

    def _do(self, work: list[Output], deadline: float | None) -> None:
        for out in work:
            if isinstance(out, Send):
                self._write(out, deadline)
            elif isinstance(out, Sleep):
                with self._lock:
                    # The earliest wins: two threads may carry out Sleeps in
                    # another order than the machine emitted them (a connect
                    # arming keepalive, a reader seeing the drop that follows),
                    # and a timer firing early only makes the machine re-arm.
                    if self._wake_at is None or out.until < self._wake_at:
                        self._wake_at = out.until
                    if self._timer is None:
                        self._timer = self._thread(self._run_timer, "timer")
                    self._tick.notify_all()
            elif isinstance(out, Connect):
                self._thread(self._connect, "connect", out)
            elif isinstance(out, CancelConnect):
                sock = self._connecting.pop(out.attempt, None)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
            elif isinstance(out, RefreshToken):
                self._refresh()
            elif self._ws is not None:
                ws = self._ws
                if isinstance(out, Ping):
                    ws.ping()
                elif isinstance(out, Abort):
                    ws.abort()
                elif isinstance(out, CloseSocket):
                    with self._lock:
                        self._read_turn.notify_all()  # someone must read the close reply
                    ws.close(self._close_timeout)

    @staticmethod
    def _thread(target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=f"zaqarkit-ws-{name}", daemon=True)
        thread.start()
        return thread

    def _write(self, out: Send, deadline: float | None) -> None:
        ws = self._ws if self._ws_attempt == out.attempt else None
        try:
            if ws is None:
                raise OSError("no connection")
            ws.send(out.data, deadline)
            with self._written_lock:  # callers' threads write concurrently
                self.frames_written += 1
        except WriteTimeout as exc:
            if out.ticket is not None:
                self._feed(
                    self._m.write_failed, out.ticket, "timed out", partial=exc.partial, timeout=True
                )
            elif exc.partial and ws is not None:
                ws.abort()
        except Exception as exc:  # the socket is gone: the reader reports it
            if out.ticket is not None:
                self._feed(
                    self._m.write_failed, out.ticket, _connect_error(exc), partial=ws is not None
                )

    def _run_timer(self) -> None:
        while True:
            with self._lock:
                while not self.closed and (
                    self._wake_at is None or self._wake_at > time.monotonic()
                ):
                    left = None if self._wake_at is None else self._wake_at - time.monotonic()
                    self._tick.wait(left)
                if self.closed:
                    self._timer = None
                    return
                self._wake_at = None
            self._feed(self._m.timer_fired)

    def _connect(self, out: Connect) -> None:
        def started(sock: socket.socket) -> None:
            self._connecting[out.attempt] = sock
            if self._m.connecting != out.attempt:  # cancelled before it had a socket
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        try:
            ws = SyncWebSocket.connect(
                self.url, open_timeout=out.timeout, on_socket=started, **self._connect_kwargs
            )
        except Exception as exc:
            self._connecting.pop(out.attempt, None)
            self._feed(self._m.connect_failed, out.attempt, _connect_error(exc))
            return
        self._connecting.pop(out.attempt, None)
        with self._lock:
            self._ws, self._ws_attempt = ws, out.attempt
            self._released_at = -math.inf  # the bootstrap replies: read them at once
        reader = self._thread(self._read, "reader", ws, out.attempt)
        if not self._feed(self._m.connected, out.attempt):
            ws.close(self._close_timeout)
        del reader

    def _read(self, ws: SyncWebSocket, attempt: int) -> None:
        """The connection's background reader: reads while no caller does."""
        while True:
            with self._lock:
                # A connection no longer current (lost, replaced, closing) is
                # read to its end without the role, which is the current one's.
                while (role := ws is self._ws) and not self._background_may_read():
                    wait = self.IDLE_GRACE
                    if not self._reading:
                        wait = self._released_at + self.IDLE_GRACE - time.monotonic()
                    self._read_turn.wait(max(wait, 0.001))
                if role:
                    self._reading = True
                settled = self._settled
            alive = False
            try:
                alive = self._receive(ws, attempt, None)
            finally:
                if role:
                    # Having settled a caller's reply, the caller is active:
                    # it reads its next reply itself.
                    self._release(recent=self._settled != settled and not self._streams)
            if not alive:
                return

    def _refresh(self) -> None:
        assert self._token_refresh is not None
        try:
            value = self._token_refresh()
            if inspect.isawaitable(value):
                raise errors.ValidationError(
                    "token_refresh", "must be a plain function for the sync transport"
                )
        except Exception as exc:
            self._feed(self._m.token_failed, _connect_error(exc))
            return
        token, expiry = _token_input(value)
        self._feed(self._m.token, token, **expiry)


# -- async -------------------------------------------------------------------------


class AsyncPushStream(_StreamBase, AsyncClosing, Generic[B]):
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
        await self._transport._feed(self._transport._m.unsubscribe, self._number)


#: The sort key of a request deadline, ``(deadline, ticket)``.
_DEADLINE = operator.itemgetter(0)


class AsyncWebSocketTransport(_Driver, AsyncClosing):
    """Async transport over one Zaqar WebSocket connection, for asyncio and trio.

    Options are those of :class:`WebSocketTransport`; ``token_refresh`` may be
    a coroutine function. The connection belongs to the event loop of the
    request that opened it; once that loop has ended, the next request (on a
    new loop) connects afresh, while use from a second live loop is refused.

    One driver for both libraries: a caller waits on its library's own event
    (``asyncio.Event`` or ``trio.Event``, chosen once per loop), and one timer
    task per connection wakes for the machine's :class:`Sleep` and for
    request deadlines alike (the only timeout mechanism: no cancel scope per
    request, which cost 6-10 % of the CPU per request on the replay tier).

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
        self._event: Callable[[], Any] = anyio.Event  # the running library's own (_bind_loop)
        self._reset_timer()
        self.backend: str | None = None

    def _reset_timer(self) -> None:
        #: Request deadlines in order, ``(deadline, ticket)``: the timeout
        #: seldom changes, so they come in the order requests do.
        self._deadlines: deque[tuple[float, int]] = deque()
        self._wake_at = math.inf  # the machine's next Sleep
        self._timer_at = math.inf  # when the timer task wakes; inf: no timer task
        self._rearm: Any = None  # the timer task's event: set, it wakes earlier

    async def _feed(self, input: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Give the machine one input; carry out what it asks; return its result."""
        result = input(*args, now=time.monotonic(), **kwargs)
        work = self._settle(self._m.drain())
        if work:
            await self._do(work)
        return result

    async def handle_async_request(self, request: Request) -> Response:
        self._bind_loop()
        return await self._call(self._m.request(request, now=time.monotonic()))

    async def _call(self, ticket: int) -> Response:
        """Send what the machine has queued and wait for ``ticket``'s outcome:
        its reply, a drop, or the timer task at its deadline (:meth:`_expire`)."""
        waiter = _Waiter(self._event())
        self._waiters[ticket] = waiter
        if self.timeout is not None:
            self._add_deadline(time.monotonic() + self.timeout, ticket)
        try:
            work = self._settle(self._m.drain())
            if work:
                await self._do(work)
            await waiter.event.wait()
        except BaseException:  # the caller was cancelled: stop tracking it
            with anyio.CancelScope(shield=True):
                await self._feed(self._m.timed_out, ticket)
            self._waiters.pop(ticket, None)
            raise
        finally:
            deadlines = self._deadlines
            while deadlines and deadlines[0][1] not in self._waiters:
                deadlines.popleft()  # ended requests: the queue holds those in flight
        return waiter.outcome()

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
        """The timer task: expires requests and fires the machine's Sleeps, until
        nothing waits for a time."""
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
                await self._expire(now)
                if self._wake_at <= now:
                    self._wake_at = math.inf
                    await self._feed(self._m.timer_fired)
        finally:
            self._timer_at, self._rearm = math.inf, None

    async def _expire(self, now: float) -> None:
        """Fail the requests whose deadline has come with the machine's error
        (whether the request may have been sent)."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, ticket = deadlines.popleft()
            waiter = self._waiters.pop(ticket, None)
            if waiter is not None:
                error = self._m.timed_out(ticket, now=now)
                if error is not None:  # else settled by the same drain: _settle ran
                    waiter.settle(None, error)
        work = self._settle(self._m.drain())
        if work:
            await self._do(work)

    async def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        codec: BodyCodec[Any] | None = None,
    ) -> AsyncPushStream[Any]:
        """See :meth:`WebSocketTransport.subscribe`."""
        from zaqarkit.core.ws import push_subscription_create

        self._bind_loop()
        number, ticket = self._m.subscribe(
            queue_name, now=time.monotonic(), ttl=ttl, options=options, headers=headers
        )
        stream: AsyncPushStream[Any] = AsyncPushStream(
            self, number, queue_name, self._push_buffer, codec
        )
        self._streams[number] = stream
        if ticket is not None:
            try:
                push_subscription_create(queue_name).parse(await self._call(ticket))
            except BaseException:
                with anyio.CancelScope(shield=True):
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
        with anyio.CancelScope(shield=True):
            await self._feed(self._m.close)
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
            self._event = asyncio.Event
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

    # -- carrying out the machine's work --------------------------------------------------

    async def _do(self, work: list[Output]) -> None:
        for out in work:
            ws = self._ws
            if isinstance(out, Send):
                await self._write(out)
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
                # A task: a slow token source must not hold the timer task up.
                self._spawn("refresh", self._refresh)
            elif ws is not None and isinstance(out, Ping):
                ws.ping()  # whatever arrives next counts as its answer
            elif ws is not None and isinstance(out, Abort):
                ws.abort()
            elif ws is not None:  # CloseSocket
                with contextlib.suppress(Exception):
                    await ws.close(self._close_timeout)

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

    async def _write(self, out: Send) -> None:
        ws = self._ws if self._ws_attempt == out.attempt else None
        try:
            if ws is None:
                raise OSError("no connection")
            ws.send(out.data)
            self.frames_written += 1
        except Exception as exc:  # the connection is gone: the reader reports it
            if out.ticket is not None:
                await self._feed(
                    self._m.write_failed, out.ticket, _connect_error(exc), partial=False
                )

    async def _connect(self, out: Connect) -> None:
        backend: Any = AsyncioWebSocket
        if self.backend == "trio":
            from zaqarkit.transports._triows import TrioWebSocket

            backend = TrioWebSocket
        try:
            ws = await backend.connect(self.url, open_timeout=out.timeout, **self._connect_kwargs)
        except Exception as exc:
            await self._feed(self._m.connect_failed, out.attempt, _connect_error(exc))
            return
        try:
            await self._serve(ws, out.attempt)
        finally:
            ws.abort()

    async def _serve(self, ws: AsyncWebSocketStream, attempt: int) -> None:
        """The connection's reader task: feeds what arrives, until the end."""
        self._ws, self._ws_attempt = ws, attempt
        try:
            if await self._feed(self._m.connected, attempt):
                while True:
                    try:
                        messages = await ws.read()
                    except ConnectionEnded:
                        break
                    now = time.monotonic()
                    for data in messages:
                        self._m.receive(data, now=now)
                    if not messages:
                        self._m.heard(now=now)  # a pong
                    work = self._settle(self._m.drain())
                    if work:
                        await self._do(work)
        except anyio.get_cancelled_exc_class():
            # Closed by aclose() (already accounted for), or its event loop is
            # ending: the next loop's first request starts afresh (_bind_loop).
            ws.abort()
            raise
        if self._ws is ws:
            self._ws = None
        ws.abort()
        with anyio.CancelScope(shield=True):
            await self._feed(self._m.lost, attempt, ws.close_code, ws.close_reason)

    async def _refresh(self) -> None:
        assert self._token_refresh is not None
        try:
            value = self._token_refresh()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            await self._feed(self._m.token_failed, _connect_error(exc))
            return
        token, expiry = _token_input(value)
        await self._feed(self._m.token, token, **expiry)
