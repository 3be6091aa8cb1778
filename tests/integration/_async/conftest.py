"""Fixtures shared by the facade integration tests (sync twins are generated)."""

from __future__ import annotations

from typing import Any

import pytest

from zaqarkit import AsyncClient

from .counting import CountingTransport


@pytest.fixture(params=["http", "websocket"])
async def client(request: pytest.FixtureRequest, zaqar_server: Any, project_id: str) -> Any:
    """The same tests over HTTP, and over WebSocket with an HTTP endpoint for the
    operations Zaqar serves only over HTTP (health, PATCH, share, pools...)."""
    if request.param == "http":
        cli = AsyncClient(zaqar_server.url, project_id=project_id, roles=["admin"])
    else:
        cli = AsyncClient(
            zaqar_server.ws_url,
            http_url=zaqar_server.url,
            project_id=project_id,
            roles=["admin"],
        )
    async with cli:
        yield cli


@pytest.fixture
async def counting() -> Any:
    transport = CountingTransport()
    yield transport
    # A caller-supplied transport belongs to the caller: the client leaves it open.
    await transport.aclose()
