# This file is generated from tests/integration/_async/test_observability.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Logging, event hooks, OpenTelemetry spans and secret redaction against real
servers: no-auth over HTTP and WebSocket, Keystone over HTTP and WebSocket,
and a signed URL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from zaqarkit import Client, NotFound, RequestEvent, ResponseEvent, Unauthorized
from zaqarkit.testing import KeystoneServer, ZaqarServer


def _name() -> str:
    return "q-" + uuid.uuid4().hex[:12]


@dataclass
class Backend:
    """A client for one auth backend and transport, and the secrets it holds."""

    name: str
    client: Client
    secrets: list[str] = field(default_factory=list)
    queue: str = ""


@pytest.fixture(params=["noauth-http", "noauth-ws", "keystone-http", "keystone-ws", "signed-http"])
def backend(
    request: pytest.FixtureRequest, project_id: str, zaqar_server: ZaqarServer
) -> Iterator[Backend]:
    kind = request.param
    if kind.startswith("noauth"):
        url = zaqar_server.url if kind.endswith("http") else zaqar_server.ws_url
        with Client(url, project_id=project_id) as cli:
            yield Backend(kind, cli, queue=_name())
        return
    if kind.startswith("keystone"):
        keystone: KeystoneServer = request.getfixturevalue("keystone_server")
        zaqar: ZaqarServer = request.getfixturevalue("zaqar_keystone_server")
        url = zaqar.url if kind.endswith("http") else zaqar.ws_url
        user = keystone.demo
        conf = {"auth_opts": {"backend": "keystone", "options": user.options()}}
        with Client(url, conf=conf) as cli:
            token = (cli._auth.credentials()).token  # type: ignore[attr-defined]
            yield Backend(kind, cli, [user.password, token], queue=_name())
        return
    queue = _name()
    with Client(zaqar_server.url, project_id=project_id) as owner:
        owner.queue(queue).ensure_exists()
        signed = owner.queue(queue).signed_url(methods=["GET", "POST"])
        with Client.from_signed_url(zaqar_server.url, signed) as guest:
            yield Backend(kind, guest, [signed.signature], queue=queue)


