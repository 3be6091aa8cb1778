"""Typed message bodies (``body_type=``) against a real Zaqar, over HTTP and
WebSocket: models posted and read back equal, undecodable bodies named by
message id and field, poison messages among valid ones never block a
consumer and never vanish."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypedDict, cast

import msgspec
import pydantic
import pytest

from zaqarkit import AsyncClient, AsyncDelivery
from zaqarkit.core.wsconn import PushGap
from zaqarkit.errors import BodyDecodeError, ValidationError

pytestmark = pytest.mark.anyio  # async-only


class Order(msgspec.Struct):
    sku: str
    qty: int = 1
    note: str | None = None  # added later: old messages decode with the default


@dataclass
class Refund:
    order: str
    amount: float


class Ping(TypedDict):
    seq: int


class Invoice(pydantic.BaseModel):
    number: int
    lines: list[str] = []


def _name() -> str:
    return "t-" + uuid.uuid4().hex[:12]


async def test_models_posted_and_read_back_equal(client: AsyncClient) -> None:
    queue = client.queue(_name())
    orders = [Order(f"A-{n}", n) for n in range(5)]
    ids = await queue.post([{"body": order, "ttl": 600} for order in orders])
    await queue.post([{"body": Refund("A-1", 9.5), "ttl": 600}])  # another shape

    listed = [m.body async for m in queue.messages(*ids, body_type=Order)]
    assert listed == orders
    paged = [m.body async for m in queue.messages(echo=True, limit=2, body_type=dict[str, Any])]
    assert paged[:5] == [{"sku": o.sku, "qty": o.qty, "note": None} for o in orders]
    assert (await queue.message(ids[3], body_type=Order)).body == orders[3]

    claim = await queue.claim(ttl=60, limit=5, body_type=Order)
    assert [m.body for m in claim] == orders
    await claim.delete()
    popped = await queue.pop(5, body_type=Order)
    assert [m.body for m in popped] == orders

    # dataclasses, TypedDicts and pydantic models go both ways too.
    other = client.queue(_name())
    await other.post({"body": Refund("A-2", 1.25), "ttl": 600})
    assert [m.body async for m in other.messages(echo=True, body_type=Refund)] == [
        Refund("A-2", 1.25)
    ]
    await other.purge()
    ping: Ping = {"seq": 7}
    await other.post({"body": ping, "ttl": 600})
    assert [m.body async for m in other.messages(echo=True, body_type=Ping)] == [{"seq": 7}]
    await other.purge()
    invoices = [Invoice(number=n, lines=["x"] * n) for n in range(3)]
    await other.post_many({"body": invoice, "ttl": 600} for invoice in invoices)
    got = await other.claim(ttl=60, limit=3, body_type=Invoice)
    assert sorted((m.body for m in got), key=lambda i: i.number) == invoices
    await got.delete()
    await queue.delete()
    await other.delete()


async def test_undecodable_body_names_message_id_and_field(client: AsyncClient) -> None:
    queue = client.queue(_name())
    good, bad = await queue.post(
        [
            {"body": {"sku": "A-1"}, "ttl": 600},
            {"body": {"sku": "A-2", "qty": "two"}, "ttl": 600},
        ]
    )
    with pytest.raises(BodyDecodeError) as caught:
        async for _ in queue.messages(echo=True, body_type=Order):
            pass
    assert caught.value.message_id == bad
    assert caught.value.path == ".qty"
    assert caught.value.field == f"messages[{bad}].body.qty"
    assert caught.value.body == {"sku": "A-2", "qty": "two"}
    with pytest.raises(BodyDecodeError) as caught:
        await queue.message(bad, body_type=Invoice)
    assert caught.value.message_id == bad
    assert caught.value.path == ".number"
    assert (await queue.message(good, body_type=Order)).body == Order("A-1")
    # Without a body type the raw body is there as ever.
    assert (await queue.message(bad)).body == {"sku": "A-2", "qty": "two"}

    # A claim that meets it is released before the error is raised.
    with pytest.raises(BodyDecodeError) as caught:
        await queue.claim(ttl=60, limit=5, body_type=Order)
    assert caught.value.claim_id
    assert (await queue.stats()).claimed == 0
    await queue.delete()


async def test_model_that_cannot_be_encoded_is_named_before_sending(client: AsyncClient) -> None:
    queue = client.queue(_name())
    messages = [{"body": Refund(str(n), 1.0), "ttl": 600} for n in range(5)]
    messages[3] = {"body": Refund("3", cast(Any, object())), "ttl": 600}
    with pytest.raises(ValidationError) as caught:
        await queue.post(messages)
    assert caught.value.field == "messages[3].body"
    with pytest.raises(ValidationError) as caught:
        await queue.post_many(messages)
    assert caught.value.field == "messages[3].body"
    async with queue.producer() as producer:
        for message in messages[:3]:
            await producer.send(message)
        with pytest.raises(ValidationError) as caught:
            await producer.send(messages[3])
        assert caught.value.field == "messages[3].body"
    assert (await queue.stats()).total == 3  # only what the producer had accepted
    # A model whose JSON has NaN is named down to the field.
    with pytest.raises(ValidationError) as caught:
        await queue.post([{"body": Order("x"), "ttl": 600}, {"body": Refund("y", float("nan"))}])
    assert caught.value.field == "messages[1].body.amount"
    assert (await queue.stats()).total == 3
    await queue.delete()


async def _poisoned(client: AsyncClient, count: int) -> tuple[Any, list[str], str]:
    queue = client.queue(_name())
    messages: list[dict[str, Any]] = [
        {"body": Order(f"S-{n}", n), "ttl": 600} for n in range(count)
    ]
    messages.insert(count // 2, {"body": {"sku": 17}, "ttl": 600})  # a producer bug
    ids = await queue.post_many(messages)
    poison = ids.pop(count // 2)
    return queue, ids, poison


async def test_poison_among_1000_goes_to_the_dead_letter_queue(client: AsyncClient) -> None:
    queue, _ids, poison = await _poisoned(client, 1000)
    dlq = client.queue(queue.name + "-dlq")
    await queue.set_dead_letter(dlq, max_claim_count=5)
    handled: list[int] = []

    async def handle(delivery: AsyncDelivery[Order]) -> None:
        handled.append(delivery.body.qty)

    stats = await queue.consume(handle, concurrency=4, max_messages=1000, body_type=Order, batch=10)
    assert Counter(handled) == Counter(range(1000))  # every valid one, once
    assert (stats.poisoned, stats.dead_lettered) == (1, 1)
    parked = [m.body async for m in dlq.messages(echo=True)]
    assert len(parked) == 1
    assert parked[0]["body"] == {"sku": 17}
    assert parked[0]["poison"]["message_id"] == poison
    assert parked[0]["poison"]["path"] == ".sku"
    assert parked[0]["poison"]["queue"] == queue.name
    assert (await queue.stats()).total == 0  # moved, not copied
    await queue.delete()
    await dlq.delete()


async def test_poison_among_1000_is_released_with_a_warning(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    queue, _ids, poison = await _poisoned(client, 1000)
    handled: list[int] = []

    async def handle(delivery: AsyncDelivery[Order]) -> None:
        handled.append(delivery.body.qty)

    with caplog.at_level(logging.WARNING, logger="zaqarkit.consumer"):
        stats = await queue.consume(
            handle, concurrency=4, max_messages=1000, body_type=Order, batch=10
        )
    assert Counter(handled) == Counter(range(1000))
    assert stats.poisoned >= 1
    assert stats.dead_lettered == stats.dropped == 0
    assert any(poison in r.getMessage() and "released" in r.getMessage() for r in caplog.records)
    # Released, not lost: it is still in the queue.
    assert (await queue.message(poison)).body == {"sku": 17}
    await queue.delete()


async def test_poison_dropped_or_given_to_a_function(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    queue, _ids, poison = await _poisoned(client, 20)
    seen: list[tuple[str, Any, str]] = []

    async def on_poison(delivery: AsyncDelivery[Any]) -> None:
        assert delivery.error is not None
        seen.append((delivery.id, delivery.body, delivery.error.path))
        await delivery.nack()  # released: it stays in the queue

    handled: list[int] = []

    async def handle(delivery: AsyncDelivery[Order]) -> None:
        handled.append(delivery.body.qty)

    await queue.consume(handle, max_messages=20, body_type=Order, on_poison=on_poison)
    assert sorted(handled) == list(range(20))
    assert seen[0] == (poison, {"sku": 17}, ".sku")
    assert (await queue.message(poison)).id == poison

    with caplog.at_level(logging.ERROR, logger="zaqarkit.consumer"):
        async with queue.consumer(body_type=Order, on_poison="drop") as consumer:
            # Bounded, with room for a claim that must expire first (ttl 60 s:
            # Zaqar may refuse to delete a claim, see the typed-messages guide).
            for _ in range(300):
                if consumer.stats.dropped:
                    break
                assert await consumer.next_delivery(timeout=0.5) is None
    assert consumer.stats.dropped == 1
    assert any(poison in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert (await queue.stats()).total == 0
    with pytest.raises(ValidationError):
        queue.consumer(body_type=Order, on_poison="explode")  # type: ignore[call-overload]
    await queue.delete()


async def test_push_stream_decodes_bodies(zaqar_server: Any, project_id: str) -> None:
    async with AsyncClient(zaqar_server.ws_url, project_id=project_id) as cli:
        queue = cli.queue(_name())
        await queue.ensure_exists()
        async with queue.subscribe(ttl=600, body_type=Order) as notes:
            await queue.post([{"body": Order("P-1", 2), "ttl": 600}])
            await queue.post([{"body": {"sku": []}, "ttl": 600}])
            await queue.post([{"body": Order("P-2"), "ttl": 600}])
            orders: list[Order] = []
            failures: list[PushGap] = []
            while len(orders) < 2 or not failures:
                note = await notes.get(timeout=30)
                if isinstance(note, PushGap):
                    if note.missed == 1 and "did not decode" in note.reason:
                        failures.append(note)
                    continue  # a reconnect's gap: nothing to check here
                orders.append(note.body)
        assert orders == [Order("P-1", 2), Order("P-2")]
        assert len(failures) == 1
        assert ".sku" in failures[0].reason
        await queue.delete()
