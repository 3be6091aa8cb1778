"""python-zaqarclient's ``Claim``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate
from zaqarkit.compat.zaqarclient.queues.v2 import iterator, message

if TYPE_CHECKING:
    from zaqarkit.compat.zaqarclient.queues.v2.queues import Queue


class Claim:
    """A claim: made at construction (``id=None``) or fetched by ``id``.

    ``age`` re-reads the claim from the server on every access, ``ttl`` reads
    it once; iterating yields the claimed messages. A claim that found nothing
    has ``id`` None. Unlike python-zaqarclient, ``Claim(queue, id=...)`` reads
    the claim at once, so a missing claim raises ``ResourceNotFound`` there.
    """

    def __init__(
        self,
        queue: Queue,
        id: str | None = None,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
    ) -> None:
        self._queue = queue
        self._claim = self._fetch(queue, id, ttl, grace, limit)
        self.zaqarkit: zaqarkit.Claim[Any] = self._claim
        """The zaqarkit claim this adapter sends through."""
        self.id = self._claim.id

    @staticmethod
    @translate
    def _fetch(
        queue: Queue, id: str | None, ttl: int | None, grace: int | None, limit: int | None
    ) -> zaqarkit.Claim[Any]:
        if id is not None:
            return queue.zaqarkit.claim(id=id)
        return queue.zaqarkit.claim(ttl=ttl, grace=grace, limit=limit)

    def __repr__(self) -> str:
        return f"<Claim id:{self.id} ttl:{self._claim.ttl}>"

    def __iter__(self) -> iterator._Iterator[message.Message]:
        return iterator._Iterator(
            self._claim.messages, lambda m: message.Message.from_zaqarkit(self._queue, m)
        )

    @property
    @translate
    def age(self) -> int | None:
        """Seconds since the claim was made or renewed, read from the server now."""
        if self.id is not None:
            self._claim.reload()
        age: int | None = self._claim.age
        return age

    @property
    def ttl(self) -> int | None:
        ttl: int | None = self._claim.ttl
        return ttl

    @translate
    def delete(self) -> None:
        """Release the claim."""
        self._claim.delete()

    @translate
    def update(self, ttl: int | None = None, grace: int | None = None) -> None:
        """Renew the claim (omitted values keep the claim's current ones)."""
        self._claim.update(ttl=ttl, grace=grace)
