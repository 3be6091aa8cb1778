"""Auth backends without a server: option parsing, environment, redaction,
the 401 renew-once flow and single-flight token fetches (fake sessions)."""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import anyio
import pytest
from keystoneauth1 import exceptions as ka_exc

from zaqarkit import (
    AsyncClient,
    Client,
    ConnectError,
    NotFound,
    TimeoutError,
    Unauthorized,
    ValidationError,
)
from zaqarkit._settings import resolve
from zaqarkit.auth import Credentials, KeystoneAuth, NoAuth, SignedURLAuth, signed_url_from
from zaqarkit.core.auth import with_credentials
from zaqarkit.core.models import SignedURL
from zaqarkit.core.operations import Operation
from zaqarkit.core.wire import Request, Response
from zaqarkit.transports.mock import MockTransport

URL = "http://zaqar.test:8888"
PASSWORD = "pa55-w0rd-s3cret"
SIGNATURE = "f" * 64

OPTIONS = {
    "os_auth_url": "http://keystone.test/v3",
    "os_username": "demo",
    "os_password": PASSWORD,
    "os_project_name": "demo",
    "os_user_domain_id": "default",
    "os_project_domain_id": "default",
    "os_region_name": "RegionTwo",
}

SIGNED = {
    "project": "p1",
    "paths": ["/v2/queues/jobs/messages"],
    "methods": ["GET", "POST"],
    "expires": "2030-01-01T00:00:00",
    "signature": SIGNATURE,
}


