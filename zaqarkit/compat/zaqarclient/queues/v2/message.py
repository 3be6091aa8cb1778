"""python-zaqarclient's ``Message``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate
from zaqarkit.core import models

if TYPE_CHECKING:
    from zaqarkit.compat.zaqarclient.queues.v2.queues import Queue


class Message:
    """A message: ``queue``, ``id``, ``href``, ``ttl``, ``age``, ``body``,
    ``claim_id``, ``claim_count``, ``checksum``; attributes are read once, when
    the message is fetched.

    ``claim_id`` is also right for popped messages and over WebSocket (which
    have no href, where python-zaqarclient raises TypeError).
    """

    def __init__(
        self,
        queue: Queue,
        ttl: int,
        age: int,
        body: Any,
        href: str | None = None,
        id: str | None = None,
        claim_id: str | None = None,
        claim_count: int | None = 0,
        checksum: str | None = None,
    ) -> None:
        self.queue = queue
        self.href = href
        self.ttl = ttl
        self.age = age
        self.body = body
        self.claim_count = claim_count
        self.checksum = checksum
        if id is None:
            if href is None:
                raise zaqarkit.ValidationError("id", "is required when there is no href")
            id = href.split("/")[-1].split("?")[0]
        self.id = id
        if claim_id is None and href is not None and "claim_id=" in href:
            claim_id = href.split("claim_id=")[-1].split("&")[0]
        self.claim_id = claim_id

    @classmethod
    def from_zaqarkit(cls, queue: Queue, message: zaqarkit.Message[Any]) -> Message:
        """Wrap a zaqarkit message."""
        return cls(
            queue,
            message.ttl,
            message.age,
            message.body,
            href=message.href,
            id=message.id,
            claim_id=message.claim_id,
            claim_count=message.claim_count,
            checksum=message.checksum,
        )

    def __repr__(self) -> str:
        return f"<Message id:{self.id} ttl:{self.ttl}>"

    @translate
    def delete(self) -> None:
        """Delete the message (with its claim id when it is claimed)."""
        record = models.Message(self.id, self.body, self.ttl, self.age, self.href, self.claim_id)
        zaqarkit.Message(self.queue.zaqarkit, record).delete()


def create_object(parent: Queue) -> Any:
    """python-zaqarclient's factory: a function from a message dict to a Message."""
    return lambda args: Message(parent, **args)
