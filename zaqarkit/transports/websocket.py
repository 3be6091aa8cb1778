"""WebSocket transports over the ``websockets`` library: sync, asyncio and trio.

One connection carries every request of a transport; the sans-I/O
:class:`~zaqarkit.core.ws.WsSession` matches replies to callers by an
``X-Request-ID`` header that Zaqar echoes back, and routes push notifications
to :meth:`subscribe` streams by queue name.

- :class:`WebSocketTransport` uses ``websockets.sync.client`` and two daemon
  threads per transport (a connection manager and a frame reader).
- :class:`AsyncWebSocketTransport` uses ``websockets.asyncio.client`` under
  asyncio and ``websockets.trio.client`` under trio (websockets >= 16 ships
  it), chosen at connect time with ``sniffio``. Its background task is an
  asyncio task, or a trio *system* task (trio allows no other unscoped task;
  the trio client needs a nursery that outlives any one request).

Both connect lazily on the first request, reconnect after an unexpected drop
with exponential backoff and jitter, re-authenticate (when a token is
configured) and re-create live push subscriptions. Requests that were in
flight when the connection dropped fail with a retryable
:class:`~zaqarkit.errors.ReadError`; they are never resent, since a
``message_post`` may already have been executed.

Importing this module imports ``websockets``; ``zaqarkit.transports`` does not.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import queue as _queue
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import anyio
from websockets.exceptions import ConnectionClosed

from zaqarkit import errors
from zaqarkit.core import parse as p
from zaqarkit.core.api import ApiV2
from zaqarkit.core.wire import Request, Response
from zaqarkit.core.ws import (
    ConnectionLost,
    Notification,
    Outgoing,
    Reply,
    WsSession,
    push_subscription_create,
    ws_action,
)
from zaqarkit.transports._loops import EventLoopBinding, current_backend
from zaqarkit.transports._wsconn import READ_SIZE, SyncWebSocket
from zaqarkit.transports.base import AsyncClosing, Closing

__all__ = [
    "AsyncPushStream",
    "AsyncWebSocketTransport",
    "Notification",
    "PushStream",
    "WebSocketTransport",
]

logger = logging.getLogger("zaqarkit.transports.websocket")

#: Seconds allowed per request (connect and reconnect waits included).
DEFAULT_TIMEOUT = 30.0
#: Zaqar's largest reply is a page of 20 messages of 256 KiB each.
DEFAULT_MAX_SIZE = 16 * 2**20

#: A token (or a ``(token, project_id)`` pair), possibly from a coroutine.
TokenRefresh = Callable[
    [], "str | tuple[str, str] | Awaitable[str] | Awaitable[tuple[str, str]]"
]

_IDLE, _CONNECTING, _OPEN, _CLOSED = "idle", "connecting", "open", "closed"


def _delays(initial: float, maximum: float) -> Iterator[float]:
    """Exponential backoff with "equal jitter": half fixed, half random, so many
    clients dropped by one server restart do not reconnect in lockstep."""
    delay = initial
    while True:
        yield delay / 2 + random.uniform(0, delay / 2)
        delay = min(maximum, delay * 2)


def _connect_error(url: str, exc: BaseException) -> errors.ConnectError:
    return errors.ConnectError(f"cannot connect to {url}: {type(exc).__name__}: {exc}")


def _default_headers(
    client_id: str | None, project_id: str | None, auth_token: str | None
) -> tuple[tuple[str, str], ...]:
    headers = [("Client-ID", client_id or str(uuid.uuid4()))]
    if project_id is not None:
        headers.append(("X-Project-ID", project_id))
    if auth_token is not None:
        headers.append(("X-Auth-Token", auth_token))
    return tuple(headers)


def _connect_kwargs(
    open_timeout: float | None,
    close_timeout: float,
    max_size: int | None,
    compression: str | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "open_timeout": open_timeout,
        "close_timeout": close_timeout,
        "max_size": max_size,
        # Frames are small JSON; deflate costs more CPU than it saves on loopback.
        "compression": compression,
        **extra,
    }


#: ``websockets`` connect options the sync transport's own connection supports.
_SYNC_CONNECT_OPTIONS = frozenset(
    {"open_timeout", "max_size", "compression", "ssl", "additional_headers", "subprotocols"}
)


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


def _send_failed(out: Outgoing, exc: BaseException) -> errors.ReadError:
    error = errors.ReadError(
        f"WebSocket send failed for {out.request.operation.value}: {type(exc).__name__}: {exc}",
        retryable=True,
    )
    error.__cause__ = exc
    return error


def _restore_failed(queue_name: str, exc: BaseException) -> errors.TransportError:
    error = errors.TransportError(
        f"push subscription to {queue_name!r} could not be restored after reconnecting: {exc}"
    )
    error.__cause__ = exc
    return error


class _Waiter:
    """One pending request's outcome, set once by whichever side finishes first."""

    __slots__ = ("error", "event", "response")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.response: Response | None = None
        self.error: errors.TransportError | None = None

    @property
    def done(self) -> bool:
        return self.response is not None or self.error is not None

    def succeed(self, response: Response) -> None:
        if not self.done:
            self.response = response
            self.event.set()

    def fail(self, error: errors.TransportError) -> None:
        if not self.done:
            self.error = error
            self.event.set()

    def outcome(self) -> Response:
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


