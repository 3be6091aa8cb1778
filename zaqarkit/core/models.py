"""Typed, frozen results of parsed Zaqar responses.

Every model is a frozen, slotted dataclass. JSON values that are user data
(message bodies, metadata, options) are kept as the decoded JSON: zaqarkit does
not interpret them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from zaqarkit.core._records import fast_init

__all__ = [
    "Claim",
    "Flavor",
    "Health",
    "HomeDocument",
    "Message",
    "MessageStat",
    "Page",
    "Pool",
    "Queue",
    "SignedURL",
    "Stats",
    "Subscription",
    "Topic",
    "utc_timestamp",
]

T = TypeVar("T")
#: A message body's type: ``Any`` unless a ``body_type`` was asked for.
B = TypeVar("B")


def utc_timestamp(text: str) -> _dt.datetime:
    """Zaqar's ISO 8601 timestamps (``...Z`` or naive, both UTC) as aware datetimes.

    >>> utc_timestamp("2026-11-27T05:52:41Z")
    datetime.datetime(2026, 11, 27, 5, 52, 41, tzinfo=datetime.timezone.utc)
    >>> utc_timestamp("2030-01-01T00:00:00").tzinfo
    datetime.timezone.utc
    """
    parsed = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


@fast_init
@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing.

    ``marker`` is where the next page starts (the ``marker`` of the server's
    ``links[rel=next]``), None when there is none. Zaqar sends a next link
    even on the last page, so an empty page, not a missing marker, ends a
    listing. ``count`` is the queue total when ``with_count=true`` was asked for.
    """

    items: tuple[T, ...]
    marker: str | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue as listed: ``metadata`` is only present with ``detailed=True``."""

    name: str
    href: str | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    href: str | None = None
    metadata: Mapping[str, Any] | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Message(Generic[B]):
    """A message. ``claim_id`` comes from the href's query string (HTTP) or
    from the body (pop responses and WebSocket frames, which carry no href).
    ``body`` is the decoded JSON, or a ``B`` when read with a body type."""

    id: str
    body: B
    ttl: int
    age: int
    href: str | None = None
    claim_id: str | None = None
    claim_count: int | None = None
    checksum: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Claim(Generic[B]):
    """A claim. ``id`` is None when a claim request found nothing to claim
    (HTTP 204). ``grace`` is only known from the request: GET omits it.

    Read with a body type, ``messages`` holds the messages whose body decoded
    and ``rejected`` a :class:`~zaqarkit.errors.BodyDecodeError` for each one
    that did not (``error.record`` is that message, its body plain JSON);
    both are claimed."""

    id: str | None
    ttl: int | None = None
    age: int | None = None
    grace: int | None = None
    href: str | None = None
    messages: tuple[Message[B], ...] = ()
    rejected: tuple[Any, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class MessageStat:
    """The oldest or newest message in queue stats."""

    age: int
    created: str
    href: str | None = None
    id: str | None = None

    @property
    def created_at(self) -> _dt.datetime:
        """``created`` as an aware UTC datetime."""
        return utc_timestamp(self.created)


@dataclass(frozen=True, slots=True)
class Stats:
    claimed: int
    free: int
    total: int
    oldest: MessageStat | None = None
    newest: MessageStat | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    subscriber: str
    ttl: int
    age: int | None = None
    source: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    confirmed: bool | None = None


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    href: str | None = None
    uri: str | None = None
    weight: int | None = None
    flavor: str | None = None
    options: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Flavor:
    name: str
    href: str | None = None
    pool_list: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SignedURL:
    """The result of ``POST /v2/queues/{q}/share``: everything a client needs
    to send pre-signed requests (as ``URL-*`` headers plus ``X-Project-ID``)."""

    project: str
    paths: tuple[str, ...]
    methods: tuple[str, ...]
    expires: str
    signature: str

    def __repr__(self) -> str:
        # The signature is a credential: keep it out of logs and tracebacks.
        return (
            f"SignedURL(project={self.project!r}, paths={self.paths!r}, "
            f"methods={self.methods!r}, expires={self.expires!r}, signature='***')"
        )

    @property
    def expires_at(self) -> _dt.datetime:
        """``expires`` as an aware UTC datetime (Zaqar signs a naive UTC time)."""
        return utc_timestamp(self.expires)

    def headers(self) -> dict[str, str]:
        """The request headers that carry this pre-signed access.

        >>> s = SignedURL("p", ("/v2/queues/q/messages",), ("GET",), "2030-01-01T00:00:00", "ab")
        >>> s.headers()["URL-Paths"], s.headers()["X-Project-ID"]
        ('/v2/queues/q/messages', 'p')
        """
        return {
            "URL-Signature": self.signature,
            "URL-Expires": self.expires,
            "URL-Methods": ",".join(self.methods),
            "URL-Paths": ",".join(self.paths),
            "X-Project-ID": self.project,
        }


@dataclass(frozen=True, slots=True)
class Health:
    """Detailed health (admin). The shape differs between pooled and plain
    deployments, so the raw document is kept in ``data``."""

    data: Mapping[str, Any]

    @property
    def storage_reachable(self) -> bool | None:
        value = self.data.get("storage_reachable", self.data.get("catalog_reachable"))
        return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class HomeDocument:
    """The JSON-Home document of ``GET /v2/``: ``resources`` by relation name."""

    resources: Mapping[str, Any]