def test_debug_log_per_request_without_secrets(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[RequestEvent] = []
    backend.client._engine.observer._request_hooks = (seen.append,)  # see what was sent
    queue = backend.client.queue(backend.queue)
    queue.post([{"body": {"order": 1}, "ttl": 300}, {"body": {"order": 2}}])
    bodies = [m.body for m in queue.messages(echo=True)]
    assert bodies == [{"order": 1}, {"order": 2}]

    area = "zaqarkit.websocket" if backend.name.endswith("ws") else "zaqarkit.http"
    lines = [r for r in caplog.records if r.name == area and hasattr(r, "zaqar_operation")]
    posts = [r for r in lines if r.zaqar_operation == "message_post"]  # type: ignore[attr-defined]
    assert len(posts) == 1, [r.getMessage() for r in lines]
    post = posts[0]
    path = f"/v2/queues/{backend.queue}/messages"
    assert post.levelno == logging.DEBUG
    assert (post.zaqar_method, post.zaqar_path, post.zaqar_status) == (  # type: ignore[attr-defined]
        "POST",
        path,
        201,
    )
    assert post.zaqar_duration > 0  # type: ignore[attr-defined]
    # The text is exactly what was asked for, nothing masked or mangled in it.
    message = post.getMessage()
    assert message.startswith(f"message_post POST {path} -> 201 in "), message
    assert "***" not in message
    if area == "zaqarkit.http":
        assert post.zaqar_request_id.startswith("req-")  # type: ignore[attr-defined]
        assert message.endswith(f"(request id {post.zaqar_request_id})")  # type: ignore[attr-defined]
    assert any(r.zaqar_operation == "message_list" for r in lines)  # type: ignore[attr-defined]

    # No secret in any zaqarkit log record, in the reprs a user or a pytest
    # diff would print, or in the requests handed to hooks.
    texts = [r.getMessage() for r in caplog.records if r.name.startswith("zaqarkit")]
    texts += [
        repr(backend.client),
        repr(backend.client._auth),
        repr(backend.client._engine.context),
    ]
    texts += [repr(backend.client.transport())]
    texts += [repr(event.request) for event in seen]
    for secret in backend.secrets:
        for text in texts:
            assert secret not in text
    # ... while what is not a secret stays readable.
    assert all("Client-ID" in repr(event.request) for event in seen)
    if backend.name == "signed-http":
        assert "'URL-Signature', '***'" in repr(seen[0].request)
        assert "URL-Methods" in repr(seen[0].request)


def test_keystone_errors_quote_keystone_unaltered(
    zaqar_keystone_server: ZaqarServer,
    keystone_server: KeystoneServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A one-letter password used to be scrubbed from the text everywhere it
    # occurred ("requir***s"); now the message is Keystone's, as sent.
    caplog.set_level(logging.DEBUG)
    options = {**keystone_server.demo.options(), "os_password": "e"}
    conf = {"auth_opts": {"backend": "keystone", "options": options}}
    with Client(zaqar_keystone_server.url, conf=conf) as cli:
        with pytest.raises(Unauthorized) as info:
            cli.queue(_name()).post([{"body": 1}])
    text = str(info.value)
    assert "***" not in text
    assert "requires authentication" in text
    assert "(HTTP 401)" in text
    assert "Keystone authentication failed" in text


def test_auth_logs_token_fetch_and_renewal(
    zaqar_keystone_server: ZaqarServer,
    keystone_server: KeystoneServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="zaqarkit")
    conf = {"auth_opts": {"backend": "keystone", "options": keystone_server.demo.options()}}
    with Client(zaqar_keystone_server.url, conf=conf) as cli:
        queue = cli.queue(_name())
        queue.post([{"body": 1}])
        token = (cli._auth.credentials()).token  # type: ignore[attr-defined]
        # Zaqar rejects a revoked token with 401: the client renews it once.
        keystone_server.revoke(token)
        queue.post([{"body": 2}])
    auth = [r.getMessage() for r in caplog.records if r.name == "zaqarkit.auth"]
    assert len([m for m in auth if m.startswith("fetched a Keystone token")]) == 2, auth
    assert any(m.startswith("Keystone token rejected") for m in auth), auth
    connects = [
        r for r in caplog.records if r.name == "zaqarkit.http" and r.levelno == logging.INFO
    ]
    assert connects
    assert connects[0].getMessage().startswith("connected to 127.0.0.1:")
    for record in caplog.records:
        assert token not in record.getMessage()


@pytest.fixture(params=["http", "websocket"])
def url(request: pytest.FixtureRequest, zaqar_server: ZaqarServer) -> str:
    return zaqar_server.url if request.param == "http" else zaqar_server.ws_url


def test_event_hooks_see_every_request(url: str, project_id: str) -> None:
    events: list[tuple[str, str, Any]] = []

    def on_request(event: RequestEvent) -> None:
        events.append(("request", event.operation, event.transport))

    def on_response(event: ResponseEvent) -> None:
        events.append(("response", event.operation, event.status))
        assert event.elapsed > 0
        assert event.request.operation.value == event.operation

    hooks = {"request": [on_request], "response": [on_response]}
    kind = "websocket" if url.startswith("ws") else "http"
    with Client(url, project_id=project_id, event_hooks=hooks) as cli:
        queue = cli.queue(_name())
        queue.post([{"body": 1}])
        with pytest.raises(NotFound):
            queue.message("5f3c0c2e0c7a4a0001abcdef")
    # (v2 creates a queue on its first post: no queue_create is sent.)
    assert events == [
        ("request", "message_post", kind),
        ("response", "message_post", 201),
        ("request", "message_get", kind),
        ("response", "message_get", 404),
    ]


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_spans_follow_the_messaging_conventions(
    url: str, project_id: str, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    sent: list[RequestEvent] = []
    name = _name()
    with Client(
        url, project_id=project_id, tracing=provider, event_hooks={"request": [sent.append]}
    ) as cli:
        queue = cli.queue(name)
        queue.post([{"body": n} for n in range(3)])
        claim = queue.claim(ttl=60, grace=60, limit=2)
        assert len(claim) == 2
        claim.messages[0].delete()
        with pytest.raises(NotFound):
            queue.message("5f3c0c2e0c7a4a0001abcdef")
    finished = exporter.get_finished_spans()
    by_name = {span.name: span for span in finished}
    assert [span.name for span in finished] == [
        f"message_post {name}",
        f"claim_create {name}",
        f"message_delete {name}",
        f"message_get {name}",
    ]
    post = by_name[f"message_post {name}"]
    assert post.kind is SpanKind.PRODUCER
    attributes = dict(post.attributes or {})
    assert attributes["messaging.system"] == "zaqar"
    assert attributes["messaging.operation.type"] == "send"
    assert attributes["messaging.operation.name"] == "message_post"
    assert attributes["messaging.destination.name"] == name
    assert attributes["messaging.batch.message_count"] == 3
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["messaging.client.id"] == cli.client_id
    claimed = by_name[f"claim_create {name}"]
    assert claimed.kind is SpanKind.CONSUMER
    assert (claimed.attributes or {})["messaging.operation.type"] == "receive"
    assert (claimed.attributes or {})["messaging.batch.message_count"] == 2
    settled = by_name[f"message_delete {name}"]
    assert (settled.attributes or {})["messaging.operation.type"] == "settle"
    assert (settled.attributes or {})["messaging.message.id"] == claim.messages[0].id
    failed = by_name[f"message_get {name}"]
    assert (failed.attributes or {})["error.type"] == "zaqarkit.errors.NotFound"
    assert failed.status.status_code is StatusCode.ERROR
    # W3C trace context travels in the request headers of the span's trace.
    traceparent = sent[0].request.header("traceparent")
    assert traceparent is not None
    assert traceparent.split("-")[1] == format(post.context.trace_id, "032x")
