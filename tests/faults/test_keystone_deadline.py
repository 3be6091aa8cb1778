"""A Keystone that stops answering, against the real Keystone and a
Keystone-protected Zaqar: the token fetch is abandoned at the call's deadline
and the call fails with zaqarkit.TimeoutError; once Keystone answers again
the next call fetches a token and succeeds. HTTP and WebSocket; sync,
asyncio and trio.

The fault proxy sits between the client and Keystone only: Zaqar validates
tokens against Keystone directly, so only the client's fetch hangs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import anyio
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from zaqarkit import AsyncClient, Client, TimeoutError
from zaqarkit.auth import KeystoneAuth
from zaqarkit.testing import KeystoneServer, KeystoneUser, ZaqarServer

from .cases import MARGIN
from .proxy import FaultProxy, elapsed, split_url

pytestmark = pytest.mark.integration

TIMEOUT = 2.0


@pytest.fixture
def keystone_proxy(keystone_server: KeystoneServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of the real Keystone."""
    with FaultProxy(split_url(keystone_server.url)) as proxy:
        yield proxy


@pytest.fixture(params=["http", "ws"])
def zaqar_url(request: pytest.FixtureRequest, zaqar_keystone_server: ZaqarServer) -> str:
    return zaqar_keystone_server.url if request.param == "http" else zaqar_keystone_server.ws_url


def _auth(user: KeystoneUser, proxy: FaultProxy) -> KeystoneAuth:
    plugin = v3.Password(
        auth_url=proxy.url("http") + "/v3",
        username=user.username,
        password=user.password,
        project_name=user.project_name,
        user_domain_id="default",
        project_domain_id="default",
    )
    return KeystoneAuth(ks_session.Session(auth=plugin))


def _fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zaqarkit-keystone-fetch"]


def _check_timeout(error: BaseException | None, took: float) -> None:
    assert isinstance(error, TimeoutError), repr(error)
    assert "Keystone did not answer" in str(error)
    assert error.sent is False  # nothing reached Zaqar
    assert TIMEOUT - 0.5 < took < TIMEOUT + MARGIN, f"took {took:.1f} s"


def test_sync_hanging_keystone_times_out_then_recovers(
    keystone_proxy: FaultProxy, keystone_server: KeystoneServer, zaqar_url: str
) -> None:
    auth = _auth(keystone_server.demo, keystone_proxy)
    keystone_proxy.set_mode("blackhole")
    with Client(zaqar_url, auth=auth, timeout=TIMEOUT) as cli:
        queue = cli.queue("ks-" + uuid.uuid4().hex[:12])
        took, error = elapsed(queue.stats)
        _check_timeout(error, took)
        # Still hanging: the next call gives up at its own deadline too.
        took, error = elapsed(queue.stats)
        _check_timeout(error, took)
        assert auth.fetch_count == 0
        # Keystone answers again (the proxy cuts the hung connections: the
        # abandoned fetches fail in the background, and nobody sees it).
        keystone_proxy.set_mode("pass")
        assert queue.post([{"body": "after the outage", "ttl": 300}])
        assert queue.stats().total == 1
        queue.delete()
    assert auth.fetch_count >= 1
    deadline = time.monotonic() + 10
    while _fetch_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _fetch_threads() == []  # the abandoned fetches ended


@pytest.mark.anyio
async def test_async_hanging_keystone_times_out_then_recovers(
    keystone_proxy: FaultProxy, keystone_server: KeystoneServer, zaqar_url: str
) -> None:
    auth = _auth(keystone_server.demo, keystone_proxy)
    keystone_proxy.set_mode("blackhole")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.05)
            ticks += 1

    async with AsyncClient(zaqar_url, auth=auth, timeout=TIMEOUT) as cli:
        queue = cli.queue("ks-" + uuid.uuid4().hex[:12])
        with anyio.fail_after(TIMEOUT + 30):  # a regression fails instead of hanging
            async with anyio.create_task_group() as tg:
                tg.start_soon(ticker)
                began = time.monotonic()
                error: BaseException | None = None
                try:
                    await queue.stats()
                except Exception as exc:
                    error = exc
                _check_timeout(error, time.monotonic() - began)
                tg.cancel_scope.cancel()
        assert ticks >= 10  # the event loop kept running while Keystone hung
        assert auth.fetch_count == 0
        keystone_proxy.set_mode("pass")
        with anyio.fail_after(TIMEOUT + 30):
            assert await queue.post([{"body": "after the outage", "ttl": 300}])
            assert (await queue.stats()).total == 1
            await queue.delete()
    assert auth.fetch_count >= 1
