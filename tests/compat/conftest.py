"""Fixtures for the compat layer's own tests: python-zaqarclient-style clients
over HTTP and over WebSocket (with an HTTP endpoint for what Zaqar serves only
over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zaqarkit.compat.zaqarclient.queues import client as pzc_client
from zaqarkit.compat.zaqarclient.queues.v2.client import Client


def conf(project_id: str) -> dict[str, Any]:
    return {"auth_opts": {"backend": "noauth", "options": {"os_project_id": project_id}}}


@pytest.fixture(params=["http", "websocket"])
def cli(request: pytest.FixtureRequest, zaqar_server: Any, project_id: str) -> Iterator[Client]:
    if request.param == "http":
        made = pzc_client.Client(zaqar_server.url, 2, conf(project_id), roles=["admin"])
    else:
        made = pzc_client.Client(
            zaqar_server.ws_url, 2, conf(project_id), roles=["admin"], http_url=zaqar_server.url
        )
    with made:
        yield made


@pytest.fixture
def admin(zaqar_pooled_server: Any, project_id: str) -> Iterator[Client]:
    with pzc_client.Client(zaqar_pooled_server.url, 2, conf(project_id), roles=["admin"]) as c:
        yield c
