"""Sans-I/O client connection to Zaqar's WebSocket server: every decision, once.

:class:`WsConnection` is shaped like h11's ``Connection`` or websockets'
``Protocol``: the I/O layer feeds it inputs and drains its outputs, and
decides nothing itself. It owns no socket, clock, thread, event loop or random
source: ``now`` (seconds on any monotonic clock) comes with each input, and
the jitter source is given at construction, so tests are deterministic.

Inputs: :meth:`~WsConnection.request`, :meth:`~WsConnection.subscribe`,
:meth:`~WsConnection.unsubscribe`, :meth:`~WsConnection.connected`,
:meth:`~WsConnection.connect_failed`, :meth:`~WsConnection.receive`,
:meth:`~WsConnection.heard`,
:meth:`~WsConnection.lost`, :meth:`~WsConnection.timer_fired`,
:meth:`~WsConnection.token`, :meth:`~WsConnection.token_failed`,
:meth:`~WsConnection.timed_out`, :meth:`~WsConnection.write_failed`,
:meth:`~WsConnection.close`. Outputs (:meth:`~WsConnection.drain`): frames
to write (:class:`Send`), socket work (:class:`Connect`,
:class:`CancelConnect`, :class:`Ping`, :class:`Abort`, :class:`CloseSocket`),
:class:`Sleep` (call ``timer_fired`` then), :class:`RefreshToken`, outcomes
(:class:`Answer`, :class:`Failed`), push events (:class:`Push`,
:class:`Gap`, :class:`StreamEnded`) and :class:`Log` lines.

What it decides: when to connect and reconnect (backoff with jitter), what a
failed first attempt means (its callers fail with ConnectError, nothing is
retried), the bootstrap (``authenticate`` only when a token is configured,
then re-create every live push subscription), re-authentication (close code
4003, or a token about to expire), keepalive (ping a quiet line, drop it when
nothing answers), what a drop does to requests in flight (fail once with
``ReadError(sent=True)``, never resent), ``reconnect=False`` (end the push
streams, next request reconnects lazily), one server subscription shared by
streams of a queue, and timeouts (whether the request may have been sent).

>>> from zaqarkit.core.api import ApiV2
>>> conn = WsConnection(default_headers=(("Client-ID", "c"), ("X-Project-ID", "p")))
>>> ticket = conn.request(ApiV2().queue_create("q1").request, now=0.0)
>>> [type(out).__name__ for out in conn.drain()]
['Connect']
>>> conn.connected(1, now=0.1)
True
>>> [type(out).__name__ for out in conn.drain()]
['Log', 'Send', 'Sleep']
>>> conn.state
<State.OPEN: 'open'>
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from zaqarkit.core import parse as p
from zaqarkit.core.api import ApiV2
from zaqarkit.core.backoff import exponential
from zaqarkit.core.operations import WS_INCOMPLETE, Operation, resendable, ws_action
from zaqarkit.core.wire import Request, Response
from zaqarkit.core.ws import (
    REAUTH_CLOSE_CODE,
    Codec,
    Notification,
    Reply,
    WsSession,
    push_subscription_create,
    ws_incomplete,
)
from zaqarkit.core.wsoutputs import (
    DEBUG,
    INCOMPLETE_LOGGER,
    INFO,
    WARNING,
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
    RefreshToken,
    Send,
    Sleep,
    StreamEnded,
)
from zaqarkit.errors import (
    ConnectError,
    ProtocolError,
    ReadError,
    TimeoutError,
    TransportError,
    ZaqarError,
)

__all__ = [
    "DEBUG",
    "INCOMPLETE_LOGGER",
    "INFO",
    "WARNING",
    "Abort",
    "Answer",
    "CancelConnect",
    "CloseSocket",
    "Connect",
    "Failed",
    "Gap",
    "LocalProtocolError",
    "Log",
    "Output",
    "Ping",
    "Push",
    "PushGap",
    "RefreshToken",
    "Send",
    "Sleep",
    "State",
    "StreamEnded",
    "TicketKind",
    "WsConnection",
    "backoff_delay",
]

#: Refresh a token with a known expiry this many seconds before it.
_EXPIRY_MARGIN = 30.0
#: The gap a push stream gets once its subscription is restored after a drop.
_RECONNECTED = "reconnected: notifications pushed while the connection was down are lost"


class LocalProtocolError(ZaqarError, RuntimeError):
    """The I/O layer fed an input the current state does not allow (a driver bug)."""


class State(enum.Enum):
    """Where the connection is. ``BOOTSTRAP``: the socket is open, the
    ``authenticate`` and subscription-restore frames are not all answered yet;
    requests wait. ``BACKOFF``: waiting to reconnect after a drop."""

    IDLE = "idle"
    CONNECTING = "connecting"
    BOOTSTRAP = "bootstrap"
    OPEN = "open"
    BACKOFF = "backoff"
    CLOSED = "closed"


_S = State
#: Transitions as data, as h11's ``_state.py`` has them: state -> {event: next
#: state}. Every change of state is a lookup here, and a failed lookup is the
#: LocalProtocolError. The events are what the machine concluded from an
#: input: a connect attempt that fails is ``first_attempt_failed`` (its
#: callers fail, nothing is retried) or ``reconnect_failed`` (back off), a
#: socket that opens is ``connected`` or ``connected_bootstrap`` (frames to
#: send first: authenticate, restore push subscriptions), a drop of an open
#: socket ``lost_reconnect`` or ``lost_idle`` (``reconnect=False``).
TRANSITIONS: Mapping[State, Mapping[str, State]] = {
    _S.IDLE: {"connect": _S.CONNECTING, "close": _S.CLOSED},
    _S.CONNECTING: {
        "connected": _S.OPEN,
        "connected_bootstrap": _S.BOOTSTRAP,
        "first_attempt_failed": _S.IDLE,
        "reconnect_failed": _S.BACKOFF,
        "cancel_connect": _S.IDLE,
        "close": _S.CLOSED,
    },
    _S.BOOTSTRAP: {
        "bootstrapped": _S.OPEN,
        "first_attempt_failed": _S.IDLE,
        "reconnect_failed": _S.BACKOFF,
        "close": _S.CLOSED,
    },
    _S.OPEN: {"lost_reconnect": _S.BACKOFF, "lost_idle": _S.IDLE, "close": _S.CLOSED},
    _S.BACKOFF: {"connect": _S.CONNECTING, "close": _S.CLOSED},
    _S.CLOSED: {},
}


#: The operations whose hint this process has given (see ``_incomplete``).
_HINTED: set[Operation] = set()


def backoff_delay(attempt: int, initial: float, maximum: float, rand: float) -> float:
    """Seconds before reconnect attempt ``attempt`` (0 first): exponential with
    "equal jitter", half fixed and half random (``rand`` in [0, 1)), so many
    clients dropped by one server restart do not reconnect in lockstep.

    >>> [backoff_delay(n, 0.2, 1.0, 0.5) for n in range(5)]
    [0.15000000000000002, 0.30000000000000004, 0.6000000000000001, 0.75, 0.75]
    """
    return exponential(attempt, initial, maximum, jitter=0.5, rand=rand)


@dataclass(frozen=True, slots=True)
class PushGap:
    """What a push stream yields where notifications may be missing.

    After a reconnect (``missed`` None: how many is unknowable, Zaqar keeps
    no backlog for a socket) and when the stream's buffer overflowed
    (``missed`` counts the oldest notifications dropped). ``gap`` is True,
    as ``Notification.gap`` is False, so a loop can tell them apart.
    """

    queue_name: str
    reason: str
    missed: int | None = None
    gap: ClassVar[bool] = True
    body: ClassVar[None] = None


# -- bookkeeping ----------------------------------------------------------------


class TicketKind(enum.Enum):
    """What a ticket's request is for. A caller waits for ``CALL`` and
    ``SUBSCRIBE`` (:data:`_CALLERS`); the machine sends the others itself:
    ``UNSUBSCRIBE`` (a stream's last unsubscribe), ``AUTH`` and ``RESTORE``
    (the bootstrap after each connect)."""

    CALL = "call"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    AUTH = "auth"
    RESTORE = "restore"


_K = TicketKind
#: The kinds a caller waits for: they are settled (Answer or Failed) once.
_CALLERS = frozenset({_K.CALL, _K.SUBSCRIBE})


@dataclass(slots=True)
class _Ticket:
    request: Request
    kind: TicketKind = _K.CALL
    queue: str | None = None
    frame_id: str | None = None  # set once written: the request may reach the server


@dataclass(slots=True)
class _ServerSub:
    """One server push subscription, shared by every stream of its queue."""

    request: Request
    streams: list[int] = field(default_factory=list)
    subscription_id: str | None = None
    confirmed: bool = False


class WsConnection:
    """The client side of one Zaqar WebSocket, across reconnects.

    Options: ``reconnect`` (after a drop; False ends push streams and lets the
    next request reconnect), ``backoff`` ``(initial, maximum)`` seconds,
    ``ping_interval`` (ping a line quiet this long; None: no keepalive),
    ``ping_timeout`` (drop it when nothing arrives this long after a ping),
    ``open_timeout`` (each handshake), ``auth_token``/``project_id`` (sent in
    an ``authenticate`` frame after each connect), ``refresh`` (a token can be
    fetched: asked for when none is set and after close code 4003),
    ``jitter`` (returns floats in [0, 1): ``random.random`` in production).
    """

    def __init__(
        self,
        *,
        codec: Codec = "json",
        default_headers: Iterable[tuple[str, str]] = (),
        id_prefix: str = "zk",
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.2, 30.0),
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float | None = 10.0,
        auth_token: str | None = None,
        project_id: str | None = None,
        refresh: bool = False,
        jitter: Callable[[], float] = lambda: 0.5,
    ) -> None:
        self.session = WsSession(codec=codec, default_headers=default_headers, id_prefix=id_prefix)
        self.state = State.IDLE
        self._reconnect = reconnect
        self._backoff = backoff
        self._ping = (ping_interval, ping_timeout)
        self._open_timeout = open_timeout
        self._token = auth_token
        self._project_id = project_id
        self._expires_at: float | None = None
        self._refresh = refresh
        self._jitter = jitter
        self._out: list[Output] = []
        self._tickets: dict[int, _Ticket] = {}
        self._queued: dict[int, None] = {}  # tickets not written yet, in order
        self._inflight: dict[str, int] = {}  # frame id -> ticket, in send order
        self._next_ticket = 0
        self._attempt = 0
        # Flags that are not states, and why. ``_first_attempt``: a property of
        # the attempt under way (CONNECTING or BOOTSTRAP alike), it picks the
        # event its failure is (first_attempt_failed or reconnect_failed).
        # ``_bootstrap_left`` and ``_restoring``: a count of frames and which
        # of the two bootstrap steps it counts, within BOOTSTRAP; as states
        # they would double every row of it. ``_need_token``: remembered
        # across states, from a 4003 drop to the next connect.
        self._first_attempt = True
        self._failures = 0  # consecutive failed reconnects: the backoff exponent
        self._ever_opened = False
        self._bootstrap_left = 0
        self._restoring = False
        self._need_token = False
        self._wake_at: float | None = None
        self._last_heard = 0.0
        self._pinged_at: float | None = None
        self._subs: dict[str, _ServerSub] = {}
        self._streams: dict[int, str] = {}
        self._next_stream = 0

    # -- introspection -------------------------------------------------------------

    def drain(self) -> list[Output]:
        """The outputs of the inputs so far, in order; each is returned once."""
        out, self._out = self._out, []
        return out

    @property
    def pending(self) -> int:
        """Requests waiting for an outcome (queued or in flight)."""
        return sum(1 for t in self._tickets.values() if t.kind in _CALLERS)

    @property
    def connecting(self) -> int | None:
        """The connect attempt under way, if any."""
        return self._attempt if self.state is State.CONNECTING else None

    def subscription_id(self, stream: int) -> str | None:
        """The server's id of the push subscription serving ``stream``."""
        queue = self._streams.get(stream)
        sub = self._subs.get(queue) if queue is not None else None
        return sub.subscription_id if sub is not None else None

    def _go(self, event: str) -> None:
        """Move to the state :data:`TRANSITIONS` gives for ``event`` here."""
        self.state = self._next(event)

    def _next(self, event: str) -> State:
        target = TRANSITIONS[self.state].get(event)
        if target is None:
            raise LocalProtocolError(f"{event} is not allowed in state {self.state.name}")
        return target

    def _emit(self, out: Output) -> None:
        self._out.append(out)

    # -- requests ---------------------------------------------------------------------

    def request(self, request: Request, *, now: float) -> int:
        """Register ``request``; returns its ticket. Its frame is written at
        once when the connection is open, else once it is (connecting first
        when idle). Raises UnsupportedOperation for what WebSocket cannot carry
        and TransportError once closed, before anything is sent."""
        ws_action(request.operation)
        return self._add(_Ticket(request), now)

    def _add(self, ticket: _Ticket, now: float) -> int:
        if self.state is State.CLOSED:
            raise _failure(TransportError, "transport is closed", ticket.request, sent=False)
        self._next_ticket += 1
        number = self._next_ticket
        self._tickets[number] = ticket
        if self.state is State.OPEN:
            self._write(number, ticket)
        else:
            self._queued[number] = None
            if self.state is State.IDLE:
                self._connect(now, first=True)
        return number

    def _write(self, number: int, ticket: _Ticket) -> None:
        out = self.session.send(ticket.request)
        ticket.frame_id = out.request_id
        self._inflight[out.request_id] = number
        self._emit(Send(out.data, number, self._attempt))

    def timed_out(self, ticket: int, *, now: float) -> ZaqarError | None:
        """The caller of ``ticket`` stops waiting. Returns the error to raise
        (None when the outcome was already drained). A request never written
        is ``sent=False``; a connect attempt nobody else waits for is cancelled."""
        state = self._tickets.pop(ticket, None)
        if state is None:
            return None
        op = state.request.operation.value
        self._queued.pop(ticket, None)
        sent = state.frame_id is not None
        if state.frame_id is not None:
            self._inflight.pop(state.frame_id, None)
        what = "got no reply" if sent else "found no open WebSocket connection"
        error = _failure(TimeoutError, f"{op} {what} in time", state.request, sent=sent)
        if state.kind is _K.SUBSCRIBE and state.queue is not None:
            self._sub_failed(state.queue, error, exclude=None)
        if self.state is State.CONNECTING and self._first_attempt and not self._queued:
            self._go("cancel_connect")
            self._emit(CancelConnect(self._attempt))
        return error

    def write_failed(
        self, ticket: int, reason: str, *, partial: bool, timeout: bool = False, now: float
    ) -> None:
        """The frame of ``ticket`` was not completely written (``reason``);
        ``partial`` when some of it was, so the socket is unusable. An
        incomplete frame cannot be executed: the request fails with sent=False."""
        state = self._tickets.pop(ticket, None)
        if partial:
            self._emit(Abort(f"a frame was only partly written: {reason}"))
        if state is None:
            return
        if state.frame_id is not None:
            self._inflight.pop(state.frame_id, None)
        op = state.request.operation.value
        if timeout:
            error = _failure(TimeoutError, f"{op} could not be written in time", state.request)
        else:
            error = _failure(ReadError, f"WebSocket send failed for {op}: {reason}", state.request)
        self._emit(Failed(ticket, error))

    # -- push streams ----------------------------------------------------------------------

    def subscribe(
        self,
        queue: str,
        *,
        now: float,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> tuple[int, int | None]:
        """A push stream for ``queue``: returns ``(stream, ticket)``. Streams of
        a queue share one server subscription; ``ticket`` is the request
        creating it (parse its Answer for the id), None when it exists already."""
        call = push_subscription_create(queue, ttl=ttl, options=options)
        if self.state is State.CLOSED:
            raise TransportError("transport is closed", sent=False, operation="subscription_create")
        self._next_stream += 1
        stream = self._next_stream
        sub = self._subs.get(queue)
        if sub is not None:
            sub.streams.append(stream)
            self._streams[stream] = queue
            return stream, None
        request = replace(call.request, headers=headers)
        self._subs[queue] = _ServerSub(request, [stream])
        self._streams[stream] = queue
        return stream, self._add(_Ticket(request, _K.SUBSCRIBE, queue), now)

    def unsubscribe(self, stream: int, *, now: float) -> None:
        """End ``stream``; the server subscription is deleted with its last stream."""
        queue = self._streams.pop(stream, None)
        if queue is None:
            return
        self._emit(StreamEnded((stream,), None))
        sub = self._subs.get(queue)
        if sub is None:
            return
        if stream in sub.streams:
            sub.streams.remove(stream)
        if sub.streams:
            return
        del self._subs[queue]
        if sub.subscription_id is not None and self.state is State.OPEN:
            headers = sub.request.headers
            call = ApiV2().subscription_delete(queue, sub.subscription_id)
            self._add(_Ticket(replace(call.request, headers=headers), _K.UNSUBSCRIBE), now)

    def _sub_failed(self, queue: str, error: ZaqarError, exclude: int | None) -> None:
        sub = self._subs.pop(queue, None)
        if sub is None:
            return
        # ``exclude``: the stream whose caller gets this error from its own
        # request; it ends when that caller unsubscribes it.
        for stream in sub.streams:
            if stream != exclude:
                self._streams.pop(stream, None)
        ended = tuple(s for s in sub.streams if s != exclude)
        if ended:
            self._emit(StreamEnded(ended, error))

    # -- connecting ------------------------------------------------------------------------

    def _connect(self, now: float, *, first: bool) -> None:
        self._go("connect")
        self._first_attempt = first
        self._attempt += 1
        self._emit(Connect(self._attempt, self._open_timeout))

    def connected(self, attempt: int, *, now: float) -> bool:
        """The socket of ``attempt`` is open. False: that attempt is stale
        (cancelled, or the transport closed): close the socket."""
        if attempt != self._attempt or self.state is not State.CONNECTING:
            return False
        self._last_heard = now
        self._pinged_at = None
        restoring = any(sub.streams for sub in self._subs.values())
        what = "reconnected" if self._ever_opened else "connected"
        self._emit(Log(INFO, f"WebSocket {what}" + (", authenticating" if self._token else "")))
        if self._needs_token():
            self._go("connected_bootstrap")
            self._emit(RefreshToken())
        elif self._token is not None or restoring:
            self._go("connected_bootstrap")
            self._authenticate()
        else:
            self._go("connected")
            self._opened(now)
        return True

    def _needs_token(self) -> bool:
        return self._refresh and (self._token is None or self._need_token)

    def connect_failed(self, attempt: int, reason: str, *, now: float) -> None:
        """Connect attempt ``attempt`` failed (``reason``)."""
        if attempt != self._attempt or self.state is not State.CONNECTING:
            return
        self._failed_attempt(ConnectError(f"cannot connect: {reason}", sent=False), now)

    def _failed_attempt(self, error: ZaqarError, now: float) -> None:
        if self._first_attempt:
            # The first attempt reports to its callers; the next request retries.
            self._go("first_attempt_failed")
            self._emit(Log(INFO, f"WebSocket connection failed: {error}"))
            for number in list(self._queued):
                state = self._tickets.pop(number)
                if state.kind in _CALLERS:
                    self._fail_caller(number, state, _for(error, state.request))
            self._queued.clear()
            return
        self._go("reconnect_failed")
        self._emit(Log(INFO, f"WebSocket reconnect failed: {error}"))
        self._schedule_reconnect(now)

    def _schedule_reconnect(self, now: float) -> None:
        delay = backoff_delay(self._failures, *self._backoff, self._jitter())
        self._failures += 1
        self._wake_at = now + delay
        self._emit(Log(INFO, f"WebSocket reconnecting in {delay:.2f} s"))
        self._emit(Sleep(self._wake_at))

    # -- bootstrap ----------------------------------------------------------------------

    def token(
        self,
        value: str | tuple[str, str],
        *,
        now: float,
        expires_at: float | None = None,
    ) -> None:
        """A token (or ``(token, project_id)``), with its expiry on ``now``'s clock."""
        token, project = value if isinstance(value, tuple) else (value, self._project_id)
        if project is None:
            self._bootstrap_failure(
                ConnectError("authenticate: X-Project-ID is required with a token", sent=False), now
            )
            return
        self._token, self._project_id = token, project
        self._expires_at = expires_at
        self._need_token = False
        if self.state in (State.BOOTSTRAP, State.OPEN):
            self._emit(Log(INFO, "WebSocket authenticating with a new token"))
            self._authenticate()
            if expires_at is not None:
                self._arm(now)

    def token_failed(self, reason: str, *, now: float) -> None:
        """Getting a token failed."""
        error = ConnectError(f"no token for the WebSocket: {reason}", sent=False)
        if self.state is State.BOOTSTRAP:
            self._bootstrap_failure(error, now)
        else:
            self._emit(Log(WARNING, str(error)))

    def _authenticate(self) -> None:
        if self._token is not None:
            assert self._project_id is not None
            out = self.session.authenticate(self._token, self._project_id)
            self._next_ticket += 1
            ticket = _Ticket(out.request, _K.AUTH, frame_id=out.request_id)
            self._tickets[self._next_ticket] = ticket
            self._inflight[out.request_id] = self._next_ticket
            self._bootstrap_left += 1 if self.state is State.BOOTSTRAP else 0
            self._emit(Send(out.data, None, self._attempt))
        if self.state is State.BOOTSTRAP and self._bootstrap_left == 0:
            self._restore()

    def _restore(self) -> None:
        self._restoring = True
        for queue, sub in self._subs.items():
            if sub.streams and sub.confirmed:
                self._next_ticket += 1
                ticket = _Ticket(sub.request, _K.RESTORE, queue)
                self._tickets[self._next_ticket] = ticket
                self._write(self._next_ticket, ticket)
                self._bootstrap_left += 1
        if self._bootstrap_left == 0:
            self._bootstrapped()

    def _bootstrapped(self) -> None:
        self._restoring = False
        self._go("bootstrapped")
        self._opened(None)

    def _opened(self, now: float | None) -> None:
        self._ever_opened = True
        self._failures = 0
        for number in list(self._queued):
            self._write(number, self._tickets[number])
        self._queued.clear()
        self._arm(now if now is not None else self._last_heard)

    def _bootstrap_failure(self, error: ZaqarError, now: float) -> None:
        self._drop_socket_state()
        self._emit(Abort(f"bootstrap failed: {error}"))
        self._failed_attempt(error, now)

    def _drop_socket_state(self) -> list[int]:
        """Forget what was written on the socket; returns the request tickets."""
        self._bootstrap_left = 0
        self._restoring = False
        lost = []
        for number in self._inflight.values():
            if self._tickets[number].kind in _CALLERS:
                lost.append(number)
            else:
                del self._tickets[number]
        self._inflight.clear()
        for sub in self._subs.values():
            sub.subscription_id = None  # Zaqar deletes a socket's subscriptions on close
        return lost

    # -- receiving ------------------------------------------------------------------------

    def heard(self, *, now: float) -> None:
        """Something arrived that is not a message (a pong): the peer is alive."""
        self._last_heard = now
        self._pinged_at = None

    def receive(self, data: str | bytes, *, now: float) -> None:
        """One received frame (``str`` text, ``bytes`` binary)."""
        self._last_heard = now
        self._pinged_at = None
        event = self.session.receive(data)
        if isinstance(event, Notification):
            sub = self._subs.get(event.queue_name)
            if sub is not None and sub.streams:
                self._emit(Push(tuple(sub.streams), event))
            return
        # The server answers in order: a reply without a readable id (to an
        # undecodable request, or unreadable itself) is the oldest's.
        frame_id = event.request_id
        if frame_id is None:
            frame_id = next(iter(self._inflight), None)
        number = self._inflight.pop(frame_id, None) if frame_id is not None else None
        if isinstance(event, Reply):
            if number is None:  # its caller timed out or was cancelled
                self._emit(Log(DEBUG, f"WebSocket reply to no pending request: {frame_id}"))
            else:
                self._answered(number, event.response, now)
        elif number is None:
            self._emit(Log(WARNING, f"WebSocket frame ignored: {event.error}"))
        else:
            self._protocol_error(number, event.error, now)

    def _answered(self, number: int, response: Response, now: float) -> None:
        state = self._tickets.pop(number)
        kind = state.kind
        if kind is _K.CALL:
            if state.request.operation in WS_INCOMPLETE:
                self._incomplete(state.request, response)
            self._emit(Answer(number, response))
        elif kind is _K.SUBSCRIBE:
            self._subscribed(number, state, response)
        elif kind is _K.AUTH:
            try:
                p.raise_for_status(response, "authenticate")
            except ZaqarError as exc:
                if self.state is State.BOOTSTRAP:
                    self._bootstrap_failure(exc, now)
                else:
                    self._emit(Log(WARNING, f"WebSocket re-authentication failed: {exc}"))
                    self._emit(Abort("re-authentication failed"))
                return
            self._bootstrap_step()
        elif kind is _K.RESTORE:
            self._restored(state, response)
            self._bootstrap_step()

    def _incomplete(self, request: Request, response: Response) -> None:
        op = request.operation
        if op in _HINTED or response.status >= 300:
            return
        reason = ws_incomplete(request, p.json_or_none(response))
        if reason is not None:
            # A hint, not noise: once per process and operation, whatever the
            # number of clients (a benchmark makes hundreds).
            _HINTED.add(op)
            self._emit(Log(WARNING, reason, INCOMPLETE_LOGGER))

    def _bootstrap_step(self) -> None:
        if self.state is not State.BOOTSTRAP:
            return
        self._bootstrap_left -= 1
        if self._bootstrap_left == 0:
            if self._restoring:
                self._bootstrapped()
            else:
                self._restore()

    def _subscribed(self, number: int, state: _Ticket, response: Response) -> None:
        assert state.queue is not None
        sub = self._subs.get(state.queue)
        try:
            sub_id = push_subscription_create(state.queue).parse(response)
        except ZaqarError as exc:
            self._sub_failed(state.queue, exc, exclude=self._first_stream(sub))
        else:
            if sub is not None:
                sub.subscription_id, sub.confirmed = sub_id, True
        self._emit(Answer(number, response))

    @staticmethod
    def _first_stream(sub: _ServerSub | None) -> int | None:
        return sub.streams[0] if sub is not None and sub.streams else None

    def _fail_caller(self, number: int, state: _Ticket, error: ZaqarError) -> None:
        """Settle a caller's request with ``error``. A failed subscribe ends the
        other streams of its queue; its own ends when its caller unsubscribes."""
        if state.kind is _K.SUBSCRIBE and state.queue is not None:
            sub = self._subs.get(state.queue)
            self._sub_failed(state.queue, error, exclude=self._first_stream(sub))
        self._emit(Failed(number, error))

    def _restored(self, state: _Ticket, response: Response) -> None:
        assert state.queue is not None
        sub = self._subs.get(state.queue)
        if sub is None:
            return
        try:
            sub.subscription_id = push_subscription_create(state.queue).parse(response)
        except ZaqarError as exc:
            self._sub_failed(
                state.queue,
                TransportError(
                    f"push subscription to {state.queue!r} could not be restored after "
                    f"reconnecting: {exc}"
                ),
                exclude=None,
            )
            return
        self._emit(Gap(tuple(sub.streams), _RECONNECTED))

    def _protocol_error(self, number: int, error: ProtocolError, now: float) -> None:
        state = self._tickets.pop(number)
        if state.kind in (_K.AUTH, _K.RESTORE) and self.state is State.BOOTSTRAP:
            self._bootstrap_failure(error, now)
        elif state.kind in _CALLERS:
            self._fail_caller(number, state, error)

    # -- losing the connection ----------------------------------------------------------------

    def lost(self, attempt: int, code: int | None, reason: str = "", *, now: float) -> None:
        """The socket of ``attempt`` closed (``code`` as received, 1006 without
        a close frame)."""
        if attempt != self._attempt or self.state in (State.CLOSED, State.IDLE, State.BACKOFF):
            return  # already accounted for (close(), an aborted bootstrap)
        # Checked before anything is undone: a drop of a socket not yet open
        # (CONNECTING) is a driver bug.
        event = "lost_reconnect" if self._reconnect else "lost_idle"
        if self.state is not State.BOOTSTRAP:
            self._next(event)
        why = f"code {code}{', ' + reason if reason else ''}"
        if self.state is State.BOOTSTRAP:
            self._bootstrap_failure(ReadError(f"WebSocket closed during bootstrap ({why})"), now)
            return
        for number in self._drop_socket_state():
            state = self._tickets.pop(number)
            op = state.request.operation.value
            lost = f"WebSocket connection lost ({why}) while {op} was in flight; it was not resent"
            self._fail_caller(number, state, _failure(ReadError, lost, state.request, sent=True))
        if code == REAUTH_CLOSE_CODE and self._refresh:
            self._need_token = True
        self._emit(Log(WARNING, f"WebSocket connection dropped ({why})"))
        if not self._reconnect:
            self._go("lost_idle")
            error = ReadError(f"WebSocket connection lost ({why})", sent=True)
            for queue in list(self._subs):
                self._sub_failed(queue, error, exclude=None)
            return
        self._go("lost_reconnect")
        self._schedule_reconnect(now)

    # -- time -------------------------------------------------------------------------------

    def timer_fired(self, *, now: float) -> None:
        """The time of the last :class:`Sleep` (or any later time) has come."""
        if self.state is State.BACKOFF:
            if self._wake_at is not None and now >= self._wake_at:
                self._wake_at = None
                self._connect(now, first=False)
            elif self._wake_at is not None:
                self._emit(Sleep(self._wake_at))
        elif self.state is State.OPEN:
            if self._keepalive(now):
                return
            if self._expires_at is not None and now >= self._expires_at - _EXPIRY_MARGIN:
                self._expires_at = None
                if self._refresh:
                    self._emit(Log(INFO, "WebSocket token expires soon: refreshing it"))
                    self._emit(RefreshToken())
            self._arm(now)

    def _keepalive(self, now: float) -> bool:
        interval, patience = self._ping
        if interval is None:
            return False
        if self._pinged_at is not None:
            if patience is not None and now - self._pinged_at >= patience:
                self._emit(
                    Log(
                        WARNING,
                        f"WebSocket peer silent {patience} s after a ping: dropping the connection",
                    )
                )
                self._emit(Abort("keepalive timeout"))
                return True
        elif now - self._last_heard >= interval:
            self._pinged_at = now
            self._emit(Ping())
        return False

    def _arm(self, now: float) -> None:
        interval, patience = self._ping
        wake: float | None = None
        if interval is not None:
            if self._pinged_at is not None and patience is not None:
                wake = self._pinged_at + patience
            elif self._pinged_at is None:
                wake = max(now, self._last_heard + interval)
        if self._expires_at is not None and self._refresh:
            refresh_at = self._expires_at - _EXPIRY_MARGIN
            wake = refresh_at if wake is None else min(wake, refresh_at)
        if wake is not None:
            self._wake_at = wake
            self._emit(Sleep(wake))

    # -- closing -------------------------------------------------------------------------------

    def close(self, *, now: float) -> None:
        """The transport closes: every request and stream ends, at once."""
        if self.state is State.CLOSED:
            return
        had_socket = self.state in (State.CONNECTING, State.BOOTSTRAP, State.OPEN)
        attempt_pending = self.state is State.CONNECTING
        self._go("close")
        for number, state in self._tickets.items():
            if state.kind in _CALLERS:
                closed = f"transport closed while {state.request.operation.value} was in flight"
                sent = state.frame_id is not None
                error = _failure(TransportError, closed, state.request, sent=sent)
                self._emit(Failed(number, error))
        self._tickets.clear()
        self._queued.clear()
        self._inflight.clear()
        streams = tuple(self._streams)
        self._streams.clear()
        self._subs.clear()
        if streams:
            self._emit(StreamEnded(streams, None))
        if attempt_pending:
            self._emit(CancelConnect(self._attempt))
        elif had_socket:
            self._emit(CloseSocket())


def _failure(
    kind: type[TransportError], message: str, request: Request, *, sent: bool = False
) -> TransportError:
    """``kind(message)`` for ``request``, saying whether it may be resent."""
    op = request.operation
    return kind(message, sent=sent, operation=op.value, retryable=resendable(op, sent))


def _for(error: ZaqarError, request: Request) -> ZaqarError:
    """``error`` naming ``request``'s operation (for its ``retryable``)."""
    if isinstance(error, TransportError):
        clone = _failure(type(error), str(error), request, sent=error.sent)
        clone.__cause__ = error.__cause__
        return clone
    return error
