"""JSON (and WebSocket reply) coding for the hot paths: msgspec when it is
installed (the ``fast`` extra), the standard library otherwise.

Both give the same result, by construction rather than by hope: msgspec is
tried first, and whatever it refuses or might render differently goes through
the standard library, so results and errors are exactly ``json``'s.

* :func:`dumps_frame` (WebSocket frames only: msgspec also encodes sets,
  bytes and datetimes, which ``json`` refuses, so it is used only on values
  ``json`` has encoded once already): msgspec writes ``NaN`` and ``Infinity`` as ``null`` where
  ``json`` writes ``NaN``; output containing ``null`` is therefore redone by
  ``json`` (a body with a real ``null`` pays both encoders, about 1 us extra).
  Types msgspec does not encode as ``json`` does (integer keys, integers over
  64 bits, str subclasses, lone surrogates) raise in msgspec and take the
  ``json`` path.
* :func:`loads`: what msgspec refuses (``NaN``, integers over 64 bits, nesting
  deeper than msgspec allows, lone surrogates) is decoded by ``json``, which
  accepts it or raises its own ``ValueError``.
* :func:`message_listing`: an HTTP message listing or claim body decoded
  straight into typed message structs (no dict per message; the types are
  checked by the decoder), or a WebSocket reply's decoded body converted
  into the same structs (``msgspec.convert``, the same type checks). Anything
  it does not take as it is (a missing or mistyped field, a message with
  neither id nor href, any other shape) returns None, and
  :mod:`zaqarkit.core.parse` decodes the body the checked way, which yields
  the same models or the precise ProtocolError.
* :func:`reply_head`: a Zaqar WebSocket reply decoded straight into a typed
  struct (text frames). The echoed request (Zaqar repeats the whole request frame in every
  reply, a post of 10 messages included) is skipped but for its correlation
  header, ``status`` is checked to be an integer by the decoder, and the
  body is only checked to be JSON and handed over as its text, as an HTTP
  body is: the parser decodes it once, into typed structs where it has them
  (a listing's messages), instead of into dicts first. A frame of any other
  shape returns None and takes the checked path of :mod:`zaqarkit.core.ws`.

Measured on this project's 2-core box (CPython 3.11, msgspec 0.23): a
post-10 reply decodes in 2.7 us typed, 17.8 us with ``json.loads``; a
post-10 frame encodes in 1.1 us, 16.5 us with ``json``.

>>> dumps_frame({"a": [1, "é"]})
b'{"a":[1,"\\xc3\\xa9"]}'
>>> loads(b'{"n": NaN}')["n"]
nan
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

from zaqarkit.core.models import Message

__all__ = [
    "FAST",
    "MESSAGE_FIELDS",
    "dumps_frame",
    "dumps_std",
    "loads",
    "loads_std",
    "listed_message",
    "message_listing",
    "reply_head",
    "typed_listing",
]


#: One encoder for every body: json.dumps with arguments builds a new one per call.
_STD_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps_std(value: Any) -> bytes:
    """Compact UTF-8 JSON with the standard library (the reference result)."""
    return _STD_ENCODER.encode(value).encode()


def loads_std(data: str | bytes) -> Any:
    """``json.loads``: the reference decoder."""
    return json.loads(data)


try:
    import msgspec
except ImportError:  # pragma: no cover - exercised by the no-extra test environment
    msgspec = None  # type: ignore[assignment]

#: Whether msgspec drives the hot paths.
FAST = msgspec is not None


def _message_fields() -> tuple[tuple[str, type, bool], ...]:
    hints = typing.get_type_hints(Message)
    found = []
    for item in fields(Message):
        if item.name == "body":
            continue
        kind = hints[item.name]
        if isinstance(kind, types.UnionType):
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        found.append((item.name, kind, item.default is MISSING))
    return tuple(found)


#: Every field of a message but its body, as ``(name, JSON type, required)``
#: in the order of :class:`~zaqarkit.core.models.Message`, read from that
#: model: the typed decoders below and both parsers of
#: :mod:`zaqarkit.core.parse` are built from it, so a new message field is
#: one edit, in the model.
MESSAGE_FIELDS = _message_fields()

if msgspec is not None:
    _encode = msgspec.json.Encoder().encode
    _decode = msgspec.json.Decoder().decode
    _Failed = (msgspec.DecodeError, msgspec.ValidationError)

    class _EchoHeaders(msgspec.Struct):
        request_id: str = msgspec.field(name="X-Request-ID")

    class _Echo(msgspec.Struct):
        headers: _EchoHeaders

    class _Status(msgspec.Struct):
        status: int

    class _Reply(msgspec.Struct):
        request: _Echo
        headers: _Status
        body: msgspec.Raw = msgspec.Raw()

    _reply_json = msgspec.json.Decoder(_Reply).decode

    class ListedLink(msgspec.Struct, gc=False):
        rel: Any = None
        href: Any = None

    def _message_struct(name: str, body_type: Any) -> Any:
        # On the wire a message may carry its href instead of its id, so
        # every field but the body and the model's required plain values
        # may be missing. No cycle can run through a decoded message, so the
        # garbage collector need not track it.
        spec: list[tuple[Any, ...]] = [("body", body_type)]
        for field_name, kind, required in MESSAGE_FIELDS:
            if required and field_name != "id":
                spec.append((field_name, kind))
        for field_name, kind, required in MESSAGE_FIELDS:
            if not required or field_name == "id":
                spec.append((field_name, kind | None, None))
        return msgspec.defstruct(name, spec, gc=False)

    def _listing_struct(message: Any) -> Any:
        return msgspec.defstruct(
            "Listing",
            [
                ("messages", list[message]),
                ("links", list[ListedLink] | None, None),
                ("count", Any, None),
                ("claim_id", str | None, None),
            ],
            gc=False,
        )

    #: One message of a listing, as the decoder checked it: ``body`` and the
    #: required fields present, every field of its JSON type (an int is
    #: never a bool).
    ListedMessage = _message_struct("ListedMessage", Any)
    _Listing = _listing_struct(ListedMessage)
    _listing_json = msgspec.json.Decoder(_Listing).decode
    _convert = msgspec.convert

    def typed_listing(body_type: Any) -> tuple[Callable[[bytes], Any], Any]:
        """The JSON decoder and the listing type for listings whose message
        bodies are ``body_type`` (a body type: see :mod:`zaqarkit.core.bodies`);
        raises TypeError for a type msgspec cannot decode into."""
        listing = _listing_struct(_message_struct("TypedMessage", body_type))
        return msgspec.json.Decoder(listing).decode, listing

    def listed_message(value: dict[str, Any]) -> Any:
        """One message object checked as a listing's messages are (a
        :data:`ListedMessage`), or None when it needs the checked path."""
        try:
            return _convert(value, ListedMessage)
        except _Failed:
            return None

    def message_listing(
        data: bytes | dict[str, Any],
        decode: Callable[[bytes], Any] = _listing_json,
        listing_type: Any = _Listing,
    ) -> tuple[list[Any], list[ListedLink] | None, Any, str | None] | None:
        """``(messages, links, count, claim_id)`` of a JSON object holding a
        ``messages`` array of well-formed messages (and ``links``, if any, an
        array of objects), or None for anything else (which the caller
        decodes the checked way). ``data`` is the JSON text, or the object a
        WebSocket reply already decoded (checked by the same types).
        ``decode`` and ``listing_type`` (from :func:`typed_listing`) decode
        the bodies into a body type as well."""
        try:
            listing = _convert(data, listing_type) if isinstance(data, dict) else decode(data)
        except _Failed:
            return None
        return listing.messages, listing.links, listing.count, listing.claim_id

    def dumps_frame(value: Any) -> bytes:
        """Compact UTF-8 JSON of a WebSocket frame, equal in meaning to
        :func:`dumps_std`, for values the standard library has already
        encoded once: a frame's body holds the request's params, which
        ``validate.encode_body`` encoded as the HTTP body (so a set, bytes or a
        datetime, which msgspec would encode and json refuses, never get here)."""
        try:
            out = _encode(value)
        except (TypeError, ValueError, OverflowError, UnicodeError):
            return dumps_std(value)
        return dumps_std(value) if b"null" in out else out

    def loads(data: str | bytes) -> Any:
        """``json.loads``, faster; raises what ``json.loads`` raises."""
        try:
            return _decode(data)
        except _Failed:
            return json.loads(data)

    def reply_head(data: str | bytes) -> tuple[str, int, bytes] | None:
        """``(request id, status, body)`` of a well-formed JSON WebSocket
        reply, ``body`` as JSON text (``b""`` for a missing or ``null``
        body: no content, as an empty HTTP body), or None for any other
        frame. MessagePack frames always take the checked path: msgspec and
        msgpack differ on ext types and integer map keys."""
        if not isinstance(data, str):
            return None
        try:
            reply = _reply_json(data)
        except _Failed:
            return None
        body = bytes(reply.body)
        return (
            reply.request.headers.request_id,
            reply.headers.status,
            (b"" if body == b"null" else body),
        )

else:  # pragma: no cover - exercised by the no-extra test environment
    dumps_frame = dumps_std
    loads = loads_std

    def message_listing(
        data: bytes | dict[str, Any],
        decode: Callable[[bytes], Any] | None = None,
        listing_type: Any = None,
    ) -> tuple[list[Any], Any, Any, str | None] | None:
        """Without msgspec every listing takes the checked path."""
        return None

    def listed_message(value: dict[str, Any]) -> Any:
        """Without msgspec every message takes the checked path."""
        return None

    def typed_listing(body_type: Any) -> tuple[Callable[[bytes], Any], Any]:
        """Without msgspec there is no typed decoder."""
        raise TypeError("decoding into a body type needs msgspec")

    def reply_head(data: str | bytes) -> tuple[str, int, bytes] | None:
        """Without msgspec there is no typed path: every frame is checked."""
        return None
