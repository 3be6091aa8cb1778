# This file is generated from tests/integration/_async/test_consumer.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Consumers and producers against a real Zaqar, over HTTP and WebSocket."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from zaqarkit import Client, ValidationError

LIMIT = 262_144  # Zaqar's default max_messages_post_size


def _name() -> str:
    return "c-" + uuid.uuid4().hex[:12]


def _mixed(count: int) -> list[dict[str, Any]]:
    """Bodies from a few bytes to near the post limit (one in 500)."""
    messages = []
    for n in range(count):
        pad = LIMIT - 1_000 if n % 500 == 499 else (n * 37) % 3_000
        messages.append({"body": {"n": n, "pad": "x" * pad}, "ttl": 600})
    return messages


def _bodies(queue: Any, ids: list[str]) -> list[Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(ids), 20):
        for message in queue.messages(*ids[start : start + 20]):
            found[message.id] = message.body
    return [found.get(i) for i in ids]


def test_post_many_packs_mixed_sizes_and_keeps_order(client: Client) -> None:
    queue = client.queue(_name())
    messages = _mixed(5_000)
    ids = queue.post_many(messages)
    assert len(ids) == 5_000
    assert len(set(ids)) == 5_000
    bodies = _bodies(queue, ids)
    assert [b["n"] for b in bodies] == list(range(5_000))
    assert [len(b["pad"]) for b in bodies] == [len(m["body"]["pad"]) for m in messages]
    queue.delete()


def test_post_many_rejects_oversize_with_index_before_sending(client: Client) -> None:
    queue = client.queue(_name())
    messages = [{"body": n, "ttl": 600} for n in range(30)]
    messages[17] = {"body": "y" * LIMIT, "ttl": 600}
    with pytest.raises(ValidationError) as caught:
        queue.post_many(messages)
    assert caught.value.field == "messages[17]"
    assert "max_messages_post_size" in caught.value.rule
    assert (queue.stats()).total == 0  # nothing of the list was sent

    # From a lazy iterable, the batches before the oversize one were posted
    # and are reported on the error.
    with pytest.raises(ValidationError) as caught:
        queue.post_many(iter(messages))
    assert caught.value.field == "messages[17]"
    posted = caught.value.posted_ids  # type: ignore[attr-defined]
    assert len(posted) == 10
    assert [b for b in _bodies(queue, posted)] == list(range(10))
    queue.delete()


def test_producer_batches_in_order_with_backpressure(client: Client) -> None:
    queue = client.queue(_name())
    messages = _mixed(1_000)
    with queue.producer(linger=0.01, max_pending=2) as producer:
        positions = [producer.send(m) for m in messages[:600]]
        assert producer.buffered <= 2 * 10 + 10 + 10  # bounded: pending, open, posting
        first = producer.flush()
        for m in messages[600:]:
            producer.send(m)
    rest = producer.close()
    assert positions == list(range(600))
    assert len(first) == 600
    ids = first + rest
    assert len(ids) == 1_000
    bodies = _bodies(queue, ids)
    assert [b["n"] for b in bodies] == list(range(1_000))

    with queue.producer() as producer:
        producer.send({"body": "ok", "ttl": 600})
        with pytest.raises(ValidationError) as caught:
            producer.send({"body": "z" * LIMIT})
        assert caught.value.field == "messages[1]"
        assert len(producer.flush()) == 1
    queue.delete()


# -- consumer -----------------------------------------------------------------------------


