"""Client-side validation: bad input fails here, before anything is sent.

Every check raises :class:`~zaqarkit.errors.ValidationError` naming the field
and the rule. Limits that a Zaqar operator can configure (``[transport]`` in
``zaqar.conf``) live in :class:`Limits` and can be overridden per client.
"""

from __future__ import annotations

import datetime as _dt
import json
import json.encoder
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zaqarkit.core.bodies import encode_body as encode_model
from zaqarkit.errors import ValidationError

__all__ = ["DEFAULT_LIMITS", "Limits"]

_NAME = re.compile(r"^[a-zA-Z0-9_\-.]+$")
NAME_MAX_LENGTH = 64
PROJECT_ID_MAX_LENGTH = 256
#: Zaqar's hard floors (MIN_MESSAGE_TTL, MIN_CLAIM_TTL...), not configurable.
MIN_TTL = 60


@dataclass(frozen=True, slots=True)
class Limits:
    """Server limits, defaulting to Zaqar's shipped ``[transport]`` values.

    >>> Limits(max_message_ttl=86400).max_message_ttl
    86400
    """

    max_message_ttl: int = 1_209_600
    max_message_delay: int = 900
    max_claim_ttl: int = 43_200
    max_claim_grace: int = 43_200
    max_messages_per_claim_or_pop: int = 20
    max_messages_per_page: int = 20
    max_messages_post_size: int = 262_144
    max_queue_metadata: int = 65_536
    max_per_page: int = 20


DEFAULT_LIMITS = Limits()


def name(value: Any, field: str = "queue name") -> str:
    """A queue, topic, pool or flavor name.

    >>> name("orders.eu-1")
    'orders.eu-1'
    >>> name("bad name")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: queue name: must match ^[a-zA-Z0-9_\\-.]+$ \
(letters, digits, '_', '-', '.'), got 'bad name'
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    if not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(
            field, f"must be at most {NAME_MAX_LENGTH} characters, got {len(value)}"
        )
    if not _NAME.fullmatch(value):
        raise ValidationError(
            field,
            f"must match {_NAME.pattern} (letters, digits, '_', '-', '.'), got {value!r}",
        )
    return value


def integer(value: Any, field: str, low: int, high: int | None = None) -> int:
    """An int in ``low..high`` (inclusive; ``high=None`` means unbounded).

    Every numeric option of the package is checked here or by :func:`number`,
    so every message has one shape: ``<field>: must be <what>, got <value>``.

    >>> integer(3, "count", 1, 20)
    3
    >>> integer(0, "max_pending", 1)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: max_pending: must be at least 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValidationError(field, f"must be {_bounds(low, high)}, got {value}")
    return value


