"""OpenTelemetry metrics (``metrics=``) against a real Zaqar, read back with the
SDK's in-memory reader: the messaging conventions' instruments and the
consumer's own, their attributes and values, over HTTP and WebSocket."""

from __future__ import annotations

# sync-only: import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio  # async-only
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from zaqarkit import AsyncClient

pytestmark = pytest.mark.anyio  # async-only


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    yield reader
    reader.shutdown()


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Every data point collected now, by metric name."""
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            assert scope.scope.name == "zaqarkit"
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def _where(points: list[Any], **attributes: Any) -> list[Any]:
    wanted = {key.replace("_", "."): value for key, value in attributes.items()}
    return [p for p in points if all(p.attributes.get(k) == v for k, v in wanted.items())]


async def _sleep(seconds: float) -> None:
    await anyio.sleep(seconds)  # async-only
    # sync-only: time.sleep(seconds)


async def _wait_for(predicate: Any, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await _sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture(params=["http", "websocket"])
async def client(
    request: pytest.FixtureRequest, zaqar_server: Any, project_id: str, reader: Any
) -> Any:
    provider = MeterProvider(metric_readers=[reader])
    url = zaqar_server.url if request.param == "http" else zaqar_server.ws_url
    extra = {} if request.param == "http" else {"http_url": zaqar_server.url}
    async with AsyncClient(url, project_id=project_id, metrics=provider, **extra) as cli:
        yield cli


async def test_operation_and_consumer_metrics(client: AsyncClient, reader: Any) -> None:
    queue = client.queue("m-" + uuid.uuid4().hex[:10])
    await queue.post([{"body": n, "ttl": 600} for n in range(3)])
    failed: list[int] = []
    seen_running: list[dict[str, list[Any]]] = []

    async def handler(delivery: Any) -> None:
        if delivery.body == 0:
            seen_running.append(_points(reader))  # while it runs
            await _sleep(1.0)  # renewed meanwhile (renew_every below)
        if delivery.body == 1 and not failed:
            failed.append(1)
            raise RuntimeError("first attempt fails")

    stats = await queue.consume(handler, concurrency=3, batch=3, max_messages=4, renew_every=0.3)
    points = _points(reader)
    name = queue.name
    server = {"server_address": "127.0.0.1", "messaging_system": "zaqar"}

    durations = _where(
        points["messaging.client.operation.duration"],
        messaging_operation_name="message_post",
        messaging_operation_type="send",
        messaging_destination_name=name,
        **server,
    )
    assert len(durations) == 1
    assert durations[0].count == 1
    assert durations[0].sum > 0
    assert "error.type" not in durations[0].attributes
    assert isinstance(durations[0].attributes["server.port"], int)
    claims = _where(
        points["messaging.client.operation.duration"],
        messaging_operation_name="claim_create",
        messaging_operation_type="receive",
        messaging_destination_name=name,
    )
    assert sum(p.count for p in claims) == stats.claims

    [sent] = _where(points["messaging.client.sent.messages"], messaging_destination_name=name)
    assert sent.value == 3
    consumed = _where(
        points["messaging.client.consumed.messages"],
        messaging_destination_name=name,
        messaging_operation_name="claim_create",
    )
    assert sum(p.value for p in consumed) == stats.delivered == 4

    process = _where(points["messaging.process.duration"], messaging_destination_name=name)
    assert sum(p.count for p in process) == 4
    [nacked] = [p for p in process if p.attributes.get("error.type") == "nack"]
    assert nacked.count == 1
    [acked] = [p for p in process if "error.type" not in p.attributes]
    assert acked.count == 3
    assert acked.max >= 1.0  # the handler that slept
    assert acked.attributes["messaging.operation.type"] == "process"

    [renewals] = _where(points["zaqarkit.consumer.lease.renewals"], messaging_destination_name=name)
    assert renewals.value == stats.renewals >= 1

    [running] = seen_running
    [in_flight] = _where(running["zaqarkit.consumer.in_flight"], messaging_destination_name=name)
    assert in_flight.value >= 1
    # A stopped consumer is no longer observed.
    after = _points(reader)
    assert not _where(after.get("zaqarkit.consumer.in_flight", []), messaging_destination_name=name)
    await queue.delete()


async def test_push_active_redeliveries_and_lease_losses(
    client: AsyncClient, reader: Any, zaqar_server: Any, project_id: str
) -> None:
    queue = client.queue("m-" + uuid.uuid4().hex[:10])
    name = queue.name
    websocket = type(client.transport()).__name__.endswith("WebSocketTransport")
    async with queue.consumer(batch=3, max_in_flight=10, poll_max=0.2) as consumer:
        if websocket:
            await _wait_for(lambda: consumer.push_active)
        gauges = _points(reader)["zaqarkit.consumer.push.active"]
        [push] = _where(gauges, messaging_destination_name=name)
        assert push.value == (1 if websocket else 0)

        # Zaqar 23's redis claim scan hands back a held message (see test_consumer).
        [first] = await queue.post([{"body": 0, "ttl": 600}])
        d0 = await consumer.next_delivery(timeout=30)
        [second] = await queue.post([{"body": 1, "ttl": 600}])
        d1 = await consumer.next_delivery(timeout=30)
        assert d0 is not None
        assert d1 is not None
        assert (d0.id, d1.id) == (first, second)
        await d0.nack()
        await _wait_for(lambda: consumer.stats.released == 1)
        await queue.post([{"body": 2, "ttl": 600}])
        for _ in range(2):
            delivery = await consumer.next_delivery(timeout=30)
            assert delivery is not None
            await delivery.ack()
        await d1.ack()
    assert consumer.stats.redeliveries_noticed == 1

    # Someone else deletes the claim a delivery is held under: the next
    # renewal finds it gone. max_in_flight=1: the consumer cannot take the
    # freed message back itself meanwhile.
    lost = client.queue("m-" + uuid.uuid4().hex[:10])
    await lost.post([{"body": "x", "ttl": 600}])
    async with (
        AsyncClient(zaqar_server.url, project_id=project_id) as other,
        lost.consumer(batch=1, max_in_flight=1, renew_every=0.3) as consumer,
    ):
        delivery = await consumer.next_delivery(timeout=30)
        assert delivery is not None
        claim = await other.queue(lost.name, auto_create=False).claim(id=delivery.claim_id)
        await claim.delete()
        await _wait_for(lambda: delivery.lease_lost)
        await delivery.nack()
    assert consumer.health().lease_losses == 1

    points = _points(reader)
    [noticed] = _where(
        points["zaqarkit.consumer.redeliveries_noticed"],
        messaging_destination_name=name,
        messaging_system="zaqar",
    )
    assert noticed.value == 1
    [losses] = _where(
        points["zaqarkit.consumer.lease.losses"], messaging_destination_name=lost.name
    )
    assert losses.value == 1
    assert not _where(points["zaqarkit.consumer.lease.losses"], messaging_destination_name=name)
    await queue.delete()
    await lost.delete()
