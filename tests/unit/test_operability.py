"""Errors that behave like Python's, option combinations refused at construction,
structural redaction and hook validation; no server (MockTransport)."""

from __future__ import annotations

import builtins
import json
import logging
import socket
from typing import Any

import httpx
import pytest

from zaqarkit import (
    AsyncClient,
    Client,
    ConnectError,
    Limits,
    PoolLimits,
    TimeoutError,
    TransportError,
    UnsupportedOperation,
    ValidationError,
)
from zaqarkit.auth import SignedURLAuth
from zaqarkit.core.context import Context
from zaqarkit.core.models import SignedURL
from zaqarkit.core.operations import Operation
from zaqarkit.core.redact import redact_url
from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import MockTransport

URL = "http://zaqar.test:8888"
SIGNED = SignedURL("p", ("/v2/queues/q/messages",), ("GET",), "2030-01-01T00:00:00", "s")


def _mock() -> MockTransport:
    return MockTransport(lambda request: Response(204))


# -- errors are Python's own -------------------------------------------------------------


def test_errors_are_builtin_kinds() -> None:
    with pytest.raises(builtins.TimeoutError):
        raise TimeoutError("slow")
    with pytest.raises(ConnectionError):
        raise ConnectError("refused")
    with pytest.raises(ValueError, match="ttl"):
        raise ValidationError("ttl", "too small")


def test_ping_on_a_closed_client_raises() -> None:
    cli = Client(URL, project_id="p", transport=_mock())
    assert cli.ping() is True
    cli.close()
    with pytest.raises(TransportError, match="closed") as info:
        cli.ping()
    assert info.value.sent is False


@pytest.mark.anyio
async def test_ping_on_a_closed_async_client_raises() -> None:
    cli = AsyncClient(URL, project_id="p", transport=_mock())
    await cli.aclose()
    with pytest.raises(TransportError, match="closed"):
        await cli.ping()


def test_ping_on_an_unreachable_server_is_false() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with Client(f"http://127.0.0.1:{port}", project_id="p", timeout=5) as cli:
        assert cli.ping() is False


# -- refusals name the option that would work -----------------------------------------------


def test_health_over_websocket_names_http_url() -> None:
    mock = _mock()
    cli = Client("ws://zaqar.test:9000", project_id="p", transport=mock)
    with pytest.raises(UnsupportedOperation, match=r"http_url="):
        cli.health()
    assert mock.requests == []  # refused before anything was sent


def test_a_v1_refusal_names_the_version_that_has_it() -> None:
    mock = _mock()
    cli = Client(URL, version=1, project_id="p", transport=mock)
    with pytest.raises(UnsupportedOperation, match=r"use version='2' \(it is in API v1.1, v2\)"):
        cli.queue("q", auto_create=False).pop(1)
    assert mock.requests == []


# -- invalid combinations, at construction ---------------------------------------------------


def test_pool_limits_are_not_server_limits() -> None:
    with pytest.raises(ValidationError, match=r"pool_limits=") as info:
        Client(URL, project_id="p", limits=httpx.Limits(max_connections=4))  # type: ignore[arg-type]
    assert info.value.field == "limits"
    with pytest.raises(ValidationError, match=r"limits=") as info:
        Client(URL, project_id="p", pool_limits=Limits())  # type: ignore[arg-type]
    assert info.value.field == "pool_limits"
    with pytest.raises(ValidationError, match="pool_limits"):
        Client(URL, project_id="p", pool_limits=4)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_connections"):
        PoolLimits(max_connections=0)
    Client(URL, project_id="p", pool_limits=httpx.Limits(max_connections=4)).close()
    Client(URL, project_id="p", pool_limits=PoolLimits(max_connections=4)).close()


def test_msgpack_over_http_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"codec='msgpack'.*http:// url=") as info:
        Client(URL, project_id="p", codec="msgpack")
    assert info.value.field == "codec"


def test_signed_url_with_keystone_options_is_refused() -> None:
    keystone = {"os_auth_url": "http://ks/v3", "os_password": "pw", "os_username": "u"}
    with pytest.raises(ValidationError, match=r"Keystone option.*signed URL") as info:
        Client.from_signed_url(URL, SIGNED, conf={"auth_opts": {"options": keystone}})
    assert "os_auth_url" in info.value.field
    options = {
        **keystone,
        "signature": "s",
        "expires": "2030-01-01T00:00:00",
        "paths": "/v2/queues/q/messages",
        "methods": "GET",
        "project_id": "p",
    }
    with pytest.raises(ValidationError, match=r"signed-url"):
        Client(URL, conf={"auth_opts": {"backend": "signed-url", "options": options}})
    with pytest.raises(ValidationError, match=r"session=.*signed-url"):
        Client(URL, conf={"auth_opts": {"backend": "signed-url"}}, session=object())
    with pytest.raises(ValidationError, match=r"session=.*auth="):
        Client(URL, auth=SignedURLAuth(SIGNED), session=object())


