"""The client facade on API v1 and v1.1, against a real Zaqar 19 (zaqarkit.testing).

Each test names the operations it covers in ``scripts/version_matrix.py``'s
``TESTED`` table; keep the two in step.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from zaqarkit import AsyncClient
from zaqarkit.errors import BadRequest, NotFound, UnsupportedOperation, ValidationError

from .counting import CountingTransport

pytestmark = [pytest.mark.integration, pytest.mark.anyio]  # async-only
# sync-only: pytestmark = pytest.mark.integration

LEGACY = ["1", "1.1"]


@pytest.fixture(params=LEGACY, ids=lambda v: "v" + v)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def client(legacy_server: Any, project_id: str, version: str, counting: Any) -> Any:
    async with AsyncClient(
        legacy_server.url,
        version=version,
        project_id=project_id,
        roles=["admin"],
        transport=counting,
    ) as cli:
        yield cli


@pytest.fixture
async def pooled_client(legacy_pooled_server: Any, project_id: str, version: str) -> Any:
    async with AsyncClient(
        legacy_pooled_server.url, version=version, project_id=project_id, roles=["admin"]
    ) as cli:
        yield cli


def _name() -> str:
    return "q-" + uuid.uuid4().hex[:12]


async def _created(client: AsyncClient) -> Any:
    # v1 does not create a queue when messages are posted to it (the messages
    # are stored, but listing and claims then answer 404), so create it first.
    queue = client.queue(_name())
    await queue.ensure_exists()
    return queue


async def test_ping_and_health(client: AsyncClient, counting: CountingTransport) -> None:
    assert await client.ping() is True
    health = await client.health()
    assert health.storage_reachable is True
    paths = [r.path for r in counting.sent]
    if client.api_version == "1":
        # v1 has no /ping: both calls use the public /v1/health (204, no body).
        assert paths == ["/v1/health", "/v1/health"]
        assert dict(health.data) == {"storage_reachable": True}
    else:
        assert paths == ["/v1.1/ping", "/v1.1/health"]
        assert health.data["operation_status"]["create_queue"]["succeeded"] is True
    home = await client.homedoc()
    assert "rel/queues" in home.resources


async def test_queue_lifecycle_and_exists(client: AsyncClient, counting: CountingTransport) -> None:
    # An empty listing is 204 on v1 and 200 [] on v1.1: both are no queues.
    assert [q.name async for q in client.queues()] == []
    assert await client.queue_count() == 0
    queue = client.queue(_name())
    assert await queue.exists() is False
    await queue.ensure_exists()
    assert await queue.exists() is True
    assert await client.queue_count() == 1  # counted from the listing: no with_count here
    if client.api_version == "1":
        assert [r.method for r in counting.sent if r.path.endswith(queue.name)] == [
            "HEAD",
            "PUT",
            "HEAD",
        ]
    listed = [q async for q in client.queues(detailed=True)]
    assert [q.name for q in listed] == [queue.name]
    stats = await queue.stats()
    assert (stats.total, stats.free, stats.claimed) == (0, 0, 0)
    await queue.delete()
    assert await queue.exists() is False


async def test_metadata_v1(legacy_server: Any, project_id: str) -> None:
    async with AsyncClient(legacy_server.url, version=1, project_id=project_id) as cli:
        queue = cli.queue(_name())
        assert await queue.metadata() == {}
        assert await queue.metadata({"a": 1, "b": 2}) == {"a": 1, "b": 2}
        # PUT replaces the whole document.
        assert await queue.metadata({"c": 3}) == {"c": 3}
        assert await queue.metadata() == {"c": 3}
        with pytest.raises(ValidationError, match="_default_message_ttl"):
            await queue.metadata({"_default_message_ttl": 100})
        with pytest.raises(UnsupportedOperation, match="v1"):
            await cli.queue(_name(), metadata={"a": 1}).ensure_exists()
        await queue.delete()
        with pytest.raises(NotFound):
            await cli.queue(queue.name, auto_create=False).metadata()


async def test_metadata_v1_1(legacy_server: Any, project_id: str) -> None:
    counting = CountingTransport()
    async with AsyncClient(
        legacy_server.url, version="1.1", project_id=project_id, transport=counting
    ) as cli:
        queue = cli.queue(_name(), metadata={"a": 1})
        assert await queue.metadata() == {"a": 1}
        sent = len(counting.sent)
        with pytest.raises(UnsupportedOperation, match=r"queue_update.*v1\.1"):
            await queue.metadata({"b": 2})
        assert len(counting.sent) == sent  # refused before anything was sent
        # PUT on an existing queue leaves its metadata alone, as in v2.
        await queue.ensure_exists(force_create=True)
        assert await queue.metadata() == {"a": 1}
        await queue.delete()
    await counting.aclose()


async def test_messages(client: AsyncClient) -> None:
    queue = await _created(client)
    ids = await queue.post([{"body": {"n": 1}, "ttl": 300}, {"body": "two", "ttl": 120}])
    assert len(ids) == 2
    # Your own messages are hidden without echo, in v1 (204) as in v1.1 (200 []).
    assert [m async for m in queue.messages()] == []
    listed = [m async for m in queue.messages(echo=True, limit=5)]
    assert [(m.id, m.body, m.ttl) for m in listed] == [
        (ids[0], {"n": 1}, 300),
        (ids[1], "two", 120),
    ]
    message = await queue.message(ids[0])
    assert message.body == {"n": 1}
    found = [m.id async for m in queue.messages(*ids, "0" * 24)]
    assert found == ids
    assert [m async for m in queue.messages("0" * 24)] == []
    await message.delete()
    with pytest.raises(NotFound):
        await queue.message(ids[0])
    await queue.delete_messages(ids[1])
    assert [m async for m in queue.messages(echo=True)] == []
    missing = client.queue(_name(), auto_create=False)
    assert [m async for m in missing.messages(echo=True)] == []  # v1: 404 -> empty
    await queue.delete()


async def test_message_ttl_required_on_v1(client: AsyncClient, counting: CountingTransport) -> None:
    queue = client.queue(_name(), auto_create=False)
    if client.api_version == "1":
        with pytest.raises(ValidationError, match=r"ttl.*v1"):
            await queue.post({"body": 1})
        assert counting.sent == []
    else:
        [message_id] = await queue.post({"body": 1})
        assert (await queue.message(message_id)).ttl == 3600  # the server default
    with pytest.raises(UnsupportedOperation, match="delay"):
        await queue.post({"body": 1, "ttl": 60, "delay": 5})
    await queue.delete()


async def test_post_creates_queue_on_v1(legacy_server: Any, project_id: str) -> None:
    async with AsyncClient(legacy_server.url, version=1, project_id=project_id) as cli:
        queue = cli.queue(_name())
        await queue.post({"body": 1, "ttl": 300})
        assert await queue.exists() is True


async def test_claims(client: AsyncClient) -> None:
    queue = await _created(client)
    ids = await queue.post([{"body": i, "ttl": 300} for i in range(3)])
    claim = await queue.claim(limit=2)  # v1 needs ttl and grace: defaults are sent
    assert claim.id is not None
    assert [m.id for m in claim] == ids[:2]
    assert all(m.claim_id == claim.id for m in claim)
    await claim.update(ttl=120, grace=60)
    fetched = await queue.claim(id=claim.id)
    assert fetched.ttl == 120
    assert [m.id for m in fetched] == ids[:2]
    await claim.messages[0].delete()  # with its claim id
    await claim.delete()
    again = await queue.claim(ttl=60, grace=60, limit=5)
    assert sorted(m.id for m in again) == sorted(ids[1:])
    await again.delete()
    empty = client.queue(_name())
    nothing = await empty.claim(ttl=60, grace=60)
    assert nothing.id is None
    assert len(nothing) == 0
    await empty.delete()
    await queue.delete()


async def test_pop(client: AsyncClient, counting: CountingTransport) -> None:
    queue = await _created(client)
    ids = await queue.post([{"body": i, "ttl": 300} for i in range(2)])
    if client.api_version == "1":
        sent = len(counting.sent)
        with pytest.raises(UnsupportedOperation, match=r"'message_pop'.*v1; use version='2'"):
            await queue.pop()
        assert len(counting.sent) == sent
    else:
        popped = await queue.pop(1)
        assert [m.id for m in popped] == ids[:1]
        assert popped[0].claim_id is not None
    await queue.delete()


async def test_v2_only_operations_send_nothing(
    client: AsyncClient, counting: CountingTransport
) -> None:
    queue = client.queue(_name(), auto_create=False)
    refused = [
        lambda: queue.purge(),
        lambda: queue.signed_url(),
        lambda: client.subscription(queue.name, "http://127.0.0.1:1/hook"),
    ]
    for call in refused:
        with pytest.raises(UnsupportedOperation, match=r"v1(\.1)?; use version='2'"):
            await call()
    with pytest.raises(UnsupportedOperation, match=r"v1(\.1)?; use version='2'"):
        [s async for s in client.subscriptions(queue.name)]
    with pytest.raises(UnsupportedOperation, match="with_count"):
        [q async for q in client.queues(with_count=True)]
    assert counting.sent == []


async def test_refusals_come_before_lazy_queue_creation(
    client: AsyncClient, counting: CountingTransport
) -> None:
    # The handles auto-create: a refusal must not first send the queue PUT.
    with pytest.raises(UnsupportedOperation, match=r"API v1(\.1)?; use version="):
        await client.queue(_name()).signed_url()
    with pytest.raises(UnsupportedOperation, match=r"API v1(\.1)?; use version="):
        await client.queue(_name()).purge()
    if client.api_version == "1":
        with pytest.raises(UnsupportedOperation, match=r"'message_pop'.*API v1;"):
            await client.queue(_name()).pop()
    else:
        with pytest.raises(UnsupportedOperation, match=r"queue_update.*v1\.1"):
            await client.queue(_name()).metadata({"owner": "x"})
    assert counting.sent == []


async def test_pools(pooled_client: AsyncClient) -> None:
    names = [p.name async for p in pooled_client.pools()]
    assert "pool1" in names
    base = await pooled_client.pool("pool1", auto_create=False).get()
    assert base.uri is not None
    # Pool URIs must be unique in the catalog: another redis db of the same server.
    uri = f"{base.uri}?dbid={uuid.uuid4().int % 14 + 2}"
    pool = pooled_client.pool("pool-" + uuid.uuid4().hex[:8], weight=10, uri=uri)
    await pool.get()
    assert (pool.uri, pool.weight) == (uri, 10)
    await pool.update(weight=20)
    assert pool.weight == 20  # v1/v1.1 PATCH answers no body: the fields sent
    assert (await pool.get()).weight == 20
    with pytest.raises(UnsupportedOperation, match="flavor"):
        await pool.update(flavor="gold")
    await pool.delete()
    assert pool.name not in [p.name async for p in pooled_client.pools()]


async def test_flavors(pooled_client: AsyncClient) -> None:
    name = "flavor-" + uuid.uuid4().hex[:8]
    if pooled_client.api_version == "1":
        with pytest.raises(UnsupportedOperation, match=r"'flavor_create'.*v1; use version='2'"):
            await pooled_client.flavor(name, pool_list=["group"]).ensure_exists()
        with pytest.raises(UnsupportedOperation, match=r"'flavor_list'.*v1; use version='2'"):
            [f async for f in pooled_client.flavors()]
        return
    # v1.1 flavors name one pool group; zaqar 19 no longer stores it.
    flavor = pooled_client.flavor(name, pool_list=["group1"])
    await flavor.get()
    assert flavor.name == name
    assert name in [f.name async for f in pooled_client.flavors(detailed=True)]
    with pytest.raises(ValidationError, match="exactly one pool group"):
        await pooled_client.flavor(name + "x", pool_list=["a", "b"]).ensure_exists()
    # zaqar 19 refuses every v1.1 flavor PATCH ("`capabilities` needs to be
    # specified", even when it is): a server bug, kept visible here.
    with pytest.raises(BadRequest, match="capabilities"):
        await flavor.update(pool_list=["group2"])
    await flavor.delete()
    with pytest.raises(NotFound):
        await pooled_client.flavor(name, auto_create=False).get()
