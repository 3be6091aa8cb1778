"""Pure response parsing: status to error, JSON to models.

Every function here either returns a model or raises a zaqarkit error: a
malformed response becomes :class:`~zaqarkit.errors.ProtocolError`, never a
``KeyError`` or ``TypeError``. The same parsers read HTTP answers and
WebSocket replies (a reply's decoded body arrives as ``Response.data``);
where Zaqar's two transports shape an answer differently, the parser of
that answer accepts both.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import parse_qs, unquote_plus, urlsplit

from zaqarkit.core import _json as fastjson
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.models import (
    Claim,
    Flavor,
    Health,
    HomeDocument,
    Message,
    MessageStat,
    Page,
    Pool,
    Queue,
    SignedURL,
    Stats,
    Subscription,
    Topic,
)
from zaqarkit.core.operations import Operation
from zaqarkit.core.wire import Call
from zaqarkit.errors import ApiError, BodyDecodeError, ProtocolError, error_for_status

if TYPE_CHECKING:
    from zaqarkit.core.wire import Response

__all__ = [
    "claim_id_from_href",
    "decode_json",
    "expect_object",
    "json_or_none",
    "raise_for_status",
    "retry_after",
]

T = TypeVar("T")
B = TypeVar("B")


def decode_json(response: Response, *, allow_empty: bool = False) -> Any:
    """Decode a JSON body, raising ProtocolError when it is not JSON."""
    if response.data is not None:
        return response.data
    if not response.body:
        if allow_empty:
            return None
        raise ProtocolError(f"expected a JSON body in the {response.status} response, got none")
    try:
        return fastjson.loads(response.body)  # json.loads, faster with msgspec
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        preview = response.body[:80].decode("utf-8", "replace")
        raise ProtocolError(
            f"expected a JSON body in the {response.status} response, got {preview!r}"
        ) from exc


def json_or_none(response: Response) -> Any:
    """The decoded JSON body, or None when there is none or it is not JSON
    (for answers read only for a hint, never to fail on).

    >>> from zaqarkit.core.wire import Response
    >>> json_or_none(Response(404, body=b'{"a": 1}')), json_or_none(Response(404, body=b"<p>"))
    ({'a': 1}, None)
    """
    try:
        return decode_json(response, allow_empty=True)
    except ProtocolError:
        return None


def retry_after(response: Response) -> float | None:
    """The ``Retry-After`` of ``response`` in seconds, or None.

    >>> from zaqarkit.core.wire import Response
    >>> retry_after(Response(503, {"retry-after": "2"})), retry_after(Response(503))
    (2.0, None)
    """
    value = response.header("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        # An HTTP-date Retry-After would need a clock to interpret; the core has none.
        return None
    # "inf" or "nan" parse as floats but are no delay a caller can wait for.
    return max(0.0, seconds) if math.isfinite(seconds) else None


def raise_for_status(response: Response, operation: str | None = None) -> None:
    """Raise the typed ApiError for an error status; return quietly otherwise.

    Understands Falcon's ``{"title", "description"}`` (description may be
    missing) and the WebSocket ``{"error", "exception"}`` bodies.

    >>> from zaqarkit.core.wire import Response
    >>> raise_for_status(Response(404, body=b'{"title": "Not found"}'), "queue_get")
    Traceback (most recent call last):
    ...
    zaqarkit.errors.NotFound: 404 Not found (operation queue_get)
    """
    status = response.status
    if status < 400:
        return
    if operation is not None:
        # An Operation is a str: the parsers pass theirs as it is (its .value
        # costs a Python-level lookup on every answer), the error holds a str.
        operation = str(operation)
    title = ""
    description = ""
    try:
        data = decode_json(response, allow_empty=True)
    except ProtocolError:
        data = None
        description = response.body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        title = _text(data.get("title"))
        description = _text(data.get("description"))
        if not title and not description:
            # WebSocket error bodies: {"error": "...", "exception": "..."}.
            title = _text(data.get("error"))
            description = _text(data.get("exception"))
    elif isinstance(data, str):
        description = data
    cls = error_for_status(status)
    error: ApiError = cls(
        status,
        title,
        description,
        operation,
        request_id=response.header("x-openstack-request-id"),
    )
    if error.retryable:
        error.retry_after = retry_after(response)
    raise error


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def fail(what: str, value: Any) -> NoReturn:
    shown = repr(value)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    raise ProtocolError(f"malformed response: {what}, got {shown}")


def expect_object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        fail(f"{what} should be a JSON object", value)
    return value


def expect_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        fail(f"{what} should be a JSON array", value)
    return value


def field(obj: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], what: str) -> T:
    try:
        value = obj[key]
    except KeyError:
        fail(f"{what} has no {key!r}", dict(obj))
    # bool is an int in Python; Zaqar's ints are never booleans.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        fail(f"{what}.{key} has the wrong type", value)
    return value  # type: ignore[return-value]


def optional(
    obj: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], what: str
) -> T | None:
    if obj.get(key) is None:
        return None
    return field(obj, key, kind, what)


def claim_id_from_href(href: str | None) -> str | None:
    """The ``claim_id`` query parameter of a message href, if any.

    >>> claim_id_from_href("/v2/queues/q/messages/m1?claim_id=c1")
    'c1'
    """
    if not href or "?" not in href:
        return None
    if (
        href[0] == "/"
        and href[1:2] != "/"
        and "%" not in href
        and "+" not in href
        and "#" not in href
        and "\t" not in href
        and "\r" not in href
        and "\n" not in href
    ):
        # What Zaqar writes (``/v2/...?claim_id=<uuid>``), read by hand:
        # parse_qs and urlsplit cost microseconds per claimed message. For an
        # absolute path (no scheme, no host) without escapes, '+' (a space), a
        # fragment or the characters urlsplit drops, this is exactly their
        # answer: the first non-empty value.
        for pair in href.partition("?")[2].split("&"):
            key, _, value = pair.partition("=")
            if key == "claim_id" and value:
                return value
        return None
    values = parse_qs(urlsplit(href).query).get("claim_id")
    return values[0] if values else None


def _last_segment(href: str) -> str:
    if "://" in href or "#" in href:
        href = urlsplit(href).path
    return href.partition("?")[0].rstrip("/").rsplit("/", 1)[-1]


def message(value: Any) -> Message[Any]:
    """A message object (HTTP listing, claim, pop, or WebSocket reply).

    Well-formed input is checked in one typed pass, as a listing's messages
    are (:func:`zaqarkit.core._json.listed_message`), and built by the same
    code; anything else gets the checked path and its precise ProtocolError.
    Both read the fields from :data:`~zaqarkit.core._json.MESSAGE_FIELDS`.
    """
    if type(value) is dict:
        listed = fastjson.listed_message(value)
        if listed is not None:
            built = _built(listed)
            if built is not None:
                return built
    return _checked_message(value)


#: Claim ids the claimed-href shortcut of :func:`_built` may compare as
#: text: what Zaqar's drivers mint (UUIDs, hex ids), nothing parse_qs would
#: unescape or split.
_PLAIN_CLAIM_ID = re.compile(r"[A-Za-z0-9_.\-]+")

#: The model's fields after ``id`` and ``body``, read from a typed message
#: in one call; ``href`` and ``claim_id`` among them are worked out.
_REST = tuple(name for name, _, _ in fastjson.MESSAGE_FIELDS if name != "id")
_read_rest = operator.attrgetter(*_REST)
_HREF = _REST.index("href")
_CLAIM_ID = _REST.index("claim_id")


def _built(m: Any, claimed: str | None = None, tail: str = "") -> Message[Any] | None:
    """The model of a message the typed decoder checked (``m``), or None
    when it has neither id nor href (the checked path names what is
    missing). ``claimed`` is the claim id the answer names and ``tail`` its
    href query (``?claim_id=<id>``), if any."""
    rest = list(_read_rest(m))
    href = rest[_HREF]
    message_id = m.id
    if message_id is None:
        if href is None:
            return None
        message_id = _last_segment(href)
    if not rest[_CLAIM_ID]:
        # No call unless the href has a query (claimed messages over HTTP).
        if not href or "?" not in href:
            rest[_CLAIM_ID] = None
        elif (
            tail
            and href.endswith(tail)
            and href.find("?") == len(href) - len(tail)
            and "#" not in href
        ):
            rest[_CLAIM_ID] = claimed
        else:
            rest[_CLAIM_ID] = claim_id_from_href(href)
    return Message(message_id, m.body, *rest)


def _typed_messages(
    body: bytes | dict[str, Any], claimed: str | None = None, codec: BodyCodec[Any] | None = None
) -> tuple[tuple[Message[Any], ...], list[Any] | None, Any, str | None] | None:
    """The messages of a listing or claim body (JSON text, or a WebSocket
    reply's decoded object) checked in one typed pass
    (:func:`zaqarkit.core._json.message_listing`), built as :func:`message`
    builds them; None when the body needs the checked path. ``claimed`` is
    the claim id the answer's ``Location`` names, if any. With ``codec``
    the bodies are decoded into its body type in the same pass; None then
    also means some body did not decode (the checked path names it)."""
    if codec is None:
        listing = fastjson.message_listing(body)
    elif codec.listing_json is None:
        return None  # no msgspec: a pydantic model validates decoded bodies
    else:
        listing = fastjson.message_listing(body, codec.listing_json, codec.listing_type)
    if listing is None:
        return None
    items, links, count, claim_id = listing
    if codec is not None and codec.finish is not None:
        finish = codec.finish
        try:
            for item in items:
                item.body = finish(item.body)
        except codec.failures:
            return None
    # A claim's messages name it in their hrefs ('...?claim_id=<id>'). An
    # href whose whole query is that, with no fragment, holds that claim id
    # for claim_id_from_href too: one comparison instead of a parse each.
    tail = f"?claim_id={claimed}" if claimed and _PLAIN_CLAIM_ID.fullmatch(claimed) else ""
    built = []
    for m in items:
        one = _built(m, claimed, tail)
        if one is None:
            return None
        built.append(one)
    return tuple(built), links, count, claim_id


def _checked_message(value: Any) -> Message[Any]:
    obj = expect_object(value, "message")
    href = optional(obj, "href", str, "message")
    message_id = optional(obj, "id", str, "message")
    if message_id is None:
        if href is None:
            fail("message has neither 'id' nor 'href'", dict(obj))
        message_id = _last_segment(href)
    if "body" not in obj:
        fail("message has no 'body'", dict(obj))
    found: dict[str, Any] = {"id": message_id, "href": href}
    for name, kind, required in fastjson.MESSAGE_FIELDS:
        if name not in found:
            read = field if required else optional
            found[name] = read(obj, name, kind, "message")
    found["claim_id"] = found["claim_id"] or claim_id_from_href(href)
    return Message(body=obj["body"], **found)


def messages(value: Any, what: str = "messages") -> tuple[Message[Any], ...]:
    return tuple(message(item) for item in expect_list(value, what))


def _next_marker(obj: Mapping[str, Any]) -> str | None:
    links = obj.get("links")
    if links is None:
        return None
    for link in expect_list(links, "links"):
        link_obj = expect_object(link, "link")
        if link_obj.get("rel") == "next":
            return _query_marker(field(link_obj, "href", str, "link"))
    return None


def _query_marker(href: str) -> str | None:
    # By hand rather than parse_qs: this runs for every listing page.
    for pair in href.partition("?")[2].partition("#")[0].split("&"):
        key, _, value = pair.partition("=")
        if key == "marker" and value:
            return unquote_plus(value) if "%" in value or "+" in value else value
    return None


#: Zaqar's page size when a listing asks for none.
DEFAULT_PAGE_SIZE = 10


def page(
    response: Response,
    key: str,
    item: Callable[[Any], T],
    *,
    marker_key: str | None = None,
    limit: int | None = None,
) -> Page[T]:
    """Parse a listing page ``{key: [...], "links": [...]}``.

    The next page's marker is the one in the ``next`` link (HTTP). Zaqar's
    WebSocket replies carry no links: there a full page (``limit`` items) of
    a listing its drivers page by item field ``marker_key`` continues after
    its last item. A body-less 204 (how v1 answers an empty listing) is an
    empty page.
    """
    if response.status == 204 and not response.body and response.data is None:
        return Page(())
    if item is message and key == "messages":
        raw = _typed_source(response)
        typed = None if raw is None else _typed_message_page(raw)
        if typed is not None:
            # item is message, so T is Message (not typing.cast: a call per page)
            return typed  # type: ignore[return-value]
    obj = expect_object(decode_json(response), "listing")
    entries = obj.get(key)
    if type(entries) is not list:
        entries = expect_list(entries, f"listing.{key}")
    items = tuple([item(entry) for entry in entries])
    count = obj.get("count")
    # The SQL catalog answers "count": true (a Zaqar bug); only trust a real int.
    if isinstance(count, bool) or not isinstance(count, int):
        count = None
    if "links" in obj:
        marker = _next_marker(obj)
    else:
        marker = _last_key(entries, marker_key, DEFAULT_PAGE_SIZE if limit is None else limit)
    return Page(items, marker, count)


def _typed_source(response: Response) -> bytes | dict[str, Any] | None:
    """What the typed message path can take of ``response``: the decoded
    object of a WebSocket reply, else the JSON body; None without either."""
    data = response.data
    if data is None:
        return response.body or None
    return data if type(data) is dict else None


def _typed_message_page(
    body: bytes | dict[str, Any], codec: BodyCodec[Any] | None = None
) -> Page[Message[Any]] | None:
    """A message listing page from the typed decoder; None when the body
    needs the checked path (which then names what is wrong)."""
    typed = _typed_messages(body, None, codec)
    if typed is None:
        return None
    items, links, count, _ = typed
    marker = None
    for link in links or ():
        if link.rel == "next":
            if type(link.href) is not str:
                return None
            marker = _query_marker(link.href)
            break
    return Page(items, marker, count if type(count) is int else None)


def _last_key(entries: list[Any], marker_key: str | None, limit: int) -> str | None:
    if marker_key is None or not entries or len(entries) < limit:
        return None  # a short page is the last one: no extra round trip
    last = entries[-1]
    value = last.get(marker_key) if isinstance(last, dict) else None
    return value if isinstance(value, str) else None


def _named(value: Any, what: str) -> tuple[Mapping[str, Any], str, str | None]:
    obj = expect_object(value, what)
    return obj, field(obj, "name", str, what), optional(obj, "href", str, what)


def _with_metadata(value: Any, what: str) -> tuple[str, str | None, Mapping[str, Any] | None]:
    """A listed queue's or topic's name, href and metadata (when listed with it)."""
    obj, name, href = _named(value, what)
    metadata = obj.get("metadata")
    if metadata is not None:
        metadata = expect_object(metadata, f"{what}.metadata")
    return name, href, metadata


def queue(value: Any) -> Queue:
    return Queue(*_with_metadata(value, "queue"))


def topic(value: Any) -> Topic:
    return Topic(*_with_metadata(value, "topic"))


def _message_stat(value: Any) -> MessageStat:
    obj = expect_object(value, "stats message")
    href = optional(obj, "href", str, "stats message")
    return MessageStat(
        age=field(obj, "age", int, "stats message"),
        created=field(obj, "created", str, "stats message"),
        href=href,
        id=optional(obj, "id", str, "stats message") or (_last_segment(href) if href else None),
    )


def stats(value: Any) -> Stats:
    obj = expect_object(value, "stats")
    counts = expect_object(obj.get("messages"), "stats.messages")
    known = {"claimed", "free", "total", "oldest", "newest"}
    oldest = counts.get("oldest")
    newest = counts.get("newest")
    return Stats(
        claimed=field(counts, "claimed", int, "stats.messages"),
        free=field(counts, "free", int, "stats.messages"),
        total=field(counts, "total", int, "stats.messages"),
        oldest=None if oldest is None else _message_stat(oldest),
        newest=None if newest is None else _message_stat(newest),
        extra={k: v for k, v in counts.items() if k not in known},
    )


def subscription(value: Any) -> Subscription:
    obj = expect_object(value, "subscription")
    options = obj.get("options")
    return Subscription(
        id=field(obj, "id", str, "subscription"),
        subscriber=field(obj, "subscriber", str, "subscription"),
        ttl=field(obj, "ttl", int, "subscription"),
        age=optional(obj, "age", int, "subscription"),
        source=optional(obj, "source", str, "subscription"),
        options={} if options is None else expect_object(options, "subscription.options"),
        confirmed=optional(obj, "confirmed", bool, "subscription"),
    )


def pool(value: Any) -> Pool:
    obj, name, href = _named(value, "pool")
    options = obj.get("options")
    return Pool(
        name=name,
        href=href,
        uri=optional(obj, "uri", str, "pool"),
        weight=optional(obj, "weight", int, "pool"),
        flavor=optional(obj, "flavor", str, "pool"),
        options=None if options is None else expect_object(options, "pool.options"),
    )


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = expect_list(value, what)
    # A loop, not all(<generator>): every post answer comes through here.
    for item in items:
        if not isinstance(item, str):
            fail(f"{what} should hold strings", items)
    return tuple(items)


def flavor(value: Any) -> Flavor:
    obj, name, href = _named(value, "flavor")
    return Flavor(
        name=name,
        href=href,
        pool_list=_strings(obj.get("pool_list"), "flavor.pool_list"),
        capabilities=_strings(obj.get("capabilities"), "flavor.capabilities"),
    )


def signed_url(value: Any) -> SignedURL:
    obj = expect_object(value, "signed URL")
    return SignedURL(
        project=field(obj, "project", str, "signed URL"),
        paths=_strings(field(obj, "paths", list, "signed URL"), "signed URL.paths"),
        methods=_strings(field(obj, "methods", list, "signed URL"), "signed URL.methods"),
        expires=field(obj, "expires", str, "signed URL"),
        signature=field(obj, "signature", str, "signed URL"),
    )


def health(value: Any) -> Health:
    return Health(expect_object(value, "health"))


def home_document(value: Any) -> HomeDocument:
    obj = expect_object(value, "home document")
    return HomeDocument(expect_object(obj.get("resources"), "home document.resources"))


def claim(
    response: Response,
    *,
    grace: int | None = None,
    ttl: int | None = None,
    codec: BodyCodec[Any] | None = None,
) -> Claim[Any]:
    """A claim-create answer: 201 with messages, or 204 when nothing was claimed.

    The claim id is only in the ``Location`` header (HTTP) or the body's
    ``claim_id`` (WebSocket); message hrefs repeat it as ``?claim_id=``.
    With ``codec``, bodies are decoded into its type; those that do not
    decode are in ``rejected`` (see :class:`~zaqarkit.core.models.Claim`).
    """
    location = response.header("location")
    claim_id = _last_segment(location) if location else None
    raw = _typed_source(response) if response.status != 204 else None
    if raw is not None:
        typed = _typed_messages(raw, claim_id, codec)
        if typed is not None:
            items, claim_id = typed[0], typed[3] or claim_id
            if claim_id is None and items:
                claim_id = items[0].claim_id
            if items and claim_id is None:
                typed = None  # the checked path raises with the decoded body
            else:
                return Claim(claim_id, ttl=ttl, age=0, grace=grace, href=location, messages=items)
    data = decode_json(response, allow_empty=True)
    if data is None or response.status == 204:
        # Nothing was claimed. (Zaqar's WebSocket reply still names a claim
        # id, which holds no message; HTTP answers 204 with no body.)
        return Claim(claim_id, ttl=ttl, grace=grace, href=location)
    if isinstance(data, dict):
        claim_id = optional(data, "claim_id", str, "claim") or claim_id
        items = messages(data.get("messages", []))
    else:
        items = messages(data)
    if claim_id is None and items:
        claim_id = items[0].claim_id
    if items and claim_id is None:
        fail("claim response carries no claim id (no Location, no claim_id)", data)
    if codec is not None:
        items, rejected = decoded(items, codec, claim_id)
        return Claim(
            claim_id, ttl=ttl, age=0, grace=grace, href=location, messages=items, rejected=rejected
        )
    return Claim(claim_id, ttl=ttl, age=0, grace=grace, href=location, messages=items)


def claim_detail(value: Any, claim_id: str) -> Claim[Any]:
    obj = expect_object(value, "claim")
    return Claim(
        id=claim_id,
        ttl=field(obj, "ttl", int, "claim"),
        age=field(obj, "age", int, "claim"),
        href=optional(obj, "href", str, "claim"),
        messages=messages(obj.get("messages", []), "claim.messages"),
    )


def message_ids(value: Any) -> tuple[str, ...]:
    """Ids from a post answer: HTTP ``resources`` hrefs or WebSocket ``message_ids``."""
    obj = expect_object(value, "post response")
    if "message_ids" in obj:
        return _strings(obj["message_ids"], "post response.message_ids")
    hrefs = _strings(obj.get("resources"), "post response.resources")
    return tuple(_last_segment(href) for href in hrefs)


# -- parsers of whole answers, bundled into a Call by the builders -------------


def expect_status(response: Response, operation: Operation, *allowed: int) -> None:
    """Raise the typed error of an error status, or ProtocolError for a
    success status other than ``allowed``."""
    raise_for_status(response, operation)
    if response.status not in allowed:
        fail(
            f"{operation.value} answered status {response.status}, expected "
            + " or ".join(map(str, allowed)),
            response.body[:80],
        )


def no_content(operation: Operation) -> Callable[[Response], None]:
    """A parser for an answer that carries nothing but its status (one per
    operation, made once: every delete asks for it)."""
    parse = _NO_CONTENT.get(operation)
    if parse is None:

        def parse(response: Response) -> None:
            raise_for_status(response, operation)

        _NO_CONTENT[operation] = parse
    return parse


_NO_CONTENT: dict[Operation, Callable[[Response], None]] = {}


def json_of(operation: Operation, convert: Callable[[Any], T]) -> Callable[[Response], T]:
    """A parser that decodes the JSON answer and hands it to ``convert``."""

    def parse(response: Response) -> T:
        raise_for_status(response, operation)
        return convert(decode_json(response))

    return parse


def metadata_of(operation: Operation, what: str) -> Callable[[Response], dict[str, Any]]:
    """A parser for a metadata document (a JSON object)."""
    return json_of(operation, lambda data: dict(expect_object(data, what)))


def posted(operation: Operation, count: int) -> Callable[[Response], tuple[str, ...]]:
    """A post's answer must name one id per message posted: a 2xx without
    them leaves the caller unable to tell what was stored."""

    def parse(response: Response) -> tuple[str, ...]:
        raise_for_status(response, operation)
        data = decode_json(response)
        ids = message_ids(data)
        if len(ids) != count:
            fail(
                f"{operation.value} answered {response.status} with {len(ids)} ids "
                f"for {count} posted messages",
                data,
            )
        return ids

    return parse


def listing(
    operation: Operation,
    key: str,
    item: Callable[[Any], T],
    *,
    marker_key: str | None,
    limit: int | None,
) -> Callable[[Response], Page[T]]:
    """A parser for one page of a listing (see :func:`page`)."""

    def parse(response: Response) -> Page[T]:
        raise_for_status(response, operation)
        return page(response, key, item, marker_key=marker_key, limit=limit)

    return parse


def created(operation: Operation) -> Callable[[Response], bool]:
    """PUT that answers 201 when it created and 204 when it already existed."""

    def parse(response: Response) -> bool:
        expect_status(response, operation, 201, 204)
        return response.status == 201

    return parse


# -- typed bodies (body_type=) -------------------------------------------------


def decoded(
    items: tuple[Message[Any], ...], codec: BodyCodec[B], claim_id: str | None = None
) -> tuple[tuple[Message[B], ...], tuple[BodyDecodeError, ...]]:
    """``items`` (bodies plain JSON) with their bodies decoded by ``codec``,
    and a :class:`BodyDecodeError` for each one that did not decode (its
    ``record`` the message as read). The checked path: the typed decoder
    (:func:`_typed_messages`) gave up on these."""
    good: list[Message[B]] = []
    bad: list[BodyDecodeError] = []
    for item in items:
        try:
            body = codec.decode(item.body, item.id, claim_id or item.claim_id)
        except BodyDecodeError as error:
            error.record = item
            bad.append(error)
            continue
        good.append(Message(item.id, body, *_read_rest(item)))
    return tuple(good), tuple(bad)


def _every(items: tuple[Message[Any], ...], codec: BodyCodec[B]) -> tuple[Message[B], ...]:
    good, bad = decoded(items, codec)
    if bad:
        raise bad[0]
    return good


def _typed_source_of(response: Response) -> bytes | dict[str, Any] | None:
    """What the typed decoder may read of a successful answer, else None."""
    return _typed_source(response) if 200 <= response.status < 300 else None


def typed_page(call: Call[Page[Message[Any]]], codec: BodyCodec[B]) -> Call[Page[Message[B]]]:
    """``call`` (a message listing) with bodies decoded by ``codec``: straight
    from the answer's bytes, else (some body did not decode, or an answer of
    another shape) through the listing's own parser and then ``codec``,
    which raises :class:`BodyDecodeError` for the first undecodable body.

    >>> from zaqarkit.core.api import ApiV2
    >>> from zaqarkit.core.bodies import codec_for
    >>> from zaqarkit.core.wire import Response
    >>> call = typed_page(ApiV2().message_list("q"), codec_for(int))
    >>> def listing(body):
    ...     return b'{"messages": [{"id": "m1", "body": %s, "ttl": 60, "age": 1}]}' % body
    >>> call.parse(Response(200, body=listing(b"7"))).items[0].body
    7
    >>> call.parse(Response(200, body=listing(b'"x"')))
    Traceback (most recent call last):
    ...
    zaqarkit.errors.BodyDecodeError: messages[m1].body: Expected `int`, got `str`
    """
    untyped = call.parse

    def parse(response: Response) -> Page[Message[B]]:
        raw = _typed_source_of(response)
        if raw is not None:
            typed = _typed_message_page(raw, codec)
            if typed is not None:
                return typed
        found = untyped(response)
        return Page(_every(found.items, codec), found.marker, found.count)

    return Call(call.request, parse)


def typed_messages(
    call: Call[tuple[Message[Any], ...]], codec: BodyCodec[B]
) -> Call[tuple[Message[B], ...]]:
    """``call`` (a pop or a get of several ids) with bodies decoded by
    ``codec`` (as :func:`typed_page`)."""
    untyped = call.parse

    def parse(response: Response) -> tuple[Message[B], ...]:
        raw = _typed_source_of(response)
        if raw is not None:
            typed = _typed_messages(raw, None, codec)
            if typed is not None:
                return typed[0]
        return _every(untyped(response), codec)

    return Call(call.request, parse)


def typed_message(call: Call[Message[Any]], codec: BodyCodec[B]) -> Call[Message[B]]:
    """``call`` (a get of one message) with its body decoded by ``codec``."""
    untyped = call.parse
    return Call(call.request, lambda response: _every((untyped(response),), codec)[0])


def typed_claim(call: Call[Claim[Any]], codec: BodyCodec[B]) -> Call[Claim[B]]:
    """``call`` (a claim create or get) with bodies decoded by ``codec``;
    messages whose body does not decode are the claim's ``rejected``,
    claimed all the same (the caller decides what becomes of them)."""
    untyped = call.parse
    if call.request.operation is Operation.CLAIM_CREATE:
        params = call.request.params
        ttl, grace = params.get("ttl"), params.get("grace")

        def parse(response: Response) -> Claim[B]:
            if response.status in (200, 201):
                return claim(response, ttl=ttl, grace=grace, codec=codec)
            return untyped(response)

        return Call(call.request, parse)

    def parse_detail(response: Response) -> Claim[B]:
        found = untyped(response)
        items, rejected = decoded(found.messages, codec, found.id)
        return Claim(found.id, found.ttl, found.age, found.grace, found.href, items, rejected)

    return Call(call.request, parse_detail)