def test_network_options_need_the_default_transport() -> None:
    with pytest.raises(ValidationError, match=r"proxy=.*transport="):
        Client(URL, project_id="p", proxy="http://127.0.0.1:3128", transport=_mock())
    with pytest.raises(ValidationError, match=r"http2.*http_url="):
        Client("ws://zaqar.test:9000", project_id="p", http2=True)
    with pytest.raises(ValidationError, match="proxy URL") as info:
        Client(URL, project_id="p", proxy="user:hunter2@127.0.0.1:3128")
    assert "hunter2" not in str(info.value)
    cli = Client(URL, project_id="p", proxy="http://user:hunter2@127.0.0.1:3128")
    assert "hunter2" not in repr(cli._network)
    assert "127.0.0.1:3128" in repr(cli._network)
    with pytest.raises(ValidationError, match="cert"):
        Client(URL, project_id="p", cert=("a", "b", "c"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cannot load the client certificate"):
        Client(URL, project_id="p", cert="/nonexistent/client.pem")


# -- hooks -------------------------------------------------------------------------------


def test_event_hooks_are_checked() -> None:
    with pytest.raises(ValidationError, match="unknown events"):
        Client(URL, project_id="p", event_hooks={"requests": []})
    with pytest.raises(ValidationError, match="not callable"):
        Client(URL, project_id="p", event_hooks={"request": ["nope"]})

    async def hook(event: Any) -> None:
        pass

    with pytest.raises(ValidationError, match="AsyncClient"):
        Client(URL, project_id="p", event_hooks={"request": [hook]})
    AsyncClient(URL, project_id="p", event_hooks={"request": [hook]})
    with pytest.raises(ValidationError, match="TracerProvider"):
        Client(URL, project_id="p", tracing="yes")


def test_hook_exceptions_reach_the_caller() -> None:
    def refuse(event: Any) -> None:
        raise RuntimeError("no")

    mock = _mock()
    cli = Client(URL, project_id="p", transport=mock, event_hooks={"request": [refuse]})
    with pytest.raises(RuntimeError, match="no"):
        cli.ping()
    assert mock.requests == []


# -- redaction is structural ---------------------------------------------------------------


def test_reprs_mask_credentials_and_nothing_else() -> None:
    request = Request(
        Operation.MESSAGE_LIST,
        "GET",
        "/v2/queues/p/messages",
        headers=(("X-Auth-Token", "p"), ("Client-ID", "p-client"), ("URL-Signature", "p")),
        params={"queue_name": "p", "headers": {"X-Auth-Token": "p"}},
        url="http://user:p@h/v2/queues/p/messages",
    )
    text = repr(request)
    # A one-letter secret does not turn every "p" into "***".
    assert "('X-Auth-Token', '***')" in text
    assert "('URL-Signature', '***')" in text
    assert "('Client-ID', 'p-client')" in text
    assert "path='/v2/queues/p/messages'" in text
    assert "url='http://***@h/v2/queues/p/messages'" in text
    assert "{'X-Auth-Token': '***'}" in text
    assert "htt***" not in text
    context = Context("http://h", (("URL-Signature", "sig"), ("X-Project-ID", "p")))
    assert "sig" not in repr(context)
    assert "'X-Project-ID', 'p'" in repr(context)
    response = Response(201, {"x-subject-token": "s3cr3t", "location": "/v2/queues/p"})
    assert "s3cr3t" not in repr(response)
    assert "/v2/queues/p" in repr(response)
    assert redact_url("http://h:1/p@x") == "http://h:1/p@x"  # '@' in the path is no userinfo


def test_pool_uris_are_masked_in_requests_responses_and_hook_events() -> None:
    from zaqarkit.core.api import ApiV2

    secret_uri = "redis://:s3cr3t@10.0.0.5:6379/1"
    create = ApiV2().pool_create("pool1", secret_uri, 100).request
    assert b"s3cr3t" in create.body  # sent as given...
    assert "s3cr3t" not in repr(create)  # ...never shown
    assert "redis://***@10.0.0.5:6379/1" in repr(create)
    seen: list[str] = []
    answer = {"name": "pool1", "uri": secret_uri, "weight": 100, "group": None}

    def handler(request: Request) -> Response:
        return Response(200, {"content-type": "application/json"}, json.dumps(answer).encode())

    hooks = {
        "request": [lambda event: seen.append(repr(event))],
        "response": [lambda event: seen.append(repr(event))],
    }
    cli = Client(URL, project_id="p", transport=MockTransport(handler), event_hooks=hooks)
    pool = cli.pool("pool1", auto_create=False).get()
    assert pool.uri == secret_uri  # the caller still gets the real URI
    assert "s3cr3t" not in repr(pool)
    request_event, response_event = seen
    assert "s3cr3t" not in request_event + response_event
    assert "redis://***@10.0.0.5:6379/1" in response_event
    # An e-mail address in a message body is no URL: left alone.
    post = ApiV2().message_post("q", [{"body": {"mail": "a@b.example"}, "ttl": 60}]).request
    assert "a@b.example" in repr(post)


def test_debug_line_for_a_request_without_response(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="zaqarkit")

    def down(request: Request) -> Response:
        raise ConnectError("refused")

    # retries=0: one attempt, one line (each retried attempt logs its own).
    cli = Client(URL, project_id="p", transport=MockTransport(down), retries=0)
    with pytest.raises(ConnectError):
        cli.queue("q", auto_create=False).stats()
    (record,) = [r for r in caplog.records if r.name == "zaqarkit.http"]
    assert record.getMessage().startswith(
        "queue_get_stats GET /v2/queues/q/stats -> no response after "
    )
    assert record.getMessage().endswith("(ConnectError)")


def test_timestamps_are_aware_datetimes() -> None:
    from zaqarkit.core.models import MessageStat

    stat = MessageStat(age=3, created="2026-11-27T05:52:41Z")
    assert stat.created_at.isoformat() == "2026-11-27T05:52:41+00:00"
    assert SIGNED.expires_at.isoformat() == "2030-01-01T00:00:00+00:00"


def test_tracing_with_the_global_provider() -> None:
    # tracing=True uses the global provider; without an SDK configured its
    # spans do not record and no trace context is sent.
    mock = _mock()
    cli = Client(URL, project_id="p", transport=mock, tracing=True)
    assert cli.ping() is True
    assert mock.requests[0].header("traceparent") is None