class _TransportCore:
    """What both WebSocket transports share: configuration, the sans-I/O
    session and the token state.

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
    ) -> None:
        if auth_token is not None and project_id is None:
            raise errors.ValidationError("project_id", "is required with auth_token")
        self.url = url
        self.timeout = timeout
        self._token = auth_token
        self._project_id = project_id
        self._token_refresh = token_refresh
        self._reconnect = reconnect
        self._backoff = (backoff_initial, backoff_max)
        self._close_timeout = close_timeout
        self._connect_kwargs = _connect_kwargs(
            open_timeout, close_timeout, max_size, compression, connect_kwargs or {}
        )
        # websockets' own clients (the async path) take the same keepalive knobs.
        self._ping = (ping_interval, ping_timeout)
        self._connect_kwargs.setdefault("ping_interval", ping_interval)
        self._connect_kwargs.setdefault("ping_timeout", ping_timeout)
        self._session = WsSession(
            codec=codec,  # type: ignore[arg-type]  # WsSession validates it
            default_headers=_default_headers(client_id, project_id, None),
            id_prefix=f"zk{uuid.uuid4().hex[:8]}",
        )
        self._state = _IDLE
        self._attempt = 0
        self._failure: tuple[int, errors.ZaqarError] | None = None
        self._ws: Any = None
        self._init_io()

    def _init_io(self) -> None:
        """The I/O side's own state (threads or tasks)."""

    def _start_manager(self) -> None:
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return self._state == _CLOSED

    @property
    def connected(self) -> bool:
        return self._state == _OPEN

    def _open_or_connect(self, attempt: int | None) -> tuple[Any, int]:
        """One look at the connection state for a caller waiting to send.

        Returns the open connection, or None and the connection attempt to
        wait for (starting one when idle). Raises when the transport is closed
        or when the attempt this caller already waited for failed.
        """
        if self._state == _CLOSED:
            raise errors.TransportError("transport is closed")
        if self._state == _OPEN:
            return self._ws, self._attempt
        if self._state == _IDLE:
            if attempt is not None and self._failure and self._failure[0] == attempt:
                raise self._failure[1]
            self._start_manager()
        return None, self._attempt

    def _set_token(self, value: str | tuple[str, str]) -> None:
        if isinstance(value, tuple):
            self._token, self._project_id = value
        else:
            self._token = value
        if self._project_id is None:
            raise errors.ValidationError("project_id", "is required to authenticate")


class _StreamBase:
    """What the sync and async push streams share: identity and end state."""

    def __init__(self, queue_name: str, headers: tuple[tuple[str, str], ...]) -> None:
        self.queue_name = queue_name
        #: The server's id for the subscription; changes after a reconnect.
        self.subscription_id: str | None = None
        self._headers = headers
        self._ended = False
        self._error: errors.ZaqarError | None = None

    @property
    def closed(self) -> bool:
        return self._ended

    def __repr__(self) -> str:
        return f"<{type(self).__name__} queue={self.queue_name!r} id={self.subscription_id!r}>"


# -- sync ------------------------------------------------------------------------


class PushStream(_StreamBase, Closing):
    """Notifications pushed for one queue, as a blocking iterator.

    Returned by :meth:`WebSocketTransport.subscribe`; iteration ends when the
    stream is closed (:meth:`close` or the transport closing), or raises the
    error that ended it (a subscription that could not be restored).

    Example::

        with transport.subscribe("orders", ttl=3600) as stream:
            for note in stream:
                print(note.body)
    """

    def __init__(
        self, transport: WebSocketTransport, queue_name: str, headers: tuple[tuple[str, str], ...]
    ) -> None:
        super().__init__(queue_name, headers)
        self._transport = transport
        self._items: _queue.SimpleQueue[Notification | None] = _queue.SimpleQueue()

    def _deliver(self, note: Notification) -> None:
        if not self._ended:
            self._items.put(note)

    def _end(self, error: errors.ZaqarError | None = None) -> None:
        if not self._ended:
            self._ended = True
            self._error = error
            self._items.put(None)

    def get(self, timeout: float | None = None) -> Notification:
        """The next notification; TimeoutError after ``timeout`` seconds,
        TransportError (or the ending error) once the stream has ended."""
        try:
            item = self._items.get(timeout=timeout)
        except _queue.Empty:
            raise errors.TimeoutError(
                f"no notification for {self.queue_name!r} within {timeout} s"
            ) from None
        if item is None:
            self._items.put(None)  # keep the stream ended for later calls
            if self._error is not None:
                raise self._error
            raise errors.TransportError(f"push stream for {self.queue_name!r} is closed")
        return item

    def __iter__(self) -> Iterator[Notification]:
        return self

    def __next__(self) -> Notification:
        try:
            return self.get()
        except errors.TransportError:
            if self._error is not None:
                raise
            raise StopIteration from None

    def close(self) -> None:
        """Unsubscribe (the server subscription is deleted with the last stream)."""
        self._transport.unsubscribe(self)