class FakeSession:
    """Stands in for keystoneauth1.session.Session: hands out token-1, token-2, ..."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        renewable: bool = True,
        endpoint: str | None = URL,
        expires_in: float | None = 3600,
        fail: Exception | None = None,
    ) -> None:
        self.delay = delay
        self.renewable = renewable
        self.endpoint = endpoint
        self.expires_in = expires_in
        self.fail = fail
        self.fetches = 0
        self.invalidations = 0
        self.threads: set[str] = set()
        self._token: str | None = None
        self.auth = self  # _expiry() looks for session.auth.auth_ref.expires
        self.auth_ref: Any = None

    def get_auth_headers(self) -> Mapping[str, str] | None:
        self.threads.add(threading.current_thread().name)
        if self.fail is not None:
            raise self.fail
        if self._token is None:
            time.sleep(self.delay)
            self.fetches += 1
            self._token = f"token-{self.fetches}"
            if self.expires_in is not None:
                expires = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=self.expires_in)
                self.auth_ref = type("Ref", (), {"expires": expires})()
        return {"X-Auth-Token": self._token}

    def get_project_id(self) -> str | None:
        return "proj-from-token"

    def get_endpoint(self, **kwargs: Any) -> str | None:
        self.endpoint_kwargs = kwargs
        return self.endpoint

    def invalidate(self) -> bool:
        self.invalidations += 1
        self._token = None
        return self.renewable


def _ok(request: Request) -> Response:
    return Response(200, {"content-type": "application/json"}, b'{"queues": [], "links": []}')


def _keystone_conf(options: Mapping[str, Any]) -> dict[str, Any]:
    return {"auth_opts": {"backend": "keystone", "options": dict(options)}}


# -- option parsing ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["os_", ""])
def test_keystone_options_with_and_without_prefix(prefix: str) -> None:
    options = {prefix + key.removeprefix("os_"): value for key, value in OPTIONS.items()}
    settings = resolve(URL, 2, _keystone_conf(options), None)
    auth = settings.auth
    assert isinstance(auth, KeystoneAuth)
    assert auth.region_name == "RegionTwo"
    assert auth.interface == "public"
    assert auth.service_type == "messaging"
    plugin: Any = auth.session.auth  # type: ignore[attr-defined]
    assert type(plugin).__name__ == "Password"
    assert plugin.auth_url == "http://keystone.test/v3"
    assert plugin._username == "demo"
    assert plugin._project_name == "demo"
    assert plugin._user_domain_id == "default"
    # No I/O yet: the client knows no project until it authenticates.
    assert settings.project_id == ""
    assert dict(settings.context.headers).get("X-Project-ID") is None
    assert "X-Roles" not in dict(settings.context.headers)


def test_tls_verification_stays_on_unless_turned_off() -> None:
    on = resolve(URL, 2, _keystone_conf(OPTIONS), None)
    assert on.auth.session.verify is True  # type: ignore[attr-defined]
    assert on.insecure is False
    off = resolve(URL, 2, _keystone_conf({**OPTIONS, "insecure": "true"}), None)
    assert off.auth.session.verify is False  # type: ignore[attr-defined]
    assert off.insecure is True
    ca = resolve(URL, 2, _keystone_conf({**OPTIONS, "os_cacert": "/etc/ca.pem"}), None)
    assert ca.auth.session.verify == "/etc/ca.pem"  # type: ignore[attr-defined]
    assert ca.cacert == "/etc/ca.pem"


def test_bare_token_option_is_sent_as_is() -> None:
    transport = MockTransport(_ok)
    conf = _keystone_conf({"os_auth_token": "bare-token", "os_project_id": "p9"})
    with Client(URL, conf=conf, transport=transport) as cli:
        list(cli.queues())
    sent = dict(transport.requests[0].headers)
    assert sent["X-Auth-Token"] == "bare-token"
    assert sent["X-Project-ID"] == "p9"


def test_bare_token_is_not_renewed_on_401() -> None:
    transport = MockTransport(lambda r: Response(401))
    conf = _keystone_conf({"os_auth_token": "bare-token"})
    with Client(URL, conf=conf, transport=transport) as cli, pytest.raises(Unauthorized):
        list(cli.queues())
    assert len(transport.requests) == 1


def test_keystone_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("OS_AUTH_TYPE", "OS_TOKEN", "OS_CLOUD", "OS_PROJECT_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OS_AUTH_URL", "http://keystone.test/v3")
    monkeypatch.setenv("OS_USERNAME", "envuser")
    monkeypatch.setenv("OS_PASSWORD", PASSWORD)
    monkeypatch.setenv("OS_PROJECT_NAME", "envproject")
    monkeypatch.setenv("OS_USER_DOMAIN_NAME", "Default")
    monkeypatch.setenv("OS_PROJECT_DOMAIN_NAME", "Default")
    monkeypatch.setenv("OS_REGION_NAME", "RegionEnv")
    monkeypatch.setenv("OS_INTERFACE", "internal")
    settings = resolve(URL, 2, {"auth_opts": {"backend": "keystone"}}, None)
    auth = settings.auth
    assert isinstance(auth, KeystoneAuth)
    plugin: Any = auth.session.auth  # type: ignore[attr-defined]
    assert plugin._username == "envuser"
    assert plugin._project_name == "envproject"
    assert (auth.region_name, auth.interface) == ("RegionEnv", "internal")
    assert PASSWORD not in repr(auth)


def test_keystone_without_any_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("OS_AUTH_URL", "OS_AUTH_TYPE"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValidationError, match="no Keystone credentials"):
        resolve(URL, 2, {"auth_opts": {"backend": "keystone"}}, None)


def test_noauth_without_project_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OS_PROJECT_ID", raising=False)
    with pytest.raises(ValidationError, match="no project given"):
        resolve(URL, 2, {"auth_opts": {"backend": "noauth", "options": {}}}, None)
    settings = resolve(URL, 2, {"auth_opts": {"options": {"project_id": "p"}}}, None)
    assert isinstance(settings.auth, NoAuth)
    assert dict(settings.context.headers)["X-Project-ID"] == "p"


def test_backend_conflicts_are_reported() -> None:
    with pytest.raises(ValidationError, match="keystone"):
        resolve(URL, 2, {"auth_opts": {"backend": "signed-url"}}, FakeSession())
    with pytest.raises(ValidationError, match="backend"):
        resolve(URL, 2, {"auth_opts": {"backend": "magic"}}, None)
    with pytest.raises(ValidationError, match="url"):
        resolve(None, 2, None, None, project_id="p")


# -- catalog discovery -----------------------------------------------------------


def test_url_none_discovers_the_endpoint_from_the_catalog() -> None:
    session = FakeSession(endpoint="http://zaqar.catalog:8888/")
    conf = _keystone_conf({"region_name": "R2", "interface": "internal"})
    with Client(None, conf=conf, session=session, transport=MockTransport(_ok)) as cli:
        assert cli.api_url == "http://zaqar.catalog:8888"
        assert cli.project_id == "proj-from-token"
    assert session.endpoint_kwargs == {
        "service_type": "messaging",
        "interface": "internal",
        "region_name": "R2",
    }


def test_url_none_without_a_catalog_entry() -> None:
    with pytest.raises(ValidationError, match="no endpoint for service type 'messaging'"):
        Client(None, session=FakeSession(endpoint=None))


# -- signed URLs ---------------------------------------------------------------------


def test_signed_url_options_become_headers() -> None:
    conf = {"auth_opts": {"backend": "signed-url", "options": {
        "signature": SIGNATURE, "expires": SIGNED["expires"], "paths": SIGNED["paths"],
        "methods": "GET,POST", "os_project_id": "p1"}}}  # fmt: skip
    settings = resolve(URL, 2, conf, None)
    headers = dict(settings.context.headers)
    assert headers["URL-Signature"] == SIGNATURE
    assert headers["URL-Methods"] == "GET,POST"
    assert headers["URL-Paths"] == "/v2/queues/jobs/messages"
    assert headers["URL-Expires"] == "2030-01-01T00:00:00"
    assert headers["X-Project-ID"] == "p1"
    assert settings.project_id == "p1"


def test_signed_url_missing_fields() -> None:
    with pytest.raises(ValidationError, match="missing project, signature"):
        signed_url_from({"paths": ["x"], "methods": ["GET"], "expires": "2030-01-01T00:00:00"})


def test_signed_url_404_explains_expiry_without_the_signature() -> None:
    transport = MockTransport(lambda r: Response(404))
    signed = signed_url_from(SIGNED)
    with Client.from_signed_url(URL, signed, transport=transport) as cli:
        queue = cli.queue("jobs")  # never auto-created: a signature cannot create queues
        with pytest.raises(NotFound) as info:
            queue.stats()
    assert [(r.method, r.path) for r in transport.requests] == [("GET", "/v2/queues/jobs/stats")]
    text = str(info.value)
    assert "may have expired" in text
    assert "GET /v2/queues/jobs/stats" in text
    assert SIGNATURE not in text
    assert SIGNATURE not in repr(SignedURLAuth(signed))


# -- redaction --------------------------------------------------------------------------


def test_reprs_and_errors_hide_secrets() -> None:
    # keystoneauth1's message is quoted unaltered: nothing is searched and
    # replaced in it (a one-letter secret used to turn "http" into "htt***").
    error = ka_exc.Unauthorized("The request you have made requires authentication. (HTTP 401)")
    auth = KeystoneAuth(FakeSession(fail=error))
    with pytest.raises(Unauthorized) as info:
        auth.credentials()
    assert "The request you have made requires authentication. (HTTP 401)" in str(info.value)
    assert "***" not in str(info.value)
    assert "Keystone" in str(info.value)
    assert "token-" not in repr(Credentials("token-1", "p"))
    good = KeystoneAuth(FakeSession())
    good.credentials()
    assert "token-1" not in repr(good)
    cli = Client(URL, session=FakeSession(), transport=MockTransport(_ok))
    list(cli.queues())
    assert "token-1" not in repr(cli)


def test_logs_hide_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth = KeystoneAuth.from_options(
        {**OPTIONS, "os_auth_url": "http://127.0.0.1:9/v3"}  # nothing listens on port 9
    )
    with pytest.raises(ConnectError) as info:
        auth.credentials()
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in caplog.text
    assert not isinstance(info.value, ka_exc.ClientException)


# -- the 401 flow -------------------------------------------------------------------------


def test_401_renews_the_token_once_and_retries_once() -> None:
    answers = iter([Response(401), *[_ok(None)] * 5])  # type: ignore[arg-type]
    transport = MockTransport(lambda r: next(answers))
    session = FakeSession()
    with Client(URL, session=session, transport=transport) as cli:
        list(cli.queues())
    tokens = [dict(r.headers)["X-Auth-Token"] for r in transport.requests]
    assert tokens == ["token-1", "token-2"]
    assert session.invalidations == 1


def test_persistent_401_is_unauthorized_without_a_loop() -> None:
    transport = MockTransport(lambda r: Response(401))
    session = FakeSession()
    with Client(URL, session=session, transport=transport) as cli, pytest.raises(Unauthorized):
        list(cli.queues())
    assert len(transport.requests) == 2
    assert session.fetches == 2


def test_decisions_are_pure() -> None:
    request = Request(Operation.PING, "GET", "/v2/ping", headers=(("x-project-id", "a"),))
    assert with_credentials(request, (("X-Project-ID", "b"),)).headers == (("X-Project-ID", "b"),)


def test_expired_cached_token_is_renewed_before_use() -> None:
    # A token inside the renewal margin is not used again.
    session = FakeSession(expires_in=30)
    auth = KeystoneAuth(session)
    assert auth.credentials().token == "token-1"
    session._token = None  # what keystoneauth1 does for a token about to expire
    assert auth.credentials().token == "token-2"


def test_signed_url_model_round_trip() -> None:
    signed = SignedURL("p", ("/a",), ("GET",), "2030-01-01T00:00:00", SIGNATURE)
    assert signed_url_from(signed) is signed


# -- async: single flight, off the event loop ------------------------------------------------


@pytest.mark.anyio
async def test_single_flight_token_fetch_in_a_worker_thread() -> None:
    session = FakeSession(delay=0.3)
    auth = KeystoneAuth(session)
    ticks = 0
    results: list[str] = []

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(10):
            await anyio.sleep(0.02)
            ticks += 1

    async def caller() -> None:
        results.append((await auth.async_credentials()).token)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        for _ in range(20):
            tg.start_soon(caller)
    assert session.fetches == 1
    assert results == ["token-1"] * 20
    assert ticks == 10  # the loop kept running during the 0.3 s fetch
    assert threading.main_thread().name not in session.threads


@pytest.mark.anyio
async def test_concurrent_401s_invalidate_once() -> None:
    seen: list[str] = []

    def server(request: Request) -> Response:
        token = dict(request.headers)["X-Auth-Token"]
        seen.append(token)
        return Response(401) if token == "token-1" else _ok(request)

    session = FakeSession(delay=0.05)
    transport = MockTransport(server)
    async with AsyncClient(URL, session=session, transport=transport) as cli:

        async def list_queues() -> None:
            assert [q async for q in cli.queues()] == []

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(list_queues)
    assert session.invalidations == 1
    assert session.fetches == 2
    assert seen.count("token-2") == 10


# -- a hanging Keystone: abandoned at the call's deadline -------------------------------------


class HangingSession(FakeSession):
    """Blocks every token fetch until ``release`` is set, then fails the
    fetches that were waiting (``fail_held``) or hands out tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.fail_held = True

    def get_auth_headers(self) -> Mapping[str, str] | None:
        if not self.release.is_set():
            self.release.wait()
            if self.fail_held:
                raise ka_exc.ConnectFailure("the held connection was cut")
        return super().get_auth_headers()


