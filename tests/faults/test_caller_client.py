"""A caller-supplied httpx client through the fault proxy, against the real
harness server. The async transport cancels the request at the call's
deadline, so even a server that drips its answer ends the call at its total
(httpx's own timeouts here are 30 s per phase); the sync one bounds each
phase by what is left of the total when the request starts, so a server
that stops answering ends the call by its total, and says once in a warning
that a drip can hold a sync call longer. Sync, asyncio and trio.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from typing import Any

import httpx
import pytest

from zaqarkit import AsyncClient, Client, Timeout, TimeoutError
from zaqarkit.transports import AsyncHttpxTransport, HttpxTransport

from .cases import Fault, run_async
from .proxy import FaultProxy, elapsed

pytestmark = pytest.mark.integration

# httpx's per-phase timeouts are 30 s; only the call's total (2 s) can end these.
CALLER_TIMEOUT = httpx.Timeout(30.0)
CALL_TIMEOUT = Timeout(30, total=2)

ASYNC_FAULTS = [
    Fault("drip", "get", TimeoutError, sent=True, seconds=0.25),
    Fault("drip", "post", TimeoutError, sent=True, seconds=0.25),
    Fault("blackhole", "get", TimeoutError, sent=True),
    Fault("swallow", "post", TimeoutError, sent=True),
]

SYNC_FAULTS = [
    Fault("blackhole", "get", TimeoutError, sent=True),
    Fault("swallow", "post", TimeoutError, sent=True),
]


def _name() -> str:
    return "caller-" + uuid.uuid4().hex[:12]


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ASYNC_FAULTS, ids=str)
async def test_async_caller_client_ends_at_the_total(
    fault: Fault, http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    async with (
        httpx.AsyncClient(timeout=CALLER_TIMEOUT, trust_env=False) as raw,
        AsyncClient(
            http_proxy.url("http"),
            project_id=project_id,
            transport=AsyncHttpxTransport(client=raw),
            timeout=CALL_TIMEOUT,
            retries=0,
        ) as cli,
    ):
        queue = cli.queue(_name())
        await queue.ensure_exists()
        fault.apply(http_proxy)
        await run_async(fault, queue, {"body": 1, "ttl": 300})
        http_proxy.set_mode("pass")
        # The post reached the server (only its answer was slowed or lost);
        # the caller's client is still usable, by zaqarkit and by its owner.
        assert (await queue.stats()).total == (1 if fault.call == "post" else 0)
        await queue.delete()
        assert not raw.is_closed
        owner_headers = {"Client-ID": str(uuid.uuid4()), "X-Project-ID": project_id}
        answer = await raw.get(zaqar_server.url + "/v2/ping", headers=owner_headers)
        assert answer.status_code == 204


@pytest.mark.parametrize("fault", SYNC_FAULTS, ids=str)
def test_sync_caller_client_stall_ends_at_the_total(
    fault: Fault, http_proxy: FaultProxy, zaqar_server: Any, project_id: str
) -> None:
    with (
        httpx.Client(timeout=CALLER_TIMEOUT, trust_env=False) as raw,
        Client(
            http_proxy.url("http"),
            project_id=project_id,
            transport=HttpxTransport(client=raw),
            timeout=CALL_TIMEOUT,
            retries=0,
        ) as cli,
    ):
        queue = cli.queue(_name())
        queue.ensure_exists()
        fault.apply(http_proxy)
        action = queue.stats if fault.call == "get" else (lambda: queue.post({"body": 1}))
        took, error = elapsed(action)
        fault.check(error, took)
        http_proxy.set_mode("pass")
        assert queue.stats().total == (1 if fault.call == "post" else 0)
        queue.delete()


def test_sync_httpx_client_warns_once_what_is_bounded() -> None:
    # A fresh interpreter: the warning is once per process.
    script = textwrap.dedent(
        """
        import logging, httpx
        from zaqarkit import Client, Timeout
        from zaqarkit.transports import HttpxTransport
        logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
        HttpxTransport()                      # the default transport: nothing to say
        HttpxTransport(timeout=None, client=httpx.Client())   # no total: nothing to say
        for _ in range(3):
            HttpxTransport(client=httpx.Client())
        Client("http://127.0.0.1:9", project_id="p", proxy="http://127.0.0.1:3128").close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("zaqarkit.http WARNING requests through an httpx.Client")
    assert "total timeout (30.0 s) only per phase" in lines[0]
    assert "AsyncClient and the default transport end every call at its total" in lines[0]