def number(
    value: Any, field: str, low: float, high: float | None = None, *, above: bool = False
) -> float:
    """A finite int or float of at least ``low`` (above it, with ``above``)
    and at most ``high``; returned as a float. A bool is not a number here.

    >>> number(0.5, "linger", 0)
    0.5
    >>> number(0, "poll_initial", 0, above=True)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: poll_initial: must be above 0, got 0
    >>> number(float("inf"), "backoff", 0)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: backoff: must be a finite number, got inf
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValidationError(field, f"must be a finite number, got {value!r}")
    if (value <= low if above else value < low) or (high is not None and value > high):
        bound = f"above {low}" if above and high is None else _bounds(low, high)
        if above and high is not None:
            bound = f"above {low} and at most {high}"
        raise ValidationError(field, f"must be {bound}, got {value!r}")
    return float(value)


def _bounds(low: float, high: float | None) -> str:
    return f"between {low} and {high}" if high is not None else f"at least {low}"


def boolean(value: Any, field: str) -> bool:
    """A flag: ``True`` or ``False`` only (not 1, not "true").

    >>> boolean(True, "echo")
    True
    """
    if not isinstance(value, bool):
        raise ValidationError(field, f"must be a bool, got {value!r}")
    return value


def _id_characters(text: str, commas: int = 0) -> bool:
    """Whether ``text`` holds only characters an id may have, besides exactly
    ``commas`` commas (the separators of ids joined by :func:`ids`)."""
    # Spelled out rather than any(...): ids are checked by the dozen per call.
    return (
        text.count(",") == commas
        and "/" not in text
        and "?" not in text
        and "#" not in text
        and " " not in text
        and text.isprintable()
        and text.isascii()
    )


def identifier(value: Any, field: str) -> str:
    """A message, claim or subscription id: non-empty, no '/', '?', '#' or ','."""
    if not isinstance(value, str) or not value:
        raise ValidationError(field, f"must be a non-empty string, got {value!r}")
    if not _id_characters(value):
        raise ValidationError(field, f"contains characters an id cannot have: {value!r}")
    return value


def ids(values: Iterable[Any], field: str, limits: Limits) -> tuple[str, ...]:
    """1..``max_messages_per_page`` ids, each valid.

    >>> ids(["m1", "m2"], "message_ids", Limits())
    ('m1', 'm2')
    >>> ids(["m1", "m/2"], "message_ids", Limits())
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: message_ids: contains characters an id cannot have: 'm/2'
    """
    result = tuple(values)
    # identifier()'s checks on the ids joined by the one separator they
    # cannot contain: one pass in C for the dozen ids of a claim. Anything
    # else goes id by id, which names the offending one.
    try:
        joined = ",".join(result)
    except TypeError:
        joined = ""
    if not (joined and all(result) and _id_characters(joined, len(result) - 1)):
        result = tuple(identifier(v, field) for v in result)
    if not 1 <= len(result) <= limits.max_messages_per_page:
        raise ValidationError(
            field,
            f"must hold between 1 and {limits.max_messages_per_page} ids, got {len(result)}",
        )
    return result


def client_id(value: Any) -> str:
    """Zaqar's default ``client_id_uuid_safe=strict`` wants a UUID (dashes optional).

    >>> client_id("0b3d2f1c8a7e4b5c9d6e0f1a2b3c4d5e")
    '0b3d2f1c8a7e4b5c9d6e0f1a2b3c4d5e'
    """
    text = str(value)
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValidationError("client_id", f"must be a UUID, got {text!r}") from None
    return text


def header_value(field: str, value: Any) -> str:
    """A header value: printable ASCII, no CR or LF (they would split the header).

    HTTP carries header values as bytes that Zaqar reads as ASCII; there is
    no percent-encoding to fall back on.

    >>> header_value("X-Project-ID", "caf\u00e9")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: X-Project-ID: must be printable ASCII, got 'café'
    """
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValidationError(field, "must not contain CR or LF characters")
    if not text.isascii() or not text.isprintable():
        raise ValidationError(field, f"must be printable ASCII, got {text!r}")
    return text


def header_name(value: Any) -> str:
    """A header name: an HTTP token (letters, digits and ``!#$%&'*+-.^_`|~``)."""
    text = value if isinstance(value, str) else ""
    if not _TOKEN.fullmatch(text):
        raise ValidationError("headers", f"{value!r} is not a valid header name")
    return text


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def query_value(field: str, value: Any) -> str:
    """A query value: any text without control characters (non-ASCII is
    percent-encoded in the URL, and sent as is over WebSocket).

    >>> query_value("marker", "caf\u00e9")
    'café'
    """
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValidationError(field, "must not contain CR or LF characters")
    if not text.isprintable():
        raise ValidationError(field, f"must not contain control characters, got {text!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            field, "contains a lone surrogate, which UTF-8 cannot encode"
        ) from None
    return text


#: One encoder for every body: json.dumps with arguments builds a new one per
#: call. ``allow_nan=False``: NaN and infinity are not JSON, and Zaqar cannot
#: store them.
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _encoder() -> Callable[[Any], str]:
    # JSONEncoder.encode makes a new C encoder per call (its iterencode does);
    # the C encoder it makes, built once here with the same settings, does
    # the same work for half the cost on a small body. Without circular
    # reference markers: a reused encoder would keep a failed call's markers
    # (and refuse some later body), and a cycle still fails, with
    # RecursionError, which encode_body explains like any other failure.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return _JSON.encode
    chunks = make(
        None, _JSON.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )

    def encode(data: Any) -> str:
        return "".join(chunks(data, 0))

    return encode


_encode = _encoder()


def encode_body(data: Any, field: str = "body") -> bytes:
    """``data`` as UTF-8 JSON, or a ValidationError naming the part that cannot be.

    >>> encode_body({"messages": [{"body": {"n": 1}}]})
    b'{"messages":[{"body":{"n":1}}]}'
    >>> encode_body({"messages": [{"body": {"when": {1, 2}}}]})
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: messages[0].body.when: has a set, which JSON cannot encode
    >>> encode_body({"messages": [{"body": float("nan")}]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: messages[0].body: is nan; ... cannot store NaN or infinity
    """
    try:
        return _encode(data).encode()
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        pass
    # The slow path runs only for a body that failed: find and name the culprit.
    try:
        found = _unencodable(data, "", set())
    except RecursionError:
        found = ("", "is nested too deeply to encode")
    path, rule = found or ("", "cannot be encoded as JSON")
    raise ValidationError(path.lstrip(".") or field, rule) from None


def _unencodable(value: Any, path: str, seen: set[int]) -> tuple[str, str] | None:
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, str):
        return _unencodable_text(value, path)
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return path, f"is {value!r}; JSON (and so Zaqar) cannot store NaN or infinity"
    if isinstance(value, (dict, list, tuple)):
        if id(value) in seen:
            return path, "refers to itself (a circular structure)"
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    if key is not None and not isinstance(key, (int, float)):
                        return path, f"has a {type(key).__name__} key, but JSON keys are strings"
                    key = str(key)
                elif (bad := _unencodable_text(key, path)) is not None:
                    return bad
                if (bad := _unencodable(item, f"{path}.{key}", seen)) is not None:
                    return bad
        else:
            for index, item in enumerate(value):
                if (bad := _unencodable(item, f"{path}[{index}]", seen)) is not None:
                    return bad
        seen.discard(id(value))
        return None
    return path, f"has a {type(value).__name__}, which JSON cannot encode"


