# This file is generated from tests/integration/_async/test_pzc_traps.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""The python-zaqarclient habits zaqarkit's main API now accepts (issue 16):
a pool then a flavor on it, listings right after declarations, and pzc's
harmless keyword arguments."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from zaqarkit import Client, Flavor, Pool, ValidationError


@pytest.fixture
def pooled(zaqar_pooled_server: Any, project_id: str) -> Any:
    with Client(zaqar_pooled_server.url, project_id=project_id, roles=["admin"]) as cli:
        yield cli


@pytest.fixture
def plain(zaqar_server: Any, project_id: str) -> Any:
    with Client(zaqar_server.url, project_id=project_id, roles=["admin"]) as cli:
        yield cli


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _declare(cli: Client, server: Any) -> tuple[Pool, Flavor]:
    """A pool (its own redis database: the SQL catalog refuses a duplicate
    URI) and a flavor on it, declared in that order; nothing is sent."""
    uri = f"{server.redis_url}?dbid={uuid.uuid4().int % 5 + 10}"
    pool = cli.pool("p-" + _suffix(), weight=10, uri=uri)
    return pool, cli.flavor("f-" + _suffix(), pool_list=[pool.name])


def test_pool_then_flavor_in_that_order(
    pooled: Client, zaqar_pooled_server: Any
) -> None:
    pool, flavor = _declare(pooled, zaqar_pooled_server)
    try:
        # The flavor is sent first here, yet its pool is created before it.
        flavor.ensure_exists()
        assert (flavor.get()).pool_list == [pool.name]
        assert pool.name in [p.name for p in pooled.pools()]
    finally:
        flavor.delete()
        pool.delete()


def test_listing_right_after_declaring_shows_it(
    pooled: Client, zaqar_pooled_server: Any
) -> None:
    pool, flavor = _declare(pooled, zaqar_pooled_server)
    try:
        assert flavor.name in [f.name for f in pooled.flavors()]
        assert pool.name in [p.name for p in pooled.pools()]
    finally:
        flavor.delete()
        pool.delete()


def test_pzc_keywords_are_accepted(plain: Client) -> None:
    queue = plain.queue("q-" + _suffix())
    try:
        queue.metadata({"owner": "a", "_default_message_ttl": 120})
        assert (queue.metadata(force_reload=True))["_default_message_ttl"] == 120
        # keep_reserved=False: python-zaqarclient's whole-document replace.
        replaced = queue.metadata({"owner": "b"}, keep_reserved=False)
        assert replaced["owner"] == "b"
        assert (queue.metadata())["_default_message_ttl"] == 3600

        queue.post([{"body": n, "ttl": 60} for n in range(3)])
        bodies = [m.body for m in queue.messages(echo=True, limit=2, marker=None)]
        assert sorted(bodies) == [0, 1, 2]

        created = plain.subscription(queue.name, subscriber="http://example.test/a")
        fetched = plain.subscription(queue.name, id=created.id, auto_create=False)
        assert fetched.subscriber == "http://example.test/a"
        listed = [s.id for s in plain.subscriptions(queue.name, detailed=True)]
        assert listed == [created.id]
        assert [s.id for s in queue.subscriptions(detailed=True)] == [created.id]
        with pytest.raises(ValidationError, match="id"):
            plain.subscription(queue.name, "http://example.test/b", auto_create=False)
    finally:
        queue.delete()
