"""The one socket interface the WebSocket drivers use, and what its three
backends share (httpcore's ``_backends`` is the model: one ``NetworkStream``
shape, one small class per I/O library).

A backend is an open client WebSocket over :class:`~zaqarkit.transports._frames.FrameCodec`
(or websockets' sans-I/O protocol when an extension such as deflate was
agreed), after websockets' sans-I/O opening handshake
(:class:`~zaqarkit.transports._frames.Handshake`):

- :class:`zaqarkit.transports._syncws.SyncWebSocket`: a blocking socket;
- :class:`zaqarkit.transports._aiows.AsyncioWebSocket`: an asyncio ``BufferedProtocol``;
- :class:`zaqarkit.transports._triows.TrioWebSocket`: a trio stream.

Each has ``connect(url, open_timeout=..., **options)`` (:data:`OPTIONS`),
``send``, ``ping``, ``close`` and ``abort``, and ``close_code`` /
``close_reason`` once it ended. What arrives comes as batches of the
messages that completed (``str`` text, ``bytes`` binary), ``[]`` when only
control frames came (a pong: the peer is alive): the blocking backend's
``read(timeout)`` returns one batch and raises :class:`ConnectionEnded` once
the connection is over; the async backends' ``serve(deliver)`` hands each
batch to ``deliver`` and returns at the end. The sync ``send`` takes a
deadline. The async ``send`` and ``ping`` never wait: they hand the frame to
the library's write buffer (asyncio's transport, the trio backend's writer
task). Why no high-water wait: every request frame has a caller waiting for
its reply, bounded by the request's deadline, so the buffer holds at most the
frames of the requests in flight; and a wait there would need a second
timeout mechanism beside the driver's.

Example::

    ws = SyncWebSocket.connect("ws://127.0.0.1:9000", open_timeout=5)
    ws.send('{"action": "queue_list", "headers": {...}, "body": {}}', deadline=None)
    messages = ws.read(timeout=5.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = [
    "OPTIONS",
    "READ_SIZE",
    "AsyncWebSocketStream",
    "ConnectionEnded",
    "WebSocketStream",
    "WriteTimeout",
]

#: ``connect_kwargs`` every backend takes (the transport refuses others).
OPTIONS = frozenset({"max_size", "compression", "ssl", "additional_headers", "subprotocols"})
#: Bytes asked of each read. Python allocates the whole buffer before the
#: read: above glibc's mmap threshold (128 KiB) every read became an
#: mmap/munmap pair, measured at ~20 us of CPU per reply with 256 KiB.
READ_SIZE = 65_536
#: Longest handshake response accepted, in bytes.
MAX_RESPONSE = 65_536


class ConnectionEnded(Exception):
    """The connection is over: the backend's ``close_code`` and ``close_reason`` say how."""


class WriteTimeout(Exception):
    """A frame could not be written before the deadline. ``partial``: some of
    it was, so the connection is unusable (a frame cannot be resumed later)."""

    def __init__(self, partial: bool) -> None:
        super().__init__("write timed out" + (" mid-frame" if partial else ""))
        self.partial = partial


class WebSocketStream(Protocol):
    """The blocking backend's calls (see the module docstring)."""

    @property
    def close_code(self) -> int: ...
    @property
    def close_reason(self) -> str: ...

    def send(self, data: str | bytes, deadline: float | None = None) -> None: ...
    def read(self, timeout: float | None = None) -> list[str | bytes] | None: ...
    def ping(self) -> None: ...
    def close(self, timeout: float = 2.0) -> None: ...
    def abort(self) -> None: ...


class AsyncWebSocketStream(Protocol):
    """The asyncio and trio backends' calls (see the module docstring)."""

    @property
    def close_code(self) -> int: ...
    @property
    def close_reason(self) -> str: ...

    def send(self, data: str | bytes) -> None: ...
    async def serve(self, deliver: Callable[[list[str | bytes]], None]) -> None: ...
    def ping(self) -> None: ...
    async def close(self, timeout: float = 2.0) -> None: ...
    def abort(self) -> None: ...
