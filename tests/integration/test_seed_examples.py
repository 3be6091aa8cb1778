"""The seed documentation's examples run against a real Zaqar with only the
import line changed (and the example host pointed at the local server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

SEED_IMPORT = "from zaqarclient.queues import client"
OUR_IMPORT = "import zaqarkit as client"

PLAIN = """
from zaqarclient.queues import client

cli = client.Client('http://zaqar.example.com:8888/', version=2)
"""

QUEUE = """
from zaqarclient.queues import client

cli = client.Client('http://zaqar.example.com:8888/', version=2)
queue = cli.queue('my_queue')
"""

FLAVOR = """
from zaqarclient.queues import client

cli = client.Client('http://zaqar.example.com:8888/', version=2)
flavor = cli.flavor('tasty',
                    pool='my-pool-group',
                    auto_create=True)
flavor.delete()
"""


def _run(source: str, server: Any, import_line: str = OUR_IMPORT) -> dict[str, Any]:
    """Run a seed example with its import replaced by ``import_line``."""
    code = source.replace(SEED_IMPORT, import_line).replace(
        "http://zaqar.example.com:8888/", server.url + "/"
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, "<seed example>", "exec"), namespace)
    namespace["cli"].close()
    return namespace


@pytest.fixture
def no_auth_env(monkeypatch: pytest.MonkeyPatch, project_id: str) -> str:
    # Without conf, the project (and for admin calls, the roles) of a no-auth
    # server come from the environment.
    monkeypatch.setenv("OS_PROJECT_ID", project_id)
    monkeypatch.setenv("ZAQARKIT_ROLES", "admin")
    return project_id


def test_plain_client(zaqar_server: Any, no_auth_env: str) -> None:
    cli = _run(PLAIN, zaqar_server)["cli"]
    assert cli.project_id == no_auth_env
    assert cli.api_version == "2"


def test_queue_example(zaqar_server: Any, no_auth_env: str) -> None:
    queue = _run(QUEUE, zaqar_server)["queue"]
    assert queue.name == "my_queue"
    # The handle did no I/O: the queue does not exist on the server yet.
    headers = zaqar_server.admin_headers(no_auth_env)
    listed = zaqar_server.request("GET", "/v2/queues", headers=headers)
    assert listed.json()["queues"] == []


def test_flavor_example(zaqar_pooled_server: Any, no_auth_env: str) -> None:
    headers = {**zaqar_pooled_server.admin_headers(no_auth_env), "Content-Type": "application/json"}
    body = json.dumps({"uri": zaqar_pooled_server.redis_url + "?dbid=7", "weight": 10}).encode()
    created = zaqar_pooled_server.request(
        "PUT", "/v2/pools/my-pool-group", headers=headers, body=body
    )
    assert created.status == 201
    try:
        with pytest.warns(DeprecationWarning, match="pool group"):
            flavor = _run(FLAVOR, zaqar_pooled_server)["flavor"]
        assert flavor.pool_list == ["my-pool-group"]
        # created, then deleted again by the example
        gone = zaqar_pooled_server.request("GET", "/v2/flavors/tasty", headers=headers)
        assert gone.status == 404
    finally:
        zaqar_pooled_server.request("DELETE", "/v2/pools/my-pool-group", headers=headers)