def _unencodable_text(text: str, path: str) -> tuple[str, str] | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return path, "contains a lone surrogate, which UTF-8 cannot encode"
    return None


def project_id(value: Any) -> str:
    text = header_value("project_id", value)
    if not text:
        raise ValidationError("project_id", "must not be empty")
    if len(text) > PROJECT_ID_MAX_LENGTH:
        raise ValidationError(
            "project_id", f"must be at most {PROJECT_ID_MAX_LENGTH} characters, got {len(text)}"
        )
    return text


def message_ttl(value: Any, limits: Limits, field: str = "ttl") -> int:
    return integer(value, field, MIN_TTL, limits.max_message_ttl)


def message_delay(value: Any, limits: Limits) -> int:
    return integer(value, "delay", 0, limits.max_message_delay)


def claim_ttl(value: Any, limits: Limits) -> int:
    return integer(value, "ttl", MIN_TTL, limits.max_claim_ttl)


def claim_grace(value: Any, limits: Limits) -> int:
    return integer(value, "grace", MIN_TTL, limits.max_claim_grace)


def claim_limit(value: Any, limits: Limits, field: str = "limit") -> int:
    return integer(value, field, 1, limits.max_messages_per_claim_or_pop)


def page_limit(value: Any, limits: Limits) -> int:
    return integer(value, "limit", 1, limits.max_per_page)


def subscription_ttl(value: Any) -> int:
    return integer(value, "ttl", MIN_TTL, None)


def messages(items: Any, limits: Limits) -> list[dict[str, Any]]:
    """Normalise what a user posts into Zaqar's message objects.

    Accepts one message dict or a sequence of them; each needs ``body`` and may
    have ``ttl`` and ``delay``. Unknown keys are refused (the server would drop
    them silently). A body may be a model instance (``msgspec.Struct``,
    dataclass, pydantic model): it is posted as its JSON value
    (:func:`zaqarkit.core.bodies.encode_body`).
    """
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, (list, tuple)) and (
        isinstance(items, (str, bytes)) or not isinstance(items, Sequence)
    ):
        raise ValidationError(
            "messages", f"must be a message dict or a list of them, got {type(items).__name__}"
        )
    if not items:
        raise ValidationError("messages", "must hold at least one message")
    result: list[dict[str, Any]] = []
    max_ttl = limits.max_message_ttl
    for index, item in enumerate(items):
        # The common shape, {"body": ..., "ttl": <int in range>}, checked with
        # plain comparisons; everything else takes the path that names the fault.
        if type(item) is dict and len(item) == 2 and "body" in item:
            ttl = item.get("ttl")
            if type(ttl) is int and MIN_TTL <= ttl <= max_ttl:
                body = item["body"]
                if type(body) not in _JSON_TYPES:
                    # A model instance (Struct, dataclass, pydantic): its JSON value.
                    body = encode_model(body, f"messages[{index}].body")
                result.append({"body": body, "ttl": ttl})
                continue
        if not isinstance(item, dict):
            raise ValidationError(
                f"messages[{index}]", f"must be a dict with a 'body', got {item!r}"
            )
        if "body" not in item:
            raise ValidationError(f"messages[{index}]", "has no 'body'")
        unknown = item.keys() - _MESSAGE_KEYS
        if unknown:
            raise ValidationError(f"messages[{index}]", f"has unknown keys {sorted(unknown)}")
        message: dict[str, Any] = {"body": encode_model(item["body"], f"messages[{index}].body")}
        ttl = item.get("ttl")
        if ttl is not None:
            message["ttl"] = message_ttl(ttl, limits, f"messages[{index}].ttl")
        delay = item.get("delay")
        if delay is not None:
            message["delay"] = integer(
                delay, f"messages[{index}].delay", 0, limits.max_message_delay
            )
        result.append(message)
    return result


_MESSAGE_KEYS = frozenset({"body", "ttl", "delay"})
_JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})


