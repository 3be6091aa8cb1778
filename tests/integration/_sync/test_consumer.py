# This file is generated from tests/integration/_async/test_consumer.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Consumers and producers against a real Zaqar, over HTTP and WebSocket."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from zaqarkit import Client, ValidationError

LIMIT = 262_144  # Zaqar's default max_messages_post_size


@pytest.fixture(params=["http", "websocket"])
def client(request: pytest.FixtureRequest, zaqar_server: Any, project_id: str) -> Any:
    if request.param == "http":
        cli = Client(zaqar_server.url, project_id=project_id, roles=["admin"])
    else:
        cli = Client(
            zaqar_server.ws_url, http_url=zaqar_server.url, project_id=project_id,
            roles=["admin"],
        )
    with cli:
        yield cli


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
        for message in queue.messages(*ids[start:start + 20]):
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
