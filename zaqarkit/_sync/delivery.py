# This file is generated from zaqarkit/_async/delivery.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Delivery: one claimed message a consumer hands out, and the types of
the functions that handle them (``Handler``, ``Poison``).

The sync ``Delivery`` is generated from this file by ``scripts/unasync.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from zaqarkit.core.consumer import Lease
from zaqarkit.errors import BodyDecodeError, ZaqarError

from .messages import Message

if TYPE_CHECKING:
    from .consumer import Consumer

__all__ = ["Delivery", "Handler", "Poison"]

#: A message body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")

#: What becomes of a claimed message whose body does not decode into the
#: consumer's ``body_type``: ``"auto"`` (the default: ``"dead-letter"`` when
#: the queue has a dead-letter queue, else ``"release"``), ``"dead-letter"``,
#: ``"release"``, ``"drop"``, or a function (a coroutine function here)
#: called with the delivery (``delivery.error`` says why, ``delivery.body``
#: is the body as plain JSON).
Poison = Literal["auto", "dead-letter", "release", "drop"] | Callable[..., Any]


class Delivery(Generic[B]):
    """One claimed message handed to you: ``message``, ``body``, ``id``,
    ``claim_id``; settle it with ``ack()`` (done: delete it) or ``nack()``
    (failed: make it available again). ``body`` is a ``B`` when the consumer
    has ``body_type=B``.

    ``lease_lost`` turns True when a renewal found the claim gone (or it
    expired unrenewed): another consumer may then receive the message too,
    and ``lease_error`` says why. ``renewals`` counts the claim's renewals.
    ``error`` is set only on the poison deliveries an ``on_poison`` function
    receives: the :class:`zaqarkit.BodyDecodeError` of a body that did not
    decode (``body`` is then the plain JSON).
    """

    __slots__ = ("_consumer", "ack_error", "error", "handed_at", "lease", "message", "settled")

    def __init__(
        self,
        consumer: Consumer[Any],
        lease: Lease,
        message: Message[B],
        error: BodyDecodeError | None = None,
    ) -> None:
        self._consumer = consumer
        #: The claim it came from, as the consumer tracks it (read it, do
        #: not change it: the consumer renews, acks and releases by it).
        self.lease = lease
        self.message = message
        #: None until settled, then "ack" or "nack".
        self.settled: str | None = None
        #: Set when the acknowledgement (the delete) failed.
        self.ack_error: ZaqarError | None = None
        self.error = error
        #: When a handler got it (monotonic): messaging.process.duration.
        self.handed_at: float | None = None

    @property
    def body(self) -> B:
        return self.message.body

    @property
    def id(self) -> str:
        return str(self.message.id)

    @property
    def claim_id(self) -> str:
        return self.lease.claim_id

    @property
    def consumer(self) -> Consumer[Any]:
        return self._consumer

    @property
    def lease_lost(self) -> bool:
        return self.lease.lost

    @property
    def lease_error(self) -> str | None:
        return self.lease.error

    @property
    def renewals(self) -> int:
        return self.lease.renewals

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r} claim={self.claim_id!r} settled={self.settled}>"

    def ack(self) -> None:
        """Done: the message is deleted (with its claim id, batched with
        others into delete-many). A second settle is ignored."""
        self._consumer.settle(self, True)

    def nack(self) -> None:
        """Failed: the message becomes available again as soon as nothing else
        handed out from its claim is outstanding (Zaqar releases whole claims)."""
        self._consumer.settle(self, False)

    release = nack


#: ``def handler(delivery)`` (a plain function in the sync client);
#: ``Handler[Order]`` takes deliveries of a consumer with ``body_type=Order``.
Handler = Callable[[Delivery[B]], Any]
