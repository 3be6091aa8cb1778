"""pytest fixtures for tests against a real local Zaqar.

Enable it in a ``conftest.py``::

    pytest_plugins = ["zaqarkit.testing.pytest_plugin"]

or on the command line with ``-p zaqarkit.testing.pytest_plugin``. Then::

    def test_ping(zaqar_server, project_id):
        headers = zaqar_server.admin_headers(project_id)
        assert zaqar_server.request("GET", "/v2/ping", headers=headers).status == 204

Fixtures:

- ``zaqar_server`` (session): a :class:`~zaqarkit.testing.ZaqarServer`,
  started on first use. With ``ZAQARKIT_TEST_URL`` set (and optionally
  ``ZAQARKIT_TEST_WS_URL``), that already running no-auth server is used.
- ``zaqar_pooled_server`` (session): pooling on, pool ``pool1`` registered.
- ``project_id`` (function): a fresh random project id, so tests sharing a
  server do not see each other's queues.

Tests that use a server fixture are marked ``integration`` automatically,
so ``-m "not integration"`` skips them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from ._servers import ZaqarServer

__all__ = ["project_id", "zaqar_pooled_server", "zaqar_server"]

_SERVER_FIXTURES = frozenset({"zaqar_server", "zaqar_pooled_server"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: talks to a real server started by the harness")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def zaqar_server() -> Iterator[ZaqarServer]:
    """A running Zaqar (HTTP + WebSocket, no auth, admin_mode) shared by the session.

    Example::

        def test_queue(zaqar_server, project_id):
            r = zaqar_server.request(
                "PUT", "/v2/queues/q1", headers=zaqar_server.admin_headers(project_id)
            )
            assert r.status == 201
    """
    external = os.environ.get("ZAQARKIT_TEST_URL")
    if external:
        yield ZaqarServer.attach(external, ws_url=os.environ.get("ZAQARKIT_TEST_WS_URL") or None)
        return
    with ZaqarServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def zaqar_pooled_server() -> Iterator[ZaqarServer]:
    """A running Zaqar with pooling on (SQLite catalog) and pool ``pool1`` registered.

    Example::

        def test_pools(zaqar_pooled_server):
            r = zaqar_pooled_server.request(
                "GET", "/v2/pools", headers=zaqar_pooled_server.admin_headers()
            )
            assert r.json()["pools"][0]["name"] == "pool1"
    """
    with ZaqarServer(pooled=True) as srv:
        yield srv


@pytest.fixture
def project_id() -> str:
    """A fresh random project id (``X-Project-ID``) for this test only.

    Example::

        def test_isolated(zaqar_server, project_id):
            headers = zaqar_server.admin_headers(project_id)
    """
    return f"zk-{uuid.uuid4().hex[:16]}"
