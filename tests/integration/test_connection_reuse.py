"""One long-lived connection pool per client, measured from Linux's socket table."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from zaqarkit import AsyncClient, Client, PoolLimits


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


def test_32_threads_sharing_a_client_reuse_their_connections(
    zaqar_server: Any, project_id: str
) -> None:
    # One connection per concurrent caller: the pool keeps every connection it
    # opened alive (PoolLimits.DEFAULT), so 1,280 requests from 32 threads open
    # about 32 connections, not one per request (1,257 with httpx's 20 idle).
    port = int(urlsplit(zaqar_server.url).port or 80)
    threads, per_thread = 32, 40
    before = _local_ports_to(port)
    with Client(zaqar_server.url, project_id=project_id) as cli:
        queue = cli.queue("reuse-threads")
        queue.ensure_exists()
        barrier = threading.Barrier(threads)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                barrier.wait(timeout=60)
                for n in range(per_thread):
                    queue.post({"body": n})
            except BaseException as exc:  # reported below
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=300)
        assert not errors, errors[:3]
        assert queue.stats().total == threads * per_thread
    opened = _local_ports_to(port) - before
    # About one per thread; on a loaded machine some are replaced along the
    # way (48 seen with two other suites running). The defect this guards
    # against opened one per request: 1,258 here.
    assert 1 <= len(opened) <= 2 * threads, len(opened)


def test_pool_limits_bound_the_connections(zaqar_server: Any, project_id: str) -> None:
    port = int(urlsplit(zaqar_server.url).port or 80)
    before = _local_ports_to(port)
    with Client(
        zaqar_server.url, project_id=project_id, pool_limits=PoolLimits(max_connections=2)
    ) as cli:
        queue = cli.queue("reuse-limited")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: queue.post({"body": n}), range(80)))
    opened = _local_ports_to(port) - before
    assert 1 <= len(opened) <= 2, opened
