# This file is generated from tests/integration/_async/test_legacy.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""The client facade on API v1 and v1.1, against a real Zaqar 19 (zaqarkit.testing).

Each test names the operations it covers in ``scripts/version_matrix.py``'s
``TESTED`` table; keep the two in step.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from zaqarkit import Client
from zaqarkit.errors import BadRequest, NotFound, UnsupportedOperation, ValidationError

from .counting import CountingTransport

pytestmark = pytest.mark.integration

LEGACY = ["1", "1.1"]


@pytest.fixture(params=LEGACY, ids=lambda v: "v" + v)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(legacy_server: Any, project_id: str, version: str, counting: Any) -> Any:
    with Client(
        legacy_server.url,
        version=version,
        project_id=project_id,
        roles=["admin"],
        transport=counting,
    ) as cli:
        yield cli


@pytest.fixture
def pooled_client(legacy_pooled_server: Any, project_id: str, version: str) -> Any:
    with Client(
        legacy_pooled_server.url, version=version, project_id=project_id, roles=["admin"]
    ) as cli:
        yield cli


def _name() -> str:
    return "q-" + uuid.uuid4().hex[:12]


def _created(client: Client) -> Any:
    # v1 does not create a queue when messages are posted to it (the messages
    # are stored, but listing and claims then answer 404), so create it first.
    queue = client.queue(_name())
    queue.ensure_exists()
    return queue


def test_ping_and_health(client: Client, counting: CountingTransport) -> None:
    assert client.ping() is True
    health = client.health()
    assert health.storage_reachable is True
    paths = [r.path for r in counting.sent]
    if client.api_version == "1":
        # v1 has no /ping: both calls use the public /v1/health (204, no body).
        assert paths == ["/v1/health", "/v1/health"]
        assert dict(health.data) == {"storage_reachable": True}
    else:
        assert paths == ["/v1.1/ping", "/v1.1/health"]
        assert health.data["operation_status"]["create_queue"]["succeeded"] is True
    home = client.homedoc()
    assert "rel/queues" in home.resources


def test_queue_lifecycle_and_exists(client: Client, counting: CountingTransport) -> None:
    # An empty listing is 204 on v1 and 200 [] on v1.1: both are no queues.
    assert [q.name for q in client.queues()] == []
    assert client.queue_count() == 0
    queue = client.queue(_name())
    assert queue.exists() is False
    queue.ensure_exists()
    assert queue.exists() is True
    assert client.queue_count() == 1  # counted from the listing: no with_count here
    if client.api_version == "1":
        assert [r.method for r in counting.sent if r.path.endswith(queue.name)] == [
            "HEAD",
            "PUT",
            "HEAD",
        ]
    listed = [q for q in client.queues(detailed=True)]
    assert [q.name for q in listed] == [queue.name]
    stats = queue.stats()
    assert (stats.total, stats.free, stats.claimed) == (0, 0, 0)
    queue.delete()
    assert queue.exists() is False


def test_metadata_v1(legacy_server: Any, project_id: str) -> None:
    with Client(legacy_server.url, version=1, project_id=project_id) as cli:
        queue = cli.queue(_name())
        assert queue.metadata() == {}
        assert queue.metadata({"a": 1, "b": 2}) == {"a": 1, "b": 2}
        # PUT replaces the whole document.
        assert queue.metadata({"c": 3}) == {"c": 3}
        assert queue.metadata() == {"c": 3}
        with pytest.raises(ValidationError, match="_default_message_ttl"):
            queue.metadata({"_default_message_ttl": 100})
        with pytest.raises(UnsupportedOperation, match="v1"):
            cli.queue(_name(), metadata={"a": 1}).ensure_exists()
        queue.delete()
        with pytest.raises(NotFound):
            cli.queue(queue.name, auto_create=False).metadata()