def test_hanging_fetch_is_abandoned_at_the_deadline_without_leaking() -> None:
    session = HangingSession()
    auth = KeystoneAuth(session)
    transport = MockTransport(_ok)
    with Client(URL, auth=auth, transport=transport, timeout=0.3) as cli:
        began = time.monotonic()
        with pytest.raises(TimeoutError) as info:
            list(cli.queues())
        assert 0.25 < time.monotonic() - began < 3
        assert info.value.sent is False
        assert transport.requests == []
        # The abandoned fetch fails later in its own thread: the exception
        # goes nowhere (pytest would report it as an unhandled thread error).
        session.release.set()
        deadline = time.monotonic() + 5
        while any(t.name == "zaqarkit-keystone-fetch" for t in threading.enumerate()):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert list(cli.queues()) == []
    assert [dict(r.headers)["X-Auth-Token"] for r in transport.requests] == ["token-1"]


@pytest.mark.anyio
async def test_async_hanging_fetch_is_abandoned_and_a_later_call_fetches_again() -> None:
    session = HangingSession()
    session.fail_held = False
    auth = KeystoneAuth(session)
    transport = MockTransport(_ok)
    async with AsyncClient(URL, auth=auth, transport=transport, timeout=0.3) as cli:
        results: list[BaseException | None] = []

        async def call() -> None:
            try:
                assert [q async for q in cli.queues()] == []
                results.append(None)
            except TimeoutError as exc:
                results.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(call)
        # One fetch, shared, given up by every caller at its deadline.
        assert len(results) == 5
        assert all(isinstance(r, TimeoutError) for r in results)
        assert session.fetches == 0
        session.release.set()
        assert [q async for q in cli.queues()] == []
    # The abandoned fetch and the fresh one both complete (the fake session
    # is not single flight itself): either token is valid.
    assert len(transport.requests) == 1
    assert dict(transport.requests[0].headers)["X-Auth-Token"] in ("token-1", "token-2")