class WebSocketTransport(_TransportCore, Closing):
    """Blocking transport over one Zaqar WebSocket connection, shared by threads.

    ``url`` is the WebSocket endpoint (``ws://host:9000``). ``timeout`` bounds
    each request in seconds, waiting for a (re)connection included; ``None``
    waits forever. ``codec="msgpack"`` sends binary MessagePack frames (needs
    ``msgpack``). ``project_id`` and ``client_id`` fill ``X-Project-ID`` and
    ``Client-ID`` on frames that lack them. With ``auth_token`` the transport
    sends Zaqar's ``authenticate`` frame after each connect (never without one:
    a no-auth Zaqar does not answer it); ``token_refresh`` is called for a new
    token when the server closes with code 4003 (token expired).
    ``reconnect=False`` turns the automatic reconnection off (the next request
    then reconnects lazily). A connection silent for ``ping_interval`` seconds
    is pinged, and dropped (then reconnected) when nothing at all arrives for
    ``ping_interval + ping_timeout``; ``None`` turns keepalive off.
    ``connect_kwargs`` go to ``websockets``' ``connect``.

    >>> from zaqarkit.core.api import ApiV2
    >>> transport = WebSocketTransport("ws://127.0.0.1:9", timeout=2.0, project_id="demo")
    >>> transport.handle_request(ApiV2().ping().request)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.UnsupportedOperation: ping_node is not available over the WebSocket \
transport (Zaqar implements no such action); use the HTTP transport
    >>> transport.close()
    """

    def _init_io(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiters: dict[str, _Waiter] = {}
        self._streams: dict[str, list[PushStream]] = {}
        self._stop = threading.Event()
        self._manager: threading.Thread | None = None

    # -- public API ---------------------------------------------------------------

    def handle_request(self, request: Request) -> Response:
        ws_action(request.operation)  # UnsupportedOperation before any I/O
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        ws = self._ws
        if ws is None or self._state != _OPEN:  # the common case skips the lock
            ws = self._wait_open(deadline, request)
        return self._exchange_one(request, ws, deadline).outcome()

    def _exchange_one(self, request: Request, ws: Any, deadline: float | None) -> _Waiter:
        """:meth:`_exchange` for one request, without its list plumbing (hot path)."""
        waiter = _Waiter(_Signal())
        with self._lock:
            if self._ws is not ws or ws is None:
                raise errors.ReadError("WebSocket connection lost; request not sent",
                                       retryable=True)
            out = self._session.send(request)
            self._waiters[out.request_id] = waiter
        try:
            ws.send(out.data)
        except Exception as exc:
            self._forget(out.request_id)
            waiter.fail(_send_failed(out, exc))
        if not waiter.event.wait(self._remaining(deadline)):
            self._forget(out.request_id)
            waiter.fail(self._timeout_error(out.request, "got no reply"))
        return waiter

    def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> PushStream:
        """Ask Zaqar to push ``queue_name``'s new messages to this socket.

        Streams for the same queue share one server subscription. ``headers``
        are sent with the subscription frames (``X-Project-ID`` if the
        transport has no ``project_id``).
        """
        call = push_subscription_create(queue_name, ttl=ttl, options=options)
        stream = PushStream(self, queue_name, headers)
        with self._lock:
            if self._state == _CLOSED:
                raise errors.TransportError("transport is closed")
            existing = self._streams.setdefault(queue_name, [])
            existing.append(stream)
            shared = len(existing) > 1
        if shared:
            stream.subscription_id = existing[0].subscription_id
            return stream
        try:
            stream.subscription_id = call.parse(
                self.handle_request(replace(call.request, headers=headers))
            )
        except BaseException:
            self._drop_stream(stream)
            raise
        return stream

    def unsubscribe(self, stream: PushStream) -> None:
        """End ``stream``; delete the server subscription with the last stream."""
        last = self._drop_stream(stream)
        stream._end()
        if not last:
            return
        with self._lock:
            sub = self._session.forget_push(stream.queue_name)
            open_ = self._state == _OPEN
        if sub is not None and sub.subscription_id is not None and open_:
            call = ApiV2().subscription_delete(stream.queue_name, sub.subscription_id)
            with contextlib.suppress(errors.ZaqarError):  # the socket may be gone already
                call.parse(self.handle_request(replace(call.request, headers=stream._headers)))

    def close(self) -> None:
        """Fail pending requests with TransportError at once, end push streams,
        close the socket (bounded by ``close_timeout``). Idempotent."""
        with self._lock:
            if self._state == _CLOSED:
                return
            self._state = _CLOSED
            ws, self._ws = self._ws, None
            lost = self._session.connection_lost(by_client=True)
            waiters, self._waiters = self._waiters, {}
            streams = [s for group in self._streams.values() for s in group]
            self._streams = {}
            self._changed.notify_all()
        self._stop.set()
        self._fail(lost, waiters)
        for stream in streams:
            stream._end()
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close(self._close_timeout)
        manager = self._manager
        if manager is not None and manager is not threading.current_thread():
            manager.join(self._close_timeout + 1.0)

    # -- request plumbing -----------------------------------------------------------

    def _remaining(self, deadline: float | None) -> float | None:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _timeout_error(self, request: Request, what: str) -> errors.TimeoutError:
        return errors.TimeoutError(f"{request.operation.value} {what} after {self.timeout} s")

    def _wait_open(self, deadline: float | None, request: Request) -> Any:
        with self._lock:
            attempt = None
            while True:
                ws, attempt = self._open_or_connect(attempt)
                if ws is not None:
                    return ws
                remaining = self._remaining(deadline)
                if remaining == 0.0:
                    raise self._timeout_error(request, "found no open connection")
                self._changed.wait(remaining)

    def _start_manager(self) -> None:
        # Called with the lock held.
        self._attempt += 1
        self._state = _CONNECTING
        self._stop.clear()
        self._manager = threading.Thread(
            target=self._run, name="zaqarkit-ws-manager", daemon=True
        )
        self._manager.start()

    def _exchange(
        self, make: Callable[[], list[Outgoing]], ws: Any, deadline: float | None
    ) -> list[_Waiter]:
        """Register and send frames on ``ws``, wait for all their outcomes."""
        with self._lock:
            if self._ws is not ws or ws is None:
                raise errors.ReadError("WebSocket connection lost; request not sent",
                                       retryable=True)
            outs = make()
            waiters = [_Waiter(_Signal()) for _ in outs]
            self._waiters.update((out.request_id, w) for out, w in zip(outs, waiters, strict=True))
        for out, waiter in zip(outs, waiters, strict=True):
            try:
                ws.send(out.data)
            except Exception as exc:
                self._forget(out.request_id)
                waiter.fail(_send_failed(out, exc))
        for out, waiter in zip(outs, waiters, strict=True):
            if not waiter.event.wait(self._remaining(deadline)):
                self._forget(out.request_id)
                waiter.fail(self._timeout_error(out.request, "got no reply"))
        return waiters

    def _forget(self, request_id: str) -> None:
        with self._lock:
            self._session.cancel(request_id)
            self._waiters.pop(request_id, None)

    def _drop_stream(self, stream: PushStream) -> bool:
        """Remove ``stream``; True when it was the last one for its queue."""
        with self._lock:
            group = self._streams.get(stream.queue_name, [])
            if stream in group:
                group.remove(stream)
            if group:
                return False
            self._streams.pop(stream.queue_name, None)
            return True

    @staticmethod
    def _fail(lost: ConnectionLost, waiters: Mapping[str, _Waiter]) -> None:
        for failed in lost.failed:
            waiter = waiters.get(failed.request_id)
            if waiter is not None:
                waiter.fail(failed.error)
        for waiter in waiters.values():  # internal frames the session did not track
            waiter.fail(errors.TransportError("WebSocket connection closed"))

    # -- background threads ----------------------------------------------------------

    def _run(self) -> None:
        options = {k: v for k, v in self._connect_kwargs.items() if k in _SYNC_CONNECT_OPTIONS}
        delays: Iterator[float] | None = None
        while not self._stop.is_set():
            try:
                ws = SyncWebSocket.connect(self.url, **options)
            except Exception as exc:
                if self._give_up(_connect_error(self.url, exc), delays is None):
                    return
                delays = delays or _delays(*self._backoff)
                if self._stop.wait(next(delays)):
                    return
                continue
            reader = threading.Thread(
                target=self._read_loop, args=(ws,), name="zaqarkit-ws-reader", daemon=True
            )
            with self._lock:
                if self._state == _CLOSED:
                    ws.close(self._close_timeout)
                    return
                self._ws = ws
            reader.start()
            try:
                self._bootstrap(ws)
            except errors.ZaqarError as exc:
                ws.close(self._close_timeout)
                reader.join()
                if self._give_up(exc, delays is None):
                    return
                delays = delays or _delays(*self._backoff)
                if self._stop.wait(next(delays)):
                    return
                continue
            with self._lock:
                if self._ws is ws and self._state == _CONNECTING:
                    self._state = _OPEN
                    self._changed.notify_all()
            delays = _delays(*self._backoff)
            self._keep_alive(ws, reader)
            if not self._reconnect:
                with self._lock:
                    if self._state != _CLOSED:
                        self._state = _IDLE
                        self._changed.notify_all()
                return
            # Backoff before the first retry too: the server may be restarting.
            if self._stop.wait(next(delays)):
                return

    def _keep_alive(self, ws: Any, reader: threading.Thread) -> None:
        """Until the reader ends: ping when the line has been quiet for
        ``ping_interval``, and drop the connection when nothing at all arrives
        within ``ping_timeout`` of a ping (a dead peer or network sends no FIN,
        so without this a push consumer would wait forever)."""
        interval, patience = self._ping
        if interval is None:
            reader.join()
            return
        pinged_at: float | None = None
        while True:
            reader.join(interval / 2)
            if not reader.is_alive():
                return
            now = time.monotonic()
            if pinged_at is not None and ws.last_heard >= pinged_at:
                pinged_at = None  # the pong, or any frame, proves the peer alive
            if pinged_at is not None:
                if patience is not None and now - pinged_at > patience:
                    logger.info("WebSocket %s: no answer to a ping, reconnecting", self.url)
                    ws.abort()
            elif now - ws.last_heard >= interval:
                pinged_at = now
                try:
                    ws.ping()
                except OSError:
                    ws.abort()

    def _give_up(self, error: errors.ZaqarError, initial: bool) -> bool:
        """After a failed (re)connect: True when the manager should exit."""
        with self._lock:
            if self._state == _CLOSED:
                return True
            if initial:
                # The first connect reports to the callers waiting for it.
                self._failure = (self._attempt, error)
                self._state = _IDLE
                self._changed.notify_all()
                return True
        logger.info("WebSocket reconnect to %s failed: %s", self.url, error)
        return False

    def _refreshed_token(self) -> str | tuple[str, str]:
        assert self._token_refresh is not None
        value = self._token_refresh()
        if inspect.isawaitable(value):
            raise errors.ValidationError(
                "token_refresh", "must be a plain function for the sync transport"
            )
        return value

    def _bootstrap(self, ws: Any) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        if self._token is None and self._token_refresh is not None:
            self._set_token(self._refreshed_token())
        if self._token is not None:
            assert self._project_id is not None
            token, project = self._token, self._project_id
            waiter = self._exchange(
                lambda: [self._session.authenticate(token, project)], ws, deadline
            )[0]
            p.raise_for_status(waiter.outcome(), "authenticate")
        with self._lock:
            queues = list(self._session.push_subscriptions)
        if not queues:
            return
        waiters = self._exchange(self._session.restore, ws, deadline)
        for queue_name, waiter in zip(queues, waiters, strict=True):
            try:
                sub_id = push_subscription_create(queue_name).parse(waiter.outcome())
            except errors.ZaqarError as exc:
                if isinstance(exc, errors.TransportError):
                    raise  # the connection failed again: retry the whole bootstrap
                self._end_queue(queue_name, _restore_failed(queue_name, exc))
                continue
            with self._lock:
                for stream in self._streams.get(queue_name, ()):
                    stream.subscription_id = sub_id

    def _end_queue(self, queue_name: str, error: errors.ZaqarError | None) -> None:
        with self._lock:
            streams = self._streams.pop(queue_name, [])
            self._session.forget_push(queue_name)
        for stream in streams:
            stream._end(error)

    def _read_loop(self, ws: Any) -> None:
        try:
            for data in ws:
                self._dispatch(data)
        except Exception:  # never let the reader die silently with requests pending
            logger.exception("WebSocket reader failed")
        self._lost(ws, ws.close_code, ws.close_reason or "")

    def _dispatch(self, data: str | bytes) -> None:
        with self._lock:
            event = self._session.receive(data)
            if isinstance(event, Reply):
                waiter = self._waiters.pop(event.request_id, None)
                streams: list[PushStream] = []
            elif isinstance(event, Notification):
                waiter = None
                streams = list(self._streams.get(event.queue_name, ()))
            else:
                logger.debug("ignored WebSocket frame: %r", event)
                return
        if waiter is not None:
            waiter.succeed(event.response)  # type: ignore[union-attr]
        for stream in streams:
            stream._deliver(event)  # type: ignore[arg-type]

    def _lost(self, ws: Any, code: int | None, reason: str) -> None:
        with self._lock:
            if self._ws is not ws:
                return  # close() already failed everything
            self._ws = None
            lost = self._session.connection_lost(code, reason)
            waiters, self._waiters = self._waiters, {}
            self._state = _CONNECTING if self._reconnect else _IDLE
            self._changed.notify_all()
            if not self._reconnect:
                streams = [s for group in self._streams.values() for s in group]
                self._streams = {}
                for queue_name in lost.push_to_restore:
                    self._session.forget_push(queue_name)
            else:
                streams = []
        logger.info("WebSocket connection to %s lost (code %s)", self.url, code)
        self._fail(lost, waiters)
        for stream in streams:
            stream._end(errors.ReadError("WebSocket connection lost", retryable=True))
        if lost.reauthenticate and self._token_refresh is not None:
            self._set_token(self._refreshed_token())


# -- async -------------------------------------------------------------------------


class AsyncPushStream(_StreamBase, AsyncClosing):
    """Notifications pushed for one queue, as an async iterator (asyncio or trio).

    Example::

        async with await transport.subscribe("orders") as stream:
            async for note in stream:
                print(note.body)
    """

    def __init__(
        self,
        transport: AsyncWebSocketTransport,
        queue_name: str,
        headers: tuple[tuple[str, str], ...],
    ) -> None:
        super().__init__(queue_name, headers)
        self._transport = transport
        self._items: deque[Notification] = deque()
        self._wakeup: anyio.Event | None = None

    def _deliver(self, note: Notification) -> None:
        if not self._ended:
            self._items.append(note)
            self._wake()

    def _end(self, error: errors.ZaqarError | None = None, *, wake: bool = True) -> None:
        if not self._ended:
            self._ended = True
            self._error = error
            if wake:
                self._wake()
            else:  # its waiter belonged to an event loop that has ended
                self._wakeup = None

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def get(self, timeout: float | None = None) -> Notification:
        """The next notification; TimeoutError after ``timeout`` seconds,
        TransportError (or the ending error) once the stream has ended."""
        with anyio.move_on_after(math.inf if timeout is None else timeout):
            while True:
                if self._items:
                    return self._items.popleft()
                if self._ended:
                    if self._error is not None:
                        raise self._error
                    raise errors.TransportError(f"push stream for {self.queue_name!r} is closed")
                if self._wakeup is None:
                    self._wakeup = anyio.Event()
                await self._wakeup.wait()
        raise errors.TimeoutError(f"no notification for {self.queue_name!r} within {timeout} s")

    def __aiter__(self) -> AsyncIterator[Notification]:
        return self

    async def __anext__(self) -> Notification:
        try:
            return await self.get()
        except errors.TransportError:
            if self._error is not None:
                raise
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Unsubscribe (the server subscription is deleted with the last stream)."""
        await self._transport.unsubscribe(self)


def _limit_asyncio_reads(ws: Any) -> None:
    """Make the asyncio transport under ``ws`` read 64 KiB at a time, as the
    sync socket does (:data:`zaqarkit.transports._wsconn.READ_SIZE`).

    CPython's selector transport reads up to ``max_size`` (256 KiB) per
    recv(), and Python allocates that whole buffer first: above glibc's mmap
    threshold each Zaqar reply then costs an mmap/munmap pair. Measured on
    the replay server: 139-170 us of client CPU per post, 108-113 us with
    64 KiB reads. Transports without that attribute (trio, uvloop) are left
    alone.
    """
    transport: Any = getattr(ws, "transport", None)
    if isinstance(getattr(transport, "max_size", None), int):
        transport.max_size = READ_SIZE


class AsyncWebSocketTransport(_TransportCore, AsyncClosing):
    """Async transport over one Zaqar WebSocket connection, for asyncio and trio.

    Options are those of :class:`WebSocketTransport`; ``token_refresh`` may be
    a coroutine function. The event loop library is detected when the first
    request connects. The connection belongs to that event loop; once the
    loop has ended, the next request (on a new asyncio or trio loop)
    connects afresh, while use from a second loop that is still running is
    refused with TransportError.

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

    def _init_io(self) -> None:
        self._changed: anyio.Event | None = None
        self._waiters: dict[str, _Waiter] = {}
        self._streams: dict[str, list[AsyncPushStream]] = {}
        self._scope: anyio.CancelScope | None = None
        self._done: anyio.Event | None = None
        self._task: Any = None  # the asyncio Task, kept referenced
        self.backend: str | None = None
        self._loop = EventLoopBinding("WebSocket connection")

    # -- public API -----------------------------------------------------------------

    async def handle_async_request(self, request: Request) -> Response:
        ws_action(request.operation)  # UnsupportedOperation before any I/O
        waiters = await self._send_and_wait(
            lambda: [self._session.send(request)], request.operation.value
        )
        return waiters[0].outcome()

    async def subscribe(
        self,
        queue_name: str,
        *,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> AsyncPushStream:
        """Ask Zaqar to push ``queue_name``'s new messages to this socket; see
        :meth:`WebSocketTransport.subscribe`."""
        call = push_subscription_create(queue_name, ttl=ttl, options=options)
        if self._state == _CLOSED:
            raise errors.TransportError("transport is closed")
        stream = AsyncPushStream(self, queue_name, headers)
        group = self._streams.setdefault(queue_name, [])
        group.append(stream)
        if len(group) > 1:
            stream.subscription_id = group[0].subscription_id
            return stream
        try:
            response = await self.handle_async_request(replace(call.request, headers=headers))
            stream.subscription_id = call.parse(response)
        except BaseException:
            self._drop_stream(stream)
            raise
        return stream

    async def unsubscribe(self, stream: AsyncPushStream) -> None:
        """End ``stream``; delete the server subscription with the last stream."""
        last = self._drop_stream(stream)
        stream._end()
        if not last:
            return
        sub = self._session.forget_push(stream.queue_name)
        if sub is not None and sub.subscription_id is not None and self._state == _OPEN:
            call = ApiV2().subscription_delete(stream.queue_name, sub.subscription_id)
            with contextlib.suppress(errors.ZaqarError):
                request = replace(call.request, headers=stream._headers)
                call.parse(await self.handle_async_request(request))

    async def aclose(self) -> None:
        """Fail pending requests with TransportError at once, end push streams,
        close the socket and stop the background task. Idempotent."""
        if self._state == _CLOSED:
            return
        self._bind_loop()  # after its loop ended there is nothing left to close politely
        self._set_state(_CLOSED)
        ws, self._ws = self._ws, None
        lost = self._session.connection_lost(by_client=True)
        waiters, self._waiters = self._waiters, {}
        WebSocketTransport._fail(lost, waiters)
        for group in self._streams.values():
            for stream in group:
                stream._end()
        self._streams = {}
        with anyio.CancelScope(shield=True):
            if ws is not None:
                # websockets bounds the closing handshake by close_timeout and
                # then aborts; the outer guard only catches a stuck write.
                with anyio.move_on_after(self._close_timeout + 1.0), contextlib.suppress(
                    Exception
                ):
                    await ws.close()
                transport = getattr(ws, "transport", None)  # asyncio: drop the socket for sure
                if transport is not None:
                    transport.abort()
            if self._scope is not None:
                self._scope.cancel()
            if self._done is not None:
                with anyio.move_on_after(self._close_timeout + 1.0):
                    await self._done.wait()

    # -- request plumbing -------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self._state = state
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    async def _state_change(self) -> None:
        if self._changed is None:
            self._changed = anyio.Event()
        await self._changed.wait()

    async def _wait_open(self) -> Any:
        self._bind_loop()
        attempt = None
        while True:
            ws, attempt = self._open_or_connect(attempt)
            if ws is not None:
                return ws
            await self._state_change()

    def _bind_loop(self) -> None:
        # One asyncio.run or trio.run after another (as test frameworks do):
        # what the ended loop left behind is dropped and the request connects
        # afresh. Use from two live loops at once is refused.
        if self._loop.rebind() and self._attempt:
            self._forget_finished_loop()

    def _forget_finished_loop(self) -> None:
        self._ws = None
        lost = self._session.connection_lost(reason="its event loop ended")
        waiters, self._waiters = self._waiters, {}
        WebSocketTransport._fail(lost, waiters)
        ended = errors.ReadError("the event loop of this WebSocket ended", retryable=True)
        self._end_streams(lost, ended, wake=False)
        # Events and tasks of the old loop cannot be awaited or set from this one.
        self._changed = self._done = self._scope = self._task = None
        if self._state != _CLOSED:
            self._state = _IDLE

    def _end_streams(
        self, lost: ConnectionLost, error: errors.ZaqarError, *, wake: bool = True
    ) -> None:
        """End every push stream for good: nothing will restore them."""
        for queue_name in lost.push_to_restore:
            self._session.forget_push(queue_name)
        for group in self._streams.values():
            for stream in group:
                stream._end(error, wake=wake)
        self._streams = {}

    def _start_manager(self) -> None:
        self._attempt += 1
        self._set_state(_CONNECTING)
        self._done = anyio.Event()
        self.backend = current_backend()
        if self.backend == "trio":
            import trio

            # A system task: the trio client needs a nursery that outlives
            # the request that happened to connect.
            trio.lowlevel.spawn_system_task(self._run)
        else:
            import asyncio

            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _send_and_wait(
        self, make: Callable[[], list[Outgoing]], what: str, ws: Any = None
    ) -> list[_Waiter]:
        """Register and send frames (on ``ws``, or once the connection is open),
        wait for all their outcomes; ``what`` names them in a timeout error."""
        outs: list[Outgoing] = []
        waiters: list[_Waiter] = []
        try:
            with anyio.fail_after(math.inf if self.timeout is None else self.timeout):
                if ws is None:
                    ws = await self._wait_open()
                if self._ws is not ws or ws is None:
                    raise errors.ReadError(
                        "WebSocket connection lost; request not sent", retryable=True
                    )
                outs = make()
                waiters = [_Waiter(anyio.Event()) for _ in outs]
                self._waiters.update(
                    (out.request_id, w) for out, w in zip(outs, waiters, strict=True)
                )
                for out, waiter in zip(outs, waiters, strict=True):
                    try:
                        await ws.send(out.data)
                    except Exception as exc:
                        waiter.fail(_send_failed(out, exc))
                for waiter in waiters:
                    await waiter.event.wait()
        except TimeoutError:  # the builtin, raised by anyio.fail_after
            timeout = errors.TimeoutError(f"{what} got no reply after {self.timeout} s")
            if not waiters:
                raise timeout from None
            for waiter in waiters:
                waiter.fail(timeout)
        finally:
            # Whatever happened (reply, timeout, caller cancelled): stop tracking.
            for out in outs:
                self._session.cancel(out.request_id)
                self._waiters.pop(out.request_id, None)
        return waiters

    def _drop_stream(self, stream: AsyncPushStream) -> bool:
        group = self._streams.get(stream.queue_name, [])
        if stream in group:
            group.remove(stream)
        if group:
            return False
        self._streams.pop(stream.queue_name, None)
        return True

    # -- background task ----------------------------------------------------------------

    def _connect(self) -> Any:
        if self.backend == "trio":
            try:
                from websockets.trio.client import connect as trio_connect
            except ImportError as exc:  # pragma: no cover - depends on the installed version
                raise errors.ConnectError(
                    "this version of websockets has no trio client (websockets.trio); "
                    "upgrade websockets"
                ) from exc
            return trio_connect(self.url, **self._connect_kwargs)
        from websockets.asyncio.client import connect as asyncio_connect

        return asyncio_connect(self.url, **self._connect_kwargs)

    async def _run(self) -> None:
        done = self._done
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._state == _CLOSED:
                    scope.cancel()
                await self._connection_loop()
        except Exception:  # a trio system task must not raise
            logger.exception("WebSocket connection task failed")
        finally:
            self._scope = None
            if done is not None:
                done.set()

    async def _connection_loop(self) -> None:
        delays: Iterator[float] | None = None
        while self._state != _CLOSED:
            opened = False
            try:
                async with self._connect() as ws:
                    opened = True
                    await self._serve(ws)
            except Exception as exc:
                error = exc if isinstance(exc, errors.ZaqarError) else None
                if not opened or error is not None:
                    if self._give_up(error or _connect_error(self.url, exc), delays is None):
                        return
                    delays = delays or _delays(*self._backoff)
                    await anyio.sleep(next(delays))
                    continue
                logger.info("WebSocket connection to %s ended: %r", self.url, exc)
            if self._state == _CLOSED:
                return
            if not self._reconnect:
                self._set_state(_IDLE)
                return
            if self._pending_reauth:
                await self._refresh_token()
            delays = _delays(*self._backoff)
            await anyio.sleep(next(delays))

    _pending_reauth = False

    async def _refresh_token(self) -> None:
        self._pending_reauth = False
        if self._token_refresh is None:
            return
        token = self._token_refresh()
        if inspect.isawaitable(token):
            token = await token
        self._set_token(token)

    def _give_up(self, error: errors.ZaqarError, initial: bool) -> bool:
        if self._state == _CLOSED:
            return True
        if initial:
            self._failure = (self._attempt, error)
            self._set_state(_IDLE)
            return True
        logger.info("WebSocket reconnect to %s failed: %s", self.url, error)
        return False

    async def _serve(self, ws: Any) -> None:
        _limit_asyncio_reads(ws)
        lost = anyio.Event()
        self._ws = ws
        failure: errors.ZaqarError | None = None
        # Nothing is raised inside the task group: anyio would wrap it in an
        # ExceptionGroup. A failed bootstrap is re-raised once the group is done.
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._read_loop, ws, lost)
            try:
                await self._bootstrap(ws)
            except errors.ZaqarError as exc:
                failure = exc
                tg.cancel_scope.cancel()
            else:
                if self._ws is ws and self._state == _CONNECTING:
                    self._set_state(_OPEN)
                await lost.wait()
        if failure is not None:
            raise failure

    async def _bootstrap(self, ws: Any) -> None:
        if self._token is None and self._token_refresh is not None:
            await self._refresh_token()
        if self._token is not None:
            assert self._project_id is not None
            token, project = self._token, self._project_id
            waiter = (
                await self._send_and_wait(
                    lambda: [self._session.authenticate(token, project)], "authenticate", ws
                )
            )[0]
            p.raise_for_status(waiter.outcome(), "authenticate")
        queues = list(self._session.push_subscriptions)
        if not queues:
            return
        waiters = await self._send_and_wait(self._session.restore, "subscription restore", ws)
        for queue_name, waiter in zip(queues, waiters, strict=True):
            try:
                sub_id = push_subscription_create(queue_name).parse(waiter.outcome())
            except errors.ZaqarError as exc:
                if isinstance(exc, errors.TransportError):
                    raise
                streams = self._streams.pop(queue_name, [])
                self._session.forget_push(queue_name)
                for stream in streams:
                    stream._end(_restore_failed(queue_name, exc))
                continue
            for stream in self._streams.get(queue_name, ()):
                stream.subscription_id = sub_id

    async def _read_loop(self, ws: Any, lost: anyio.Event) -> None:
        try:
            async for data in ws:
                self._dispatch(data)
        except ConnectionClosed:
            pass
        except Exception:
            logger.exception("WebSocket reader failed")
        finally:
            self._lost(ws, ws.close_code, ws.close_reason or "")
            lost.set()

    def _dispatch(self, data: str | bytes) -> None:
        event = self._session.receive(data)
        if isinstance(event, Reply):
            waiter = self._waiters.pop(event.request_id, None)
            if waiter is not None:
                waiter.succeed(event.response)
        elif isinstance(event, Notification):
            for stream in list(self._streams.get(event.queue_name, ())):
                stream._deliver(event)
        else:
            logger.debug("ignored WebSocket frame: %r", event)

    def _lost(self, ws: Any, code: int | None, reason: str) -> None:
        if self._ws is not ws:
            return
        self._ws = None
        lost = self._session.connection_lost(code, reason)
        waiters, self._waiters = self._waiters, {}
        if self._state != _CLOSED:
            self._set_state(_CONNECTING if self._reconnect else _IDLE)
        WebSocketTransport._fail(lost, waiters)
        if not self._reconnect:
            self._end_streams(lost, errors.ReadError("WebSocket connection lost", retryable=True))
        self._pending_reauth = lost.reauthenticate
        logger.info("WebSocket connection to %s lost (code %s)", self.url, code)
