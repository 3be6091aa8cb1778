"""Each adapter of zaqarkit.compat.zaqarclient against a real Zaqar, over HTTP
and WebSocket: python-zaqarclient's shapes, names and timing, zaqarkit's fixes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

import zaqarkit
from zaqarkit.compat.zaqarclient import errors
from zaqarkit.compat.zaqarclient.queues import client as pzc_client
from zaqarkit.compat.zaqarclient.queues.v2 import claim, iterator, message, subscription
from zaqarkit.compat.zaqarclient.queues.v2.client import Client
from zaqarkit.compat.zaqarclient.transport import errors as transport_errors

from .conftest import conf


def _name() -> str:
    return "q-" + uuid.uuid4().hex[:12]


def test_factory_needs_a_known_version(zaqar_server: Any) -> None:
    with pytest.raises(errors.ZaqarError, match="Unknown client version"):
        pzc_client.Client(zaqar_server.url, conf=conf("p"))
    made = pzc_client.Client(zaqar_server.url, 2, conf("p"))
    assert isinstance(made.zaqarkit, zaqarkit.Client)
    assert made.api_version == 2
    assert made.auth_opts["backend"] == "noauth"
    made.close()


def test_queue_creation_timing_and_exists(cli: Client) -> None:
    name = _name()
    queue = cli.queue(name)  # python-zaqarclient sends nothing here
    assert queue.exists() is False  # its exists() would say True
    forced = cli.queue(name, force_create=True)
    assert forced.exists() is True
    listed, count = cli.queues(with_count=True)
    assert isinstance(listed, iterator._Iterator)
    assert name in [q.name for q in listed]
    assert count is not None
    assert count >= 1
    forced.delete()
    assert forced.exists() is False


def test_int_name_like_pzc_tests(cli: Client) -> None:
    queue = cli.queue(1, auto_create=False)
    assert queue.name == 1
    assert queue.zaqarkit.name == "1"


def test_post_message_and_listings(cli: Client) -> None:
    queue = cli.queue(_name())
    try:
        posted = queue.post([{"body": n, "ttl": 60} for n in range(12)])
        assert set(posted) == {"resources"}
        assert len(posted["resources"]) == 12
        first = posted["resources"][0]
        assert first.startswith(f"/v2/queues/{queue.name}/messages/")
        got = queue.message(first.split("/")[-1])
        assert isinstance(got, message.Message)
        assert got.id == first.split("/")[-1]
        assert got.body == 0
        # Every page, whether or not stream() is called (over HTTP: Zaqar's
        # WebSocket listing replies carry no marker, so there it is one page).
        http = cli.api_url.startswith("http")
        listed = queue.messages(echo=True, limit=5 if http else 20)
        assert isinstance(listed, iterator._Iterator)
        assert sorted(m.body for m in listed) == list(range(12))
        ids = [ref.split("/")[-1] for ref in posted["resources"][:3]]
        assert sorted(m.body for m in queue.messages(*ids)) == [0, 1, 2]
        queue.delete_messages(*ids)
        assert len(list(queue.messages(echo=True).stream())) == 9
        stats = queue.stats  # a property returning the server's document
        assert stats["messages"]["free"] == 9
        assert stats["messages"]["total"] == 9
        assert "oldest" in stats["messages"]
        popped = queue.pop(count=2)
        assert isinstance(popped, iterator._Iterator)
        assert len(list(popped)) == 2
    finally:
        queue.delete()


def test_metadata_cache_reload_and_full_replace(zaqar_server: Any, project_id: str) -> None:
    # PATCH is HTTP-only in Zaqar, so this runs over HTTP.
    with pzc_client.Client(zaqar_server.url, 2, conf(project_id)) as cli:
        queue = cli.queue(_name(), force_create=True)
        try:
            queue.metadata({"a": 1, "_default_message_ttl": 120})
            assert queue.metadata()["_default_message_ttl"] == 120
            queue._metadata = {"cached": True}
            assert queue.metadata() == {"cached": True}
            assert queue.metadata(force_reload=True)["a"] == 1
            assert queue.metadata_dict["a"] == 1
            # The whole document is replaced: "a" goes, the reserved key resets.
            queue.metadata({"b": 2})
            fresh = queue.metadata(force_reload=True)
            assert "a" not in fresh
            assert fresh["b"] == 2
            assert fresh["_default_message_ttl"] == 3600
        finally:
            queue.delete()


def test_claims(cli: Client) -> None:
    queue = cli.queue(_name())
    try:
        queue.post([{"body": "c", "ttl": 120}])
        made = queue.claim(ttl=120, grace=60)
        assert isinstance(made, claim.Claim)
        assert made.id is not None
        claimed = list(made)
        assert [m.body for m in claimed] == ["c"]
        assert claimed[0].claim_id == made.id
        assert made.ttl == 120
        again = queue.claim(id=made.id)
        assert again.id == made.id
        first_age = made.age
        time.sleep(2)
        assert made.age >= first_age + 1  # re-read from the server on access
        made.update(ttl=300)
        assert queue.claim(id=made.id).ttl == 300
        claimed[0].delete()  # sends the claim id
        assert list(queue.messages(echo=True)) == []
        made.delete()
        with pytest.raises(transport_errors.ResourceNotFound):
            queue.claim(id=made.id)
        empty = queue.claim(ttl=60)
        assert empty.id is None
        assert list(empty) == []
    finally:
        queue.delete()


def test_subscriptions(cli: Client) -> None:
    queue = cli.queue(_name(), force_create=True)
    try:
        sub = subscription.Subscription(cli, queue.name, subscriber="http://example.test/a")
        assert sub.id
        assert sub.ttl == 60  # python-zaqarclient's default
        other = cli.subscription(queue.name, subscriber="http://example.test/b", ttl=3600)
        listed = queue.subscriptions()
        assert isinstance(listed, iterator._Iterator)
        assert sorted(s.subscriber for s in listed) == [
            "http://example.test/a",
            "http://example.test/b",
        ]
        lazy = cli.subscription(queue.name, id=other.id, auto_create=False)
        assert lazy.subscriber is None  # nothing was read
        fetched = cli.subscription(queue.name, id=other.id)
        assert fetched.ttl == 3600
        assert fetched.queue_name == queue.name
        sub.delete()
        other.delete()
        with pytest.raises(transport_errors.ResourceNotFound):
            cli.subscription(queue.name, id=other.id)
    finally:
        queue.delete()


def test_subscription_update_and_signed_url(zaqar_server: Any, project_id: str) -> None:
    # Subscription PATCH and share are HTTP-only in Zaqar.
    with pzc_client.Client(zaqar_server.url, 2, conf(project_id)) as cli:
        queue = cli.queue(_name(), force_create=True)
        try:
            sub = cli.subscription(queue.name, subscriber="http://example.test/a", ttl=600)
            lazy = cli.subscription(queue.name, id=sub.id, auto_create=False)
            lazy.update({"ttl": 900})
            assert lazy.ttl == 900
            assert cli.subscription(queue.name, id=sub.id).ttl == 900
            queue.post({"body": "signed", "ttl": 300})
            signed = queue.signed_url(methods=["GET"], ttl_seconds=600)
            assert set(signed) == {"signature", "expires", "paths", "methods", "project"}
            assert signed["project"] == project_id
            guest_conf = {
                "auth_opts": {
                    "backend": "signed-url",
                    "options": {
                        "signature": signed["signature"],
                        "expires": signed["expires"],
                        "paths": signed["paths"],
                        "methods": signed["methods"],
                        "os_project_id": signed["project"],
                    },
                }
            }
            with pzc_client.Client(zaqar_server.url, 2, guest_conf) as guest:
                [got] = list(guest.queue(queue.name).messages())
                assert got.body == "signed"
        finally:
            queue.delete()


def test_server_calls_return_dicts(cli: Client) -> None:
    assert cli.ping() is True
    health = cli.health()
    assert isinstance(health, dict)
    assert "storage_reachable" in health
    assert "queues" in cli.homedoc()["resources"] or cli.homedoc()["resources"]


def test_errors_are_pzc_and_zaqarkit_classes(cli: Client) -> None:
    queue = cli.queue(_name())
    with pytest.raises(transport_errors.ResourceNotFound) as caught:
        queue.message("0123456789abcdef01234567")
    assert isinstance(caught.value, zaqarkit.NotFound)
    assert isinstance(caught.value, errors.ZaqarError)
    assert caught.value.code == 404
    assert str(caught.value).startswith("Error response from Zaqar. Code: 404.")
    with pytest.raises(ValueError, match="name"):
        cli.queue("bad name!")


def test_websocket_without_http_url_raises_invalid_operation(
    zaqar_server: Any, project_id: str
) -> None:
    with pzc_client.Client(zaqar_server.ws_url, 2, conf(project_id)) as cli:
        queue = cli.queue(_name())
        assert queue.post({"body": 1, "ttl": 60})["resources"]
        with pytest.raises(errors.InvalidOperation):
            cli.health()
        queue.delete()


def test_pool_and_flavor_created_at_construction(admin: Client, zaqar_pooled_server: Any) -> None:
    uri = f"{zaqar_pooled_server.redis_url}?dbid={uuid.uuid4().int % 4 + 12}"
    pool_name, flavor_name = "p-" + uuid.uuid4().hex[:8], "f-" + uuid.uuid4().hex[:8]
    pool = admin.pool(pool_name, weight=10, uri=uri)
    try:
        flavor = admin.flavor(flavor_name, pool_list=[pool_name])
        try:
            assert flavor_name in [f.name for f in admin.flavors()]
            assert flavor.get()["pool_list"] == [pool_name]
            got = pool.get()
            assert (got["name"], got["weight"], got["uri"]) == (pool_name, 10, uri)
            pool.update({"weight": 20})
            assert pool.weight == 20
            assert pool.get()["weight"] == 20
            assert pool_name in [p.name for p in admin.pools()]
        finally:
            flavor.delete()
    finally:
        pool.delete()
    assert pool_name not in [p.name for p in admin.pools()]
