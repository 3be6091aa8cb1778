"""Session fixtures for the legacy Zaqar (19.0.0), which still serves /v1 and /v1.1.

``legacy_server`` and ``legacy_pooled_server`` start ``ZaqarServer(release="legacy")``
on first use (HTTP only; zaqar 19's WebSocket driver does not run on Python 3.11+).
Zaqar 19 runs on Python 3.11 or 3.12 only: on a machine with neither (only 3.13, say)
these tests are skipped with the reason, except under CI (``CI`` set), where that is
an error.
Set ``ZAQARKIT_TEST_LEGACY_URL`` / ``ZAQARKIT_TEST_LEGACY_POOLED_URL`` to use an
already running no-auth legacy server instead (the pooled one must have ``pool1``).

Example::

    def test_v1_ping(legacy_server):
        r = legacy_server.request("GET", "/v1/health", headers=legacy_server.admin_headers())
        assert r.status == 204
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from zaqarkit.testing import ZaqarServer
from zaqarkit.testing._provision import server_python


def _legacy(env: str, *, pooled: bool) -> Iterator[ZaqarServer]:
    external = os.environ.get(env)
    if external:
        yield ZaqarServer.attach(external, pool_names=(ZaqarServer.POOL_NAME,) if pooled else ())
        return
    try:
        server_python("legacy")
    except RuntimeError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with ZaqarServer(release="legacy", pooled=pooled) as srv:
        yield srv


@pytest.fixture(scope="session")
def legacy_server() -> Iterator[ZaqarServer]:
    """Zaqar 19 (redis, no auth, admin_mode) serving /v1, /v1.1 and /v2."""
    yield from _legacy("ZAQARKIT_TEST_LEGACY_URL", pooled=False)


@pytest.fixture(scope="session")
def legacy_pooled_server() -> Iterator[ZaqarServer]:
    """Zaqar 19 with pooling on (SQLite catalog) and pool ``pool1``: the only way
    the legacy pool and flavor routes exist."""
    yield from _legacy("ZAQARKIT_TEST_LEGACY_POOLED_URL", pooled=True)
