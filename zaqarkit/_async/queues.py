"""AsyncQueue: a queue's calls, from posting and listing to claiming,
consuming and producing. Generated to ``zaqarkit/_sync/queues.py``."""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import aclosing, asynccontextmanager
from typing import TYPE_CHECKING, Any, Unpack

from zaqarkit._async.admin import AsyncSubscription
from zaqarkit._async.messages import AsyncClaim, AsyncMessage
from zaqarkit.core import flows, models
from zaqarkit.core.api import metadata_patch
from zaqarkit.core.api_v1 import queue_replace_metadata_call
from zaqarkit.core.bodies import BodyCodec, codec_for
from zaqarkit.core.consumer import ConsumerOptions, consumer_settings
from zaqarkit.core.models import Page
from zaqarkit.core.operations import Operation
from zaqarkit.core.paginate import by_id
from zaqarkit.core.parse import typed_claim, typed_message, typed_messages, typed_page
from zaqarkit.core.producer import DEFAULT_MAX_COUNT, Packer, packer_for
from zaqarkit.core.validate import integer as validate_integer
from zaqarkit.core.validate import message_ttl as validate_message_ttl
from zaqarkit.core.validate import name as validate_name
from zaqarkit.core.wire import Call
from zaqarkit.errors import UnsupportedOperation, ValidationError, ZaqarError

if TYPE_CHECKING:
    # A default (PEP 696; typing has it from 3.13) gives each body_type method
    # one signature: without body_type the bodies are Any.
    from typing_extensions import TypeVar

    from zaqarkit._async.consumer import AsyncConsumer, ConsumerStats, Handler, Poison
    from zaqarkit._async.engine import AsyncEngine
    from zaqarkit._async.producer import AsyncProducer

    # websockets is an optional dependency: the stream type is for annotations.
    from zaqarkit.transports.websocket import AsyncPushStream

    #: A message body's type (``body_type=``); ``Any`` without one.
    B = TypeVar("B", default=Any)

__all__ = ["AsyncQueue"]