def body_size(body: bytes, limits: Limits) -> bytes:
    if len(body) > limits.max_messages_post_size:
        raise ValidationError(
            "messages",
            f"the request body is {len(body)} bytes; the limit is "
            f"{limits.max_messages_post_size} (max_messages_post_size)",
        )
    return body


def choice(value: Any, field: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(field, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


# -- request bodies --------------------------------------------------------


def metadata(value: Any, limits: Limits) -> dict[str, Any]:
    """Queue or topic metadata: a dict within ``max_queue_metadata`` encoded."""
    if not isinstance(value, Mapping):
        raise ValidationError("metadata", f"must be a dict, got {type(value).__name__}")
    size = len(encode_body(value, "metadata"))
    if size > limits.max_queue_metadata:
        raise ValidationError(
            "metadata", f"is {size} bytes encoded; the limit is {limits.max_queue_metadata}"
        )
    return dict(value)


def patch_operations(operations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """JSON-patch operations on ``/metadata/<key>`` (add, replace, remove)."""
    checked = [_patch_operation(item, index) for index, item in enumerate(operations)]
    if not checked:
        raise ValidationError("operations", "must hold at least one JSON-patch operation")
    return checked


def _patch_operation(item: Any, index: int) -> dict[str, Any]:
    where = f"operations[{index}]"
    if not isinstance(item, Mapping):
        raise ValidationError(where, f"must be a dict, got {item!r}")
    op = choice(item.get("op"), f"{where}.op", ("add", "replace", "remove"))
    path = item.get("path")
    if not isinstance(path, str) or not path.startswith("/metadata/") or path.count("/") != 2:
        raise ValidationError(f"{where}.path", f"must look like '/metadata/<key>', got {path!r}")
    result = {"op": op, "path": path}
    if op != "remove":
        if "value" not in item:
            raise ValidationError(where, f"'{op}' needs a 'value'")
        result["value"] = item["value"]
    return result


def expires(value: _dt.datetime | str) -> str:
    """A signed URL's expiry as Zaqar writes it: ``YYYY-MM-DDTHH:MM:SS`` in UTC.

    >>> expires(_dt.datetime(2030, 1, 1, 12, tzinfo=_dt.timezone.utc))
    '2030-01-01T12:00:00'
    """
    if isinstance(value, str):
        try:
            _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ValidationError(
                "expires", f"must be 'YYYY-MM-DDTHH:MM:SS' (UTC), got {value!r}"
            ) from None
        return value
    if not isinstance(value, _dt.datetime):
        raise ValidationError("expires", f"must be a datetime or a string, got {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


_SUBSCRIBER_SCHEMES = ("http://", "https://", "mailto:", "trust+http://", "trust+https://")


def subscription_fields(
    subscriber: str | None,
    ttl: int | None,
    options: Mapping[str, Any] | None,
    *,
    require_subscriber: bool,
) -> dict[str, Any]:
    """The given fields of a subscription (subscriber URL, ttl, options)."""
    body: dict[str, Any] = {}
    if subscriber is not None or require_subscriber:
        if not isinstance(subscriber, str) or not subscriber.startswith(_SUBSCRIBER_SCHEMES):
            raise ValidationError(
                "subscriber",
                "must be a URL with scheme http, https, mailto, trust+http or trust+https, "
                f"got {subscriber!r}",
            )
        body["subscriber"] = subscriber
    if ttl is not None:
        body["ttl"] = subscription_ttl(ttl)
    if options is not None:
        body["options"] = _options(options)
    return body


def pool_fields(
    uri: str | None, weight: int | None, flavor: str | None, options: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The given fields of a pool (uri, weight, flavor, options)."""
    body: dict[str, Any] = {}
    if uri is not None:
        if not isinstance(uri, str) or not uri or len(uri) > 255:
            raise ValidationError("uri", f"must be a string of 1 to 255 characters, got {uri!r}")
        body["uri"] = uri
    if weight is not None:
        body["weight"] = integer(weight, "weight", 0, 2**32 - 1)
    if flavor is not None:
        body["flavor"] = name(flavor, "flavor name")
    if options is not None:
        body["options"] = _options(options)
    return body


def _options(options: Any) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        raise ValidationError("options", f"must be a dict, got {type(options).__name__}")
    return dict(options)


def pool_names(pool_list: Iterable[str]) -> list[str]:
    """A flavor's non-empty list of pool names."""
    if isinstance(pool_list, str):
        raise ValidationError("pool_list", f"must be a list of pool names, got {pool_list!r}")
    names = [name(item, "pool name") for item in pool_list]
    if not names:
        raise ValidationError("pool_list", "must hold at least one pool name")
    return names