#: The issue's volume, on every client, event loop and transport.
VOLUME = 10_000


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` (bounded, generous margin for a loaded machine)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        _sleep(0.05)
    raise AssertionError("condition not met in time")


def test_consume_every_message_once_with_4_handlers(client: Client) -> None:
    queue = client.queue(_name())
    total = VOLUME
    ids = queue.post_many({"body": {"n": n}, "ttl": 3_600} for n in range(total))
    seen: dict[str, int] = {}
    bodies: set[int] = set()

    def handler(delivery: Any) -> None:
        seen[delivery.id] = seen.get(delivery.id, 0) + 1
        bodies.add(delivery.body["n"])
        if len(seen) == total:
            delivery.consumer.stop()

    stats = queue.consume(handler, concurrency=4, batch=20, max_in_flight=40, poll_max=0.5)
    assert set(seen) == set(ids)  # 0 lost
    assert [i for i, count in seen.items() if count > 1] == []  # 0 duplicates
    assert bodies == set(range(total))
    assert (stats.acked, stats.nacked) == (total, 0)
    queue_stats = queue.stats()
    assert (queue_stats.total, queue_stats.claimed) == (0, 0)  # every ack reached the server
    queue.delete()


def test_iterate_ack_and_nack_release_promptly(
    client: Client, zaqar_server: Any, project_id: str
) -> None:
    queue = client.queue(_name())
    [message_id] = queue.post([{"body": "retry me", "ttl": 600}])
    with Client(zaqar_server.url, project_id=project_id) as other:
        other_queue = other.queue(queue.name, auto_create=False)
        with queue.consumer(batch=1, ttl=600, poll_max=0.2) as consumer:
            for delivery in consumer:
                assert (delivery.id, delivery.body) == (message_id, "retry me")
                # Claimed for 600 s: only a release makes it visible now.
                assert len(other_queue.claim(ttl=60, limit=1)) == 0
                consumer.stop()  # so that this consumer does not claim it back first
                delivery.nack()
                break
            _wait_for(lambda: consumer.stats.released == 1)
            # One claim by another consumer gets it, long before the ttl.
            claim = other_queue.claim(ttl=60, limit=1)
            assert [m.id for m in claim] == [message_id]
            claim.delete()
        assert consumer.stats.nacked == 1
    queue.delete()


def test_lease_is_renewed_while_the_handler_runs(
    client: Client, zaqar_server: Any, project_id: str
) -> None:
    """Zaqar's claim ttl floor is 60 s (hard-coded MIN_CLAIM_TTL), so instead of
    a handler running 3 x 60 s, the renewal interval is 1 s and the handler runs
    4 renewal intervals: the claim's age on the server must show the renewals
    (it restarts at every PATCH), and a second consumer must never get the
    message meanwhile."""
    queue = client.queue(_name())
    [message_id] = queue.post([{"body": "slow", "ttl": 600}])
    stolen: list[str] = []
    ages: list[int] = []
    handled: list[str] = []
    with Client(zaqar_server.url, project_id=project_id) as other:
        other_queue = other.queue(queue.name, auto_create=False)

        def handler(delivery: Any) -> None:
            for _ in range(8):
                claim = other_queue.claim(ttl=60, limit=1)
                stolen.extend(m.id for m in claim)
                _sleep(0.5)
            ages.append((queue.claim(id=delivery.claim_id)).age)
            handled.append(delivery.id)
            assert not delivery.lease_lost
            delivery.consumer.stop()

        stats = queue.consume(handler, concurrency=1, batch=1, ttl=60, renew_every=1.0)
    assert handled == [message_id]
    assert stolen == []
    assert stats.renewals >= 2
    assert ages[0] <= 2  # renewed within the last ~1 s; 4+ s since the claim
    assert stats.acked == 1
    assert (queue.stats()).total == 0
    queue.delete()


def test_shutdown_lets_handlers_finish_and_releases_the_rest(client: Client) -> None:
    queue = client.queue(_name())
    queue.post_many({"body": n, "ttl": 600} for n in range(30))
    started: list[int] = []
    finished: list[int] = []

    def handler(delivery: Any) -> None:
        started.append(delivery.body)
        if len(started) == 4:
            delivery.consumer.stop()
        _sleep(0.5)
        finished.append(delivery.body)

    stats = queue.consume(
        handler, concurrency=4, batch=10, max_in_flight=20, drain_timeout=30
    )
    assert sorted(finished) == sorted(started)  # every in-flight handler finished
    assert stats.acked == len(finished)
    queue_stats = queue.stats()
    assert queue_stats.claimed == 0  # nothing left claimed
    assert queue_stats.free == 30 - len(finished)
    queue.delete()


def test_failing_message_ends_in_the_dead_letter_queue(client: Client) -> None:
    queue = client.queue(_name())
    dlq = client.queue(queue.name + ".dlq")
    queue.set_dead_letter(dlq, max_claim_count=2, messages_ttl=900)
    assert queue.dead_letter() == {
        "queue": dlq.name,
        "max_claim_count": 2,
        "messages_ttl": 900,
    }
    [message_id] = queue.post([{"body": "poison", "ttl": 600}])
    attempts: list[str] = []

    def handler(delivery: Any) -> None:
        attempts.append(delivery.id)
        raise RuntimeError("always fails")

    stats = queue.consume(handler, concurrency=1, max_messages=2, batch=1, poll_max=0.2)
    assert stats.nacked == 2
    # The claim after the max_claim_count-th moves the message instead of
    # handing it out.
    assert len(queue.claim(ttl=60, limit=1)) == 0
    assert attempts == [message_id, message_id]  # delivered max_claim_count times
    # Zaqar 23 (redis) moves the id into the dead-letter queue: it is read
    # there by id; its listings and stats do not count it (the move skips
    # the DLQ's counters, and listing claimed messages there is a 503).
    moved = dlq.message(message_id)
    assert moved.body == "poison"
    assert (queue.stats()).total == 0
    queue.delete()
    dlq.delete()


def test_push_wakes_an_idle_websocket_consumer(zaqar_server: Any, project_id: str) -> None:
    with (
        Client(zaqar_server.ws_url, project_id=project_id) as ws,
        Client(zaqar_server.url, project_id=project_id) as poster,
    ):
        queue = ws.queue(_name())
        queue.ensure_exists()
        # A fallback poll of 60 s: only a push can deliver within the wait below.
        with queue.consumer(push_poll=60.0) as consumer:
            _wait_for(lambda: consumer.push_active and consumer.stats.empty_claims > 0)
            [message_id] = poster.queue(queue.name, auto_create=False).post(
                [{"body": "ping", "ttl": 600}]
            )
            delivery = consumer.next_delivery(timeout=30)
            assert delivery is not None
            assert delivery.id == message_id
            delivery.ack()
        assert consumer.stats.pushes >= 1
        queue.delete()


def test_a_lost_lease_is_reported_on_the_delivery(
    client: Client, zaqar_server: Any, project_id: str
) -> None:
    queue = client.queue(_name())
    queue.post([{"body": "x", "ttl": 600}])
    report: list[Any] = []
    with Client(zaqar_server.url, project_id=project_id) as other:

        def handler(delivery: Any) -> None:
            # Someone else releases the claim behind the consumer's back: the
            # next renewal finds it gone (404) and says so on the delivery.
            claim = other.queue(queue.name, auto_create=False).claim(id=delivery.claim_id)
            claim.delete()
            _wait_for(lambda: delivery.lease_lost)
            report.append(delivery.lease_error)
            delivery.consumer.stop()

        # max_in_flight=1: the consumer must not claim the freed message
        # itself meanwhile (it would take it over: ConsumerState.adopt).
        stats = queue.consume(
            handler, concurrency=1, batch=1, max_in_flight=1, renew_every=0.5
        )
    assert len(report) == 1
    assert report[0]
    assert stats.renewal_failures >= 1
    queue.delete()


def test_a_handler_outliving_the_drain_has_its_message_released(
    client: Client,
) -> None:
    queue = client.queue(_name())
    [message_id] = queue.post([{"body": "slow", "ttl": 600}])
    started: list[str] = []

    def handler(delivery: Any) -> None:
        started.append(delivery.id)
        delivery.consumer.stop()
        _sleep(3.0)  # longer than the drain allows

    stats = queue.consume(handler, concurrency=1, batch=1, drain_timeout=0.5)
    assert started == [message_id]
    assert stats.acked == 0
    queue_stats = queue.stats()
    assert (queue_stats.claimed, queue_stats.free) == (0, 1)  # released, not acked
    claim = queue.claim(ttl=60, limit=1)  # available to the next consumer
    assert [m.id for m in claim] == [message_id]
    claim.delete()
    queue.delete()


def test_a_message_claimed_again_is_noticed_and_not_handed_out_twice(
    client: Client,
) -> None:
    """Zaqar 23's redis claim scan: once an older message is released, the
    next claim also takes a newer message another claim of ours holds."""
    queue = client.queue(_name())
    with queue.consumer(batch=3, max_in_flight=10, poll_max=0.2) as consumer:
        [first] = queue.post([{"body": 0, "ttl": 600}])
        d0 = consumer.next_delivery(timeout=30)
        [second] = queue.post([{"body": 1, "ttl": 600}])
        d1 = consumer.next_delivery(timeout=30)
        assert d0 is not None
        assert d1 is not None
        assert (d0.id, d1.id) == (first, second)
        held_by = d1.claim_id
        d0.nack()  # frees the oldest message: the next claim scans from it
        _wait_for(lambda: consumer.stats.released == 1)
        [third] = queue.post([{"body": 2, "ttl": 600}])
        again: list[str] = []
        while len(again) < 2:
            delivery = consumer.next_delivery(timeout=30)
            assert delivery is not None
            again.append(delivery.id)
            delivery.ack()
        assert sorted(again) == sorted([first, third])  # never the held one
        assert consumer.stats.redeliveries_noticed == 1
        assert d1.claim_id != held_by  # acknowledged with the claim holding it now
        d1.ack()
        _wait_for(lambda: consumer.stats.acked == 3 and consumer.in_flight == 0)
        assert d1.ack_error is None
    assert consumer.stats.ack_failures == 0
    assert consumer.stats.delivered == 4
    queue.delete()
