"""AsyncMessage and AsyncClaim: what reading and claiming hand back.
Generated to ``zaqarkit/_sync/messages.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from zaqarkit.core import models
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.parse import typed_claim
from zaqarkit.core.wire import Call
from zaqarkit.errors import ValidationError

if TYPE_CHECKING:
    from zaqarkit._async.queues import AsyncQueue

__all__ = ["AsyncClaim", "AsyncMessage"]

#: A message body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")


class AsyncMessage(Generic[B]):
    """A message: ``id``, ``body``, ``ttl``, ``age``, ``href``, ``claim_id``,
    ``claim_count``, ``checksum``. ``body`` is a ``B`` when the message was
    read with ``body_type=B``, the decoded JSON otherwise."""

    __slots__ = ("_queue", "_record")

    def __init__(self, queue: AsyncQueue, record: models.Message[B]) -> None:
        self._queue = queue
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def body(self) -> B:
        return self._record.body

    @property
    def ttl(self) -> int:
        return self._record.ttl

    @property
    def age(self) -> int:
        return self._record.age

    @property
    def href(self) -> str | None:
        return self._record.href

    @property
    def claim_id(self) -> str | None:
        return self._record.claim_id

    @property
    def claim_count(self) -> int | None:
        return self._record.claim_count

    @property
    def checksum(self) -> str | None:
        return self._record.checksum

    @property
    def queue(self) -> AsyncQueue:
        return self._queue

    @property
    def record(self) -> models.Message[B]:
        """The parsed message as an immutable core model."""
        return self._record

    def __repr__(self) -> str:
        claimed = f" claim_id={self.claim_id!r}" if self.claim_id else ""
        return f"<{type(self).__name__} {self.id!r} queue={self._queue.name!r}{claimed}>"

    async def delete(self) -> None:
        """Delete the message, with its claim id when it is claimed."""
        queue, record = self._queue, self._record
        await queue._engine.send(
            queue._api.message_delete(queue.name, record.id, claim_id=record.claim_id)
        )


class AsyncClaim(Generic[B]):
    """A claim on messages. Iterate it for its messages."""

    def __init__(
        self, queue: AsyncQueue, record: models.Claim[B], codec: BodyCodec[B] | None = None
    ) -> None:
        self._queue = queue
        self._record = record
        self._codec = codec

    @property
    def id(self) -> str | None:
        return self._record.id

    @property
    def ttl(self) -> int | None:
        return self._record.ttl

    @property
    def grace(self) -> int | None:
        return self._record.grace

    @property
    def age(self) -> int | None:
        return self._record.age

    @property
    def messages(self) -> list[AsyncMessage[B]]:
        return [AsyncMessage(self._queue, record) for record in self._record.messages]

    def __iter__(self) -> Iterator[AsyncMessage[B]]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self._record.messages)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.id!r} queue={self._queue.name!r} messages={len(self)}>"
        )

    def _require_id(self) -> str:
        if self.id is None:
            raise ValidationError("claim", "claimed nothing, so there is no claim to act on")
        return str(self.id)

    async def reload(self) -> None:
        """Fetch the claim's current ttl, age and messages."""
        get: Call[Any] = self._queue._api.claim_get(self._queue.name, self._require_id())
        if self._codec is not None:
            get = typed_claim(get, self._codec)
        record = await self._queue._engine.send(get)
        self._record = models.Claim(
            record.id,
            record.ttl,
            record.age,
            self._record.grace,
            record.href,
            record.messages,
            record.rejected,
        )

    async def update(self, ttl: int | None = None, grace: int | None = None) -> None:
        """Renew the claim. Zaqar resets an omitted field to the server default,
        so the claim's current values are sent for whatever is not given."""
        ttl = ttl if ttl is not None else self.ttl
        grace = grace if grace is not None else self.grace
        await self._queue._engine.send(
            self._queue._api.claim_update(
                self._queue.name, self._require_id(), ttl=ttl, grace=grace
            )
        )
        self._record = models.Claim(
            self._record.id,
            ttl,
            0,
            grace,
            self._record.href,
            self._record.messages,
            self._record.rejected,
        )

    async def delete(self) -> None:
        """Release the claim: its messages become available to others."""
        if self.id is None:
            return
        await self._queue._engine.send(
            self._queue._api.claim_delete(self._queue.name, self._require_id())
        )