class AsyncQueue:
    """A queue. Obtain it with :meth:`AsyncClient.queue`."""

    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        *,
        auto_create: bool = True,
        metadata: Mapping[str, Any] | None = None,
        listed: models.Queue | None = None,
    ) -> None:
        self._engine = engine
        self._api = engine.api
        self.name = validate_name(name)
        self._auto_create = auto_create
        self._create_metadata = dict(metadata) if metadata is not None else None
        self._listed = listed
        self.href = listed.href if listed is not None else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncQueue):
            return NotImplemented
        return self.name == other.name and self._engine is other._engine

    def __hash__(self) -> int:
        return hash(self.name)

    async def _ready(self, *calls: Call[Any] | Operation) -> None:
        """Create the queue on first use, unless one of ``calls`` (what the
        caller is about to send) cannot be sent at all: that refusal comes
        first, so nothing reaches the server."""
        self._engine.check(*calls)
        if self._auto_create:
            self._engine.check(self._api.queue_create(self.name, self._create_metadata))
            await self.ensure_exists()

    async def ensure_exists(self, force_create: bool = False) -> None:
        """Create the queue unless this handle already did (``force_create``
        sends the PUT regardless). Zaqar leaves an existing queue's metadata alone."""
        if self._auto_create or force_create:
            self._auto_create = False
            await self._engine.send(self._api.queue_create(self.name, self._create_metadata))

    async def exists(self) -> bool:
        """Whether the queue exists: ``HEAD`` on v1, the queue listing otherwise.

        v1.1 and v2 have no HEAD on queues, and their ``GET /queues/{name}``
        answers 200 (empty or default metadata) even for a queue that was never
        created, so only the listing can tell.

        Example::

            if not await queue.exists():
                await queue.ensure_exists()
        """
        return await self._engine.run(flows.queue_exists(self._api, self.name))

    async def metadata(
        self,
        new_meta: Mapping[str, Any] | None = None,
        force_reload: bool = False,
        *,
        keep_reserved: bool = True,
    ) -> dict[str, Any]:
        """The queue's metadata; with ``new_meta``, replace the user keys with it
        (reserved ``_`` keys are only changed when given) and return the result.

        Every call reads the server (nothing is cached), so python-zaqarclient's
        ``force_reload`` is accepted and has nothing to do. ``keep_reserved=False``
        replaces the whole document as python-zaqarclient does: reserved keys
        missing from ``new_meta`` go back to the server's defaults.

        v2 sends a JSON patch computed from the current metadata; v1 replaces
        the whole ``/metadata`` document with one PUT (v1 has no ``_`` keys);
        v1.1 can only read metadata, so setting it raises UnsupportedOperation
        before anything is sent (pass ``metadata=`` to :meth:`AsyncClient.queue`
        to set it when the queue is created).

        Example::

            await queue.metadata({"owner": "billing"})
            assert (await queue.metadata())["owner"] == "billing"
        """
        replace = None
        if new_meta is not None:
            replace = queue_replace_metadata_call(self._api, self.name, new_meta)
        get = self._api.queue_get(self.name)
        if replace is not None:
            await self._ready(replace)
        else:
            await self._ready(get, *(() if new_meta is None else (Operation.QUEUE_UPDATE,)))
        if replace is not None:
            return await self._engine.send(replace)
        current = await self._engine.send(get)
        if new_meta is None:
            return current
        operations = metadata_patch(current, new_meta, keep_reserved=keep_reserved)
        if not operations:
            return current
        return await self._engine.send(self._api.queue_update(self.name, operations))

    async def stats(self) -> models.Stats:
        """Message counts (claimed, free, total) and the oldest and newest message."""
        call = self._api.queue_stats(self.name)
        await self._ready(call)
        return await self._engine.send(call)

    async def delete(self) -> None:
        """Delete the queue and its messages (no error if it does not exist)."""
        self._auto_create = False
        await self._engine.send(self._api.queue_delete(self.name))

    async def purge(self, resource_types: Iterable[str] | None = None) -> None:
        """Delete the queue's messages and/or subscriptions, keeping the queue."""
        call = self._api.queue_purge(self.name, resource_types)
        await self._ready(call)
        await self._engine.send(call)

    async def post(self, messages: Any) -> list[str]:
        """Post one message dict or a list of them; returns the new ids in order.

        Example::

            ids = await queue.post([{"body": {"event": "paid"}, "ttl": 300}])
        """
        # Posting creates the queue on the server (v1.1, v2): no separate PUT is
        # needed unless the queue is to get metadata.
        if self._api.post_creates_queue and self._create_metadata is None:
            self._auto_create = False
        call = self._api.message_post(self.name, messages)
        await self._ready(call)
        ids = await self._engine.send(call)
        return list(ids)

    async def message(
        self, message_id: str, *, body_type: type[B] | None = None
    ) -> AsyncMessage[B]:
        """One message by id (NotFound if it does not exist).

        With ``body_type`` (a ``msgspec.Struct``, dataclass, ``TypedDict``,
        plain type such as ``dict[str, int]``, or pydantic model) the body is
        decoded into it; a body that does not decode raises
        :class:`zaqarkit.BodyDecodeError` naming the message id and the field.

        Example::

            message = await queue.message(message_id, body_type=Order)
            print(message.body.sku)
        """
        call: Call[Any] = self._api.message_get(self.name, message_id)
        if body_type is not None:
            call = typed_message(call, codec_for(body_type))
        await self._ready(call)
        record = await self._engine.send(call)
        return AsyncMessage(self, record)

    async def messages(
        self,
        *ids: str,
        echo: bool | None = None,
        include_claimed: bool | None = None,
        include_delayed: bool | None = None,
        limit: int | None = None,
        marker: str | None = None,
        body_type: type[B] | None = None,
    ) -> AsyncIterator[AsyncMessage[B]]:
        """The given messages, or every message of the queue page by page
        (``limit`` is the page size, ``marker`` where to start: a previous
        page's ``next`` marker). Missing ids are skipped.

        With ``body_type`` every body is decoded into it, straight from the
        answer's bytes; a body that does not decode raises
        :class:`zaqarkit.BodyDecodeError` naming the message id and the field
        (leave ``body_type`` out to read bodies as plain JSON).

        Example::

            async for message in queue.messages(echo=True, body_type=Order):
                print(message.body.sku)
        """
        codec = None if body_type is None else codec_for(body_type)
        if ids:
            many: Call[Any] = self._api.message_get_many(self.name, ids)
            if codec is not None:
                many = typed_messages(many, codec)
            await self._ready(many)
            found = await self._engine.send(many)
            for record in found:
                yield AsyncMessage(self, record)
            return
        api = self._api

        def build() -> Call[Page[models.Message[Any]]]:
            first = api.message_list(
                self.name,
                limit=limit,
                marker=marker,
                echo=echo,
                include_claimed=include_claimed,
                include_delayed=include_delayed,
            )
            return first if codec is None else typed_page(first, codec)

        args = (api, api.limits, limit, marker, echo, include_claimed, include_delayed, codec)
        first = self._engine.reusable((Operation.MESSAGE_LIST, self.name), args, build)
        await self._ready(first)
        async with aclosing(self._engine.iterate(first, key=by_id)) as listed:
            async for record in listed:
                yield AsyncMessage(self, record)

    async def delete_messages(self, *ids: str, claim_ids: Iterable[str] | None = None) -> None:
        """Delete up to 20 messages by id in one request."""
        await self._engine.send(self._api.message_delete_many(self.name, ids, claim_ids=claim_ids))

    async def pop(
        self, count: int = 1, *, body_type: type[B] | None = None
    ) -> list[AsyncMessage[B]]:
        """Claim and delete up to ``count`` messages in one request.

        With ``body_type`` the bodies are decoded into it. A body that does
        not decode raises :class:`zaqarkit.BodyDecodeError` (its ``record`` is
        the message, body as plain JSON): the pop has deleted the messages
        already, so that error is the only copy left of them.

        Example::

            for message in await queue.pop(5, body_type=Order):
                print(message.body.sku)
        """
        api = self._api
        codec = None if body_type is None else codec_for(body_type)

        def build() -> Call[tuple[models.Message[Any], ...]]:
            call = api.message_pop(self.name, count)
            return call if codec is None else typed_messages(call, codec)

        args = (api, api.limits, count, codec)
        call = self._engine.reusable((Operation.MESSAGE_POP, self.name), args, build)
        await self._ready(call)
        records = await self._engine.send(call)
        return [AsyncMessage(self, record) for record in records]

    async def claim(
        self,
        id: str | None = None,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
        *,
        body_type: type[B] | None = None,
    ) -> AsyncClaim[B]:
        """Claim up to ``limit`` messages for ``ttl`` seconds, or fetch claim ``id``.

        A claim that found nothing has ``id`` None and no messages. With
        ``body_type`` the bodies are decoded into it; when one does not
        decode, a new claim is released first (its messages are free again,
        and Zaqar counts the claim towards ``max_claim_count``), then
        :class:`zaqarkit.BodyDecodeError` is raised naming the message id and
        the field. :meth:`consumer` instead hands out the good ones and treats
        the others as poison.

        Example::

            claim = await queue.claim(ttl=60, limit=10, body_type=Order)
            for message in claim:
                print(message.body.sku)
                await message.delete()
        """
        codec = None if body_type is None else codec_for(body_type)
        if id is not None:
            get: Call[Any] = self._api.claim_get(self.name, id)
            if codec is not None:
                get = typed_claim(get, codec)
            await self._ready(get)
            record = await self._engine.send(get)
            if record.rejected:
                raise record.rejected[0]
            return AsyncClaim(self, record, codec)
        record = await self._claim_record(ttl, grace, limit, codec)
        if record.rejected:
            # If the release fails the claim expires after ttl: the decode
            # error is what to report.
            with contextlib.suppress(ZaqarError):
                await AsyncClaim(self, record).delete()
            raise record.rejected[0]
        return AsyncClaim(self, record, codec)

    async def _claim_record(
        self, ttl: int | None, grace: int | None, limit: int | None, codec: BodyCodec[Any] | None
    ) -> models.Claim[Any]:
        """A new claim as the core parsed it (with a codec: ``rejected`` holds
        the messages whose body did not decode; the consumer's path)."""
        api = self._api

        def build() -> Call[models.Claim[Any]]:
            create = api.claim_create(self.name, ttl=ttl, grace=grace, limit=limit)
            return create if codec is None else typed_claim(create, codec)

        args = (api, api.limits, ttl, grace, limit, codec)
        create = self._engine.reusable((Operation.CLAIM_CREATE, self.name), args, build)
        await self._ready(create)
        return await self._engine.send(create)

    async def signed_url(
        self,
        paths: Iterable[str] | None = None,
        ttl_seconds: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> models.SignedURL:
        """A pre-signed URL granting ``methods`` on ``paths`` (messages,
        subscriptions, claims) for ``ttl_seconds`` (server default: one day)."""
        expires = None
        if ttl_seconds is not None:
            ttl_seconds = validate_integer(ttl_seconds, "ttl_seconds", 1)
            expires = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=ttl_seconds)
        call = self._api.queue_share(self.name, paths=paths, methods=methods, expires=expires)
        await self._ready(call)
        return await self._engine.send(call)

    async def subscriptions(
        self,
        detailed: bool | None = None,
        marker: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[AsyncSubscription]:
        """Every subscription of this queue (``detailed`` is accepted for
        python-zaqarclient: listed subscriptions always carry every field)."""
        first = self._api.subscription_list(self.name, limit=limit, marker=marker)
        async with aclosing(self._engine.iterate(first)) as listed:
            async for item in listed:
                yield AsyncSubscription(self._engine, self.name, item)

    @asynccontextmanager
    async def subscribe(
        self,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        *,
        body_type: type[B] | None = None,
    ) -> AsyncIterator[AsyncPushStream[B]]:
        """Stream this queue's new messages as Zaqar pushes them (WebSocket only).

        Yields an iterator of :class:`zaqarkit.core.ws.Notification` (``body``,
        ``ttl``, ``queue_name``); leaving the block deletes the subscription.
        After a dropped connection the transport reconnects and re-subscribes,
        and the iterator yields a :class:`zaqarkit.core.wsconn.PushGap` (as it
        does when its bounded buffer dropped notifications): ``note.gap``.
        With ``body_type``, bodies are decoded into it; a push whose body does
        not decode is logged (WARNING) and yields a ``PushGap`` saying why
        (the message itself stays in the queue: a push is only a copy).

        Example::

            async with queue.subscribe(ttl=600, body_type=Order) as notifications:
                async for note in notifications:
                    if not note.gap:
                        print(note.body.sku)
        """
        codec = None if body_type is None else codec_for(body_type)
        push = self._engine.push
        if push is None:
            raise UnsupportedOperation(
                "subscribe() streams push notifications over WebSocket; the HTTP transport "
                "cannot receive them. Use a ws:// URL, or create a webhook with "
                "client.subscription(queue, subscriber='http://...')."
            )
        headers = await self._engine.push_headers()
        stream: AsyncPushStream[Any] = await push.subscribe(
            self.name,
            ttl=ttl,
            options=options,
            headers=headers,
            **({} if codec is None else {"codec": codec}),
        )
        try:
            yield stream
        finally:
            await stream.aclose()

    # -- consuming and producing (issue 12) ----------------------------------------------

    def _packer(self, max_count: int, max_bytes: int | None) -> Packer:
        return packer_for(
            self._api.limits,
            websocket=self._engine.websocket,
            max_count=max_count,
            max_bytes=max_bytes,
        )

    def _post_item(self, item: Any, index: int) -> dict[str, Any]:
        # The builder's own validation (v1 also wants a ttl), renamed to the
        # message's position in the whole input rather than in its batch.
        try:
            return self._api._message_items([item])[0]
        except ValidationError as error:
            field = error.field.replace("messages[0]", f"messages[{index}]", 1)
            raise ValidationError(field, error.rule) from None

    async def post_many(
        self,
        messages: Iterable[Any],
        *,
        max_count: int = DEFAULT_MAX_COUNT,
        max_bytes: int | None = None,
    ) -> list[str]:
        """Post any number of messages, packed into as few requests as the
        server's limits allow; returns every id in input order.

        Each request holds at most ``max_count`` messages and at most
        ``max_messages_post_size`` bytes (the client's ``limits``, or
        ``max_bytes``), measured the way the server measures it (JSON over
        HTTP, the decoded list's repr over WebSocket). A list or tuple is
        checked whole before anything is sent; a message that could never fit
        raises :class:`ValidationError` naming ``messages[<index>]``. From a
        lazy iterable, batches are sent as they fill: an error then carries
        ``posted_ids``, the ids of the messages already posted (input order).

        Example::

            ids = await queue.post_many({"body": n, "ttl": 300} for n in range(1000))
            assert len(ids) == 1000
        """
        packer = self._packer(max_count, max_bytes)
        posted: list[str] = []
        if isinstance(messages, (list, tuple)):
            # One validation pass for the whole list: its field names
            # (messages[i]) are already positions in the input.
            items = self._api._message_items(messages) if messages else []
            sizes = [packer.cost(item, i) for i, item in enumerate(items)]
            pairs: Iterable[tuple[dict[str, Any], int | None]] = zip(items, sizes, strict=True)
        else:
            pairs = self._lazy_items(messages)
        try:
            for index, (item, size) in enumerate(pairs):
                closed = packer.add(item, index, size)
                if closed is not None:
                    posted += await self.post(closed.items)
            last = packer.flush()
            if last is not None:
                posted += await self.post(last.items)
        except Exception as error:
            error.posted_ids = posted  # type: ignore[attr-defined]
            raise
        return posted

    def _lazy_items(self, messages: Iterable[Any]) -> Iterator[tuple[dict[str, Any], None]]:
        for index, item in enumerate(messages):
            yield self._post_item(item, index), None

    def producer(
        self,
        *,
        linger: float = 0.0,
        max_count: int = DEFAULT_MAX_COUNT,
        max_bytes: int | None = None,
        max_pending: int = 4,
    ) -> AsyncProducer:
        """A batching producer (see :class:`zaqarkit.AsyncProducer`): ``send()``
        buffers, full batches are posted in the background in order, ``flush()``
        returns the ids posted since the last flush in input order.

        Example::

            async with queue.producer(linger=0.05) as producer:
                for n in range(1000):
                    await producer.send({"body": n, "ttl": 300})
                ids = await producer.flush()
        """
        from zaqarkit._async.producer import AsyncProducer

        return AsyncProducer(
            self, linger=linger, max_count=max_count, max_bytes=max_bytes, max_pending=max_pending
        )

    def consumer(
        self,
        *,
        push: bool | None = None,
        seed: int | None = None,
        body_type: type[B] | None = None,
        on_poison: Poison = "auto",
        **options: Unpack[ConsumerOptions],
    ) -> AsyncConsumer[B]:
        """An at-least-once consumer (:class:`zaqarkit.AsyncConsumer`): a
        context manager to iterate for :class:`~zaqarkit.AsyncDelivery` objects.

        The settings are keywords whose defaults are those of
        :class:`zaqarkit.core.consumer.ConsumerSettings`. It claims ``batch`` messages at a
        time (default 10, or the server's per-claim limit if smaller) for ``ttl`` seconds
        (60 at least, Zaqar's floor), keeps at most ``max_in_flight`` (default ``2 *
        batch``) unsettled, renews a claim every ``renew_every`` seconds (default ``ttl /
        3``) while any of its messages is outstanding, and batches acks into delete-many.
        When the queue is empty it waits: woken by push notifications over WebSocket
        (``push=None`` picks them when the transport can; ``push_poll`` is the fallback
        poll), or polling from ``poll_initial`` up to ``poll_max`` seconds with jitter
        (seeded by ``seed``). On exit it stops claiming, waits up to ``drain_timeout`` for
        handed-out deliveries, and releases the rest. A claim whose messages were all
        acknowledged is deleted (``delete_claims``): Zaqar 23's redis store answers 503 to
        queue stats while an expired claim lingers in its index. ``stall_after`` (60 s;
        None: off) is the stall watchdog's window: no claim brought messages that long while
        the queue's stats show some available, so it logs an ERROR and recreates the client's
        connection (:meth:`zaqarkit.AsyncClient.reconnect`).

        With ``body_type`` each delivery's body is decoded into it (straight
        from the claim's bytes); a message whose body does not decode is
        never handed out, and ``on_poison`` decides what becomes of it (see
        :class:`zaqarkit.AsyncConsumer`): by default it moves to the queue's
        dead-letter queue if one is set, else it is released with a WARNING.

        Example::

            async with queue.consumer(max_in_flight=20, body_type=Order) as consumer:
                async for delivery in consumer:
                    await handle(delivery.body)  # an Order
                    await delivery.ack()
        """
        from zaqarkit._async.consumer import AsyncConsumer

        settings = consumer_settings(self._api.limits, options)
        codec = None if body_type is None else codec_for(body_type)
        return AsyncConsumer(self, settings, push=push, seed=seed, codec=codec, on_poison=on_poison)

    async def consume(
        self,
        handler: Handler[B],
        *,
        concurrency: int = 4,
        max_messages: int | None = None,
        body_type: type[B] | None = None,
        **options: Any,
    ) -> ConsumerStats:
        """Run ``handler(delivery)`` on every message until stopped, with
        ``concurrency`` handlers at a time (tasks here; worker threads in the
        sync client, where SIGINT and SIGTERM stop it gracefully).

        A handler that returns acknowledges its delivery, one that raises
        releases it (a nack), unless it settled the delivery itself. It stops
        on ``delivery.consumer.stop()``, after ``max_messages`` deliveries, or
        when cancelled; in-flight handlers get ``drain_timeout`` to finish, and
        what is left is released. ``options`` go to :meth:`consumer`
        (``on_poison`` among them). With ``body_type`` the handler receives
        deliveries whose body is decoded into it; poison messages never reach
        it (see :meth:`consumer`). Returns the consumer's counters.

        Example::

            async def handler(delivery: AsyncDelivery[Order]) -> None:
                print(delivery.body.sku)

            await queue.consume(handler, concurrency=8, body_type=Order)
        """
        concurrency = validate_integer(concurrency, "concurrency", 1)
        if max_messages is not None:
            max_messages = validate_integer(max_messages, "max_messages", 1)
        async with self.consumer(body_type=body_type, **options) as consumer:
            return await consumer.run(handler, concurrency=concurrency, max_messages=max_messages)

    async def set_dead_letter(
        self,
        queue: str | AsyncQueue,
        max_claim_count: int,
        messages_ttl: int | None = None,
    ) -> dict[str, Any]:
        """Move a message claimed more than ``max_claim_count`` times to the
        dead-letter queue ``queue`` (created here if needed), with
        ``messages_ttl`` as its new ttl (default: it keeps its own).

        Zaqar counts claims per message and moves the message on the claim
        after the ``max_claim_count``-th (queue metadata ``_max_claim_count``,
        ``_dead_letter_queue``, ``_dead_letter_queue_messages_ttl``; zaqar's
        ``storage/redis/claims.py`` ``create``): a message whose handler
        fails every time is delivered ``max_claim_count`` times, then parked.
        Both queues must live in the same pool. On Zaqar 23 with redis the
        parked message is read from the dead-letter queue by id
        (``dlq.message(id)``); that queue's listings and stats do not show it.
        Returns the new metadata.

        Example::

            await queue.set_dead_letter("orders.dlq", max_claim_count=3)
        """
        target = queue if isinstance(queue, AsyncQueue) else AsyncQueue(self._engine, queue)
        if target.name == self.name:
            raise ValidationError("queue", "a queue cannot be its own dead-letter queue")
        max_claim_count = validate_integer(max_claim_count, "max_claim_count", 1)
        changes: dict[str, Any] = {
            "_dead_letter_queue": target.name,
            "_max_claim_count": max_claim_count,
        }
        if messages_ttl is not None:
            changes["_dead_letter_queue_messages_ttl"] = validate_message_ttl(
                messages_ttl, self._api.limits, "messages_ttl"
            )
        await target.ensure_exists(force_create=True)
        await self._ready()
        # Only "add" operations: a patch that names only these keys leaves
        # the queue's other metadata alone.
        operations = metadata_patch({}, changes)
        return await self._engine.send(self._api.queue_update(self.name, operations))

    async def dead_letter(self) -> dict[str, Any]:
        """The queue's dead-letter settings (``queue``, ``max_claim_count``,
        ``messages_ttl``); empty when none is set."""
        meta = await self.metadata()
        if "_dead_letter_queue" not in meta:
            return {}
        return {
            "queue": meta["_dead_letter_queue"],
            "max_claim_count": meta.get("_max_claim_count"),
            "messages_ttl": meta.get("_dead_letter_queue_messages_ttl"),
        }
