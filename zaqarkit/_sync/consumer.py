# This file is generated from zaqarkit/_async/consumer.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Consumer: an at-least-once consumer runtime (asyncio and trio).

The sync ``Consumer`` is generated from this file by ``scripts/unasync.py``:
there the background tasks are threads and ``consume()`` runs handlers on
worker threads. Every decision (what to claim, when to renew, what to
release, how long to wait) is made by :class:`zaqarkit.core.consumer.ConsumerState`;
this module only sends what it decides and tells it what happened.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

from zaqarkit._concurrency import (
    Event,
    Lock,
    Shield,
    Signal,
    TaskGroup,
    monotonic,
)
from zaqarkit._signals import install_signal_handlers, stop_if_signalled
from zaqarkit.core.bodies import BodyCodec
from zaqarkit.core.consumer import (
    Ack,
    ConsumerHealth,
    ConsumerSettings,
    ConsumerState,
    ConsumerStateName,
    ConsumerStats,
    Release,
)
from zaqarkit.core.operations import ApiVersion
from zaqarkit.errors import (
    ApiError,
    Forbidden,
    NotFound,
    TransportError,
    UnsupportedOperation,
    ValidationError,
    ZaqarError,
)

from .delivery import Delivery, Handler, Poison
from .messages import Message
from .queues import Queue

__all__ = ["Consumer", "Delivery", "ConsumerStats", "Handler", "Poison"]

#: A message body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")

log = logging.getLogger("zaqarkit.consumer")

#: How often a background wait re-checks for shutdown (threads cannot be
#: cancelled) and how long a push subscription lives on the server.
_TICK = 0.25
_PUSH_TTL = 3600


