"""Authentication against a real Keystone 30 and a Keystone-protected Zaqar,
plus signed URLs (from zaqarkit.testing)."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import httpx
import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from zaqarkit import AsyncClient, NotFound, Unauthorized
from zaqarkit.auth import KeystoneAuth
from zaqarkit.testing import KeystoneServer, KeystoneUser, ZaqarServer

from .counting import CountingTransport

pytestmark = pytest.mark.anyio  # async-only


def _name() -> str:
    return "q-" + uuid.uuid4().hex[:12]


def _conf(user: KeystoneUser) -> dict[str, Any]:
    return {"auth_opts": {"backend": "keystone", "options": user.options()}}


def _session(
    user: KeystoneUser, *, password: str | None = None, log: list[str] | None = None
) -> Any:
    plugin = v3.Password(
        auth_url=user.auth_url,
        username=user.username,
        password=password or user.password,
        project_name=user.project_name,
        user_domain_id="default",
        project_domain_id="default",
    )
    http = requests.Session()
    if log is not None:
        http.hooks["response"].append(lambda r, *a, **k: log.append(f"{r.request.method} {r.url}"))
    return ks_session.Session(auth=plugin, session=http)


async def _roundtrip(cli: AsyncClient) -> None:
    queue = cli.queue(_name())
    await queue.post([{"body": {"n": 1}, "ttl": 300}])
    names = [q.name async for q in cli.queues()]
    assert queue.name in names
    assert [m.body async for m in queue.messages(echo=True)] == [{"n": 1}]
    await queue.delete()


async def test_password_via_options(
    zaqar_keystone_server: ZaqarServer,
    keystone_server: KeystoneServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # keystoneauth1 logs requests at DEBUG
    async with AsyncClient(zaqar_keystone_server.url, conf=_conf(keystone_server.demo)) as cli:
        await _roundtrip(cli)
        # What a WebSocket transport will send in its authenticate frame.
        creds = await cli._auth.async_credentials()  # type: ignore[attr-defined]
        assert creds.project_id == keystone_server.demo.project_id
        assert creds.expires_at is not None
        for text in (caplog.text, repr(cli), repr(cli._auth), repr(creds)):
            assert keystone_server.demo.password not in text
            assert creds.token not in text


async def test_password_over_websocket(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    # The socket sends Zaqar's `authenticate` frame with a Keystone token first.
    async with AsyncClient(zaqar_keystone_server.ws_url, conf=_conf(keystone_server.demo)) as cli:
        await _roundtrip(cli)


async def test_password_via_session(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    session = _session(keystone_server.demo)
    async with AsyncClient(zaqar_keystone_server.url, session=session) as cli:
        await _roundtrip(cli)


async def test_password_via_environment(
    zaqar_keystone_server: ZaqarServer,
    keystone_server: KeystoneServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in keystone_server.demo.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OS_REGION_NAME", "RegionOne")
    conf = {"auth_opts": {"backend": "keystone"}}
    async with AsyncClient(zaqar_keystone_server.url, conf=conf) as cli:
        await _roundtrip(cli)
    # And with the endpoint from the catalog as well.
    async with AsyncClient(None, conf=conf) as cli:
        assert cli.api_url == zaqar_keystone_server.url
        await _roundtrip(cli)


async def test_catalog_discovery_with_url_none(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    async with AsyncClient(None, session=_session(keystone_server.demo)) as cli:
        assert cli.api_url == zaqar_keystone_server.url
        assert cli.project_id == keystone_server.demo.project_id
        await _roundtrip(cli)
    # discover(): the same client; the async one looks the catalog up in a worker thread.
    lookups: list[int] = []
    lookup = KeystoneAuth.discover_endpoint

    def recording(self: KeystoneAuth) -> str:
        lookups.append(threading.get_ident())
        return lookup(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KeystoneAuth, "discover_endpoint", recording)
        async with await AsyncClient.discover(session=_session(keystone_server.demo)) as cli:
            assert cli.api_url == zaqar_keystone_server.url
            await _roundtrip(cli)
    assert len(lookups) == 1
    assert lookups[0] != threading.get_ident()  # async-only
    # The WebSocket endpoint is published too (with an http:// scheme, as devstack does).
    auth = KeystoneAuth(_session(keystone_server.demo), service_type="messaging-websocket")
    assert auth.discover_endpoint() == "http://" + zaqar_keystone_server.ws_url.split("://")[1]
    # ... and a client asking for that service type gets a ws:// endpoint.
    options = {**keystone_server.demo.options(), "service_type": "messaging-websocket"}
    async with AsyncClient(
        None, conf={"auth_opts": {"backend": "keystone", "options": options}}
    ) as cli:
        assert cli.api_url == zaqar_keystone_server.ws_url
        await _roundtrip(cli)


async def test_revoked_token_is_renewed_once(
    zaqar_keystone_server: ZaqarServer,
    keystone_server: KeystoneServer,
    counting: CountingTransport,
) -> None:
    auth = KeystoneAuth(_session(keystone_server.demo))
    async with AsyncClient(zaqar_keystone_server.url, auth=auth, transport=counting) as cli:
        queue = cli.queue(_name())
        await queue.post([{"body": 1, "ttl": 300}])
        old = (await auth.async_credentials()).token
        keystone_server.revoke(old)
        before = len(counting.sent)
        stats = await queue.stats()
        assert stats.total == 1
        new = (await auth.async_credentials()).token
        assert new != old
        assert auth.fetch_count == 2
        # Exactly: the rejected call, then its one retry with the new token.
        assert counting.statuses[before:] == [401, 200]
        tokens = [dict(r.headers)["X-Auth-Token"] for r in counting.sent[before:]]
        assert tokens == [old, new]
        await queue.delete()


async def test_wrong_password_fails_fast(
    zaqar_keystone_server: ZaqarServer,
    keystone_server: KeystoneServer,
    counting: CountingTransport,
) -> None:
    keystone_calls: list[str] = []
    session = _session(keystone_server.demo, password="not-the-password", log=keystone_calls)
    async with AsyncClient(zaqar_keystone_server.url, session=session, transport=counting) as cli:
        queue = cli.queue(_name(), auto_create=False)
        with pytest.raises(Unauthorized) as info:
            await queue.stats()
    assert "not-the-password" not in str(info.value)
    assert [c for c in keystone_calls if c.endswith("/auth/tokens")] == [
        f"POST {keystone_server.auth_url}/auth/tokens"
    ]
    assert counting.sent == []  # nothing reached Zaqar
    # Same through the options path.
    opts = {**keystone_server.demo.options(), "os_password": "not-the-password"}
    conf = {"auth_opts": {"backend": "keystone", "options": opts}}
    async with AsyncClient(zaqar_keystone_server.url, conf=conf, transport=counting) as cli:
        queue = cli.queue(_name(), auto_create=False)
        with pytest.raises(Unauthorized):
            await queue.stats()
    assert counting.sent == []


async def test_projects_are_isolated(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    name = _name()
    async with AsyncClient(zaqar_keystone_server.url, conf=_conf(keystone_server.admin)) as admin:
        await admin.queue(name).post([{"body": "secret", "ttl": 300}])
        try:
            async with AsyncClient(
                zaqar_keystone_server.url, conf=_conf(keystone_server.demo)
            ) as demo:
                assert name not in [q.name async for q in demo.queues()]
                assert [m async for m in demo.queue(name, auto_create=False).messages()] == []
            # Claiming another project in X-Project-ID does not help: Keystone's
            # middleware overwrites it with the token's project.
            token = keystone_server.token(keystone_server.demo)
            async with httpx.AsyncClient() as raw:
                r = await raw.get(
                    f"{zaqar_keystone_server.url}/v2/queues",
                    headers={
                        "X-Auth-Token": token,
                        "X-Project-ID": keystone_server.admin.project_id,
                        "Client-ID": str(uuid.uuid4()),
                    },
                )
            assert r.status_code in (200, 204)
            listed = r.json()["queues"] if r.status_code == 200 else []
            assert name not in [q["name"] for q in listed]
        finally:
            await admin.queue(name, auto_create=False).delete()


async def test_signed_url_grants_one_queue_only(zaqar_server: ZaqarServer, project_id: str) -> None:
    name, other = _name(), _name()
    async with AsyncClient(zaqar_server.url, project_id=project_id) as owner:
        await owner.queue(name).ensure_exists()
        await owner.queue(other).ensure_exists()
        signed = await owner.queue(name).signed_url(methods=["GET", "POST"])
    assert signed.signature not in repr(signed)
    async with AsyncClient.from_signed_url(zaqar_server.url, signed) as guest:
        queue = guest.queue(name, auto_create=False)
        await queue.post([{"body": {"via": "signed"}, "ttl": 300}])
        assert [m.body async for m in queue.messages(echo=True)] == [{"via": "signed"}]
        with pytest.raises(NotFound, match="may have expired") as info:
            await guest.queue(other, auto_create=False).post([{"body": 1}])
        assert signed.signature not in str(info.value)
        with pytest.raises(NotFound, match="may not cover"):
            _ = [q async for q in guest.queues()]
        with pytest.raises(NotFound):
            await queue.stats()
        with pytest.raises(NotFound):
            await queue.delete()
    # A tampered signature is refused the same way.
    forged = {
        "project": signed.project, "paths": list(signed.paths), "methods": list(signed.methods),
        "expires": signed.expires, "signature": "0" * 64,
    }  # fmt: skip
    async with AsyncClient.from_signed_url(zaqar_server.url, forged) as guest:
        queue = guest.queue(name, auto_create=False)
        with pytest.raises(NotFound, match="may have expired"):
            await queue.post([{"body": 1}])


async def test_signed_url_skips_keystone(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    name = _name()
    async with AsyncClient(zaqar_keystone_server.url, conf=_conf(keystone_server.demo)) as owner:
        await owner.queue(name).ensure_exists()
        signed = await owner.queue(name).signed_url(methods=["GET", "POST"])
        async with AsyncClient.from_signed_url(zaqar_keystone_server.url, signed) as guest:
            queue = guest.queue(name, auto_create=False)
            await queue.post([{"body": "no credentials", "ttl": 300}])
            assert [m.body async for m in queue.messages(echo=True)] == ["no credentials"]
            with pytest.raises(NotFound):
                _ = [q async for q in guest.queues()]
        await owner.queue(name, auto_create=False).delete()


async def test_signed_url_over_websocket(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    # Zaqar accepts signed frames for the message actions without `authenticate`.
    name = _name()
    async with AsyncClient(zaqar_keystone_server.url, conf=_conf(keystone_server.demo)) as owner:
        await owner.queue(name).ensure_exists()
        signed = await owner.queue(name).signed_url(methods=["GET", "POST"])
        async with AsyncClient.from_signed_url(zaqar_keystone_server.ws_url, signed) as guest:
            queue = guest.queue(name)
            ids = await queue.post([{"body": "signed frame", "ttl": 300}])
            assert [m.body async for m in queue.messages(*ids)] == ["signed frame"]
        await owner.queue(name, auto_create=False).delete()


async def test_wrong_password_over_websocket(
    zaqar_keystone_server: ZaqarServer, keystone_server: KeystoneServer
) -> None:
    options = {**keystone_server.demo.options(), "os_password": "not-the-password"}
    conf = {"auth_opts": {"backend": "keystone", "options": options}}
    async with AsyncClient(zaqar_keystone_server.ws_url, conf=conf, timeout=10) as cli:
        with pytest.raises(Unauthorized) as info:
            await cli.queue(_name()).post([{"body": 1, "ttl": 300}])
    assert "not-the-password" not in str(info.value)
