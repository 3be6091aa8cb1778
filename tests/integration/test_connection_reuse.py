"""One long-lived connection pool per client, measured from Linux's socket table."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from zaqarkit import AsyncClient, Client


def _local_ports_to(port: int) -> set[int]:
    """Local ports of every IPv4 TCP socket (any state, TIME_WAIT included)
    whose remote end is ``port``: each is one connection this machine opened."""
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(remote.split(":")[1], 16) == port:
            ports.add(int(local.split(":")[1], 16))
    return ports


def test_100_sync_calls_share_one_connection(zaqar_server: Any, project_id: str) -> None:
    port = int(urlsplit(zaqar_server.url).port or 80)
    before = _local_ports_to(port)
    with Client(zaqar_server.url, project_id=project_id) as cli:
        queue = cli.queue("reuse")
        for n in range(100):
            queue.post({"body": n})
    opened = _local_ports_to(port) - before
    assert 1 <= len(opened) <= 2, opened


@pytest.mark.anyio
async def test_100_async_calls_share_one_connection(zaqar_server: Any, project_id: str) -> None:
    port = int(urlsplit(zaqar_server.url).port or 80)
    before = _local_ports_to(port)
    async with AsyncClient(zaqar_server.url, project_id=project_id) as cli:
        queue = cli.queue("reuse")
        for n in range(100):
            await queue.post({"body": n})
    opened = _local_ports_to(port) - before
    assert 1 <= len(opened) <= 2, opened
