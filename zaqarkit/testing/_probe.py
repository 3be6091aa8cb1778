"""Plain HTTP and readiness probes for the harness's servers (standard library only)."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import socket
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HOST",
    "HttpResult",
    "free_port",
    "http_request",
    "http_root_ready",
    "redis_ping",
    "websocket_ready",
]

#: Every server of the harness listens on loopback only.
HOST = "127.0.0.1"


@dataclass(frozen=True)
class HttpResult:
    """Status, headers (lower-cased names) and body of one plain HTTP exchange."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Decode the body as JSON.

        Example::

            >>> HttpResult(200, {}, b'{"a": 1}').json()
            {'a': 1}
        """
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def http_request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or HOST
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    path = parts.path.rstrip("/") + path
    try:
        hdrs = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return HttpResult(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def redis_ping(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=1.0) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def http_root_ready(port: int) -> bool:
    # Zaqar's home answers GET / with 300 Multiple Choices (the versions list).
    return http_request(f"http://{HOST}:{port}", "GET", "/", timeout=2.0).status == 300


def websocket_ready(port: int) -> bool:
    # A real opening handshake: the listening socket alone could belong to a
    # process that is still importing its protocol factory.
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((HOST, port), timeout=2.0) as s:
        s.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1024)
            if not chunk:
                break
            head += chunk
        ok = head.startswith(b"HTTP/1.1 101")
        if ok:
            # Close frame (masked, as a client must), code 1000.
            mask = os.urandom(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"\x03\xe8"))
            with contextlib.suppress(OSError):
                s.sendall(b"\x88\x82" + mask + payload)
        return ok
