"""Consumer decisions, sans-I/O: what to claim, when to renew, what to release,
how long to wait when the queue is empty.

The runtimes (``zaqarkit/_async/consumer.py`` and its generated sync twin)
tell a :class:`ConsumerState` what happened (a claim came back, a message was
handed out, settled, a renewal answered) with the current monotonic time, and
do what it decides. Time and randomness are inputs: nothing here reads a
clock or draws a random number by itself, so every decision is tested in
memory (``tests/unit/test_core_consumer.py``).

Zaqar facts the decisions rest on (zaqar 23, ``zaqar/storage/redis``):

* a claim leases up to ``max_messages_per_claim_or_pop`` messages for ``ttl``
  seconds and extends each message's life to at least ``ttl + grace``
  (``claims.py`` ``create``); ``ttl`` and ``grace`` are at least 60 s, a
  floor hard-coded in ``transport/validation.py`` (``MIN_CLAIM_TTL``,
  ``MIN_CLAIM_GRACE``), not configurable;
* ``PATCH`` on a claim restarts its ``ttl`` from now for every message still
  in it (``claims.py`` ``update``); an expired claim is a 404;
* ``DELETE`` on a claim releases all its remaining messages at once
  (``claims.py`` ``delete`` clears their claim id): there is no per-message
  release, so a nacked message waits until nothing else handed out from its
  claim is outstanding, then the whole claim is released (messages of the
  claim not handed out yet go back with it);
* deleting a message removes it from its claim; deleting with ``claim_ids``
  (delete-many) or ``claim_id`` makes Zaqar check the claim when the server
  sets ``message_delete_with_claim_id`` (``transport/validation.py``
  ``message_deletion``), and is accepted either way.

>>> state = ConsumerState(ConsumerSettings(batch=5, max_in_flight=8), random=lambda: 0.0)
>>> state.claim_limit()
5
>>> lease = state.claimed("c1", ["m1", "m2"], now=0.0)
>>> state.claim_limit(), state.in_flight
(5, 2)
>>> state.handed_out("c1", "m1"), state.settle("c1", "m1", ok=True)
(True, [Ack(claim_id='c1', message_id='m1')])
>>> state.in_flight   # until the delete is sent
2
>>> state.acks_sent(1); state.in_flight
1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypedDict

from zaqarkit.core.backoff import exponential
from zaqarkit.core.models import Stats
from zaqarkit.core.validate import MIN_TTL, Limits, integer, number
from zaqarkit.errors import ValidationError

__all__ = [
    "PUSH_RECHECKS",
    "PUSH_RETRY_INITIAL",
    "PUSH_RETRY_MAX",
    "Ack",
    "Backoff",
    "ConsumerOptions",
    "ConsumerHealth",
    "ConsumerStats",
    "ConsumerSettings",
    "ConsumerState",
    "Lease",
    "Release",
    "ack_batches",
    "consumer_settings",
]


#: Empty claims after a push that retry on the short backoff.
PUSH_RECHECKS = 3

#: Waits between attempts to make a push subscription that could not be made
#: or was lost: the WebSocket connection's own reconnect backoff (initial and
#: maximum seconds, equal jitter), so a consumer started during an outage
#: subscribes soon after the server is back without hammering it meanwhile.
PUSH_RETRY_INITIAL = 0.2
PUSH_RETRY_MAX = 30.0

#: Deleted message ids remembered to recognise a claim answer that still
#: lists one (:meth:`ConsumerState.adopt`): the race lasts one request.
_DELETED_KEPT = 2048


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """How a consumer claims, renews, waits and drains.

    ``renew_every`` is the seconds between renewals of a claim that still has
    outstanding messages (default: a third of ``ttl``, so two renewals can fail
    before the lease runs out). ``poll_initial`` .. ``poll_max`` bound the idle
    wait over HTTP (multiplied by ``poll_factor`` after every empty claim,
    jittered down by up to ``jitter``); ``push_poll`` is the fallback poll when
    push notifications wake the consumer. ``delete_claims`` deletes a claim
    whose messages were all acknowledged instead of letting it expire.
    ``stall_after``: the watchdog's seconds without a claim that returned
    messages (while the consumer had room for more) before it reads the
    queue's stats, and, when they show messages available, declares a stall
    (None: no watchdog).
    """

    batch: int = 10
    max_in_flight: int = 20
    ttl: int = 60
    grace: int = 60
    renew_every: float | None = None
    poll_initial: float = 0.1
    poll_max: float = 5.0
    poll_factor: float = 2.0
    jitter: float = 0.25
    push_poll: float = 5.0
    drain_timeout: float = 10.0
    ack_batch: int = 20
    ack_linger: float = 0.02
    delete_claims: bool = True
    stall_after: float | None = 60.0

    @property
    def renew_interval(self) -> float:
        return self.renew_every if self.renew_every is not None else self.ttl / 3

    def check(self, limits: Limits) -> ConsumerSettings:
        """Raise ValidationError (naming the argument) for a setting the server
        would refuse or that cannot work; return self."""
        integer(self.batch, "batch", 1, limits.max_messages_per_claim_or_pop)
        integer(self.max_in_flight, "max_in_flight", 1)
        integer(self.ack_batch, "ack_batch", 1, limits.max_messages_per_page)
        integer(self.ttl, "ttl", MIN_TTL, limits.max_claim_ttl)
        integer(self.grace, "grace", MIN_TTL, limits.max_claim_grace)
        if self.renew_every is not None:
            number(self.renew_every, "renew_every", 0, above=True)
        if not self.renew_interval < self.ttl:
            raise ValidationError(
                "renew_every", f"must be above 0 and below ttl ({self.ttl}), got {self.renew_every}"
            )
        for name in ("poll_initial", "poll_max", "push_poll"):
            number(getattr(self, name), name, 0, above=True)
        if self.poll_initial > self.poll_max:
            raise ValidationError("poll_initial", "must not exceed poll_max")
        number(self.poll_factor, "poll_factor", 1)
        if number(self.jitter, "jitter", 0, 1) == 1:
            raise ValidationError("jitter", f"must be below 1, got {self.jitter}")
        if self.stall_after is not None:
            number(self.stall_after, "stall_after", 0, above=True)
        for name in ("drain_timeout", "ack_linger"):
            number(getattr(self, name), name, 0)
        return self


_DEFAULT_SETTINGS = ConsumerSettings()


class ConsumerOptions(TypedDict, total=False):
    """The settings ``queue.consumer(...)`` takes by keyword (see
    :class:`ConsumerSettings` and :func:`consumer_settings`); one left out
    keeps its default, written once, in :class:`ConsumerSettings`."""

    batch: int | None
    max_in_flight: int | None
    ttl: int
    grace: int
    renew_every: float | None
    poll_initial: float
    poll_max: float
    push_poll: float
    drain_timeout: float
    ack_linger: float
    delete_claims: bool
    stall_after: float | None


def consumer_settings(limits: Limits, options: ConsumerOptions) -> ConsumerSettings:
    """:class:`ConsumerSettings` for ``options``, with the defaults that depend
    on the server or on other options: ``batch`` no more than the server's
    per-claim limit, ``max_in_flight`` twice the batch, ``poll_max`` no less
    than ``poll_initial``, acks in batches of a page. Unchecked: see
    :meth:`ConsumerSettings.check`.

    >>> settings = consumer_settings(Limits(max_messages_per_claim_or_pop=5), {"ttl": 120})
    >>> settings.batch, settings.max_in_flight, settings.ttl, settings.grace
    (5, 10, 120, 60)
    >>> consumer_settings(Limits(), {"batchh": 5})  # type: ignore[typeddict-unknown-key]
    Traceback (most recent call last):
    ...
    TypeError: consumer() got an unexpected keyword argument 'batchh'
    """
    for name in options:
        if name not in ConsumerOptions.__annotations__:
            raise TypeError(f"consumer() got an unexpected keyword argument {name!r}")
    defaults = _DEFAULT_SETTINGS
    batch = options.get("batch")
    if batch is None:
        batch = min(defaults.batch, limits.max_messages_per_claim_or_pop)
    max_in_flight = options.get("max_in_flight")
    poll_initial = options.get("poll_initial", defaults.poll_initial)
    given: dict[str, Any] = {
        **options,
        "batch": batch,
        "max_in_flight": 2 * batch if max_in_flight is None else max_in_flight,
        "poll_max": max(options.get("poll_max", defaults.poll_max), poll_initial),
        "ack_batch": limits.max_messages_per_page,
    }
    return replace(defaults, **given)


class Backoff:
    """Idle waits: ``initial * factor**k`` capped at ``ceiling``, each jittered
    down by up to ``jitter`` (so the ceiling is never exceeded and consumers
    started together drift apart). ``random()`` returns a float in [0, 1).

    >>> import random
    >>> b = Backoff(0.1, 1.0, 2.0, 0.0, random.Random(1).random)
    >>> [b.next() for _ in range(6)]
    [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    """

    def __init__(
        self,
        initial: float,
        ceiling: float,
        factor: float,
        jitter: float,
        random: Callable[[], float],
    ) -> None:
        self.initial = initial
        self.ceiling = ceiling
        self.factor = factor
        self.jitter = jitter
        self._random = random
        self._attempt = 0

    def next(self) -> float:
        attempt, self._attempt = self._attempt, self._attempt + 1
        rand = self._random() if self.jitter else 0.0
        return exponential(
            attempt,
            self.initial,
            self.ceiling,
            factor=self.factor,
            jitter=self.jitter,
            rand=rand,
        )

    def reset(self) -> None:
        self._attempt = 0


@dataclass(frozen=True, slots=True)
class Ack:
    """Delete ``message_id`` with its claim id."""

    claim_id: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Release:
    """Delete claim ``claim_id``: its remaining messages become available now.
    The runtime sends every Ack decided before it first."""

    claim_id: str
    message_ids: tuple[str, ...]


@dataclass(slots=True)
class ConsumerStats:
    """Counters of one consumer's life."""

    delivered: int = 0
    acked: int = 0
    nacked: int = 0
    released: int = 0
    claims: int = 0
    empty_claims: int = 0
    renewals: int = 0
    renewal_failures: int = 0
    ack_failures: int = 0
    pushes: int = 0
    #: Attempts to make the push subscription that failed (or ended), and
    #: times a live subscription was lost (the connection dropped).
    push_failures: int = 0
    push_losses: int = 0
    #: Messages a claim handed back while this consumer already held them
    #: (Zaqar 23's redis claim scan; see ConsumerState.adopt): never handed
    #: to a second handler, acknowledged with the newer claim id.
    redeliveries_noticed: int = 0
    #: Claim deletes (releases) the server refused: on Zaqar 23 with redis
    #: typically a claim whose messages a newer claim took (503 over HTTP,
    #: 500 over WebSocket); what it still held returns when it expires.
    release_failures: int = 0
    #: Stalls the watchdog found (``stall_after``), and the connections it
    #: recreated for them.
    stalls: int = 0
    reconnects: int = 0
    #: Messages whose body did not decode into ``body_type`` (never handed
    #: to a handler), and how many of them went to the dead-letter queue or
    #: were dropped (the others were released).
    poisoned: int = 0
    dead_lettered: int = 0
    dropped: int = 0


#: A consumer's life: ``starting`` (entering its block), ``running``,
#: ``stalled`` (the watchdog found messages available that it could not
#: claim, until a claim brings some), ``stopping`` (draining), ``stopped``.
ConsumerStateName = Literal["starting", "running", "stalled", "stopping", "stopped"]


@dataclass(frozen=True, slots=True)
class ConsumerHealth:
    """A snapshot of one consumer (``consumer.health()``).

    Times are seconds since the epoch (``time.time()``), None until the
    event happened. ``live``: the consumer runs (it may be stalled);
    ``ready``: it is running and not stalled.

    >>> health = ConsumerHealth("running", in_flight=0, push_active=False,
    ...     last_claim_at=None, last_ack_at=None, lease_losses=0, stalls=0,
    ...     last_error=None)
    >>> health.live, health.ready
    (True, True)
    """

    state: ConsumerStateName
    in_flight: int
    push_active: bool
    #: The last claim that returned messages, and the last acknowledgement
    #: the server accepted.
    last_claim_at: float | None
    last_ack_at: float | None
    lease_losses: int
    stalls: int
    #: The last error the consumer saw (a claim, renewal, ack, release or
    #: push subscription that failed, or a stall), as text.
    last_error: str | None

    @property
    def live(self) -> bool:
        return self.state in ("starting", "running", "stalled", "stopping")

    @property
    def ready(self) -> bool:
        return self.state == "running"


@dataclass(slots=True, eq=False)
class Lease:
    """One claim as the consumer sees it.

    ``buffered``: claimed, not handed out yet. ``outstanding``: handed out,
    not settled. ``nacked``: settled as failures, waiting for the release.
    ``held``: poison messages (bodies that did not decode) to release once
    every other message of the claim is settled: releasing earlier would
    send their buffered siblings back too, and the next claim would bring
    the poison and the same siblings again, forever.
    ``lost``: a renewal found the claim gone, or it ran past its ttl unrenewed;
    ``error`` says why. ``robbed``: a newer claim took some of its messages
    (see :meth:`ConsumerState.adopt`); Zaqar's renewal and delete of this
    claim would rewrite those messages, so it is neither renewed nor
    deleted any more: it expires, and what it still holds with it.
    """

    claim_id: str
    ttl: int
    message_ids: tuple[str, ...]
    renewed_at: float
    buffered: set[str] = field(default_factory=set)
    outstanding: set[str] = field(default_factory=set)
    nacked: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)
    renewals: int = 0
    renewing: bool = False
    lost: bool = False
    error: str | None = None
    done: bool = False
    robbed: bool = False
    redelivered: tuple[str, ...] = ()

    @property
    def expires_at(self) -> float:
        return self.renewed_at + self.ttl

    @property
    def open(self) -> int:
        return len(self.buffered) + len(self.outstanding)


