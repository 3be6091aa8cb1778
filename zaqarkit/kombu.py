"""A kombu transport on Zaqar, so Celery workers can use a cloud's own messaging
service as their broker (``pip install 'zaqarkit[celery]'``).

Select it by class path, or by URL once :func:`register` has run (importing
this module runs it)::

    app.conf.broker_transport = "zaqarkit.kombu:Transport"
    app.conf.broker_url = "zaqar://127.0.0.1:8888"   # after import zaqarkit.kombu
    app.conf.broker_url = "zaqar+ws://127.0.0.1:9000"  # the same API over WebSocket
    app.conf.broker_transport_options = {"project_id": "demo", "claim_ttl": 300}

How kombu's operations map onto Zaqar (the guide, ``docs/guides/celery.md``,
says more):

* publishing posts the kombu message (a JSON document) as one Zaqar message
  body, with the message's ``expiration`` as its ttl (at least 60 s) or the
  ``message_ttl`` option;
* a consumed queue is read by zaqarkit's own :class:`~zaqarkit.Consumer`:
  claims of up to the channel's prefetch count (and as many again claimed
  ahead, ``claim_ahead``), each renewed while a message of it is
  unacknowledged (so a task running longer than the claim ttl is
  not handed to another worker), acks batched into delete-many with the claim
  id; ``basic_reject(requeue=True)`` and channel close release the claim
  (Zaqar releases whole claims), a worker that dies leaves its claims to
  expire after ``claim_ttl`` seconds, then others receive the messages;
* ``basic_get`` (kombu's ``Queue.get``) claims one message there and then,
  without renewal: settle it within ``claim_ttl``;
* queue names: ``queue_name_prefix`` plus kombu's name, dots turned into
  ``-`` and other characters Zaqar refuses into ``_`` (see
  :func:`zaqar_queue_name`).

What Zaqar cannot offer is refused: fanout and headers exchanges (hence
Celery's remote control, broadcast queues and events, which Celery turns off
by itself for this transport) and queue priorities (``x-max-priority``).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import itertools
import json
import logging
import math
import re
import threading
import uuid
from collections.abc import Mapping
from queue import Empty
from typing import Any

try:
    from kombu.transport import TRANSPORT_ALIASES, virtual
except ImportError:  # pragma: no cover - exercised in a subprocess without kombu
    # One line, no chained "No module named 'kombu'" traceback: the fix is the extra.
    raise ImportError(
        "zaqarkit.kombu needs kombu: pip install 'zaqarkit[celery]'", name="kombu"
    ) from None

import zaqarkit
from zaqarkit._sync.client import Client, Queue
from zaqarkit._sync.consumer import Consumer, Delivery
from zaqarkit.core.validate import MIN_TTL, NAME_MAX_LENGTH
from zaqarkit.errors import (
    ClientError,
    ConnectError,
    NotFound,
    ProtocolError,
    ServerError,
    ServiceUnavailable,
    TransportError,
    UnsupportedOperation,
    ZaqarError,
)

__all__ = ["Channel", "Transport", "UnsupportedFeature", "register", "zaqar_queue_name"]

log = logging.getLogger("zaqarkit.kombu")

#: Zaqar's HTTP and WebSocket ports when the URL names none.
HTTP_PORT = 8888

#: Options of this transport (the rest of ``broker_transport_options`` goes to
#: :class:`~zaqarkit.Client`), with their defaults.
TRANSPORT_OPTIONS: dict[str, Any] = {
    "claim_ttl": 60,
    "claim_grace": 60,
    "renew_every": None,
    "claim_batch": 10,
    "claim_poll_max": 1.0,
    "claim_ahead": None,
    "message_ttl": None,
    "queue_name_prefix": "",
    "endpoint": None,
}
#: Options kombu and Celery read themselves (accepted, not passed to Client).
_KOMBU_OPTIONS = frozenset(
    {
        "polling_interval",
        "body_encoding",
        "deadletter_queue",
        "visibility_timeout",
        "max_retries",
        "interval_start",
        "interval_step",
        "interval_max",
        "connect_timeout",
        "confirm_publish",
        "client_properties",
    }
)
_CLIENT_OPTIONS = frozenset(inspect.signature(Client).parameters) - {"url", "self"}

#: The most messages ``_size`` counts by listing when stats are unavailable.
_SIZE_SCAN = 1000

_INVALID = re.compile(r"[^a-zA-Z0-9_\-]")


class UnsupportedFeature(NotImplementedError):
    """A kombu feature a Zaqar broker cannot offer (fanout and headers
    exchanges, queue priorities). Not a channel error: Celery must not retry
    it, the configuration has to change."""


def register(alias: str = "zaqar") -> None:
    """Make ``zaqar://HOST:PORT`` (HTTP) and ``zaqar+ws://HOST:PORT`` broker URLs
    select this transport. Importing :mod:`zaqarkit.kombu` calls it.

    Example::

        import kombu, zaqarkit.kombu
        zaqarkit.kombu.register()
        with kombu.Connection("zaqar://127.0.0.1:8888") as conn:
            conn.SimpleQueue("jobs").put({"n": 1})
    """
    TRANSPORT_ALIASES[alias] = "zaqarkit.kombu:Transport"


def zaqar_queue_name(name: str, prefix: str = "") -> str:
    """The Zaqar queue that kombu queue ``name`` lives in.

    ``prefix`` and ``name`` with dots turned into ``-`` and every other
    character outside ``[a-zA-Z0-9_-]`` into ``_``. Zaqar's validator has
    accepted dots since 2017, but its redis store lists ``jobs.x`` as
    ``jobs`` (it splits its ``project.queue`` keys at the dot), so a dotted
    queue looks missing. Distinct kombu names can therefore share a Zaqar
    queue (``a.b`` and ``a-b``). A result longer than Zaqar's 64 characters
    keeps its first 55 and ends in ``-`` and 8 hex digits of the full name's
    SHA-1, so long names stay distinct.

    >>> zaqar_queue_name("celery")
    'celery'
    >>> zaqar_queue_name("celery@worker1.celery.pidbox", prefix="prod-")
    'prod-celery_worker1-celery-pidbox'
    >>> len(zaqar_queue_name("x" * 100))
    64
    """
    full = prefix + name
    mapped = _INVALID.sub("_", full.replace(".", "-"))
    if len(mapped) > NAME_MAX_LENGTH:
        digest = hashlib.sha1(full.encode()).hexdigest()[:8]
        mapped = f"{mapped[: NAME_MAX_LENGTH - 9]}-{digest}"
    return mapped


class _Got:
    """A message from ``basic_get``: claimed alone, not renewed."""

    __slots__ = ("claim_id", "message_id", "queue")

    def __init__(self, queue: Queue, claim_id: str, message_id: str) -> None:
        self.queue = queue
        self.claim_id = claim_id
        self.message_id = message_id

    def ack(self) -> None:
        try:
            self.queue.delete_messages(self.message_id, claim_ids=[self.claim_id])
        finally:
            self.nack()  # the claim would otherwise linger until it expires

    def nack(self) -> None:
        with contextlib.suppress(NotFound):  # expired: its message is free again anyway
            self.queue.claim(id=self.claim_id).delete()


# kombu's virtual classes are only partly annotated: subclass them as Any.
_VirtualChannel: Any = virtual.Channel
_VirtualTransport: Any = virtual.Transport


class Channel(_VirtualChannel):  # type: ignore[misc]
    """A kombu virtual channel on one :class:`zaqarkit.Client` (shared by the
    connection's channels). Each queue it consumes is read by a
    :class:`zaqarkit.Consumer` (claims, renewals, batched acks)."""

    #: Unacknowledged messages at close go back through :meth:`_restore`,
    #: which releases their claims (never re-publishes: the original is
    #: still on the server).
    do_restore = True

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self.options: dict[str, Any] = connection.transport_options_for_channel()
        self.client: Client = connection.zaqar_client()
        self._queues: dict[str, Queue] = {}
        # kombu queue name -> the runtime reading it (the base class's
        # ``_consumers`` is its set of consumer tags).
        self._runtimes: dict[str, Consumer[Any]] = {}
        self._retired: list[Consumer[Any]] = []
        self._no_ack: dict[str, bool] = {}
        # delivery tag -> what settles it; acks may come from other threads.
        self._deliveries: dict[str, Delivery[Any] | _Got] = {}

    # -- names and handles ---------------------------------------------------------

    def zaqar_queue(self, queue: str) -> Queue:
        """The :class:`zaqarkit.Queue` behind kombu queue ``queue``."""
        handle = self._queues.get(queue)
        if handle is None:
            name = zaqar_queue_name(queue, self.options["queue_name_prefix"])
            handle = self._queues[queue] = self.client.queue(name)
        return handle

    # -- declarations ------------------------------------------------------------

    def exchange_declare(
        self, exchange: str | None = None, type: str = "direct", *args: Any, **kwargs: Any
    ) -> None:
        if (type or "direct") not in self.connection.implements.exchange_type:
            raise UnsupportedFeature(
                f"Zaqar cannot route through a {type!r} exchange ({exchange!r}): it has no "
                "broadcast, so Celery's remote control, events and broadcast queues are "
                "unavailable on zaqarkit.kombu; use direct (or topic) exchanges"
            )
        super().exchange_declare(exchange, type, *args, **kwargs)

    def queue_declare(self, queue: str | None = None, passive: bool = False, **kwargs: Any) -> Any:
        arguments = kwargs.get("arguments") or {}
        if "x-max-priority" in arguments:
            raise UnsupportedFeature(
                f"queue {queue!r}: Zaqar has no message priorities (x-max-priority); "
                "route urgent work to a queue of its own instead"
            )
        return super().queue_declare(queue, passive, **kwargs)

    def _new_queue(self, queue: str, **kwargs: Any) -> None:
        self.zaqar_queue(queue).ensure_exists()

    def _has_queue(self, queue: str, **kwargs: Any) -> bool:
        # Declared (listed) or holding messages: Zaqar answers for any name.
        handle = self.zaqar_queue(queue)
        return handle.exists() or self._size(queue) > 0

    def _delete(self, queue: str, *args: Any, **kwargs: Any) -> None:
        self._stop_consumer(queue)
        self.zaqar_queue(queue).delete()
        self._queues.pop(queue, None)

    def _size(self, queue: str) -> int:
        """Messages ready to be received (not claimed)."""
        handle = self.zaqar_queue(queue)
        try:
            return handle.stats().free
        except ServiceUnavailable:
            # Zaqar 23's redis store answers 503 to stats while an expired
            # claim lingers in its index (a worker died holding it): the
            # listing, which skips claimed messages, still counts, up to a
            # bound (every queue_declare asks, 20 messages per page).
            return sum(1 for _ in itertools.islice(handle.messages(echo=True), _SIZE_SCAN))

    def _purge(self, queue: str) -> int:
        handle = self.zaqar_queue(queue)
        count = self._size(queue)
        handle.purge(["messages"])
        return count

    # -- publishing ---------------------------------------------------------------

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        self.zaqar_queue(queue).post({"body": message, "ttl": self._ttl(message)})

    def _ttl(self, message: Mapping[str, Any]) -> int:
        limit = self.client._engine.api.limits.max_message_ttl
        expiration = (message.get("properties") or {}).get("expiration")
        if expiration is not None:
            # AMQP's expiration is milliseconds, as a string.
            return min(limit, max(MIN_TTL, math.ceil(float(expiration) / 1000)))
        ttl = self.options["message_ttl"]
        return limit if ttl is None else int(ttl)

    # -- receiving ------------------------------------------------------------------

    def basic_consume(self, queue: str, *args: Any, **kwargs: Any) -> Any:
        result = super().basic_consume(queue, *args, **kwargs)
        self._no_ack[queue] = bool(args[0] if args else kwargs.get("no_ack"))
        current = self._runtimes.get(queue)
        if current is not None and current.stopping:
            # Consumed again after a cancel: a fresh runtime claims; the
            # stopped one keeps what kombu still has to settle until close.
            self._retired.append(current)
            current = None
        if current is None:
            self._runtimes[queue] = self._start_consumer(queue)
        return result

    def basic_cancel(self, consumer_tag: str) -> Any:
        queue = self._tag_to_queue.get(consumer_tag)
        result = super().basic_cancel(consumer_tag)
        if queue is not None and queue not in self._active_queues:
            consumer = self._runtimes.get(queue)
            if consumer is not None:
                # Stop claiming; what was handed out stays claimed (and
                # renewed) until kombu settles it or the channel closes.
                consumer.stop()
        return result

    def _start_consumer(self, queue: str) -> Consumer[Any]:
        options = self.options
        prefetch = self.qos.prefetch_count or 2 * options["claim_batch"]
        # Claimed beyond what kombu may hold unacknowledged, so the next
        # claim overlaps the work instead of waiting for the last ack
        # (default: as many again). 0 for long tasks: a worker then holds
        # nothing another idle worker could be running.
        ahead = prefetch if options["claim_ahead"] is None else int(options["claim_ahead"])
        limit = self.client._engine.api.limits.max_messages_per_claim_or_pop
        consumer = self.zaqar_queue(queue).consumer(
            batch=max(1, min(options["claim_batch"], prefetch, limit)),
            max_in_flight=prefetch + max(0, ahead),
            ttl=options["claim_ttl"],
            grace=options["claim_grace"],
            renew_every=options["renew_every"],
            poll_initial=min(0.1, options["claim_poll_max"]),
            poll_max=options["claim_poll_max"],
            # Over WebSocket a post wakes the consumer at once, but a released
            # claim sends no notification: poll as often as over HTTP.
            push_poll=options["claim_poll_max"],
            # kombu settles on this thread, after close has restored
            # (released) what is unacknowledged: nothing to wait for.
            drain_timeout=0.0,
            # The next claim may wait for these deletes (max_in_flight): send
            # them at once; those queued meanwhile still share a delete-many.
            ack_linger=0.0,
        )
        consumer.__enter__()
        log.debug("consuming %r from Zaqar queue %r", queue, self.zaqar_queue(queue).name)
        return consumer

    def _stop_consumer(self, queue: str) -> None:
        consumer = self._runtimes.pop(queue, None)
        if consumer is not None:
            consumer.__exit__(None, None, None)

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        consumer = self._runtimes.get(queue)
        if consumer is not None and not consumer.stopping:
            # One queue: wait here for the next claim to come back rather
            # than in kombu's sleep between empty rounds, which a delivery
            # cannot cut short. Several: never hold up the others.
            wait = self.connection.polling_interval if len(self._active_queues) == 1 else 0
            delivery = consumer.next_delivery(timeout=wait)
            if delivery is None:
                raise Empty()
            if self._no_ack.get(queue):
                delivery.ack()  # AMQP's no_ack: settled on receipt (at most once)
                return self._payload(queue, delivery.body, None)
            return self._payload(queue, delivery.body, delivery)
        # basic_get: one message, claimed now.
        handle = self.zaqar_queue(queue)
        claim = handle.claim(
            ttl=self.options["claim_ttl"], grace=self.options["claim_grace"], limit=1
        )
        if claim.id is None or not claim.messages:
            raise Empty()
        message = claim.messages[0]
        return self._payload(queue, message.body, _Got(handle, claim.id, message.id))

    def _payload(
        self, queue: str, body: Any, settle: Delivery[Any] | _Got | None
    ) -> dict[str, Any]:
        if isinstance(body, dict) and isinstance(body.get("properties"), dict):
            payload = dict(body)
            properties = payload["properties"] = dict(body["properties"])
        else:
            # Posted by something other than kombu: hand the JSON body over as is.
            payload = {
                "body": json.dumps(body),
                "content-type": "application/json",
                "content-encoding": "utf-8",
                "headers": {},
            }
            properties = payload["properties"] = {
                "delivery_info": {"exchange": "", "routing_key": queue}
            }
        # The publisher's tag travels with the message and repeats on a
        # redelivery: each receipt gets its own.
        tag = uuid.uuid4().hex
        properties["delivery_tag"] = tag
        if settle is not None:
            self._deliveries[tag] = settle
        return payload

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            settle = self._deliveries.pop(message.delivery_tag, None)
            if settle is not None:
                settle.ack()
        return message

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        settle = self._deliveries.pop(delivery_tag, None)
        if settle is not None:
            settle.ack()
        super().basic_ack(delivery_tag, multiple)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        settle = self._deliveries.pop(delivery_tag, None)
        if settle is not None:
            if requeue:
                settle.nack()  # the claim is released: the message is free again
            else:
                settle.ack()  # dropped: deleted (a dead-letter queue needs a nack)
        # Never kombu's requeue: that re-publishes a copy.
        super().basic_reject(delivery_tag, requeue=False)

    def _restore(self, message: Any) -> None:
        settle = self._deliveries.pop(message.delivery_tag, None)
        if settle is not None:
            settle.nack()

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()  # restores (releases) what kombu holds unacknowledged
        finally:
            runtimes = [*self._runtimes.values(), *self._retired]
            self._runtimes.clear()
            self._retired.clear()
            for runtime in runtimes:
                try:
                    runtime.__exit__(None, None, None)  # releases what it still holds
                except ZaqarError as error:
                    log.warning("closing a consumer failed: %s", error)


class Transport(_VirtualTransport):  # type: ignore[misc]
    """kombu's entry point: ``broker_transport = "zaqarkit.kombu:Transport"``,
    or ``zaqar://`` / ``zaqar+ws://`` URLs after :func:`register`.

    Example::

        import kombu
        with kombu.Connection("zaqar://127.0.0.1:8888", transport_options={
                "project_id": "demo"}) as conn:
            queue = conn.SimpleQueue("jobs")
            queue.put({"n": 1})
            message = queue.get(timeout=5)
            message.ack()
    """

    Channel = Channel

    default_port = HTTP_PORT
    driver_type = "zaqar"
    driver_name = "zaqarkit"
    #: ``_get`` reads what the consumers' background claims buffered (no I/O),
    #: so polling it often costs nothing on the server.
    polling_interval = 0.05

    implements = virtual.Transport.implements.extend(
        exchange_type=frozenset(["direct", "topic"]),
    )
    #: No usable answer (refused, reset, timed out) or a 5xx: Celery
    #: reconnects and retries, as it does when a broker restarts.
    connection_errors = (*virtual.Transport.connection_errors, TransportError, ServerError)
    #: The server refused this request (4xx: a bad message, a 401 with wrong
    #: credentials) or answered nonsense.
    channel_errors = (
        *virtual.Transport.channel_errors,
        ClientError,
        ProtocolError,
        UnsupportedOperation,
    )
    #: What kombu's ensure()/ensure_connection() retry after reconnecting.
    #: Without this list kombu would retry every channel error as well, and
    #: a worker with wrong credentials would retry a 401 forever.
    recoverable_connection_errors = connection_errors
    recoverable_channel_errors = ()

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self._zaqar: Client | None = None
        self._zaqar_lock = threading.Lock()
        self._options = _split_options(client.transport_options)

    def transport_options_for_channel(self) -> dict[str, Any]:
        return dict(self._options[0])

    def zaqar_client(self) -> Client:
        """The :class:`zaqarkit.Client` this connection's channels share."""
        with self._zaqar_lock:
            if self._zaqar is None:
                url = self.zaqar_url()
                # "catalog": Keystone's service catalog names the endpoint.
                self._zaqar = Client(None if url == "catalog" else url, **self._options[1])
            return self._zaqar

    def zaqar_url(self) -> str:
        """The Zaqar endpoint: the ``endpoint`` option if given (``"catalog"``:
        from Keystone's service catalog), else the broker URL's:
        ``zaqar://H:P/prefix`` is ``http://H:P/prefix`` (``https`` with
        ``ssl``), ``zaqar+SCHEME://rest`` is ``SCHEME://rest``."""
        endpoint = self._options[0]["endpoint"]
        if endpoint:
            return str(endpoint)
        conninfo = self.client
        hostname = conninfo.hostname or "localhost"
        if "://" in hostname:  # zaqar+ws://..., kombu keeps the rest verbatim
            return str(hostname)
        scheme = "https" if conninfo.ssl else "http"
        vhost = (conninfo.virtual_host or "/").strip("/")
        path = f"/{vhost}" if vhost else ""
        return f"{scheme}://{hostname}:{conninfo.port or HTTP_PORT}{path}"

    def establish_connection(self) -> Any:
        # Fail here, where Celery retries connecting, not on the first publish.
        client = self.zaqar_client()
        try:
            if client.api_url.startswith(("ws:", "wss:")):
                # No ping action over WebSocket: one short listing opens and
                # authenticates the socket.
                next(iter(client.queues(limit=1)), None)
            elif not client.ping():
                raise ConnectError(f"Zaqar at {client.api_url} does not answer its ping")
        except BaseException:
            # kombu does not close a connection it failed to establish.
            self._close_client()
            raise
        return super().establish_connection()

    def close_connection(self, connection: Any) -> None:
        try:
            super().close_connection(connection)
        finally:
            self._close_client()

    def _close_client(self) -> None:
        with self._zaqar_lock:
            client, self._zaqar = self._zaqar, None
        if client is not None:
            client.close()

    def driver_version(self) -> str:
        return zaqarkit.__version__


def _split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``broker_transport_options`` -> (this transport's, Client's keyword options)."""
    own = dict(TRANSPORT_OPTIONS)
    client: dict[str, Any] = {}
    for key, value in options.items():
        if key in TRANSPORT_OPTIONS:
            own[key] = value
        elif key == "visibility_timeout":
            # Celery's name for it on Redis and SQS.
            own["claim_ttl"] = int(value)
        elif key in _CLIENT_OPTIONS:
            client[key] = value
        elif key not in _KOMBU_OPTIONS:
            log.warning(
                "unknown broker_transport_options key %r ignored (transport options: "
                "%s; Client options: %s)",
                key,
                ", ".join(sorted(TRANSPORT_OPTIONS)),
                ", ".join(sorted(_CLIENT_OPTIONS)),
            )
    own["claim_ttl"] = int(own["claim_ttl"])
    if own["claim_ttl"] < MIN_TTL:
        raise ValueError(
            f"claim_ttl must be at least {MIN_TTL} s (Zaqar's floor), got {own['claim_ttl']}"
        )
    return own, client


register()