class Consumer(Generic[B]):
    """Claims messages in batches and hands them out as deliveries.

    Obtain it with :meth:`Queue.consumer`. As a context manager it runs
    background tasks that claim (at most ``max_in_flight`` unsettled messages),
    renew claims while their messages are outstanding, send acknowledgements
    and releases, and, over WebSocket, listen for push notifications so an
    idle consumer wakes as soon as a message is posted. Iterate it for
    deliveries; leaving the block (or ``stop()``) stops claiming, waits up to
    ``drain_timeout`` for handed-out deliveries to be settled, and releases the
    rest. Delivery is at-least-once: a message whose handler did not ack it in
    time (crash, lost lease, shutdown past the drain) is delivered again.

    With a ``body_type`` every delivery's body is decoded into it. A message
    whose body does not decode (a poison message) is never handed out and
    never stops the consumer: ``on_poison`` (see :data:`Poison`) moves it to
    the queue's dead-letter queue (posted as ``{"body": <as stored>,
    "poison": {"error", "path", "message_id", "queue", "body_type",
    "claim_count"}}``, then deleted with its claim id: at least once, never
    lost), releases it with a WARNING (Zaqar dead-letters it after the
    queue's ``max_claim_count`` claims, when configured), drops it with an
    ERROR, or calls your function.

    Example::

        with queue.consumer(batch=10) as consumer:
            for delivery in consumer:
                print(delivery.body)
                delivery.ack()
    """

    def __init__(
        self,
        queue: Queue,
        settings: ConsumerSettings,
        *,
        push: bool | None = None,
        seed: int | None = None,
        codec: BodyCodec[B] | None = None,
        on_poison: Poison = "auto",
    ) -> None:
        if not callable(on_poison) and on_poison not in ("auto", "dead-letter", "release", "drop"):
            raise ValidationError(
                "on_poison",
                "must be 'auto', 'dead-letter', 'release', 'drop' or a function, "
                f"got {on_poison!r}",
            )
        self._queue = queue
        self._engine = queue._engine
        self._api = self._engine.api
        self._codec = codec
        self._on_poison = on_poison
        self._dead_letter: tuple[Queue, int | None] | None = None
        self.settings = settings.check(self._api.limits)
        self._push_wanted = push
        self._random = random.Random(seed).random
        self.stats = ConsumerStats()
        self._stopping = False
        self._started = False
        self._finishing = False
        self._phase: ConsumerStateName = "starting"
        self._last_claim_at: float | None = None
        self._last_ack_at: float | None = None
        self._last_error: str | None = None
        #: The client's OpenTelemetry instruments (metrics=), or None.
        self._metrics = self._engine.observer.metrics
        self._losses_reported = 0

    # -- lifecycle ----------------------------------------------------------------

    def __enter__(self) -> Consumer[B]:
        push = self._push_wanted
        if push is None:
            push = self._engine.push is not None
        self._state = ConsumerState(self.settings, random=self._random, push=False)
        self._lock = Lock()
        self._deliveries = Signal()  # the buffer grew, or stopping
        self._room = Signal()  # something settled, or stopping
        self._poke = Signal()  # a push arrived, or stopping
        self._leases = Signal()  # a lease was added, or finishing
        self._acks = Signal()  # an action was queued, or finishing
        self._stop_event = Event()
        self._buffer: deque[Delivery[B]] = deque()
        self._actions: deque[Ack | Release] = deque()
        self._acking: dict[str, Delivery[Any]] = {}
        #: Deliveries handed out and not settled, by message id.
        self._out: dict[str, Delivery[Any]] = {}
        self._acker_done = Event()
        self._claimer_done = Event()
        self._queue._ready()
        if self._codec is not None and self._on_poison in ("auto", "dead-letter"):
            self._find_dead_letter()
        self._group = TaskGroup()
        self._group.__enter__()
        self._group.start_soon(self._claimer)
        self._group.start_soon(self._renewer)
        self._group.start_soon(self._acker)
        if push:
            self._group.start_soon(self._pusher)
        if self.settings.stall_after is not None:
            self._group.start_soon(self._watchdog)
        self._started = True
        if not self._stopping:
            self._phase = "running"
        if self._metrics is not None:
            self._metrics.track(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        try:
            with Shield():
                # Leaving on an error or a cancellation does not wait for
                # deliveries the body will never settle now.
                self._drain(self.settings.drain_timeout if exc is None else 0.0)
                self._finish()
        finally:
            try:
                self._group.__exit__(kind, exc, tb)
            finally:
                self._phase = "stopped"
                if self._metrics is not None:
                    self._metrics.untrack(self)

    def stop(self) -> None:
        """Stop claiming and end the iteration; in-flight deliveries may still be
        settled until the drain ends. Safe to call from a handler, another task,
        or several times."""
        if self._stopping:
            return
        self._stopping = True
        self._phase = "stopping"
        log.info("consumer of %r stopping", self._queue.name)
        if self._started:
            self._stop_event.set()
            for signal in (self._deliveries, self._room, self._poke):
                signal.notify()

    @property
    def queue_name(self) -> str:
        return self._queue.name

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def push_active(self) -> bool:
        """Whether a live push subscription wakes this consumer now (False
        while it is being made again after an outage: the consumer polls)."""
        return self._started and self._state.push

    def health(self) -> ConsumerHealth:
        """A snapshot of this consumer: its state (``starting``, ``running``,
        ``stalled``, ``stopping``, ``stopped``), the last claim that brought
        messages and the last accepted ack (``time.time()`` seconds), what is
        in flight, whether push is active, leases lost, stalls, the last error.

        Example::

            health = consumer.health()
            if not health.ready:
                print(health.state, health.last_error)
        """
        state = self._state if self._started else None
        phase = self._phase
        if phase == "running" and state is not None and state.stalled:
            phase = "stalled"
        return ConsumerHealth(
            state=phase,
            in_flight=state.in_flight if state is not None else 0,
            push_active=self.push_active,
            last_claim_at=self._last_claim_at,
            last_ack_at=self._last_ack_at,
            lease_losses=state.lease_losses if state is not None else 0,
            stalls=self.stats.stalls,
            last_error=self._last_error,
        )

    def _failed(self, what: str, error: BaseException) -> None:
        self._last_error = f"{what}: {error}"

    @property
    def in_flight(self) -> int:
        """Messages claimed and not finished on the server (buffered, handed
        out, or acknowledged with the delete not sent yet)."""
        return self._state.in_flight

    def _drain(self, timeout: float) -> None:
        deadline = monotonic() + timeout
        while True:
            generation = self._room.generation
            with self._lock:
                self._queue_actions(self._state.stop())
                left = self._state.outstanding
            remaining = deadline - monotonic()
            if not left or remaining <= 0:
                if left:
                    log.warning("drain timed out with %d deliveries unsettled; releasing", left)
                return
            self._room.wait(generation, min(remaining, _TICK))

    def _finish(self) -> None:
        # A claim on its way when stop() came is registered (and released)
        # by the claimer itself: wait for it before releasing the rest.
        while not self._claimer_done.wait(_TICK):
            pass
        with self._lock:
            self._queue_actions(self._state.release_all())
            self._buffer.clear()
        self._finishing = True
        self._acks.notify()
        self._leases.notify()
        self._poke.notify()
        while not self._acker_done.wait(_TICK):
            pass
        # After a cancellation the acker may have ended early: what it left
        # is sent here, inside the caller's shield.
        while self._actions:
            batch = self._take_actions()
            if isinstance(batch, Release):
                self._release(batch)
            else:
                self._state.acks_sent(len(batch), self._delete(batch))

    # -- iteration ----------------------------------------------------------------

    def __iter__(self) -> Consumer[B]:
        return self

    def __next__(self) -> Delivery[B]:
        delivery = self.next_delivery()
        if delivery is None:
            raise StopIteration
        return delivery

    def next_delivery(self, timeout: float | None = None) -> Delivery[B] | None:
        """The next delivery; None once stopping, or after ``timeout`` seconds."""
        if not self._started:
            raise ZaqarError("use the consumer as a context manager (with/with)")
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            generation = self._deliveries.generation
            with self._lock:
                while self._buffer and not self._stopping:
                    delivery = self._buffer.popleft()
                    if self._state.handed_out(delivery.claim_id, delivery.id):
                        self.stats.delivered += 1
                        delivery.handed_at = monotonic()
                        self._out[delivery.id] = delivery
                        return delivery
            if self._stopping:
                return None
            wait = _TICK if deadline is None else min(_TICK, deadline - monotonic())
            if wait <= 0:
                return None
            self._deliveries.wait(generation, wait)

    def settle(self, delivery: Delivery[Any], ok: bool) -> None:
        """Settle ``delivery``: acknowledge it (``ok``) or release it; what
        :meth:`Delivery.ack` and ``nack`` call. A second settle is ignored.

        Example::

            delivery = consumer.next_delivery()
            consumer.settle(delivery, ok=True)  # the same as delivery.ack()
        """
        with self._lock:
            if delivery.settled is not None:
                return
            delivery.settled = "ack" if ok else "nack"
            self._out.pop(delivery.id, None)
            if delivery.lease.done:
                # Its claim was released (shutdown past the drain): the
                # message is someone else's now, nothing is sent.
                log.warning(
                    "message %s settled after its claim was released; it will be delivered again",
                    delivery.id,
                )
                return
            # A poison message released waits for its claim's other messages
            # (ConsumerState.settle's ``hold``).
            actions = self._state.settle(
                delivery.claim_id, delivery.id, ok, hold=delivery.error is not None
            )
            if ok and actions:
                self._acking[delivery.id] = delivery
            if ok:
                self.stats.acked += 1
            else:
                self.stats.nacked += 1
            if self._metrics is not None and delivery.handed_at is not None:
                self._metrics.processed(monotonic() - delivery.handed_at, self._queue.name, ok=ok)
            self._queue_actions(actions)
        self._room.notify()

    def _queue_actions(self, actions: Sequence[Ack | Release]) -> None:
        if actions:
            self._actions.extend(actions)
            self._acks.notify()

    # -- background: claiming --------------------------------------------------------

    def _claimer(self) -> None:
        try:
            self._claim_loop()
        finally:
            self._claimer_done.set()

    def _claim_loop(self) -> None:
        settings = self.settings
        while not self._stopping:
            room = self._room.generation
            poke = self._poke.generation
            with self._lock:
                limit = self._state.claim_limit()
            if limit == 0:
                self._room.wait(room, _TICK)
                continue
            sent_at = monotonic()
            try:
                claim = self._queue._claim_record(
                    settings.ttl, settings.grace, limit, self._codec
                )
            except ZaqarError as error:
                self._failed("claim", error)
                log.warning("claim on %r failed: %s", self._queue.name, error)
                self._poke.wait(poke, self._state.backoff.next())
                continue
            self.stats.claims += 1
            messages = claim.messages
            rejected = claim.rejected
            poison: list[Delivery[Any]] = []
            with self._lock:
                ids = [m.id for m in messages]
                if rejected:
                    ids += [rejection.message_id for rejection in rejected]
                lease = self._state.claimed(claim.id, ids, sent_at)
                if lease is not None:
                    queue = self._queue
                    # Messages an older lease still holds (Zaqar claimed
                    # them again: ConsumerState.adopt) are not handed out twice.
                    skip, actions = self._state.adopt(lease)
                    if lease.redelivered:
                        self.stats.redeliveries_noticed += len(lease.redelivered)
                        if self._metrics is not None:
                            self._metrics.redeliveries.add(
                                len(lease.redelivered),
                                self._metrics.consumer_attributes(self._queue.name),
                            )
                        log.debug(
                            "claim %s handed back %d messages this consumer already "
                            "holds (Zaqar's redis claim scan); not handed out twice: %s",
                            lease.claim_id,
                            len(lease.redelivered),
                            ", ".join(lease.redelivered),
                        )
                    for mid in skip:
                        if mid in self._out:
                            self._out[mid].lease = lease  # acked with the new claim id
                    if actions:
                        # An ack not sent yet under the old claim id would be refused.
                        again = {a.message_id for a in actions if isinstance(a, Ack)}
                        self._actions = deque(
                            a
                            for a in self._actions
                            if not (isinstance(a, Ack) and a.message_id in again)
                        )
                        self._queue_actions(actions)
                    self._buffer.extend(
                        Delivery(self, lease, Message(queue, m))
                        for m in messages
                        if m.id not in skip
                    )
                    for rejection in rejected:
                        # Never buffered for a handler: handed out here, to on_poison.
                        if self._state.handed_out(lease.claim_id, rejection.message_id):
                            delivery = Delivery(
                                self, lease, Message(queue, rejection.record), rejection
                            )
                            self._out[delivery.id] = delivery
                            poison.append(delivery)
                    if self._stopping:  # stopped while the claim was on its way
                        self._queue_actions(self._state.stop())
            for delivery in poison:
                self._poison(delivery)
            if lease is None:
                self.stats.empty_claims += 1
                wait = self._state.idle_wait()
                log.debug("nothing to claim on %r; waiting up to %.2fs", self._queue.name, wait)
                self._poke.wait(poke, wait)
                continue
            self._last_claim_at = time.time()
            log.debug("claimed %d messages (claim %s)", len(ids), lease.claim_id)
            self._deliveries.notify()
            self._leases.notify()

    # -- poison messages (body_type) ---------------------------------------------------

    def _find_dead_letter(self) -> None:
        """The queue's dead-letter queue and its message ttl, if one is set."""
        try:
            settings = self._queue.dead_letter()
        except ZaqarError as error:
            settings = {}
            log.info("reading the dead-letter settings of %r failed (%s)", self._queue.name, error)
        if settings.get("queue"):
            target = Queue(self._engine, settings["queue"], auto_create=False)
            self._dead_letter = (target, settings.get("messages_ttl"))
        elif self._on_poison == "dead-letter":
            raise ValidationError(
                "on_poison",
                f"'dead-letter', but queue {self._queue.name!r} has no dead-letter "
                "queue (queue.set_dead_letter(...))",
            )

    def _poison(self, delivery: Delivery[Any]) -> None:
        """A claimed message whose body did not decode: never a handler's."""
        self.stats.poisoned += 1
        error = delivery.error
        assert error is not None
        policy = self._on_poison
        if callable(policy):
            try:
                policy(delivery)
            except Exception:
                log.exception("on_poison failed on message %s; releasing it", delivery.id)
                delivery.nack()
            else:
                if delivery.settled is None:
                    delivery.ack()
            return
        if policy == "drop":
            log.error(
                "message %s of %r dropped: its body does not decode: %s",
                delivery.id,
                self._queue.name,
                error,
            )
            self.stats.dropped += 1
            delivery.ack()
            return
        if self._dead_letter is not None:
            target, ttl = self._dead_letter
            record = delivery.message.record
            poison = {
                "error": str(error),
                "path": error.path,
                "message_id": record.id,
                "queue": self._queue.name,
                "claim_count": record.claim_count,
                "body_type": getattr(error.body_type, "__qualname__", repr(error.body_type)),
            }
            try:
                target.post(
                    {"body": {"body": record.body, "poison": poison}, "ttl": ttl or record.ttl}
                )
            except ZaqarError as failure:
                log.warning(
                    "moving poison message %s to %r failed (%s); releasing it",
                    delivery.id,
                    target.name,
                    failure,
                )
                delivery.nack()
                return
            log.warning(
                "message %s of %r moved to dead-letter queue %r: %s",
                delivery.id,
                self._queue.name,
                target.name,
                error,
            )
            self.stats.dead_lettered += 1
            # Deleted only now, with its claim id: a crash in between leaves
            # it claimed, and it is moved again (at least once, never lost).
            delivery.ack()
            return
        log.warning(
            "message %s of %r released: its body does not decode: %s (Zaqar moves it "
            "to a dead-letter queue after the queue's max_claim_count claims, when "
            "one is set)",
            delivery.id,
            self._queue.name,
            error,
        )
        delivery.nack()

    def _pusher(self) -> None:
        # A push carries the body but no message id, so it cannot be
        # acknowledged: it only wakes the claimer, which claims it properly.
        # A subscription that cannot be made (the server is down) or that
        # ends (the transport could not restore it after reconnecting) is
        # made again with the connection's backoff; the claimer polls meanwhile.
        try:
            while not self._stopping:
                try:
                    with self._queue.subscribe(ttl=_PUSH_TTL) as stream:
                        self._listen(stream)
                    if self._stopping:
                        return
                    reason = "the push stream ended"
                except UnsupportedOperation as error:
                    log.warning("push notifications unavailable (%s); polling instead", error)
                    return
                except ZaqarError as error:
                    if self._stopping:
                        return
                    reason = str(error)
                    self._failed("push subscription", error)
                self.stats.push_failures += 1
                with self._lock:
                    if self._state.push:
                        self.stats.push_losses += 1
                    wait = self._state.push_retry_wait()
                log.info(
                    "no push subscription for %r (%s); polling, subscribing again in %.2fs",
                    self._queue.name,
                    reason,
                    wait,
                )
                self._stop_event.wait(wait)
        finally:
            self._state.push_changed(False)

    def _listen(self, stream: Any) -> None:
        """Wake the claimer on every push until ``stream`` ends. ``push_active``
        follows the server subscription: the transport drops it with the
        connection and restores it after reconnecting."""
        while not self._stopping and not stream.closed:
            live = stream.subscription_id is not None
            if live != self._state.push:
                with self._lock:
                    self._state.push_changed(live)
                if live:
                    log.info("push notifications for %r active", self._queue.name)
                    # Pushes sent while it was down are lost: claim now.
                    self._poke.notify()
                else:
                    self.stats.push_losses += 1
                    log.info("push subscription for %r lost; polling", self._queue.name)
            try:
                note = stream.get(timeout=_TICK)
            except TimeoutError:
                continue
            except ZaqarError:
                return  # ended: subscribed again by the caller
            if not note.gap:
                self.stats.pushes += 1
            with self._lock:
                self._state.pushed()
            self._poke.notify()

    # -- background: the stall watchdog ------------------------------------------------

    def _watchdog(self) -> None:
        after = self.settings.stall_after
        assert after is not None
        while not self._stop_event.wait(min(1.0, after / 4)):
            with self._lock:
                suspected = self._state.stall_suspected(monotonic())
            if not suspected:
                continue
            try:
                queue_stats = self._queue.stats()
            except TransportError as error:
                # No answer either: the connection is the suspect.
                available, why = True, f"the queue's stats got no answer either ({error})"
            except ZaqarError as error:
                # The server answered (Zaqar 23 on redis answers 503 while an
                # expired claim lingers): nothing says messages are waiting.
                log.debug(
                    "stall check: reading the stats of %r failed: %s", self._queue.name, error
                )
                available, why = False, ""
            else:
                neglected = self._state.neglected(queue_stats)
                available, why = neglected is not None, neglected or ""
            with self._lock:
                stalled = self._state.stall_checked(monotonic(), available=available)
            if not stalled or self._stopping:
                continue
            self.stats.stalls += 1
            self._last_error = f"stalled: no claim brought messages for {after:g}s while {why}"
            log.error(
                "consumer of %r stalled: no claim brought messages for %gs while %s; "
                "recreating the connection",
                self._queue.name,
                after,
                why,
            )
            try:
                self._engine.reconnect()
            except ZaqarError as error:
                log.error("recreating the connection failed: %s", error)
            else:
                self.stats.reconnects += 1
            self._poke.notify()  # claim again now

    # -- background: renewing ---------------------------------------------------------

    def _renewer(self) -> None:
        settings = self.settings
        while not self._finishing:
            generation = self._leases.generation
            now = monotonic()
            with self._lock:
                due = self._state.renewals_due(now)
                wait = self._state.next_renewal(now)
            for lease in due:
                sent_at = monotonic()
                try:
                    self._engine.send(
                        self._api.claim_update(
                            self._queue.name, lease.claim_id, ttl=settings.ttl, grace=settings.grace
                        )
                    )
                except NotFound as error:
                    self.stats.renewal_failures += 1
                    self._failed(f"renewing claim {lease.claim_id}", error)
                    log.warning(
                        "claim %s is gone, its messages may be redelivered: %s",
                        lease.claim_id,
                        error,
                    )
                    with self._lock:
                        self._state.renewal_failed(lease, str(error), gone=True)
                    continue
                except ZaqarError as error:
                    self.stats.renewal_failures += 1
                    self._failed(f"renewing claim {lease.claim_id}", error)
                    log.warning("renewing claim %s failed (will retry): %s", lease.claim_id, error)
                    with self._lock:
                        self._state.renewal_failed(lease, str(error), gone=False)
                    continue
                self.stats.renewals += 1
                if self._metrics is not None:
                    self._metrics.renewals.add(
                        1, self._metrics.consumer_attributes(self._queue.name)
                    )
                log.debug("renewed claim %s", lease.claim_id)
                with self._lock:
                    self._state.renewed(lease, sent_at)
            self._report_lease_losses()
            if not due:
                self._leases.wait(generation, _TICK if wait is None else min(wait, _TICK))

    def _report_lease_losses(self) -> None:
        # Leases are marked lost by the state (a 404 on renewal, or an expiry
        # noticed while picking renewals): the metric follows its count.
        losses = self._state.lease_losses
        if self._metrics is not None and losses > self._losses_reported:
            self._metrics.lease_losses.add(
                losses - self._losses_reported,
                self._metrics.consumer_attributes(self._queue.name),
            )
        self._losses_reported = losses

    # -- background: acknowledging and releasing ----------------------------------------

    def _acker(self) -> None:
        try:
            while True:
                generation = self._acks.generation
                if not self._actions:
                    if self._finishing:
                        return
                    self._acks.wait(generation, _TICK)
                    continue
                if (
                    isinstance(self._actions[0], Ack)
                    and len(self._actions) < self.settings.ack_batch
                    and not self._finishing
                    and self.settings.ack_linger
                    and not any(isinstance(a, Release) for a in self._actions)
                ):
                    # Let a few more acks join this delete-many.
                    self._acks.wait(generation, self.settings.ack_linger)
                with self._lock:
                    batch = self._take_actions()
                if isinstance(batch, Release):
                    self._release(batch)
                else:
                    sent = self._delete(batch)
                    with self._lock:
                        self._state.acks_sent(len(batch), sent)
                    self._room.notify()
        finally:
            self._acker_done.set()

    def _take_actions(self) -> list[Ack] | Release:
        head = self._actions.popleft()
        if isinstance(head, Release):
            return head
        acks = [head]
        while (
            self._actions
            and isinstance(self._actions[0], Ack)
            and len(acks) < self.settings.ack_batch
        ):
            acks.append(self._actions.popleft())  # type: ignore[arg-type]
        return acks

    def _delete(self, acks: list[Ack]) -> list[str]:
        """Send ``acks``; returns the ids of those sent (the others were
        refused with 403: another claim holds the message, see
        ConsumerState.adopt, which acknowledges it again with that claim)."""
        name = self._queue.name
        refused: set[str] = set()
        if len(acks) > 1 and self._api.version is ApiVersion.V2:
            ids = [a.message_id for a in acks]
            claims = sorted({a.claim_id for a in acks})
            try:
                self._engine.send(self._api.message_delete_many(name, ids, claim_ids=claims))
            except ZaqarError as error:
                # One stale claim fails the whole delete-many (Zaqar checks
                # every id first): retry one by one to keep the good ones.
                log.info("delete-many of %d acks failed (%s); deleting one by one", len(ids), error)
            else:
                self._last_ack_at = time.time()
                for ack in acks:
                    self._acking.pop(ack.message_id, None)
                return [a.message_id for a in acks]
        for ack in acks:
            delivery = self._acking.pop(ack.message_id, None)
            try:
                self._engine.send(
                    self._api.message_delete(name, ack.message_id, claim_id=ack.claim_id)
                )
            except Forbidden as error:
                # Zaqar filed the message under a newer claim of ours, whose
                # answer is on its way: that claim acknowledges it again.
                refused.add(ack.message_id)
                if delivery is not None:
                    self._acking[ack.message_id] = delivery
                log.info(
                    "ack of message %s refused (%s); it is acknowledged again if a "
                    "newer claim holds it",
                    ack.message_id,
                    error,
                )
            except ZaqarError as error:
                self.stats.ack_failures += 1
                self._failed(f"ack of message {ack.message_id}", error)
                if delivery is not None:
                    delivery.ack_error = error
                log.warning(
                    "ack of message %s failed, it may be redelivered: %s", ack.message_id, error
                )
            else:
                self._last_ack_at = time.time()
        return [a.message_id for a in acks if a.message_id not in refused]

    def _release(self, release: Release) -> None:
        try:
            self._engine.send(self._api.claim_delete(self._queue.name, release.claim_id))
        except ApiError as error:
            # A refused delete is an expected event on Zaqar 23's redis store
            # (another consumer's claim took the messages): counted, not a
            # WARNING each time; the claim expires by itself.
            self.stats.release_failures += 1
            self._failed(f"releasing claim {release.claim_id}", error)
            log.debug(
                "releasing claim %s refused (%s); its messages return when it expires",
                release.claim_id,
                error,
            )
            return
        except ZaqarError as error:
            self.stats.release_failures += 1
            self._failed(f"releasing claim {release.claim_id}", error)
            log.warning(
                "releasing claim %s failed; its messages return when it expires: %s",
                release.claim_id,
                error,
            )
            return
        self.stats.released += len(release.message_ids)
        log.debug("released claim %s (%d messages)", release.claim_id, len(release.message_ids))

    # -- callback form ----------------------------------------------------------------------

    def run(
        self,
        handler: Handler[B],
        *,
        concurrency: int = 4,
        max_messages: int | None = None,
    ) -> ConsumerStats:
        """Run ``handler`` on every delivery, ``concurrency`` at a time, until
        stopped; a handler that returns acks its delivery (unless it settled
        it itself), one that raises nacks it. Used by :meth:`Queue.consume`."""
        handled = [0]

        def worker() -> None:
            while True:
                delivery = self.next_delivery()
                if delivery is None:
                    return
                try:
                    handler(delivery)
                except Exception:
                    log.exception("handler failed on message %s; releasing it", delivery.id)
                    delivery.nack()
                else:
                    delivery.ack()
                handled[0] += 1
                if max_messages is not None and handled[0] >= max_messages:
                    self.stop()

        restore = install_signal_handlers(enabled=True)
        try:
            with TaskGroup() as workers:
                for _ in range(concurrency):
                    workers.start_soon(worker)
                while not self._stopping:
                    self._stop_event.wait(_TICK)
                    stop_if_signalled(self)
                self._drain(self.settings.drain_timeout)
                workers.cancel()
        finally:
            restore()
        return self.stats
