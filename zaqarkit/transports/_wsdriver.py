"""What the WebSocket drivers share: configuration, the machine, delivering
outcomes and push events (:class:`Driver`), a push stream's state
(:class:`StreamBase`). The drivers are :mod:`zaqarkit.transports._wssync`
(threads) and :mod:`zaqarkit.transports._wsasync` (asyncio and trio); the
public names are in :mod:`zaqarkit.transports.websocket`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, TypeVar

from zaqarkit import errors
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.timeouts import DEFAULT_TIMEOUT as CALL_TIMEOUT
from zaqarkit.core.wire import Response
from zaqarkit.core.ws import Notification
from zaqarkit.core.wsconn import (
    Answer,
    Failed,
    Gap,
    Log,
    Output,
    Push,
    PushGap,
    Send,
    State,
    StreamEnded,
    WsConnection,
)
from zaqarkit.core.wspush import DEFAULT_PUSH_BUFFER, PushBuffer, typed_push
from zaqarkit.transports._sockets import OPTIONS as _SOCKET_OPTIONS

logger = logging.getLogger("zaqarkit.websocket")

#: Seconds allowed per request (connect and reconnect waits included): the
#: clients' default total (:data:`zaqarkit.core.timeouts.DEFAULT_TIMEOUT`).
DEFAULT_TIMEOUT = CALL_TIMEOUT.total
#: Zaqar's largest reply is a page of 20 messages of 256 KiB each.
DEFAULT_MAX_SIZE = 16 * 2**20

#: A token, a ``(token, project_id)`` pair or a ``(token, project_id,
#: expires_at)`` triple (an aware UTC datetime, or None), possibly from a coroutine.
TokenValue: TypeAlias = "str | tuple[str, str] | tuple[str, str, _dt.datetime | None]"
TokenRefresh = Callable[[], "TokenValue | Awaitable[TokenValue]"]
#: A push stream class the driver creates (:meth:`Driver._start_stream`).
S = TypeVar("S", bound="StreamBase")


class Waiter:
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


class StreamBase:
    """A push stream's state, whatever wakes its reader: a bounded buffer
    (:class:`~zaqarkit.core.wspush.PushBuffer`) and how it ended. With a
    ``codec`` (``body_type=``) each notification's body is decoded as it is
    taken (:func:`~zaqarkit.core.wspush.typed_push`)."""

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

    def _unsubscribe(self) -> None:
        # Both drivers' _feed are plain functions: no socket work waits.
        self._transport._feed(self._transport._m.unsubscribe, self._number)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} queue={self.queue_name!r} id={self.subscription_id!r}>"


class Driver:
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
        self._waiters: dict[int, Waiter] = {}
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

    def _start_stream(
        self,
        cls: type[S],
        queue_name: str,
        now: float,
        ttl: int | None,
        options: Mapping[str, Any] | None,
        headers: tuple[tuple[str, str], ...],
        codec: BodyCodec[Any] | None,
    ) -> tuple[S, int | None]:
        """A new push stream of class ``cls`` and the ticket of the request
        creating its server subscription (None: the queue has one already)."""
        number, ticket = self._m.subscribe(
            queue_name, now=now, ttl=ttl, options=options, headers=headers
        )
        stream = cls(self, number, queue_name, self._push_buffer, codec)
        self._streams[number] = stream
        return stream, ticket

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


def token_input(value: Any) -> tuple[Any, dict[str, Any]]:
    """The machine's ``token`` input for what ``token_refresh`` returned: a
    known expiry becomes a time on the monotonic clock the machine runs on."""
    if isinstance(value, tuple) and len(value) == 3:
        token, project, expires = value
        if expires is None:
            return (token, project), {}
        left = (expires - _dt.datetime.now(_dt.UTC)).total_seconds()
        return (token, project), {"expires_at": time.monotonic() + left}
    return value, {}


def connect_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
