"""What the WebSocket connection machine asks of its driver
(:meth:`zaqarkit.core.wsconn.WsConnection.drain`): plain data, one class per
kind of work or outcome. Re-exported by :mod:`zaqarkit.core.wsconn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zaqarkit.core._records import fast_init
from zaqarkit.core.wire import Response
from zaqarkit.core.ws import Notification
from zaqarkit.errors import ZaqarError

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
    "Log",
    "Output",
    "Ping",
    "Push",
    "RefreshToken",
    "Send",
    "Sleep",
    "StreamEnded",
]

#: ``logging`` levels, without importing logging into the core.
DEBUG, INFO, WARNING = 10, 20, 30


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a socket (attempt number ``attempt``), then report ``connected``
    or ``connect_failed`` with that number. ``timeout`` bounds the handshake."""

    attempt: int
    timeout: float | None


@dataclass(frozen=True, slots=True)
class CancelConnect:
    """Abandon connect attempt ``attempt``: nobody waits for it any more."""

    attempt: int


@fast_init
@dataclass(frozen=True, slots=True)
class Send:
    """Write one frame (``str`` text, ``bytes`` binary) on the socket of
    connect attempt ``attempt`` (never on a later one: the request was failed
    with that socket); ``ticket`` is the request it carries (None for the
    connection's own frames)."""

    data: str | bytes
    ticket: int | None
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Ping:
    """Send a WebSocket ping (any frame received counts as its answer)."""


@dataclass(frozen=True, slots=True)
class Abort:
    """Drop the socket now, then report ``lost``."""

    reason: str


@dataclass(frozen=True, slots=True)
class CloseSocket:
    """Close the socket politely (the transport is closing)."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Call ``timer_fired`` at ``until`` (replaces any earlier Sleep)."""

    until: float


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """Get a new token, then report ``token`` (or ``token_failed``)."""


@fast_init
@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to request ``ticket``."""

    ticket: int
    response: Response


@fast_init
@dataclass(frozen=True, slots=True)
class Failed:
    """Request ``ticket`` gets no reply; raise ``error`` to its caller."""

    ticket: int
    error: ZaqarError


@dataclass(frozen=True, slots=True)
class Push:
    """A notification for the streams ``streams``."""

    streams: tuple[int, ...]
    notification: Notification[Any]


@dataclass(frozen=True, slots=True)
class Gap:
    """The streams ``streams`` may have missed notifications (``reason`` says why).

    Delivered after every reconnect, once the server subscription is restored,
    and by a full stream buffer (``missed`` then counts the dropped ones).
    """

    streams: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class StreamEnded:
    """The streams ``streams`` have ended; ``error`` (if any) is why."""

    streams: tuple[int, ...]
    error: ZaqarError | None


#: Where the "WebSocket answers this less completely than HTTP" hint goes;
#: ``logging.getLogger(INCOMPLETE_LOGGER).setLevel(logging.ERROR)`` silences it.
INCOMPLETE_LOGGER = "zaqarkit.websocket.incomplete"


@dataclass(frozen=True, slots=True)
class Log:
    """A line for the ``logger`` logger (``zaqarkit.websocket`` or a child of it)."""

    level: int
    message: str
    logger: str = "zaqarkit.websocket"


Output = (
    Connect
    | CancelConnect
    | Send
    | Ping
    | Abort
    | CloseSocket
    | Sleep
    | RefreshToken
    | Answer
    | Failed
    | Push
    | Gap
    | StreamEnded
    | Log
)
