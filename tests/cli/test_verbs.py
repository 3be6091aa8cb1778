"""Every ``openstack messaging`` v2 verb, as ``zaqarkit <verb>``, against a real Zaqar.

``PLUGIN_VERBS`` are python-zaqarclient's ``openstack messaging`` v2 verbs;
each test id is the verb's name, so the test list covers each by name.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.cli.conftest import Cli
from zaqarkit import Client

pytestmark = pytest.mark.integration

PLUGIN_VERBS = [
    "queue list",
    "queue create",
    "queue delete",
    "queue stats",
    "queue set metadata",
    "queue get metadata",
    "queue purge",
    "queue signed url",
    "message post",
    "message list",
    "claim create",
    "claim query",
    "claim renew",
    "claim release",
    "subscription create",
    "subscription update",
    "subscription delete",
    "subscription show",
    "subscription list",
    "pool create",
    "pool show",
    "pool update",
    "pool delete",
    "pool list",
    "flavor create",
    "flavor show",
    "flavor update",
    "flavor delete",
    "flavor list",
    "ping",
    "health",
    "homedoc",
]
# The issue counts 34 plugin commands; the verbs it names (above) are these 32.
# python-zaqarclient also registers "messaging ..." aliases of the same verbs.

SCENARIOS: dict[str, Callable[[Cli], None]] = {}


def scenario(verb: str) -> Callable[[Callable[[Cli], None]], Callable[[Cli], None]]:
    def register(f: Callable[[Cli], None]) -> Callable[[Cli], None]:
        SCENARIOS[verb] = f
        return f

    return register


def _q() -> str:
    return "q-" + uuid.uuid4().hex[:10]


def _client(cli: Cli) -> Client:
    return Client(cli.url, project_id=cli.project_id, roles=["admin"])


def _post(cli: Cli, queue: str, *bodies: Any) -> list[str]:
    messages = json.dumps([{"body": b, "ttl": 300} for b in bodies])
    return [row["ID"] for row in cli.json("message", "post", queue, messages)]


# -- queues ------------------------------------------------------------------------


@scenario("queue list")
def _queue_list(cli: Cli) -> None:
    for name in ("alpha", "beta", "gamma"):
        cli.ok("queue", "create", name)
    assert cli.json("queue", "list") == [{"Name": "alpha"}, {"Name": "beta"}, {"Name": "gamma"}]
    assert cli.ok("queue", "list", "-f", "value", "--limit", "1").stdout == "alpha\n"
    detailed = cli.json("queue", "list", "--detailed")
    assert [row["Name"] for row in detailed] == ["alpha", "beta", "gamma"]
    assert set(detailed[0]) == {"Name", "Metadata", "Href"}
    # (Zaqar's redis driver ignores a marker that is the first queue.)
    assert cli.json("queue", "list", "--marker", "beta") == [{"Name": "gamma"}]


@scenario("queue create")
def _queue_create(cli: Cli) -> None:
    name = _q()
    assert cli.json("queue", "create", name, "--metadata", '{"owner": "billing"}') == {"Name": name}
    assert cli.json("queue", "get", "metadata", name)["owner"] == "billing"
    assert cli.ok("queue", "exists", name).exit_code == 0


@scenario("queue delete")
def _queue_delete(cli: Cli) -> None:
    name = _q()
    cli.ok("queue", "create", name)
    assert cli.ok("queue", "delete", name).stdout == ""
    result = cli.run("queue", "exists", name, "-f", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"exists": False}


@scenario("queue stats")
def _queue_stats(cli: Cli) -> None:
    name = _q()
    _post(cli, name, 1, 2)
    stats = cli.json("queue", "stats", name)
    assert (stats["total"], stats["free"], stats["claimed"]) == (2, 2, 0)
    assert stats["oldest"]["age"] >= 0


@scenario("queue set metadata")
def _queue_set_metadata(cli: Cli) -> None:
    name = _q()
    cli.ok("queue", "create", name)
    assert cli.ok("queue", "set", "metadata", name, '{"color": "red", "n": 2}').stdout == ""
    with _client(cli) as c:
        meta = c.queue(name, auto_create=False).metadata()
    assert (meta["color"], meta["n"]) == ("red", 2)


@scenario("queue get metadata")
def _queue_get_metadata(cli: Cli) -> None:
    name = _q()
    with _client(cli) as c:
        c.queue(name, metadata={"team": "ops"}).ensure_exists()
    assert cli.json("queue", "get", "metadata", name)["team"] == "ops"
    assert cli.ok("queue", "get", "metadata", name, "-c", "team", "-f", "value").stdout == "ops\n"


@scenario("queue purge")
def _queue_purge(cli: Cli) -> None:
    name = _q()
    _post(cli, name, "a", "b")
    cli.ok("queue", "purge", name, "--resource_types", "messages")
    assert cli.json("queue", "stats", name)["total"] == 0
    assert cli.ok("queue", "exists", name).exit_code == 0


@scenario("queue signed url")
def _queue_signed_url(cli: Cli) -> None:
    import tempfile
    from pathlib import Path

    name = _q()
    cli.ok("queue", "create", name)
    signed = cli.json(
        "queue", "signed", "url", name, "--methods", "GET,POST", "--ttl-seconds", "600"
    )
    assert signed["methods"] == ["GET", "POST"]
    assert signed["paths"] == [f"/v2/queues/{name}/messages"]
    assert signed["project"] == cli.project_id
    # --signed-url: a guest with no project and no credentials posts and lists.
    with tempfile.TemporaryDirectory() as tmp:
        share = Path(tmp) / "share.json"
        share.write_text(json.dumps(signed))
        guest = Cli(cli.url, "ignored")
        guest.global_args = ["--os-url", cli.url, "--signed-url", str(share)]
        ids = [row["ID"] for row in guest.json("message", "post", name, '{"body": "signed"}')]
        listed = guest.json("message", "list", name, "--echo")
        assert [(row["ID"], row["Body"]) for row in listed] == [(ids[0], "signed")]
        # The signature covers GET and POST on messages, not deleting the queue.
        assert "NotFound" in guest.fails(3, "queue", "delete", name)


# -- messages ----------------------------------------------------------------------


@scenario("message post")
def _message_post(cli: Cli) -> None:
    name = _q()
    rows = cli.json(
        "message", "post", name, '[{"body": {"event": "paid"}, "ttl": 300}, {"body": "two"}]'
    )
    assert len(rows) == 2
    assert all(len(row["ID"]) == 36 for row in rows)
    with _client(cli) as c:
        found = list(c.queue(name, auto_create=False).messages(*[r["ID"] for r in rows]))
    assert sorted(json.dumps(m.body) for m in found) == ['"two"', '{"event": "paid"}']


@scenario("message list")
def _message_list(cli: Cli) -> None:
    name = _q()
    ids = _post(cli, name, "a", "b", "c")
    listed = cli.json("message", "list", name, "--echo")
    assert [row["ID"] for row in listed] == ids
    assert [row["Body"] for row in listed] == ["a", "b", "c"]
    assert set(listed[0]) == {"ID", "Body", "TTL", "Age", "Claim ID", "Checksum"}
    out = cli.ok("message", "list", name, "--echo", "--limit", "2", "-c", "Body", "-f", "value")
    assert out.stdout == "a\nb\n"
    picked = cli.json("message", "list", name, "--message-ids", f"{ids[2]},{ids[0]}")
    assert sorted(row["Body"] for row in picked) == ["a", "c"]
    # Without --echo this client's own messages would be hidden; the CLI's
    # client id is new per run, so they show up either way.
    assert len(cli.json("message", "list", name)) == 3


# -- claims ------------------------------------------------------------------------


def _claim(cli: Cli, name: str, *extra: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = cli.json("claim", "create", name, *extra)
    return rows


@scenario("claim create")
def _claim_create(cli: Cli) -> None:
    name = _q()
    ids = _post(cli, name, "x", "y")
    rows = _claim(cli, name, "--limit", "1", "--ttl", "120", "--grace", "60")
    assert [row["Message ID"] for row in rows] == ids[:1]
    assert rows[0]["Claim ID"]
    assert cli.json("queue", "stats", name)["claimed"] == 1
    # Nothing left to claim beyond the free message; an empty queue claims nothing.
    assert len(_claim(cli, name)) == 1
    assert _claim(cli, name) == []


@scenario("claim query")
def _claim_query(cli: Cli) -> None:
    name = _q()
    ids = _post(cli, name, "x")
    claim_id = _claim(cli, name)[0]["Claim ID"]
    rows = cli.json("claim", "query", name, claim_id)
    assert [(row["Message ID"], row["Claim ID"]) for row in rows] == [(ids[0], claim_id)]


@scenario("claim renew")
def _claim_renew(cli: Cli) -> None:
    name = _q()
    _post(cli, name, "x")
    claim_id = _claim(cli, name, "--ttl", "60")[0]["Claim ID"]
    rows = cli.json("claim", "renew", name, claim_id, "--ttl", "300", "--grace", "60")
    assert rows[0]["Claim ID"] == claim_id
    with _client(cli) as c:
        assert c.queue(name, auto_create=False).claim(id=claim_id).ttl == 300


@scenario("claim release")
def _claim_release(cli: Cli) -> None:
    name = _q()
    ids = _post(cli, name, "x")
    claim_id = _claim(cli, name)[0]["Claim ID"]
    assert cli.ok("claim", "release", name, claim_id).stdout == ""
    assert cli.json("queue", "stats", name)["claimed"] == 0
    assert [row["Message ID"] for row in _claim(cli, name)] == ids


# -- subscriptions -----------------------------------------------------------------

HOOK = "http://127.0.0.1:9/hook"  # the discard port: nothing listens, nothing is posted


def _subscribe(cli: Cli, name: str, subscriber: str = HOOK) -> dict[str, Any]:
    created: dict[str, Any] = cli.json(
        "subscription", "create", name, subscriber, "3600", "--options", '{"k": "v"}'
    )
    return created


@scenario("subscription create")
def _subscription_create(cli: Cli) -> None:
    name = _q()
    created = _subscribe(cli, name)
    assert (created["Subscriber"], created["TTL"], created["Options"]) == (HOOK, 3600, {"k": "v"})
    with _client(cli) as c:
        assert c.subscription(name, id=created["ID"]).subscriber == HOOK


@scenario("subscription update")
def _subscription_update(cli: Cli) -> None:
    name = _q()
    sid = _subscribe(cli, name)["ID"]
    updated = cli.json(
        "subscription", "update", name, sid, "--ttl", "7200", "--options", '{"k": "w"}'
    )
    assert (updated["TTL"], updated["Options"]) == (7200, {"k": "w"})


@scenario("subscription delete")
def _subscription_delete(cli: Cli) -> None:
    name = _q()
    sid = _subscribe(cli, name)["ID"]
    cli.ok("subscription", "delete", name, sid)
    assert cli.json("subscription", "list", name) == []
    assert "NotFound" in cli.fails(3, "subscription", "show", name, sid)


@scenario("subscription show")
def _subscription_show(cli: Cli) -> None:
    name = _q()
    sid = _subscribe(cli, name)["ID"]
    shown = cli.json("subscription", "show", name, sid)
    assert (shown["ID"], shown["Subscriber"]) == (sid, HOOK)
    out = cli.ok("subscription", "show", name, sid, "-c", "Subscriber", "-f", "value")
    assert out.stdout == HOOK + "\n"


@scenario("subscription list")
def _subscription_list(cli: Cli) -> None:
    name = _q()
    first = _subscribe(cli, name)["ID"]
    second = _subscribe(cli, name, HOOK + "2")["ID"]
    listed = cli.json("subscription", "list", name)
    assert sorted(row["ID"] for row in listed) == sorted([first, second])


# -- pools and flavors (admin, pooled server) ----------------------------------------


#: What the pool and flavor scenarios created, deleted after each one whatever
#: happened (the pooled server is shared with the rest of the session).
CREATED: list[tuple[str, str]] = []
#: Zaqar's SQL catalog wants each pool on its own URI: redis databases 2..15
#: in turn, so that the pools of one scenario never share one.
_DBIDS = itertools.cycle(range(2, 16))


def _new_pool(cli: Cli, redis_url: str, weight: int = 10) -> str:
    name = "pool-" + uuid.uuid4().hex[:8]
    uri = f"{redis_url}?dbid={next(_DBIDS)}"
    CREATED.append(("pool", name))
    created = cli.json("pool", "create", name, uri, str(weight))
    assert (created["Name"], created["Weight"], created["URI"]) == (name, weight, uri)
    return name


def _clean_up(cli: Cli) -> None:
    # Flavors before the pools they hold.
    for kind in ("flavor", "pool"):
        for made, name in [entry for entry in CREATED if entry[0] == kind]:
            result = cli.run(made, "delete", name)
            assert result.exit_code == 0, result.stderr
    CREATED.clear()


@scenario("pool create")
def _pool_create(cli: Cli, redis_url: str) -> None:
    name = _new_pool(cli, redis_url, weight=7)
    assert cli.json("pool", "show", name)["Weight"] == 7


@scenario("pool show")
def _pool_show(cli: Cli, redis_url: str) -> None:
    shown = cli.json("pool", "show", "pool1")
    assert shown["Name"] == "pool1"
    assert shown["URI"].startswith("redis://")


@scenario("pool update")
def _pool_update(cli: Cli, redis_url: str) -> None:
    name = _new_pool(cli, redis_url)
    updated = cli.json("pool", "update", name, "--pool_weight", "25")
    assert updated["Weight"] == 25
    assert cli.json("pool", "show", name)["Weight"] == 25


@scenario("pool delete")
def _pool_delete(cli: Cli, redis_url: str) -> None:
    name = _new_pool(cli, redis_url)
    cli.ok("pool", "delete", name)
    CREATED.remove(("pool", name))
    assert name not in [row["Name"] for row in cli.json("pool", "list")]
    assert "NotFound" in cli.fails(3, "pool", "show", name)


@scenario("pool list")
def _pool_list(cli: Cli, redis_url: str) -> None:
    listed = cli.json("pool", "list")
    assert "pool1" in [row["Name"] for row in listed]
    assert set(listed[0]) == {"Name", "Weight", "URI", "Flavor"}
    detailed = cli.json("pool", "list", "--detailed")
    assert "Options" in detailed[0]


def _new_flavor(cli: Cli, redis_url: str) -> tuple[str, str]:
    pool = _new_pool(cli, redis_url)
    name = "flavor-" + uuid.uuid4().hex[:8]
    CREATED.append(("flavor", name))
    created = cli.json("flavor", "create", name, "--pool_list", json.dumps([pool]))
    assert (created["Name"], created["Pool list"]) == (name, [pool])
    return name, pool


@scenario("flavor create")
def _flavor_create(cli: Cli, redis_url: str) -> None:
    name, _ = _new_flavor(cli, redis_url)
    assert cli.json("flavor", "show", name)["Capabilities"]


@scenario("flavor show")
def _flavor_show(cli: Cli, redis_url: str) -> None:
    name, pool = _new_flavor(cli, redis_url)
    shown = cli.json("flavor", "show", name)
    assert (shown["Name"], shown["Pool list"]) == (name, [pool])


@scenario("flavor update")
def _flavor_update(cli: Cli, redis_url: str) -> None:
    name, _ = _new_flavor(cli, redis_url)
    other = _new_pool(cli, redis_url)
    updated = cli.json("flavor", "update", name, "--pool_list", other)
    assert updated["Pool list"] == [other]
    assert cli.json("flavor", "show", name)["Pool list"] == [other]


@scenario("flavor delete")
def _flavor_delete(cli: Cli, redis_url: str) -> None:
    name, _ = _new_flavor(cli, redis_url)
    cli.ok("flavor", "delete", name)
    CREATED.remove(("flavor", name))
    assert name not in [row["Name"] for row in cli.json("flavor", "list")]


@scenario("flavor list")
def _flavor_list(cli: Cli, redis_url: str) -> None:
    name, _ = _new_flavor(cli, redis_url)
    listed = cli.json("flavor", "list")
    assert name in [row["Name"] for row in listed]
    detailed = cli.json("flavor", "list", "--detailed")
    assert next(row for row in detailed if row["Name"] == name)["Capabilities"]


# -- the server ----------------------------------------------------------------------


@scenario("ping")
def _ping(cli: Cli) -> None:
    assert cli.json("ping") == {"pingable": True}


@scenario("health")
def _health(cli: Cli) -> None:
    health = cli.with_args("--roles", "admin").json("health")
    assert health["storage_reachable"] is True
    assert "post_messages" in health["operation_status"]


@scenario("homedoc")
def _homedoc(cli: Cli) -> None:
    rows = cli.json("homedoc")
    relations = {row["relation"]: row["href"] for row in rows}
    assert relations["rel/queues"].startswith("/v2/queues")


def test_every_plugin_verb_has_a_scenario() -> None:
    assert len(PLUGIN_VERBS) == len(set(PLUGIN_VERBS)) == len(SCENARIOS)
    assert set(SCENARIOS) == set(PLUGIN_VERBS)


@pytest.mark.parametrize("verb", PLUGIN_VERBS)
def test_plugin_verb(verb: str, request: pytest.FixtureRequest, project_id: str) -> None:
    run = SCENARIOS[verb]
    if verb.split()[0] in ("pool", "flavor"):
        srv = request.getfixturevalue("zaqar_pooled_server")
        admin = Cli(srv.url, project_id, extra=["--roles", "admin"])
        try:
            run(admin, srv.redis_url)  # type: ignore[call-arg]
        finally:
            _clean_up(admin)
    else:
        srv = request.getfixturevalue("zaqar_server")
        run(Cli(srv.url, project_id))
