"""Typed message bodies, sans-I/O: a message body decoded into the type the
caller names (``body_type=``), and a model instance encoded as a body.

A :class:`BodyCodec` is made once per body type (:func:`codec_for` caches
it) and used by the parsers in :mod:`zaqarkit.core.parse`:

* ``msgspec.Struct`` types, dataclasses, ``TypedDict`` types and plain types
  (``str``, ``dict[str, int]``, ``list[Order]``...) are decoded by msgspec
  *straight from the response bytes*: the listing's JSON goes through one
  decoder typed ``{"messages": [{"body": <type>, ...}]}``, so no dict is
  built for a body on the way. A WebSocket reply whose body arrived decoded
  is converted with the same type checks (``msgspec.convert``).
* pydantic models (when pydantic is installed; it is not a dependency)
  validate each body as msgspec decoded it (the model's validator), in the
  same pass over the listing.

A body that does not decode raises :class:`~zaqarkit.errors.BodyDecodeError`
naming the message id and the place in the body. The fast path gives up on
the first failure and the parser redoes the listing the checked way, which
finds every message that failed (the consumer needs them all: it hands the
good ones out and treats the rest as poison).

>>> from dataclasses import dataclass
>>> @dataclass
... class Order:
...     sku: str
...     qty: int = 1
>>> codec = codec_for(Order)
>>> codec.decode({"sku": "A-1"}, "m1")
Order(sku='A-1', qty=1)
>>> codec.decode({"sku": "A-1", "qty": "two"}, "m2")
Traceback (most recent call last):
...
zaqarkit.errors.BodyDecodeError: messages[m2].body.qty: Expected `int`, got `str`
>>> encode_body(Order("A-2", 3), "messages[0].body")
{'sku': 'A-2', 'qty': 3}
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from zaqarkit.core import _json as fastjson
from zaqarkit.errors import BodyDecodeError, ValidationError

try:
    import msgspec
except ImportError:  # pragma: no cover - exercised by the no-extra test environment
    msgspec = None  # type: ignore[assignment]

__all__ = ["BodyCodec", "codec_for", "encode_body"]

B = TypeVar("B")

#: JSON's own Python types: a body of one of these is posted as it is.
_JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None), tuple})

#: msgspec ends a validation message with where it failed: " - at `$.a[0]`".
_AT = re.compile(r"^(?P<rule>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _pydantic_model(body_type: Any) -> Any:
    """pydantic's BaseModel when ``body_type`` is a pydantic model, else None.
    Never imports pydantic: a program that has a model has imported it."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(body_type, type):
        return None
    base = getattr(pydantic, "BaseModel", None)
    return base if base is not None and issubclass(body_type, base) else None


def _completing(model: Any) -> Callable[[Any], Any]:
    """``model.model_validate`` for a model whose forward references were not
    resolved when its codec was made; a reference that still cannot be
    resolved is the caller's ``body_type`` error, not pydantic's."""

    def validate(value: Any) -> Any:
        try:
            return model.model_validate(value)
        except sys.modules["pydantic"].PydanticUserError as exc:
            raise ValidationError("body_type", f"{model.__name__} is not usable: {exc}") from None

    return validate


