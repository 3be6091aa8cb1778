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
- ``keystone_server`` (session): a real Keystone 30 (see
  :class:`~zaqarkit.testing.KeystoneServer`) with users ``admin`` and ``demo``.
- ``zaqar_keystone_server`` (session): a Zaqar with ``auth_strategy =
  keystone`` against ``keystone_server``, published in its catalog.

Tests that use a server fixture are marked ``integration`` automatically,
so ``-m "not integration"`` skips them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from ._keystone import KeystoneServer, KeystoneZaqarServer
from ._servers import ZaqarServer

__all__ = [
    "keystone_server",
    "project_id",
    "zaqar_keystone_server",
    "zaqar_pooled_server",
    "zaqar_server",
]

_SERVER_FIXTURES = frozenset(
    {"zaqar_server", "zaqar_pooled_server", "keystone_server", "zaqar_keystone_server"}
)


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


@pytest.fixture(scope="session")
def keystone_server() -> Iterator[KeystoneServer]:
    """A running Keystone 30 (SQLite, fernet) with an ``admin`` and a ``demo`` user.

    Example::

        def test_token(keystone_server):
            token = keystone_server.token(keystone_server.demo)
            keystone_server.revoke(token)
    """
    with KeystoneServer() as ks:
        yield ks


@pytest.fixture(scope="session")
def zaqar_keystone_server(keystone_server: KeystoneServer) -> Iterator[KeystoneZaqarServer]:
    """A Zaqar with ``auth_strategy = keystone`` validating tokens against
    ``keystone_server``, published there as services ``messaging`` and
    ``messaging-websocket``.

    Example::

        def test_list(zaqar_keystone_server, keystone_server):
            from zaqarkit import Client
            opts = keystone_server.demo.options()
            with Client(zaqar_keystone_server.url,
                        conf={"auth_opts": {"backend": "keystone", "options": opts}}) as cli:
                list(cli.queues())
    """
    with KeystoneZaqarServer(keystone=keystone_server) as srv:
        yield srv
