"""Network options against real servers: proxies (explicit and from the
environment), a client certificate and HTTP/2 over TLS.

The TLS endpoint is hypercorn (HTTP/2 by ALPN, client certificates required)
serving a small ASGI app that forwards every request to the harness Zaqar; the
forward proxy is a threaded http.server relaying absolute-form requests. Both
run on loopback in this process and record what they saw.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import trustme

from zaqarkit import AsyncClient, Client, ConnectError, ReadError, ZaqarError

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "host"}


def _name() -> str:
    return "q-" + uuid.uuid4().hex[:12]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a loopback forward proxy ------------------------------------------------------------


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def _relay(self) -> None:
        target = urlsplit(self.path)  # absolute form: http://host:port/path?query
        self.server.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _relay

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_explicit_proxy(zaqar_server: Any, project_id: str, proxy: _Proxy) -> None:
    name = _name()
    with Client(zaqar_server.url, project_id=project_id, proxy=proxy.url) as cli:
        cli.queue(name).post([{"body": 1}])
    assert proxy.seen == [f"POST {zaqar_server.url}/v2/queues/{name}/messages"]


@pytest.mark.anyio
async def test_explicit_proxy_async(zaqar_server: Any, project_id: str, proxy: _Proxy) -> None:
    name = _name()
    async with AsyncClient(zaqar_server.url, project_id=project_id, proxy=proxy.url) as cli:
        await cli.queue(name).post([{"body": 1}])
    assert proxy.seen == [f"POST {zaqar_server.url}/v2/queues/{name}/messages"]


def test_proxy_from_the_environment(
    zaqar_server: Any, project_id: str, proxy: _Proxy, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("HTTP_PROXY", proxy.url)
    name = _name()
    with Client(zaqar_server.url, project_id=project_id) as cli:  # trust_env=True
        cli.queue(name).post([{"body": 1}])
    assert proxy.seen == [f"POST {zaqar_server.url}/v2/queues/{name}/messages"]
    # trust_env=False ignores the variables; NO_PROXY exempts a host.
    with Client(zaqar_server.url, project_id=project_id, trust_env=False) as cli:
        cli.queue(name).post([{"body": 2}])
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    with Client(zaqar_server.url, project_id=project_id) as cli:
        cli.queue(name).post([{"body": 3}])
    assert len(proxy.seen) == 1


@pytest.mark.anyio
async def test_proxy_from_the_environment_async(
    zaqar_server: Any, project_id: str, proxy: _Proxy, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("http_proxy", proxy.url)
    name = _name()
    async with AsyncClient(zaqar_server.url, project_id=project_id) as cli:
        await cli.queue(name).post([{"body": 1}])
    async with AsyncClient(zaqar_server.url, project_id=project_id, trust_env=False) as cli:
        await cli.queue(name).post([{"body": 2}])
    assert proxy.seen == [f"POST {zaqar_server.url}/v2/queues/{name}/messages"]


# -- HTTP/2 over TLS with a client certificate ----------------------------------------------


@dataclass
class _TlsFront:
    url: str
    ca: str
    client_cert: str
    seen: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def tls_front(zaqar_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_TlsFront]:
    """hypercorn on loopback: TLS, ALPN h2, client certificates required,
    forwarding to the harness Zaqar."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    folder: Path = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_pem, ca_pem, client_pem = folder / "server.pem", folder / "ca.pem", folder / "client.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    ca.issue_cert("zaqarkit-client").private_key_and_cert_chain_pem.write_to_path(str(client_pem))
    port = _free_port()
    front = _TlsFront(f"https://127.0.0.1:{port}", str(ca_pem), str(client_pem))
    upstream = zaqar_server.url

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        front.seen.append((scope["http_version"], f"{scope['method']} {scope['path']}"))
        headers = [
            (k.decode(), v.decode()) for k, v in scope["headers"] if k.decode() not in HOP_BY_HOP
        ]
        query = scope["query_string"].decode()
        async with httpx.AsyncClient(trust_env=False) as client:
            reply = await client.request(
                scope["method"],
                upstream + scope["path"] + (f"?{query}" if query else ""),
                headers=headers,
                content=body,
            )
        await send(
            {
                "type": "http.response.start",
                "status": reply.status_code,
                "headers": [
                    (k.encode(), v.encode())
                    for k, v in reply.headers.items()
                    if k.lower() not in HOP_BY_HOP | {"content-length", "content-encoding"}
                ],
            }
        )
        await send({"type": "http.response.body", "body": reply.content})

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile = str(server_pem)
    config.keyfile = str(server_pem)
    config.ca_certs = str(ca_pem)
    config.verify_mode = ssl.CERT_REQUIRED
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            started.set()
            await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(30)
    _wait_listening(port)
    yield front
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=30)
    loop.close()


def _wait_listening(port: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("hypercorn did not start")


def test_http2_with_a_client_certificate(tls_front: _TlsFront, project_id: str) -> None:
    name = _name()
    with Client(
        tls_front.url,
        project_id=project_id,
        cacert=tls_front.ca,
        cert=tls_front.client_cert,
        http2=True,
    ) as cli:
        queue = cli.queue(name)
        queue.post([{"body": {"n": 1}}])
        assert [m.body for m in queue.messages(echo=True)] == [{"n": 1}]
    versions = {version for version, line in tls_front.seen if name in line}
    assert versions == {"2"}, tls_front.seen
    # Without http2=True the same endpoint is spoken to in HTTP/1.1.
    with Client(
        tls_front.url, project_id=project_id, cacert=tls_front.ca, cert=tls_front.client_cert
    ) as cli:
        cli.queue(name).post([{"body": {"n": 2}}])
    assert tls_front.seen[-1] == ("1.1", f"POST /v2/queues/{name}/messages")


@pytest.mark.anyio
async def test_http2_with_a_client_certificate_async(tls_front: _TlsFront, project_id: str) -> None:
    name = _name()
    async with AsyncClient(
        tls_front.url,
        project_id=project_id,
        cacert=tls_front.ca,
        cert=tls_front.client_cert,
        http2=True,
    ) as cli:
        await cli.queue(name).post([{"body": 1}])
    assert tls_front.seen[-1] == ("2", f"POST /v2/queues/{name}/messages")
    # The lean async pool (no http2) presents the certificate too.
    async with AsyncClient(
        tls_front.url, project_id=project_id, cacert=tls_front.ca, cert=tls_front.client_cert
    ) as cli:
        await cli.queue(name).post([{"body": 2}])
    assert tls_front.seen[-1] == ("1.1", f"POST /v2/queues/{name}/messages")


def test_a_missing_client_certificate_is_refused(tls_front: _TlsFront, project_id: str) -> None:
    # TLS 1.3 refuses the missing certificate after the handshake: a ReadError.
    with (
        Client(tls_front.url, project_id=project_id, cacert=tls_front.ca, http2=True) as cli,
        pytest.raises(ZaqarError) as info,
    ):
        cli.queue(_name()).post([{"body": 1}])
    assert isinstance(info.value, (ConnectError, ReadError)), repr(info.value)