class BodyCodec(Generic[B]):
    """How bodies of one type are decoded. Obtain it with :func:`codec_for`.

    ``listing_json`` and ``listing_type`` decode a whole message listing
    (:func:`zaqarkit.core._json.message_listing`); ``finish``, when set,
    turns each listed body into ``B`` afterwards (pydantic: the decoded body
    into the model), raising one of ``failures``.
    """

    __slots__ = ("_convert", "body_type", "failures", "finish", "listing_json", "listing_type")

    def __init__(self, body_type: Any) -> None:
        self.body_type = body_type
        self.finish: Callable[[Any], B] | None = None
        self.listing_json: Callable[[bytes], Any] | None = None
        self.listing_type: Any = None
        if _pydantic_model(body_type) is not None:
            self.failures: tuple[type[BaseException], ...] = (
                sys.modules["pydantic"].ValidationError,
                ValueError,
                TypeError,
            )
            # The model's validator (documented as ``__pydantic_validator__``)
            # does what ``model_validate`` does for a plain dict at half its
            # cost per call on pydantic 2.14 (benchmarks/typed_bench.py); a
            # model with unresolved forward references is not complete yet and
            # goes through ``model_validate``, which builds it first.
            self._convert: Callable[[Any], B] = (
                body_type.__pydantic_validator__.validate_python
                if body_type.__pydantic_complete__
                else _completing(body_type)
            )
            if msgspec is not None:
                # The listing is decoded in one typed pass (bodies as plain
                # JSON), then each body validated: measured faster than
                # cutting raw bodies for model_validate_json
                # (benchmarks/typed_bench.py).
                self.listing_json, self.listing_type = fastjson.typed_listing(Any)
                self.finish = self._convert
            return
        if msgspec is None:  # pragma: no cover - exercised by the no-extra test environment
            raise ValidationError(
                "body_type",
                "decoding bodies into a type needs msgspec: "
                "pip install 'zaqarkit[fast]' (or use a pydantic model)",
            )
        try:
            self.listing_json, self.listing_type = fastjson.typed_listing(body_type)
        except TypeError as exc:
            raise ValidationError(
                "body_type", f"msgspec cannot decode JSON into {body_type!r}: {exc}"
            ) from None
        self.failures = (msgspec.ValidationError,)
        convert = msgspec.convert
        self._convert = lambda value: convert(value, body_type)

    def __repr__(self) -> str:
        return f"BodyCodec({self.body_type!r})"

    def decode(self, value: Any, message_id: str, claim_id: str | None = None) -> B:
        """``value`` (a body decoded as plain JSON) as a ``B``, or
        :class:`BodyDecodeError` naming ``message_id`` and the place in the body."""
        try:
            return self._convert(value)
        except ValidationError:
            raise  # the body type is unusable (see _completing), whatever the body
        except self.failures as exc:
            path, reason = self._where(exc)
            raise BodyDecodeError(
                message_id, path, reason, value, self.body_type, claim_id
            ) from None

    def _where(self, exc: BaseException) -> tuple[str, str]:
        """``(path, reason)`` of a decoding failure: ``(".items[0].qty", "...")``."""
        errors = getattr(exc, "errors", None)
        if callable(errors) and _pydantic_model(self.body_type) is not None:
            found = errors()
            if found:
                first = found[0]
                path = "".join(
                    f"[{part}]" if isinstance(part, int) else f".{part}"
                    for part in first.get("loc", ())
                )
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                return path, f"{first.get('msg', exc)}{more}"
        match = _AT.match(str(exc))
        assert match is not None  # the pattern matches every string
        return match["path"] or "", match["rule"]


_CODECS: dict[Any, BodyCodec[Any]] = {}


def codec_for(body_type: Any) -> BodyCodec[Any]:
    """The (cached) codec of ``body_type``; ValidationError for a type that
    cannot be decoded into.

    >>> codec_for(int) is codec_for(int)
    True
    >>> codec_for(int).decode("7", "m1")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.BodyDecodeError: messages[m1].body: Expected `int`, got `str`
    """
    try:
        codec = _CODECS.get(body_type)
    except TypeError:  # an unhashable type form: not cached
        return BodyCodec(body_type)
    if codec is None:
        codec = _CODECS[body_type] = BodyCodec(body_type)
    return codec


def encode_body(body: Any, field: str) -> Any:
    """``body`` as the JSON value to post: a pydantic model through
    ``model_dump(mode="json")``, a ``msgspec.Struct`` or a dataclass through
    ``msgspec.to_builtins`` (``dataclasses.asdict`` without msgspec); JSON's
    own types (a ``TypedDict`` is a dict) as they are. ValidationError naming
    ``field`` when the model cannot be encoded.

    >>> encode_body({"n": 1}, "messages[0].body")
    {'n': 1}
    """
    if type(body) in _JSON_TYPES:
        return body
    try:
        if _pydantic_model(type(body)) is not None:
            return body.model_dump(mode="json")
        if msgspec is not None and isinstance(body, msgspec.Struct):
            return msgspec.to_builtins(body)
        if dataclasses.is_dataclass(body) and not isinstance(body, type):
            if msgspec is not None:
                return msgspec.to_builtins(body)
            return dataclasses.asdict(body)  # pragma: no cover - without msgspec
    except Exception as exc:  # a model's own serializer may raise anything
        raise ValidationError(
            field, f"cannot be encoded as JSON: {type(exc).__name__}: {exc}"
        ) from None
    # Anything else is posted as it is: the JSON encoder names what it refuses.
    return body
