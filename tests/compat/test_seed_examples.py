"""The seed document's examples (python-zaqarclient's Client reference) run
through the compat layer with only the import line changed (and the example
host pointed at the local server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_seed_examples import FLAVOR, PLAIN, QUEUE
from tests.integration.test_seed_examples import _run as run_example
from zaqarkit.compat.zaqarclient.queues.v2.client import Client

COMPAT_IMPORT = "from zaqarkit.compat.zaqarclient.queues import client"

CONF = """
from zaqarclient.queues import client

cli = client.Client('http://zaqar.example.com:8888/',
                    version=2, conf={})
"""


def _run(source: str, server: Any) -> dict[str, Any]:
    return run_example(source, server, COMPAT_IMPORT)


@pytest.fixture
def no_auth_env(monkeypatch: pytest.MonkeyPatch, project_id: str) -> str:
    # No conf in the examples: project and admin roles come from the environment.
    monkeypatch.setenv("OS_PROJECT_ID", project_id)
    monkeypatch.setenv("ZAQARKIT_ROLES", "admin")
    return project_id


@pytest.mark.parametrize("source", [PLAIN, CONF], ids=["plain", "conf"])
def test_client_examples(source: str, zaqar_server: Any, no_auth_env: str) -> None:
    cli = _run(source, zaqar_server)["cli"]
    assert isinstance(cli, Client)
    assert cli.zaqarkit.project_id == no_auth_env
    assert cli.api_version == 2


def test_queue_example(zaqar_server: Any, no_auth_env: str) -> None:
    queue = _run(QUEUE, zaqar_server)["queue"]
    assert queue.name == "my_queue"
    listed = zaqar_server.request(
        "GET", "/v2/queues", headers=zaqar_server.admin_headers(no_auth_env)
    )
    assert listed.json()["queues"] == []  # as in python-zaqarclient: nothing sent


def test_flavor_example(zaqar_pooled_server: Any, no_auth_env: str) -> None:
    headers = {**zaqar_pooled_server.admin_headers(no_auth_env), "Content-Type": "application/json"}
    body = json.dumps({"uri": zaqar_pooled_server.redis_url + "?dbid=8", "weight": 10}).encode()
    created = zaqar_pooled_server.request(
        "PUT", "/v2/pools/my-pool-group", headers=headers, body=body
    )
    assert created.status == 201
    try:
        with pytest.warns(DeprecationWarning, match="pool group"):
            flavor = _run(FLAVOR, zaqar_pooled_server)["flavor"]
        assert flavor.pool_list == ["my-pool-group"]
        gone = zaqar_pooled_server.request("GET", "/v2/flavors/tasty", headers=headers)
        assert gone.status == 404  # created at construction, deleted by the example
    finally:
        zaqar_pooled_server.request("DELETE", "/v2/pools/my-pool-group", headers=headers)
