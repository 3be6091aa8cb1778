"""The blocking WebSocket driver (threads): see :class:`WebSocketTransport`."""

from __future__ import annotations

import contextlib
import inspect
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zaqarkit import errors
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.wire import Request, Response
from zaqarkit.core.ws import push_subscription_create
from zaqarkit.core.wsconn import (
    Abort,
    CancelConnect,
    CloseSocket,
    Connect,
    Output,
    Ping,
    RefreshToken,
    Send,
    Sleep,
    State,
)
from zaqarkit.transports._sockets import ConnectionEnded, WriteTimeout
from zaqarkit.transports._syncws import SyncWebSocket
from zaqarkit.transports._wsdriver import Driver, Waiter, connect_error, logger, token_input
from zaqarkit.transports.base import Closing, PushTransport

if TYPE_CHECKING:
    from zaqarkit.transports.websocket import PushStream

__all__ = ["WebSocketTransport"]


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


class WebSocketTransport(Driver, Closing, PushTransport):
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
        waiter = Waiter(_Signal())
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
    #: Only where the CPU goes depends on it, never what a caller sees: the
    #: read before each write does not (test_a_close_sent_while_nobody_reads_
    #: is_seen_before_the_next_write sets it to 600 s and still passes).
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
        self, waiter: Waiter, deadline: float | None, held: tuple[SyncWebSocket, int] | None
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
        (see :func:`zaqarkit.core.wspush.typed_push`).
        """
        from zaqarkit.transports.websocket import PushStream  # it imports this module

        created: list[PushStream[Any]] = []

        def start(now: float) -> int | None:  # under the lock, as every input
            stream, ticket = self._start_stream(
                PushStream, queue_name, now, ttl, options, headers, codec
            )
            created.append(stream)
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
                    self._m.write_failed, out.ticket, connect_error(exc), partial=ws is not None
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
            self._feed(self._m.connect_failed, out.attempt, connect_error(exc))
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
            self._feed(self._m.token_failed, connect_error(exc))
            return
        token, expiry = token_input(value)
        self._feed(self._m.token, token, **expiry)
