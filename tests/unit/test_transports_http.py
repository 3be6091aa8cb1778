"""HttpxTransport and AsyncHttpxTransport against a real local HTTP server."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import certifi
import httpcore
import httpx
import pytest
import trustme

from zaqarkit.core.context import Context, encode_query
from zaqarkit.core.operations import Operation
from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import (
    ConnectError,
    ReadError,
    TimeoutError,
    TransportError,
    TransportProtocolError,
)
from zaqarkit.transports import AsyncHttpxTransport, AsyncTransport, HttpxTransport, Transport
from zaqarkit.transports.http import DEFAULT_TIMEOUT, translate_error, verify_setting


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.release = threading.Event()  # lets /slow handlers finish at teardown

    def get_request(self) -> tuple[Any, Any]:
        # Called once per accepted TCP connection, not per request.
        conn = super().get_request()
        self.connections += 1
        return conn

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or disconnect on purpose make writes fail; expected.
        pass

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle plus delayed
    # ACK stalls every keep-alive request by ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, extra: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if path == "/slow":
            self.server.release.wait(5.0)
            self._reply(200, b"{}")
            return
        if path == "/bye":
            # A complete keep-alive answer, then the server closes the socket
            # without saying so (as an idle timeout does).
            self.close_connection = True
            self._reply(200, b"{}")
            return
        if path == "/drop":
            # Promise 100 bytes, send 7, then let the server close the socket.
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            self.close_connection = True
            return
        status = int(self.headers.get("X-Reply-Status") or 200)
        echo = {
            "method": self.command,
            "path": path,
            "raw_query": query,
            "query": parse_qsl(query, keep_blank_values=True),
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.hex(),
        }
        self._reply(
            status,
            json.dumps(echo).encode(),
            [("X-Multi", "a"), ("X-Multi", "b"), ("X-Mixed-Case", "Value")],
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


def _serve(server: _Server) -> Iterator[_Server]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from _serve(_Server())


def _request(
    url: str,
    method: str = "GET",
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
) -> Request:
    return Request(Operation.PING, method, "/unused", (), headers, body, url=url)


def _echo(response: Response) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.body)
    return data


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


HEADERS = (
    ("Client-ID", "3381af92-2b9e-11e3-b191-71861300734c"),
    ("X-Project-ID", "proj"),
    ("Content-Type", "application/json"),
    ("X-Reply-Status", "201"),
)
QUERY = (
    ("limit", "10"),
    ("marker", "a b/c&d=e"),
    ("ids", "a,b"),
    ("echo", "true"),
    ("echo", "ünï"),
)


def _check_round_trip(response: Response) -> None:
    assert response.status == 201
    echo = _echo(response)
    assert echo["method"] == "POST"
    assert echo["path"] == "/v2/queues/q/messages"
    # Sent exactly as Context.prepare encoded it (literal ',' kept, no second copy
    # of request.query appended).
    assert echo["raw_query"] == encode_query(QUERY)
    assert [tuple(pair) for pair in echo["query"]] == list(QUERY)
    sent = {k.lower(): v for k, v in echo["headers"]}
    assert sent["client-id"] == "3381af92-2b9e-11e3-b191-71861300734c"
    assert sent["x-project-id"] == "proj"
    assert sent["content-type"] == "application/json"
    assert bytes.fromhex(echo["body"]) == b'[{"ttl": 300, "body": "\xff"}]'
    assert all(name == name.lower() for name in response.headers)
    assert response.headers["x-multi"] == "a, b"
    assert response.headers["x-mixed-case"] == "Value"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.body))
    assert isinstance(response.headers, dict)


def _round_trip_request(server: _Server) -> Request:
    # Prepared as a client would: url holds the encoded query, query stays set.
    context = Context(server.url, HEADERS[:2])
    request = Request(
        Operation.MESSAGE_POST,
        "POST",
        "/v2/queues/q/messages",
        QUERY,
        HEADERS[2:],
        b'[{"ttl": 300, "body": "\xff"}]',
    )
    return context.prepare(request)


# --------------------------------------------------------------------------- sync


def test_round_trip(server: _Server) -> None:
    with HttpxTransport() as transport:
        _check_round_trip(transport.handle_request(_round_trip_request(server)))


def test_error_status_is_returned_not_raised(server: _Server) -> None:
    with HttpxTransport() as transport:
        response = transport.handle_request(
            _request(server.url + "/v2/queues/nope", headers=(("X-Reply-Status", "404"),))
        )
    assert response.status == 404
    assert _echo(response)["path"] == "/v2/queues/nope"


def test_no_query_no_body(server: _Server) -> None:
    with HttpxTransport() as transport:
        response = transport.handle_request(_request(server.url + "/v2/ping", "DELETE"))
    echo = _echo(response)
    assert (echo["method"], echo["raw_query"], echo["body"]) == ("DELETE", "", "")


def test_keep_alive_reuses_one_connection(server: _Server) -> None:
    with HttpxTransport() as transport:
        for _ in range(50):
            assert transport.handle_request(_request(server.url + "/v2/ping")).status == 200
    assert server.connections == 1


def test_connect_refused() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v2/ping"
    with HttpxTransport() as transport, pytest.raises(ConnectError) as info:
        transport.handle_request(_request(url, headers=(("X-Auth-Token", "s3cret"),)))
    assert isinstance(info.value.__cause__, (httpx.ConnectError, httpcore.ConnectError))
    assert info.value.retryable is True
    assert f"GET {url}" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_timeout(server: _Server) -> None:
    with HttpxTransport(timeout=0.2) as transport, pytest.raises(TimeoutError) as info:
        transport.handle_request(_request(server.url + "/slow"))
    assert isinstance(info.value.__cause__, (httpx.ReadTimeout, httpcore.ReadTimeout))
    assert not isinstance(info.value, ConnectError)


def test_connection_dropped_mid_response(server: _Server) -> None:
    with HttpxTransport() as transport, pytest.raises(ReadError) as info:
        transport.handle_request(_request(server.url + "/drop"))
    cause = info.value.__cause__
    assert isinstance(cause, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError))
    assert "GET " + server.url + "/drop" in str(info.value)


def test_invalid_url_is_transport_error() -> None:
    with HttpxTransport() as transport:
        with pytest.raises(TransportError) as info:
            transport.handle_request(_request("http://[::1/v2"))
        assert type(info.value) is TransportError
        assert "invalid URL" in str(info.value)
        with pytest.raises(TransportError, match=r"only http:// and https://"):
            transport.handle_request(_request("ftp://127.0.0.1/v2"))


def test_closed_transport(server: _Server) -> None:
    transport = HttpxTransport()
    assert not transport.closed
    transport.close()
    transport.close()  # idempotent
    assert transport.closed
    with pytest.raises(TransportError, match="transport is closed"):
        transport.handle_request(_request(server.url + "/v2/ping"))
    assert server.connections == 0


def test_caller_client_is_used_and_left_open(server: _Server) -> None:
    with httpx.Client(headers={"X-From-Client": "yes"}) as client:
        with HttpxTransport(client=client) as transport:
            response = transport.handle_request(_request(server.url + "/v2/ping"))
        assert transport.closed
        assert not client.is_closed
        sent = {k.lower(): v for k, v in _echo(response)["headers"]}
        assert sent["x-from-client"] == "yes"
        # Still usable by its owner after the transport is gone.
        assert client.get(server.url + "/v2/ping").status_code == 200


@pytest.mark.parametrize(
    "options",
    [{"cacert": "/ca.pem"}, {"insecure": True}, {"verify": False}, {"limits": httpx.Limits()}],
)
def test_caller_client_rejects_unapplicable_options(options: dict[str, Any]) -> None:
    with httpx.Client() as client, pytest.raises(ValueError, match="client="):
        HttpxTransport(client=client, **options)


def test_protocols() -> None:
    with HttpxTransport() as sync:
        assert isinstance(sync, Transport)
        assert not isinstance(sync, AsyncTransport)
    async_transport = AsyncHttpxTransport()
    assert isinstance(async_transport, AsyncTransport)
    assert not isinstance(async_transport, Transport)


def test_default_timeout_is_applied() -> None:
    with HttpxTransport() as transport:
        assert transport._shaper.extensions["timeout"] == dict.fromkeys(
            ("connect", "read", "write", "pool"), DEFAULT_TIMEOUT.total
        )
    with HttpxTransport(timeout=None) as transport:
        assert set(transport._shaper.extensions["timeout"].values()) == {None}
    with HttpxTransport(timeout=httpx.Timeout(5.0, connect=1.0)) as transport:
        assert transport._shaper.extensions["timeout"]["connect"] == 1.0
        assert transport._shaper.extensions["timeout"]["read"] == 5.0


# --------------------------------------------------------------------------- TLS options


def test_verify_setting() -> None:
    assert verify_setting() is True
    assert verify_setting(insecure=True) is False
    assert verify_setting(verify=False) is False
    assert verify_setting(insecure=True, cacert=certifi.where()) is False
    context = verify_setting(cacert=certifi.where())
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert len(context.get_ca_certs()) > 10


def test_missing_cacert_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        HttpxTransport(cacert=str(tmp_path / "nope.pem"))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throw-away CA and a leaf certificate for 127.0.0.1 signed by it."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    d = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    leaf.cert_chain_pems[0].write_to_path(str(d / "leaf.pem"))
    leaf.private_key_pem.write_to_path(str(d / "leaf.key"))
    return d / "ca.pem", d / "leaf.pem", d / "leaf.key"


@pytest.fixture
def tls_server(tls_files: tuple[Path, Path, Path]) -> Iterator[_Server]:
    _, cert, key = tls_files
    server = _Server()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


def test_tls_verification(tls_server: _Server, tls_files: tuple[Path, Path, Path]) -> None:
    ca, _, _ = tls_files
    url = tls_server.url.replace("http://", "https://") + "/v2/ping"
    with HttpxTransport() as transport, pytest.raises(ConnectError) as info:
        transport.handle_request(_request(url))
    assert isinstance(info.value.__cause__, (httpx.ConnectError, httpcore.ConnectError))
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value.__cause__)
    with HttpxTransport(cacert=str(ca)) as transport:
        assert transport.handle_request(_request(url)).status == 200
    with HttpxTransport(insecure=True) as transport:
        assert transport.handle_request(_request(url)).status == 200


@pytest.mark.anyio
async def test_tls_verification_async(
    tls_server: _Server, tls_files: tuple[Path, Path, Path]
) -> None:
    ca, _, _ = tls_files
    url = tls_server.url.replace("http://", "https://") + "/v2/ping"
    async with AsyncHttpxTransport(cacert=str(ca)) as transport:
        assert (await transport.handle_async_request(_request(url))).status == 200
    async with AsyncHttpxTransport() as transport:
        with pytest.raises(ConnectError):
            await transport.handle_async_request(_request(url))


# --------------------------------------------------------------------------- async


@pytest.mark.anyio
async def test_async_round_trip(server: _Server) -> None:
    async with AsyncHttpxTransport() as transport:
        _check_round_trip(await transport.handle_async_request(_round_trip_request(server)))


@pytest.mark.anyio
async def test_async_keep_alive(server: _Server) -> None:
    async with AsyncHttpxTransport() as transport:
        for _ in range(50):
            response = await transport.handle_async_request(_request(server.url + "/v2/ping"))
            assert response.status == 200
    assert server.connections == 1


@pytest.mark.anyio
async def test_async_concurrent_requests_reuse_their_connections(server: _Server) -> None:
    async def one(n: int) -> None:
        response = await transport.handle_async_request(_request(f"{server.url}/v2/{n}"))
        assert _echo(response)["path"] == f"/v2/{n}"

    async with AsyncHttpxTransport() as transport:
        for _ in range(3):
            async with anyio.create_task_group() as tg:
                for n in range(10):
                    tg.start_soon(one, n)
    # At most one connection per request in flight, kept alive across rounds.
    assert 1 <= server.connections <= 10


@pytest.mark.anyio
async def test_async_server_closing_a_kept_alive_connection(server: _Server) -> None:
    async with AsyncHttpxTransport() as transport:
        assert (await transport.handle_async_request(_request(server.url + "/bye"))).status == 200
        await anyio.sleep(0.05)
        assert (await transport.handle_async_request(_request(server.url + "/v2/a"))).status == 200
        assert (await transport.handle_async_request(_request(server.url + "/v2/b"))).status == 200
    assert server.connections == 2


def test_server_closing_a_kept_alive_connection(server: _Server) -> None:
    with HttpxTransport() as transport:
        assert transport.handle_request(_request(server.url + "/bye")).status == 200
        time.sleep(0.05)
        assert transport.handle_request(_request(server.url + "/v2/a")).status == 200
        assert transport.handle_request(_request(server.url + "/v2/b")).status == 200
    assert server.connections == 2


@pytest.mark.anyio
async def test_async_pool_timeout_is_retryable(server: _Server) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(5.0, pool=0.2)
    async with (
        AsyncHttpxTransport(limits=limits, timeout=timeout) as transport,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(transport.handle_async_request, _request(server.url + "/slow"))
        await anyio.sleep(0.1)
        with pytest.raises(TimeoutError, match="no free connection") as info:
            await transport.handle_async_request(_request(server.url + "/v2/ping"))
        assert info.value.retryable is True
        server.release.set()


@pytest.mark.anyio
async def test_async_connect_refused() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v2/ping"
    async with AsyncHttpxTransport() as transport:
        with pytest.raises(ConnectError) as info:
            await transport.handle_async_request(_request(url))
    assert isinstance(info.value.__cause__, (httpx.ConnectError, httpcore.ConnectError))


@pytest.mark.anyio
async def test_async_timeout(server: _Server) -> None:
    async with AsyncHttpxTransport(timeout=0.2) as transport:
        with pytest.raises(TimeoutError) as info:
            await transport.handle_async_request(_request(server.url + "/slow"))
    assert isinstance(info.value.__cause__, (httpx.ReadTimeout, httpcore.ReadTimeout))


@pytest.mark.anyio
async def test_async_connection_dropped(server: _Server) -> None:
    async with AsyncHttpxTransport() as transport:
        with pytest.raises(ReadError):
            await transport.handle_async_request(_request(server.url + "/drop"))


@pytest.mark.anyio
async def test_async_closed_transport(server: _Server) -> None:
    transport = AsyncHttpxTransport()
    await transport.aclose()
    await transport.aclose()
    with pytest.raises(TransportError, match="transport is closed"):
        await transport.handle_async_request(_request(server.url + "/v2/ping"))


@pytest.mark.anyio
async def test_async_caller_client_left_open(server: _Server) -> None:
    async with httpx.AsyncClient() as client:
        async with AsyncHttpxTransport(client=client) as transport:
            response = await transport.handle_async_request(_request(server.url + "/v2/ping"))
        assert response.status == 200
        assert transport.closed
        assert not client.is_closed
        assert (await client.get(server.url + "/v2/ping")).status_code == 200


# --------------------------------------------------------------------------- error mapping


_REQ = _request("http://user:pw@zaqar.example:8888/v2/queues/q", "PATCH")
_HX_REQ = httpx.Request("PATCH", "http://zaqar.example:8888/v2/queues/q")


@pytest.mark.parametrize(
    ("exc", "expected", "sent"),
    [
        (httpx.ConnectError("refused", request=_HX_REQ), ConnectError, False),
        (httpx.ConnectTimeout("slow", request=_HX_REQ), ConnectError, False),
        (httpx.ReadTimeout("slow", request=_HX_REQ), TimeoutError, True),
        (httpx.WriteTimeout("slow", request=_HX_REQ), TimeoutError, True),
        (httpx.PoolTimeout("busy", request=_HX_REQ), TimeoutError, False),
        (httpx.ReadError("reset", request=_HX_REQ), ReadError, True),
        (httpx.WriteError("pipe", request=_HX_REQ), ReadError, True),
        (httpx.CloseError("close", request=_HX_REQ), ReadError, True),
        (httpx.RemoteProtocolError("eof", request=_HX_REQ), ReadError, True),
        (httpx.LocalProtocolError("bad", request=_HX_REQ), TransportProtocolError, True),
        (httpx.ProtocolError("bad", request=_HX_REQ), TransportProtocolError, True),
        (httpx.UnsupportedProtocol("ftp", request=_HX_REQ), TransportError, True),
        (httpx.TooManyRedirects("loop", request=_HX_REQ), TransportError, True),
        (httpx.DecodingError("gzip", request=_HX_REQ), TransportError, True),
        (httpx.InvalidURL("bad"), TransportError, True),
    ],
)
def test_translate_error(exc: Exception, expected: type[TransportError], sent: bool) -> None:
    translated = translate_error(exc, _REQ)
    assert type(translated) is expected
    # sent=False only where nothing can have left: a failed connect, a pool wait.
    assert translated.sent is sent
    assert translated.operation == "ping_node"
    assert translated.retryable is True  # ping is idempotent
    post = replace(_REQ, operation=Operation.MESSAGE_POST)
    assert translate_error(exc, post).retryable is not sent
    # Nothing written at all: then not sent, whatever the failure.
    assert translate_error(exc, post, sent=False).sent is False
    message = str(translated)
    assert "PATCH http://***@zaqar.example:8888/v2/queues/q" in message
    assert "pw" not in message
    assert type(exc).__name__ in message


def test_protocol_error_message_omits_header_values() -> None:
    # h11 quotes the offending header value, which may be a token.
    exc = httpx.LocalProtocolError("Illegal header value b'gAAAAA-secret-token\\n'")
    message = str(translate_error(exc, _request("http://zaqar.example/v2/queues")))
    assert "secret" not in message
    assert message == "HTTP protocol error during GET http://zaqar.example/v2/queues: " + (
        "LocalProtocolError"
    )


def test_import_does_not_pull_websockets_or_trio() -> None:
    code = (
        "import sys, zaqarkit.transports\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('websockets', 'trio')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
