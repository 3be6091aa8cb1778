"""Sans-I/O WebSocket session: frames, correlation, push routing, close semantics.

Zaqar's WebSocket protocol (``zaqar/transport/websocket/protocol.py``) carries
one JSON text frame or MessagePack binary frame per request::

    {"action": "message_post", "headers": {...}, "body": {"queue_name": ..., ...}}

and answers with ``{"request": {...}, "headers": {"status": 201}, "body": ...}``.
The protocol has no request id, but the server echoes the request's headers
back in ``request.headers``, so the session adds an ``X-Request-ID`` header and
matches each reply to its request by it, whatever the arrival order. Push
notifications have neither ``request`` nor ``headers``.

:class:`WsSession` holds no connection state: it encodes a request's frame
(:meth:`WsSession.send`) and reads what a received frame is
(:meth:`WsSession.receive`). Which request a reply answers, what is
pending and which push subscriptions live is the connection machine's
(:class:`zaqarkit.core.wsconn.WsConnection`), tracked once.

A frame's body is the request's canonical parameters
(:func:`~zaqarkit.core.render.frame_body`). A reply becomes a
:class:`~zaqarkit.core.wire.Response` holding its status and decoded body as
they came, read by the same parsers as HTTP answers (which accept both
shapes where Zaqar's transports differ).

>>> from zaqarkit.core.api import ApiV2
>>> session = WsSession(default_headers=(("Client-ID", "c"), ("X-Project-ID", "p")))
>>> call = ApiV2().queue_create("q1")
>>> out = session.send(call.request)
>>> out.request_id
'zk-1'
>>> reply = ('{"request": {"action": "queue_create", "headers": {"X-Request-ID": "zk-1"}},'
...          ' "headers": {"status": 201}, "body": "Queue q1 created."}')
>>> event = session.receive(reply)
>>> call.parse(event.response)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from zaqarkit.core import _json as fastjson
from zaqarkit.core import validate as v
from zaqarkit.core._records import fast_init
from zaqarkit.core.api import ApiV2
from zaqarkit.core.operations import WS_INCOMPLETE, Operation, ws_action
from zaqarkit.core.parse import DEFAULT_PAGE_SIZE
from zaqarkit.core.render import frame_body
from zaqarkit.core.wire import Call, Headers, Request, Response
from zaqarkit.errors import (
    ProtocolError,
    ValidationError,
)

__all__ = [
    "CORRELATION_HEADER",
    "REAUTH_CLOSE_CODE",
    "Codec",
    "Event",
    "FrameError",
    "Notification",
    "Outgoing",
    "Reply",
    "WsSession",
    "authenticate_request",
    "decode_frame",
    "encode_frame",
    "frame_body",
    "push_subscription_create",
    "ws_incomplete",
]

#: A pushed body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")

Codec = Literal["json", "msgpack"]

#: Header the session adds to every frame; Zaqar echoes request headers back.
CORRELATION_HEADER = "X-Request-ID"

#: Zaqar closes the socket with this code when the Keystone token expires.
REAUTH_CLOSE_CODE = 4003

#: Frames are v2 requests whatever the client's HTTP version (Zaqar's
#: WebSocket server speaks only v2).
_API = ApiV2()

#: HTTP-only headers that mean nothing inside a frame. (Zaqar echoes every
#: frame header back in its reply, so each one costs twice.)
_DROPPED_HEADERS = frozenset({"content-type", "content-length", "accept", "user-agent"})
#: Signed-URL headers whose frame value is a list. Over HTTP they travel
#: comma-joined and Zaqar splits them; its WebSocket handler recomputes the
#: signature from the frame's values as they are, so a joined string would
#: sign the characters of "GET,POST" and never match.
_LIST_HEADERS = frozenset({"url-methods", "url-paths"})

#: How many distinct request header sets a session keeps converted.
_HEADER_CACHE_SIZE = 64


def ws_incomplete(request: Request, body: Any) -> str | None:
    """Why the WebSocket reply ``body`` to ``request`` may be less than HTTP's
    answer, or None. A message listing is suspect only when its page is full.

    >>> from zaqarkit.core.api import ApiV2
    >>> ws_incomplete(ApiV2().message_list("q", limit=2).request, {"messages": [{}, {}]})[:40]
    'message listings over WebSocket stop aft'
    >>> ws_incomplete(ApiV2().message_list("q", limit=5).request, {"messages": [{}]}) is None
    True
    """
    op = request.operation
    if op is Operation.MESSAGE_LIST:
        items = body.get("messages") if isinstance(body, Mapping) else None
        limit = request.params.get("limit", DEFAULT_PAGE_SIZE)
        if not isinstance(items, list) or not isinstance(limit, int) or len(items) < limit:
            return None
    return WS_INCOMPLETE.get(op)


def encode_frame(frame: Mapping[str, Any], codec: Codec = "json") -> str | bytes:
    """A text frame (``str``, JSON) or a binary frame (``bytes``, MessagePack)."""
    if codec == "msgpack":
        import msgpack  # type: ignore[import-untyped,unused-ignore]  # "websockets" extra

        packed: bytes = msgpack.packb(frame, use_bin_type=True)
        return packed
    return fastjson.dumps_frame(frame).decode()


def decode_frame(data: str | bytes) -> Any:
    """Decode a received frame: text is JSON, binary is MessagePack.

    Raises ProtocolError when the frame is not valid in its encoding.
    """
    try:
        if isinstance(data, str):
            return fastjson.loads(data)
        import msgpack  # type: ignore[import-untyped,unused-ignore]

        return msgpack.unpackb(data, raw=False)
    except Exception as exc:  # msgpack raises several unrelated exception types
        preview = data[:80]
        raise ProtocolError(f"undecodable WebSocket frame {preview!r}: {exc}") from exc


# -- events ------------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True)
class Outgoing:
    """A frame to write: ``data`` is ``str`` (send as text) or ``bytes`` (binary).

    ``data`` stays out of the repr: the frame's headers carry the token or
    signature (the ``request``'s own repr masks them).

    >>> Outgoing("1", '{"headers": {"X-Auth-Token": "s3cret"}}', None)  # doctest: +ELLIPSIS
    Outgoing(request_id='1', request=None)
    """

    request_id: str
    data: str | bytes = field(repr=False)
    request: Request


@fast_init
@dataclass(frozen=True, slots=True)
class Reply:
    """A reply, shaped like an HTTP response. ``request_id`` is the
    correlation id it echoes; None when the server could not even decode the
    request (it echoes no headers then, and answers in order: the oldest
    pending request is the one)."""

    request_id: str | None
    response: Response


@dataclass(frozen=True, slots=True)
class Notification(Generic[B]):
    """A pushed message: ``{"body", "ttl", "queue_name", "Message_Type"}``.

    The frame names no project, so the connection routes it by queue name.
    ``subscribed`` is True on every notification a push stream yields.
    ``body`` is a ``B`` on a stream opened with ``body_type=B``.
    """

    queue_name: str
    body: B
    ttl: int | None
    raw: Mapping[str, Any]
    subscribed: bool = True
    #: Push streams also yield gap markers (``gap`` True); this is a message.
    gap: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame that is neither a reply nor a notification; ``error`` says why.

    ``request_id`` is the id a reply without a usable status echoed (None:
    none, or not a reply)."""

    error: ProtocolError
    request_id: str | None = None


Event = Reply | Notification[Any] | FrameError


# -- request helpers -----------------------------------------------------------


def push_subscription_create(
    queue: str, *, ttl: int | None = None, options: Mapping[str, Any] | None = None
) -> Call[str]:
    """``subscription_create`` without a subscriber: Zaqar pushes to this socket.

    Only the WebSocket transport can send it (over HTTP a subscriber is
    required). The parser returns the subscription id.

    >>> call = push_subscription_create("q", ttl=3600)
    >>> frame_body(call.request)
    {'queue_name': 'q', 'ttl': 3600}
    """
    return _API.push_subscription_create(queue, ttl=ttl, options=options)


def authenticate_request(token: str, project_id: str) -> Request:
    """The ``authenticate`` frame's request. Send it only to a Keystone-backed
    server: a no-auth Zaqar fails inside its handler and never answers."""
    if not token:
        raise ValidationError("auth_token", "must be a non-empty string")
    # A pseudo-operation: the action name is set by WsSession.authenticate.
    return Request(
        Operation.QUEUE_GET,
        "AUTH",
        "",
        headers=(("X-Auth-Token", token), ("X-Project-ID", v.project_id(project_id))),
    )


# -- the session ---------------------------------------------------------------


class WsSession:
    """Encodes request frames and reads received ones; no connection state.

    Not thread-safe (its correlation counter and header cache): a transport
    serialises calls (a lock, or one event loop).

    ``default_headers`` are added to every frame that lacks them (``Client-ID``
    and ``X-Project-ID`` are required by Zaqar's request schema). ``id_prefix``
    keeps correlation ids unique across sessions sharing a server log.

    >>> s = WsSession(id_prefix="t")
    >>> s.send(push_subscription_create("q").request).request_id
    't-1'
    >>> s.receive('{"body": {"a": 1}, "ttl": 60, "queue_name": "q",'
    ...           ' "Message_Type": "Notification"}').body
    {'a': 1}
    """

    def __init__(
        self,
        *,
        codec: Codec = "json",
        default_headers: Iterable[tuple[str, str]] = (),
        id_prefix: str = "zk",
    ) -> None:
        if codec not in ("json", "msgpack"):
            raise ValidationError("codec", f"must be 'json' or 'msgpack', got {codec!r}")
        if codec == "msgpack":
            try:
                import msgpack  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
            except ImportError:
                raise ValidationError(
                    "codec",
                    "'msgpack' needs the msgpack package: pip install 'zaqarkit[websockets]'",
                ) from None
        self.codec: Codec = codec
        self.default_headers: Headers = tuple(default_headers)
        self._id_prefix = id_prefix
        self._counter = 0
        self._converted_headers: dict[Headers, dict[str, Any]] = {}

    # -- sending ----------------------------------------------------------------

    def _next_id(self) -> str:
        self._counter += 1
        return f"{self._id_prefix}-{self._counter}"

    def _headers(self, request: Request, request_id: str) -> dict[str, Any]:
        # A client sends the same few header sets (its identity, plus a token)
        # over and over: each is converted once.
        converted = self._converted_headers.get(request.headers)
        if converted is None:
            converted = self._convert_headers(request.headers)
        headers = dict(converted)
        headers[CORRELATION_HEADER] = request_id
        return headers

    def _convert_headers(self, pairs: Headers) -> dict[str, Any]:
        headers: dict[str, Any] = {}
        present = set()
        for name, value in pairs:
            lowered = name.lower()
            present.add(lowered)
            if lowered in _LIST_HEADERS:
                headers[name] = value.split(",")
            elif lowered not in _DROPPED_HEADERS:
                headers[name] = value
        for name, value in self.default_headers:
            if name.lower() not in present:
                headers[name] = value
        if len(self._converted_headers) >= _HEADER_CACHE_SIZE:
            self._converted_headers.clear()  # tokens rotate: never grow without bound
        self._converted_headers[pairs] = headers
        return headers

    def _encode(self, request: Request, action: str, *, with_body: bool = True) -> Outgoing:
        request_id = self._next_id()
        frame: dict[str, Any] = {"action": action, "headers": self._headers(request, request_id)}
        if with_body:
            frame["body"] = frame_body(request)
        return Outgoing(request_id, encode_frame(frame, self.codec), request)

    def send(self, request: Request) -> Outgoing:
        """The frame to write for ``request``, with a new correlation id.
        Raises UnsupportedOperation for operations Zaqar has no action for."""
        return self._encode(request, ws_action(request.operation))

    def authenticate(self, token: str, project_id: str) -> Outgoing:
        """The ``authenticate`` frame (headers only). Its reply is a normal
        :class:`Reply`: status 200, or 401 ``{"error": "Authentication failed."}``."""
        return self._encode(
            authenticate_request(token, project_id), "authenticate", with_body=False
        )

    # -- receiving --------------------------------------------------------------

    def receive(self, data: str | bytes) -> Event:
        """Interpret one received frame (``str`` text / ``bytes`` binary)."""
        head = fastjson.reply_head(data)
        if head is not None:
            # A well-formed reply, decoded in one typed pass (core._json).
            request_id, status, body = head
            return Reply(request_id, Response(status, {}, body))
        try:
            frame = decode_frame(data)
        except ProtocolError as exc:
            return FrameError(exc)
        if not isinstance(frame, dict):
            return FrameError(ProtocolError(f"WebSocket frame is not an object: {frame!r:.80}"))
        # The upstream JS sample tells the two apart the same way.
        if "request" in frame and "headers" in frame:
            return self._reply(frame)
        queue_name = frame.get("queue_name")
        if isinstance(queue_name, str):
            ttl = frame.get("ttl")
            return Notification(
                queue_name=queue_name,
                body=frame.get("body"),
                ttl=ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None,
                raw=frame,
            )
        return FrameError(ProtocolError(f"unrecognised WebSocket frame: {dict(frame)!r:.120}"))

    def _reply(self, frame: Mapping[str, Any]) -> Event:
        headers = frame.get("headers")
        status = headers.get("status") if isinstance(headers, dict) else None
        request_id = _echoed_id(frame.get("request"))
        if not isinstance(status, int) or isinstance(status, bool):
            # A malformed reply fails its request at once, not at its timeout.
            return FrameError(
                ProtocolError(f"WebSocket reply without an integer status: {status!r:.80}"),
                request_id,
            )
        # The checked path (MessagePack, odd frames) hands over the body as
        # the object it decoded; the typed path above as JSON text.
        return Reply(request_id, Response(status, {}, b"", frame.get("body")))


def _echoed_id(request: Any) -> str | None:
    if not isinstance(request, dict):
        return None
    headers = request.get("headers")
    if not isinstance(headers, dict):
        return None
    value = headers.get(CORRELATION_HEADER)
    return value if isinstance(value, str) else None