def test_metadata_v1_1(legacy_server: Any, project_id: str) -> None:
    counting = CountingTransport()
    with Client(
        legacy_server.url, version="1.1", project_id=project_id, transport=counting
    ) as cli:
        queue = cli.queue(_name(), metadata={"a": 1})
        assert queue.metadata() == {"a": 1}
        sent = len(counting.sent)
        with pytest.raises(UnsupportedOperation, match=r"queue_update.*v1\.1"):
            queue.metadata({"b": 2})
        assert len(counting.sent) == sent  # refused before anything was sent
        # PUT on an existing queue leaves its metadata alone, as in v2.
        queue.ensure_exists(force_create=True)
        assert queue.metadata() == {"a": 1}
        queue.delete()
    counting.close()


def test_messages(client: Client) -> None:
    queue = _created(client)
    ids = queue.post([{"body": {"n": 1}, "ttl": 300}, {"body": "two", "ttl": 120}])
    assert len(ids) == 2
    # Your own messages are hidden without echo, in v1 (204) as in v1.1 (200 []).
    assert [m for m in queue.messages()] == []
    listed = [m for m in queue.messages(echo=True, limit=5)]
    assert [(m.id, m.body, m.ttl) for m in listed] == [
        (ids[0], {"n": 1}, 300),
        (ids[1], "two", 120),
    ]
    message = queue.message(ids[0])
    assert message.body == {"n": 1}
    found = [m.id for m in queue.messages(*ids, "0" * 24)]
    assert found == ids
    assert [m for m in queue.messages("0" * 24)] == []
    message.delete()
    with pytest.raises(NotFound):
        queue.message(ids[0])
    queue.delete_messages(ids[1])
    assert [m for m in queue.messages(echo=True)] == []
    missing = client.queue(_name(), auto_create=False)
    assert [m for m in missing.messages(echo=True)] == []  # v1: 404 -> empty
    queue.delete()


def test_message_ttl_required_on_v1(client: Client, counting: CountingTransport) -> None:
    queue = client.queue(_name(), auto_create=False)
    if client.api_version == "1":
        with pytest.raises(ValidationError, match=r"ttl.*v1"):
            queue.post({"body": 1})
        assert counting.sent == []
    else:
        [message_id] = queue.post({"body": 1})
        assert (queue.message(message_id)).ttl == 3600  # the server default
    with pytest.raises(UnsupportedOperation, match="delay"):
        queue.post({"body": 1, "ttl": 60, "delay": 5})
    queue.delete()


def test_post_creates_queue_on_v1(legacy_server: Any, project_id: str) -> None:
    with Client(legacy_server.url, version=1, project_id=project_id) as cli:
        queue = cli.queue(_name())
        queue.post({"body": 1, "ttl": 300})
        assert queue.exists() is True


def test_claims(client: Client) -> None:
    queue = _created(client)
    ids = queue.post([{"body": i, "ttl": 300} for i in range(3)])
    claim = queue.claim(limit=2)  # v1 needs ttl and grace: defaults are sent
    assert claim.id is not None
    assert [m.id for m in claim] == ids[:2]
    assert all(m.claim_id == claim.id for m in claim)
    claim.update(ttl=120, grace=60)
    fetched = queue.claim(id=claim.id)
    assert fetched.ttl == 120
    assert [m.id for m in fetched] == ids[:2]
    claim.messages[0].delete()  # with its claim id
    claim.delete()
    again = queue.claim(ttl=60, grace=60, limit=5)
    assert sorted(m.id for m in again) == sorted(ids[1:])
    again.delete()
    empty = client.queue(_name())
    nothing = empty.claim(ttl=60, grace=60)
    assert nothing.id is None
    assert len(nothing) == 0
    empty.delete()
    queue.delete()


def test_pop(client: Client, counting: CountingTransport) -> None:
    queue = _created(client)
    ids = queue.post([{"body": i, "ttl": 300} for i in range(2)])
    if client.api_version == "1":
        sent = len(counting.sent)
        with pytest.raises(UnsupportedOperation, match=r"'message_pop'.*v1; use version='2'"):
            queue.pop()
        assert len(counting.sent) == sent
    else:
        popped = queue.pop(1)
        assert [m.id for m in popped] == ids[:1]
        assert popped[0].claim_id is not None
    queue.delete()


