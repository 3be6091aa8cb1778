# This file is generated from tests/integration/_async/conftest.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Fixtures shared by the facade integration tests (sync twins are generated)."""

from __future__ import annotations

from typing import Any

import pytest

from zaqarkit import Client

from .counting import CountingTransport


@pytest.fixture(params=["http", "websocket"])
def client(request: pytest.FixtureRequest, zaqar_server: Any, project_id: str) -> Any:
    """The same tests over HTTP, and over WebSocket with an HTTP endpoint for the
    operations Zaqar serves only over HTTP (health, PATCH, share, pools...)."""
    if request.param == "http":
        cli = Client(zaqar_server.url, project_id=project_id, roles=["admin"])
    else:
        cli = Client(
            zaqar_server.ws_url,
            http_url=zaqar_server.url,
            project_id=project_id,
            roles=["admin"],
        )
    with cli:
        yield cli


@pytest.fixture
def counting() -> Any:
    transport = CountingTransport()
    yield transport
    # A caller-supplied transport belongs to the caller: the client leaves it open.
    transport.close()
