"""The frames of an open client WebSocket (RFC 6455, section 5), sans I/O.

:class:`SyncWebSocket <zaqarkit.transports._syncws.SyncWebSocket>` lets
``websockets`` do the opening handshake and then exchanges frames through a
*framing*: :class:`FrameCodec`, ours, when no extension was negotiated (the
default: frames are small JSON and deflate costs more than it saves), or
:class:`ProtocolFraming` around websockets' own protocol object when one was
(``compression="deflate"``). Measured in one process: websockets' protocol
costs about 17 us to send one frame and parse one reply; the codec about 2.

Both answer the same calls: :meth:`~FrameCodec.message` encodes an outgoing
message, :meth:`~FrameCodec.receive` takes bytes and returns the messages
they complete, :meth:`~FrameCodec.data_to_send` what must be written in
answer (pongs, the closing handshake).

>>> codec = FrameCodec(max_size=None, random_bytes=lambda n: bytes(n))
>>> codec.message("hi")  # masked with the all-zero key the test source gives
b'\\x81\\x82\\x00\\x00\\x00\\x00hi'
>>> codec.receive(b"\\x81\\x05hello" + b"\\x89\\x00")  # a text frame and a ping
['hello']
>>> codec.data_to_send()  # the pong
[b'\\x8a\\x80\\x00\\x00\\x00\\x00']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame
from websockets.http11 import Response as HandshakeResponse
from websockets.protocol import State
from websockets.uri import parse_uri

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

__all__ = ["FrameCodec", "Handshake", "ProtocolFraming"]

_CONT, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: Close code reported when no close frame was received.
ABNORMAL_CLOSURE = 1006
#: Close codes a peer may put in a close frame (RFC 6455 7.4; 3000-4999 are
#: for libraries and applications: Zaqar closes with 4003 to ask for a token).
_VALID_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})
#: Random bytes drawn at once for masking keys: one getrandom() per 1024 frames.
_MASK_POOL = 4096


class _Failure(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class FrameCodec:
    """Client frames without extensions: masked outgoing, unmasked incoming.

    A peer breaking the protocol (a masked or reserved-bit frame, a bad
    continuation, invalid UTF-8, a message over ``max_size`` bytes) gets a
    close frame with the matching code, and the connection ends with
    :attr:`close_code` 1006 and the violation in :attr:`close_reason`.
    ``random_bytes`` draws masking keys (``os.urandom``; tests pass their own).
    """

    def __init__(self, max_size: int | None, random_bytes: Callable[[int], bytes] = os.urandom):
        self.max_size = max_size
        self._random = random_bytes
        self._pool = b""
        self._pool_at = 0
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode: int | None = None
        self._fragment_size = 0
        self._out: list[bytes] = []
        self.close_sent = False
        self.close_received = False
        #: The connection is over: no more frames in either direction.
        self.ended = False
        self.close_code = ABNORMAL_CLOSURE
        self.close_reason = ""

    @property
    def open(self) -> bool:
        """Neither side has started the closing handshake."""
        return not (self.close_sent or self.close_received or self.ended)

    # -- sending ------------------------------------------------------------------------

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        size = len(payload)
        if size < 126:
            head = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65_536:
            head = bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0xFF)) + size.to_bytes(8, "big")
        at = self._pool_at
        if at + 4 > len(self._pool):
            self._pool, at = self._random(_MASK_POOL), 0
        self._pool_at = at + 4
        mask = self._pool[at : at + 4]
        return head + mask + apply_mask(payload, mask)

    def message(self, data: str | bytes) -> bytes:
        """One message as one frame: ``str`` as text, ``bytes`` as binary."""
        if not self.open:
            raise ConnectionError("the WebSocket connection is closing")
        if isinstance(data, str):
            return self._frame(_TEXT, data.encode())
        return self._frame(_BINARY, data)

    def ping(self, payload: bytes) -> list[bytes]:
        """A ping frame (nothing once closing)."""
        return [self._frame(_PING, payload)] if self.open else []

    def close(self, code: int = 1000, reason: str = "") -> list[bytes]:
        """Start the closing handshake (nothing when it has started)."""
        if not self.open:
            return []
        self.close_sent = True
        return [self._frame(_CLOSE, code.to_bytes(2, "big") + reason.encode())]

    def data_to_send(self) -> list[bytes]:
        """What the frames received so far ask to write (pongs, a close)."""
        out, self._out = self._out, []
        return out

    # -- receiving --------------------------------------------------------------------------

    def receive_eof(self) -> None:
        """The peer closed the TCP connection."""
        self.ended = True

    def receive(self, data: bytes) -> list[str | bytes]:
        """Take bytes read from the socket; return the messages they complete
        (``str`` for text, ``bytes`` for binary)."""
        if self.ended:
            return []
        buffer = self._buffer
        buffer += data
        messages: list[str | bytes] = []
        at, end = 0, len(buffer)
        try:
            while end - at >= 2 and not self.ended:
                first, second = buffer[at], buffer[at + 1]
                size, head = second & 0x7F, 2
                if size == 126:
                    if end - at < 4:
                        break
                    size, head = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
                elif size == 127:
                    if end - at < 10:
                        break
                    size, head = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
                if second & 0x80:
                    raise _Failure(1002, "the server sent a masked frame")
                if first & 0x70:
                    raise _Failure(1002, "a frame has reserved bits set (no extension agreed)")
                opcode = first & 0x0F
                if (
                    opcode < 8
                    and self.max_size is not None
                    and self._fragment_size + size > self.max_size
                ):
                    raise _Failure(1009, f"a message is over max_size ({self.max_size} bytes)")
                if end - at < head + size:
                    break  # the rest of the frame is still on its way
                payload = bytes(buffer[at + head : at + head + size])
                at += head + size
                message = self._accept(opcode, bool(first & 0x80), payload)
                if message is not None:
                    messages.append(message)
        except _Failure as failure:
            self._fail(failure)
        del buffer[:at]
        return messages

    def _accept(self, opcode: int, fin: bool, payload: bytes) -> str | bytes | None:
        if opcode >= 8:
            if not fin or len(payload) > 125:
                raise _Failure(1002, "a control frame is fragmented or over 125 bytes")
            self._control(opcode, payload)
            return None
        if opcode == _CONT:
            if self._fragment_opcode is None:
                raise _Failure(1002, "a continuation frame without a message to continue")
            self._fragments.append(payload)
            self._fragment_size += len(payload)
        elif opcode in (_TEXT, _BINARY):
            if self._fragment_opcode is not None:
                raise _Failure(1002, "a new message before the last one was complete")
            self._fragment_opcode, self._fragments = opcode, [payload]
            self._fragment_size = len(payload)
        else:
            raise _Failure(1002, f"unknown opcode {opcode}")
        if not fin:
            return None
        kind, fragments = self._fragment_opcode, self._fragments
        self._fragment_opcode, self._fragments, self._fragment_size = None, [], 0
        data = fragments[0] if len(fragments) == 1 else b"".join(fragments)
        if kind == _BINARY:
            return data
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise _Failure(1007, "a text message is not valid UTF-8") from None

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == _PING:
            if self.open:
                self._out.append(self._frame(_PONG, payload))
        elif opcode == _CLOSE:
            code, reason = self._close_payload(payload)
            self.close_received, self.close_code, self.close_reason = True, code, reason
            if not self.close_sent:  # answer it, echoing the code (RFC 6455 5.5.1)
                self.close_sent = True
                echo = payload[:2] if code != 1005 else b""
                self._out.append(self._frame(_CLOSE, echo))
            self.ended = True
        elif opcode != _PONG:
            raise _Failure(1002, f"unknown control opcode {opcode}")

    @staticmethod
    def _close_payload(payload: bytes) -> tuple[int, str]:
        if not payload:
            return 1005, ""  # no status code in the frame
        if len(payload) == 1:
            raise _Failure(1002, "a close frame with a one-byte payload")
        code = int.from_bytes(payload[:2], "big")
        if code not in _VALID_CODES and not 3000 <= code <= 4999:
            raise _Failure(1002, f"a close frame with the invalid code {code}")
        try:
            return code, payload[2:].decode()
        except UnicodeDecodeError:
            raise _Failure(1007, "a close reason is not valid UTF-8") from None

    def _fail(self, failure: _Failure) -> None:
        if not self.close_sent:
            self.close_sent = True
            self._out.append(self._frame(_CLOSE, failure.code.to_bytes(2, "big")))
        self.ended = True
        self.close_code = ABNORMAL_CLOSURE
        self.close_reason = f"{failure} (closed with {failure.code})"


class ProtocolFraming:
    """The framing calls of :class:`FrameCodec` over websockets' protocol
    object, for connections with an extension (permessage-deflate)."""

    def __init__(self, protocol: ClientProtocol) -> None:
        self._protocol = protocol
        self._fragments: list[Any] = []

    @property
    def open(self) -> bool:
        return self._protocol.state is State.OPEN

    @property
    def ended(self) -> bool:
        return self._protocol.state is State.CLOSED

    @property
    def close_code(self) -> int:
        received = self._protocol.close_rcvd
        return ABNORMAL_CLOSURE if received is None else int(received.code)

    @property
    def close_reason(self) -> str:
        received = self._protocol.close_rcvd
        return "" if received is None else str(received.reason)

    def message(self, data: str | bytes) -> bytes:
        if isinstance(data, str):
            self._protocol.send_text(data.encode())
        else:
            self._protocol.send_binary(data)
        return b"".join(self._protocol.data_to_send())

    def ping(self, payload: bytes) -> list[bytes]:
        if not self.open:
            return []
        self._protocol.send_ping(payload)
        return self._protocol.data_to_send()

    def close(self, code: int = 1000, reason: str = "") -> list[bytes]:
        if not self.open:
            return []
        self._protocol.send_close(code, reason)
        return self._protocol.data_to_send()

    def data_to_send(self) -> list[bytes]:
        return self._protocol.data_to_send()

    def receive_eof(self) -> None:
        self._protocol.receive_eof()

    def receive(self, data: bytes) -> list[str | bytes]:
        self._protocol.receive_data(data)
        messages = []
        for event in self._protocol.events_received():
            if isinstance(event, Frame):
                message = self._assemble(event.opcode.value, event.fin, bytes(event.data))
                if message is not None:
                    messages.append(message)
        return messages

    def _assemble(self, opcode: int, fin: bool, payload: bytes) -> str | bytes | None:
        # The protocol answers pings and the close itself; data frames only here.
        if opcode not in (_CONT, _TEXT, _BINARY):
            return None
        self._fragments.append((opcode, payload))
        if not fin:
            return None
        frames, self._fragments = self._fragments, []
        data = bytes(frames[0][1]) if len(frames) == 1 else b"".join(p for _, p in frames)
        return data.decode() if frames[0][0] == _TEXT else data


class Handshake:
    """The opening handshake by websockets' sans-I/O client protocol: the
    request to write, then the response, fed up to its last byte and no
    further (what follows it is the framing's: :meth:`framing`).

    >>> h = Handshake("ws://127.0.0.1:9000/")
    >>> h.request.startswith(b"GET / HTTP/1.1")
    True
    """

    def __init__(
        self,
        url: str,
        *,
        max_size: int | None = None,
        compression: str | None = None,
        subprotocols: Any = None,
        additional_headers: Any = None,
    ) -> None:
        self.uri = parse_uri(url)
        self.max_size = max_size
        extensions = enable_client_permessage_deflate(None) if compression == "deflate" else None
        self.protocol = ClientProtocol(
            self.uri,
            extensions=extensions,
            max_size=max_size,
            subprotocols=list(subprotocols) if subprotocols else None,
        )
        request = self.protocol.connect()
        for name, value in dict(additional_headers or {}).items():
            request.headers[name] = value
        self.protocol.send_request(request)
        self.request = b"".join(self.protocol.data_to_send())

    @staticmethod
    def response_end(received: bytes | bytearray) -> int:
        """Where the response in ``received`` ends (-1: not yet)."""
        end = received.find(b"\r\n\r\n")
        return end if end < 0 else end + 4

    def response(self, data: bytes) -> bool:
        """Feed response bytes (none past its end); True once it is complete.
        Raises websockets' InvalidHandshake for a refused upgrade and
        ConnectionError for an end of stream (``data`` empty) before it."""
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, HandshakeResponse):
                if self.protocol.handshake_exc is not None:
                    raise self.protocol.handshake_exc
                return True
        if not data:
            raise ConnectionError("connection closed during the opening handshake")
        return False

    def framing(self) -> FrameCodec | ProtocolFraming:
        """Our codec, or websockets' protocol when an extension was agreed."""
        if self.protocol.extensions:
            return ProtocolFraming(self.protocol)
        return FrameCodec(self.max_size)
