"""The python-zaqarclient habits zaqarkit's main API now accepts (issue 16):
a pool then a flavor on it, listings right after declarations, and pzc's
harmless keyword arguments."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from zaqarkit import AsyncClient, AsyncFlavor, AsyncPool, ValidationError

pytestmark = pytest.mark.anyio  # async-only


@pytest.fixture
async def pooled(zaqar_pooled_server: Any, project_id: str) -> Any:
    async with AsyncClient(zaqar_pooled_server.url, project_id=project_id, roles=["admin"]) as cli:
        yield cli


@pytest.fixture
async def plain(zaqar_server: Any, project_id: str) -> Any:
    async with AsyncClient(zaqar_server.url, project_id=project_id, roles=["admin"]) as cli:
        yield cli


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _declare(cli: AsyncClient, server: Any) -> tuple[AsyncPool, AsyncFlavor]:
    """A pool (its own redis database: the SQL catalog refuses a duplicate
    URI) and a flavor on it, declared in that order; nothing is sent."""
    uri = f"{server.redis_url}?dbid={uuid.uuid4().int % 5 + 10}"
    pool = cli.pool("p-" + _suffix(), weight=10, uri=uri)
    return pool, cli.flavor("f-" + _suffix(), pool_list=[pool.name])


async def test_pool_then_flavor_in_that_order(
    pooled: AsyncClient, zaqar_pooled_server: Any
) -> None:
    pool, flavor = _declare(pooled, zaqar_pooled_server)
    try:
        # The flavor is sent first here, yet its pool is created before it.
        await flavor.ensure_exists()
        assert (await flavor.get()).pool_list == [pool.name]
        assert pool.name in [p.name async for p in pooled.pools()]
    finally:
        await flavor.delete()
        await pool.delete()


async def test_listing_right_after_declaring_shows_it(
    pooled: AsyncClient, zaqar_pooled_server: Any
) -> None:
    pool, flavor = _declare(pooled, zaqar_pooled_server)
    try:
        assert flavor.name in [f.name async for f in pooled.flavors()]
        assert pool.name in [p.name async for p in pooled.pools()]
    finally:
        await flavor.delete()
        await pool.delete()


async def test_pzc_keywords_are_accepted(plain: AsyncClient) -> None:
    queue = plain.queue("q-" + _suffix())
    try:
        await queue.metadata({"owner": "a", "_default_message_ttl": 120})
        assert (await queue.metadata(force_reload=True))["_default_message_ttl"] == 120
        # keep_reserved=False: python-zaqarclient's whole-document replace.
        replaced = await queue.metadata({"owner": "b"}, keep_reserved=False)
        assert replaced["owner"] == "b"
        assert (await queue.metadata())["_default_message_ttl"] == 3600

        await queue.post([{"body": n, "ttl": 60} for n in range(3)])
        bodies = [m.body async for m in queue.messages(echo=True, limit=2, marker=None)]
        assert sorted(bodies) == [0, 1, 2]

        created = await plain.subscription(queue.name, subscriber="http://example.test/a")
        fetched = await plain.subscription(queue.name, id=created.id, auto_create=False)
        assert fetched.subscriber == "http://example.test/a"
        listed = [s.id async for s in plain.subscriptions(queue.name, detailed=True)]
        assert listed == [created.id]
        assert [s.id async for s in queue.subscriptions(detailed=True)] == [created.id]
        with pytest.raises(ValidationError, match="id"):
            await plain.subscription(queue.name, "http://example.test/b", auto_create=False)
    finally:
        await queue.delete()