def test_v2_only_operations_send_nothing(
    client: Client, counting: CountingTransport
) -> None:
    queue = client.queue(_name(), auto_create=False)
    refused = [
        lambda: queue.purge(),
        lambda: queue.signed_url(),
        lambda: client.subscription(queue.name, "http://127.0.0.1:1/hook"),
    ]
    for call in refused:
        with pytest.raises(UnsupportedOperation, match=r"v1(\.1)?; use version='2'"):
            call()
    with pytest.raises(UnsupportedOperation, match=r"v1(\.1)?; use version='2'"):
        [s for s in client.subscriptions(queue.name)]
    with pytest.raises(UnsupportedOperation, match="with_count"):
        [q for q in client.queues(with_count=True)]
    assert counting.sent == []


def test_refusals_come_before_lazy_queue_creation(
    client: Client, counting: CountingTransport
) -> None:
    # The handles auto-create: a refusal must not first send the queue PUT.
    with pytest.raises(UnsupportedOperation, match=r"API v1(\.1)?; use version="):
        client.queue(_name()).signed_url()
    with pytest.raises(UnsupportedOperation, match=r"API v1(\.1)?; use version="):
        client.queue(_name()).purge()
    if client.api_version == "1":
        with pytest.raises(UnsupportedOperation, match=r"'message_pop'.*API v1;"):
            client.queue(_name()).pop()
    else:
        with pytest.raises(UnsupportedOperation, match=r"queue_update.*v1\.1"):
            client.queue(_name()).metadata({"owner": "x"})
    assert counting.sent == []


def test_pools(pooled_client: Client) -> None:
    names = [p.name for p in pooled_client.pools()]
    assert "pool1" in names
    base = pooled_client.pool("pool1", auto_create=False).get()
    assert base.uri is not None
    # Pool URIs must be unique in the catalog: another redis db of the same server.
    uri = f"{base.uri}?dbid={uuid.uuid4().int % 14 + 2}"
    pool = pooled_client.pool("pool-" + uuid.uuid4().hex[:8], weight=10, uri=uri)
    pool.get()
    assert (pool.uri, pool.weight) == (uri, 10)
    pool.update(weight=20)
    assert pool.weight == 20  # v1/v1.1 PATCH answers no body: the fields sent
    assert (pool.get()).weight == 20
    with pytest.raises(UnsupportedOperation, match="flavor"):
        pool.update(flavor="gold")
    pool.delete()
    assert pool.name not in [p.name for p in pooled_client.pools()]


def test_flavors(pooled_client: Client) -> None:
    name = "flavor-" + uuid.uuid4().hex[:8]
    if pooled_client.api_version == "1":
        with pytest.raises(UnsupportedOperation, match=r"'flavor_create'.*v1; use version='2'"):
            pooled_client.flavor(name, pool_list=["group"]).ensure_exists()
        with pytest.raises(UnsupportedOperation, match=r"'flavor_list'.*v1; use version='2'"):
            [f for f in pooled_client.flavors()]
        return
    # v1.1 flavors name one pool group; zaqar 19 no longer stores it.
    flavor = pooled_client.flavor(name, pool_list=["group1"])
    flavor.get()
    assert flavor.name == name
    assert name in [f.name for f in pooled_client.flavors(detailed=True)]
    with pytest.raises(ValidationError, match="exactly one pool group"):
        pooled_client.flavor(name + "x", pool_list=["a", "b"]).ensure_exists()
    # zaqar 19 refuses every v1.1 flavor PATCH ("`capabilities` needs to be
    # specified", even when it is): a server bug, kept visible here.
    with pytest.raises(BadRequest, match="capabilities"):
        flavor.update(pool_list=["group2"])
    flavor.delete()
    with pytest.raises(NotFound):
        pooled_client.flavor(name, auto_create=False).get()