class ConsumerState:
    """The consumer's bookkeeping and decisions.

    ``random`` returns floats in [0, 1) (pass ``random.Random(seed).random``
    for a reproducible jitter); times are seconds on one monotonic clock.
    """

    def __init__(
        self, settings: ConsumerSettings, *, random: Callable[[], float], push: bool = False
    ) -> None:
        self.settings = settings
        self.push = push
        self.leases: dict[str, Lease] = {}
        self.stopping = False
        self.backoff = Backoff(
            settings.poll_initial, settings.poll_max, settings.poll_factor, settings.jitter, random
        )
        self.in_flight = 0
        self._rechecks = 0
        self.push_backoff = Backoff(PUSH_RETRY_INITIAL, PUSH_RETRY_MAX, 2.0, 0.5, random)
        #: Leases found gone or expired (another consumer may get their messages).
        self.lease_losses = 0
        #: Whether the watchdog found a stall no claim has cleared yet.
        self.stalled = False
        #: Since when the consumer has had room to claim without a claim
        #: bringing messages (the watchdog's window); None: not started.
        self._progress_at: float | None = None
        #: Messages acknowledged whose delete has not been answered yet.
        self.acking: dict[str, str] = {}
        self._robbed_ids: set[str] = set()
        #: Recently deleted messages, oldest first (see :meth:`adopt`).
        self._deleted: dict[str, None] = {}

    # -- claiming ---------------------------------------------------------------

    def claim_limit(self) -> int:
        """How many messages to claim now: 0 when stopping or when
        ``max_in_flight`` messages are unsettled (flow control)."""
        if self.stopping:
            return 0
        return max(0, min(self.settings.batch, self.settings.max_in_flight - self.in_flight))

    def claimed(self, claim_id: str | None, message_ids: Iterable[str], now: float) -> Lease | None:
        """A claim came back; None when it found nothing."""
        ids = tuple(message_ids)
        if claim_id is None or not ids:
            return None
        self.backoff.reset()
        self._progress_at = now
        self.stalled = False
        lease = Lease(claim_id, self.settings.ttl, ids, now, buffered=set(ids))
        self.leases[claim_id] = lease
        self.in_flight += len(ids)
        return lease

    def adopt(self, lease: Lease) -> tuple[set[str], list[Ack | Release]]:
        """Take over messages of the new claim ``lease`` that an older lease
        of this consumer still holds; returns ``(skip, actions)``: the ids
        not to hand out from this claim, and what to send.

        Zaqar's redis driver claims by scanning the queue in order and, from
        the first unclaimed message on, takes every later message without
        looking at its claim (``storage/redis/scripts/claim_messages.lua``
        assumes claimed messages are a prefix of the queue). Once an older
        message is released (a nack, a poison message, an expired claim),
        the next claim also takes newer messages other claims hold: Zaqar
        now files them under the new claim, and a delete with the old claim
        id is refused (403). So a message claimed again is moved to the new
        lease here, whatever it was doing under the old one:

        * handed out and not settled: it stays with its handler, its claim id
          becomes the new one (the runtime re-points the delivery); not
          handed out again;
        * acknowledged, delete not answered yet: acknowledged again with the
          new claim id (the first delete will be refused); not handed out;
        * buffered, nacked or held (poison): it is the new claim's, handed
          out (again) from it, and no longer the old lease's;
        * deleted already (the claim ran while the delete did, and Zaqar
          answered with a message it then deleted): not handed out.

        >>> state = ConsumerState(ConsumerSettings(batch=3), random=lambda: 0.0)
        >>> old = state.claimed("c1", ["a", "b"], now=0.0)
        >>> state.handed_out("c1", "a"), state.handed_out("c1", "b")
        (True, True)
        >>> state.settle("c1", "b", ok=True)
        [Ack(claim_id='c1', message_id='b')]
        >>> new = state.claimed("c2", ["a", "b", "c"], now=1.0)
        >>> skip, actions = state.adopt(new)
        >>> sorted(skip), actions, sorted(new.outstanding), old.done
        (['a', 'b'], [Ack(claim_id='c2', message_id='b')], ['a'], True)
        >>> new.redelivered   # noticed: counted and logged by the runtime
        ('a', 'b')

        (``c1`` is not deleted: Zaqar would release ``a`` with it.)
        """
        skip: set[str] = set()
        actions: list[Ack | Release] = []
        touched: list[Lease] = []
        held = {
            mid
            for other in self.leases.values()
            if other is not lease
            for mid in (other.outstanding | other.buffered | other.nacked | other.held)
        }
        lease.redelivered = tuple(
            mid
            for mid in lease.message_ids
            if mid in held or mid in self._deleted or mid in self.acking
        )
        for other in list(self.leases.values()):
            if other is lease:
                continue
            for mid in lease.message_ids:
                if mid in other.outstanding:
                    other.outstanding.discard(mid)
                    lease.buffered.discard(mid)
                    lease.outstanding.add(mid)
                    skip.add(mid)
                elif mid in other.buffered or mid in other.nacked or mid in other.held:
                    other.buffered.discard(mid)
                    other.nacked.discard(mid)
                    other.held.discard(mid)
                else:
                    continue
                # Counted once, under the new lease.
                self.in_flight -= 1
                other.robbed = True
                if other not in touched:
                    touched.append(other)
        ghosts = [mid for mid in lease.message_ids if mid in self._deleted]
        for mid in ghosts:
            lease.buffered.discard(mid)
            skip.add(mid)
            self.in_flight -= 1
        for mid in lease.message_ids:
            if mid in self.acking and self.acking[mid] != lease.claim_id and mid not in skip:
                lease.buffered.discard(mid)
                skip.add(mid)
                self.acking[mid] = lease.claim_id
                actions.append(Ack(lease.claim_id, mid))
        if skip - lease.outstanding:
            # Acknowledged again: the new lease must not wait for them.
            lease.message_ids = tuple(
                m for m in lease.message_ids if m in lease.outstanding or m not in skip
            )
        for other in touched:
            actions.extend(self._maybe_finish(other))
        if skip and not lease.buffered and not lease.outstanding:
            actions.extend(self._maybe_finish(lease))  # nothing of its own left
        return skip, actions

    def idle_wait(self) -> float:
        """Seconds to wait after a claim found nothing (until woken by a push,
        when pushes are on)."""
        if self.push and self._rechecks <= 0:
            return self.settings.push_poll
        self._rechecks -= 1
        return self.backoff.next()

    def pushed(self) -> None:
        """A push notification arrived. Zaqar's notifier stage runs before
        the storage controller in the message pipeline
        (``zaqar/storage/pipeline.py``) and sends from a thread pool
        (``zaqar/notification/notifier.py``), so the push can beat the stored
        message and the claim it triggers may find nothing: the next few
        empty claims back off briefly instead of waiting ``push_poll``."""
        self._rechecks = PUSH_RECHECKS
        self.backoff.reset()

    def push_changed(self, live: bool) -> bool:
        """Whether a push subscription serves the consumer now (``live``);
        returns True when that changed. While none does, idle waits are the
        polling backoff, so polling covers the gap; once one is back the next
        failure starts the retry backoff afresh.

        >>> state = ConsumerState(ConsumerSettings(), random=lambda: 0.0)
        >>> state.push_changed(True), state.push, state.push_changed(True)
        (True, True, False)
        """
        if live == self.push:
            return False
        self.push = live
        if live:
            self.push_backoff.reset()
        else:
            self.backoff.reset()
        return True

    def push_retry_wait(self) -> float:
        """Seconds before the next attempt to subscribe, after one failed or
        a subscription ended (``PUSH_RETRY_INITIAL`` doubling to ``PUSH_RETRY_MAX``).

        >>> state = ConsumerState(ConsumerSettings(), random=lambda: 0.0)
        >>> [round(state.push_retry_wait(), 2) for _ in range(4)]
        [0.1, 0.2, 0.4, 0.8]
        """
        self.push_changed(False)
        return self.push_backoff.next()

    # -- delivery ---------------------------------------------------------------

    def handed_out(self, claim_id: str, message_id: str) -> bool:
        """A buffered message goes to a handler; False if its claim was released
        meanwhile (the message is no longer ours to give)."""
        lease = self.leases.get(claim_id)
        if lease is None or message_id not in lease.buffered:
            return False
        lease.buffered.discard(message_id)
        lease.outstanding.add(message_id)
        return True

    def settle(
        self, claim_id: str, message_id: str, ok: bool, *, hold: bool = False
    ) -> list[Ack | Release]:
        """A handler finished (``ok``: acknowledge, else release). Returns what to
        send, in order; nothing if the message was settled before or its claim
        was already released (never acknowledge twice). ``hold`` (a poison
        message released) waits for the rest of the claim to be settled.

        >>> state = ConsumerState(ConsumerSettings(batch=3), random=lambda: 0.0)
        >>> _ = state.claimed("c1", ["bad", "m2"], now=0.0)
        >>> state.handed_out("c1", "bad"), state.settle("c1", "bad", ok=False, hold=True)
        (True, [])
        >>> state.handed_out("c1", "m2"), state.settle("c1", "m2", ok=True)
        (True, [Ack(claim_id='c1', message_id='m2'), Release(claim_id='c1', message_ids=('bad',))])
        """
        lease = self.leases.get(claim_id)
        if lease is None or message_id not in lease.outstanding:
            return []
        lease.outstanding.discard(message_id)
        actions: list[Ack | Release] = []
        if ok:
            actions.append(Ack(claim_id, message_id))
            self.acking[message_id] = claim_id
        elif hold:
            lease.held.add(message_id)
        else:
            lease.nacked.add(message_id)
        actions.extend(self._maybe_finish(lease))
        return actions

    def _maybe_finish(self, lease: Lease) -> list[Release]:
        if lease.outstanding:
            return []
        if (
            lease.nacked
            or (self.stopping and lease.buffered)
            or (lease.held and not lease.buffered)
        ):
            release = self._release(lease)
            return [] if lease.robbed else [release]
        if not lease.buffered:
            # Everything acknowledged: renewals stop. The claim is deleted
            # too unless told otherwise: on Zaqar 23's redis store an expired
            # claim stays in the queue's claim index, and until something
            # removes it the queue's stats answer 503 (claims.py
            # _count_messages reads the expired claim's count as None).
            lease.done = True
            del self.leases[lease.claim_id]
            if self.settings.delete_claims and not lease.robbed:
                return [Release(lease.claim_id, ())]
        return []

    def _release(self, lease: Lease) -> Release:
        ids = tuple(sorted(lease.nacked | lease.held | lease.buffered | lease.outstanding))
        self.in_flight -= len(ids)
        lease.buffered.clear()
        lease.outstanding.clear()
        lease.done = True
        del self.leases[lease.claim_id]
        if lease.robbed:
            self._robbed_ids.add(lease.claim_id)
        return Release(lease.claim_id, ids)

    def acks_sent(self, count: int, message_ids: Iterable[str] = ()) -> None:
        """``count`` acknowledgements were sent (answered either way): their
        messages stop counting against ``max_in_flight``. Until then they are
        still claimed on the server, so counting them bounds what a crash
        leaves claimed to ``max_in_flight``."""
        self.in_flight -= count
        deleted = self._deleted
        for mid in message_ids:
            self.acking.pop(mid, None)
            deleted[mid] = None
        while len(deleted) > _DELETED_KEPT:
            del deleted[next(iter(deleted))]

    # -- renewal ----------------------------------------------------------------

    def renewals_due(self, now: float) -> list[Lease]:
        """Leases to renew now (each handed out once until it is answered);
        a lease past its expiry is marked lost instead."""
        due = []
        for lease in self.leases.values():
            if lease.renewing or lease.lost or lease.robbed:
                continue
            if now >= lease.expires_at:
                self.lost(lease, "the claim expired before it could be renewed")
                continue
            if now - lease.renewed_at >= self.settings.renew_interval:
                lease.renewing = True
                due.append(lease)
        return due

    def next_renewal(self, now: float) -> float | None:
        """Seconds until the next renewal is due (None: no lease to renew)."""
        times = [
            lease.renewed_at + self.settings.renew_interval - now
            for lease in self.leases.values()
            if not lease.renewing and not lease.lost and not lease.robbed
        ]
        return max(0.0, min(times)) if times else None

    def renewed(self, lease: Lease, sent_at: float) -> None:
        """The PATCH sent at ``sent_at`` succeeded: the ttl restarted no later
        than that."""
        lease.renewing = False
        lease.renewals += 1
        lease.renewed_at = sent_at

    def renewal_failed(self, lease: Lease, error: str, *, gone: bool) -> None:
        """``gone``: Zaqar says the claim no longer exists (404). Otherwise the
        renewal is retried at the next tick while the lease may still hold."""
        lease.renewing = False
        if gone:
            self.lost(lease, error)

    def lost(self, lease: Lease, error: str) -> None:
        if not lease.lost:
            self.lease_losses += 1
        lease.lost = True
        lease.error = error

    # -- the stall watchdog -------------------------------------------------------

    def stall_suspected(self, now: float) -> bool:
        """Whether to ask the queue's stats if messages are available: no
        claim brought messages for ``stall_after`` seconds while the
        consumer had room for more (time spent full, at ``max_in_flight``,
        does not count: slow handlers are not a stall).

        >>> state = ConsumerState(ConsumerSettings(stall_after=30), random=lambda: 0.0)
        >>> state.stall_suspected(0.0), state.stall_suspected(29.0), state.stall_suspected(30.0)
        (False, False, True)
        """
        after = self.settings.stall_after
        if after is None or self.stopping:
            return False
        if self._progress_at is None or self.claim_limit() == 0:
            self._progress_at = now
            return False
        return now - self._progress_at >= after

    def neglected(self, stats: Stats) -> str | None:
        """Why the queue's ``stats`` show messages this consumer should have
        claimed (for the watchdog's log), or None. Free messages alone are
        not enough: next to faster consumers (push-woken ones take a new
        message within milliseconds) a polling one often finds the queue
        empty although its stats, read a moment later, count fresh messages.
        A stall is a queue whose oldest message has waited ``stall_after``
        seconds while some are free (stats without an age count as such).

        >>> from zaqarkit.core.models import MessageStat, Stats
        >>> state = ConsumerState(ConsumerSettings(stall_after=30), random=lambda: 0.0)
        >>> def stats(age):
        ...     return Stats(claimed=0, free=4, total=4, oldest=MessageStat(age, "2026-12-07"))
        >>> state.neglected(stats(2)) is None
        True
        >>> state.neglected(stats(45))
        'its stats show 4 messages available, the oldest 45 s old'
        """
        if stats.free <= 0:
            return None
        if stats.oldest is None:
            return f"its stats show {stats.free} messages available"
        after = self.settings.stall_after
        if after is not None and stats.oldest.age < after:
            return None
        return (
            f"its stats show {stats.free} messages available, the oldest {stats.oldest.age} s old"
        )

    def stall_checked(self, now: float, *, available: bool) -> bool:
        """The stats answered (``available``: messages the consumer could
        claim); returns True when that is a stall. The window starts again
        either way, so the stats are read at most every ``stall_after``.

        >>> state = ConsumerState(ConsumerSettings(stall_after=30), random=lambda: 0.0)
        >>> state.stall_suspected(0.0), state.stall_suspected(31.0)
        (False, True)
        >>> state.stall_checked(31.0, available=True), state.stalled
        (True, True)
        >>> _ = state.claimed("c1", ["m1"], now=40.0); state.stalled
        False
        """
        self._progress_at = now
        self.stalled = available
        return available

    # -- shutdown ---------------------------------------------------------------

    def stop(self) -> list[Release]:
        """Stop claiming; release now the claims with nothing handed out."""
        self.stopping = True
        releases = [
            self._release(lease)
            for lease in list(self.leases.values())
            if not lease.outstanding and (lease.buffered or lease.nacked or lease.held)
        ]
        return [r for r in releases if not self._robbed(r)]

    def release_all(self) -> list[Release]:
        """After the drain: release every claim still holding messages
        (handlers that did not finish in time lose their messages to others)."""
        self.stopping = True
        releases = [self._release(lease) for lease in list(self.leases.values())]
        return [r for r in releases if not self._robbed(r)]

    def _robbed(self, release: Release) -> bool:
        return release.claim_id in self._robbed_ids

    @property
    def outstanding(self) -> int:
        """Messages handed out and not settled."""
        return sum(len(lease.outstanding) for lease in self.leases.values())


def ack_batches(acks: Iterable[Ack], size: int) -> list[list[Ack]]:
    """Acks grouped into delete-many requests of at most ``size`` ids.

    >>> [len(b) for b in ack_batches([Ack("c", str(i)) for i in range(45)], 20)]
    [20, 20, 5]
    """
    batch: list[Ack] = []
    batches = [batch]
    for ack in acks:
        if len(batch) >= size:
            batch = []
            batches.append(batch)
        batch.append(ack)
    return [b for b in batches if b]
