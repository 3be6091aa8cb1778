"""A loopback replay server: HTTP/1.1 keep-alive and WebSocket, in its own process.

It answers with responses built from the recordings in ``tests/data/*.json``
(HTTP) and ``benchmarks/data/ws_recordings.json`` (Zaqar's WebSocket
envelopes, recorded from the harness server), resized to the benchmark
shapes (10 messages per list or claim). Every answer is precomputed bytes, and
requests are routed by a few byte searches, so the server costs a few
microseconds per request and the client under test is the bottleneck.

Run as ``python -m benchmarks.replay``: it prints ``<http_port> <ws_port>`` on
one line when ready and serves until stdin closes or it is terminated.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import struct
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "tests" / "data"
WS_RECORDINGS = Path(__file__).resolve().parent / "data" / "ws_recordings.json"

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_N = 20


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return data


def _fake_id(i: int) -> str:
    return f"5c6939a8-{i:04d}-4b1c-9a3e-3c1f0d2b{i:04d}"


_CLAIM_ID = "3e8036a8-f86e-4ac2-ab15-f9d5dd2d9e32"


def _http_response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    reason = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found"}[status]
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpTable:
    """Precomputed HTTP answers, keyed by route kind and item count."""

    def __init__(self) -> None:
        post = _load("message_post")
        listing = _load("message_list")
        empty = _load("message_list--empty")
        claim = _load("claim_create")
        template = json.loads(listing["response"]["body"])["messages"][0]
        claimed = json.loads(claim["response"]["body"])["messages"][0]
        self.post: list[bytes] = []
        self.listing: list[bytes] = []
        self.claim: list[bytes] = []
        for n in range(_MAX_N + 1):
            ids = [_fake_id(i) for i in range(n)]
            body = json.dumps({"resources": [f"/v2/queues/q/messages/{i}" for i in ids]})
            headers = dict(post["response"]["headers"])
            headers["location"] = "/v2/queues/q/messages?ids=" + ",".join(ids)
            self.post.append(_http_response(201, headers, body.encode()))
            msgs = [
                {
                    **template,
                    "id": i,
                    "href": f"/v2/queues/q/messages/{i}",
                    "body": {"evt": "Wakeup", "n": k},
                }
                for k, i in enumerate(ids)
            ]
            links = [
                {
                    "rel": "next",
                    "href": f"/v2/queues/q/messages?limit={n}&echo=true"
                    f"&marker={ids[-1] if ids else ''}",
                }
            ]
            self.listing.append(
                _http_response(
                    200,
                    dict(listing["response"]["headers"]),
                    json.dumps({"messages": msgs, "links": links}).encode(),
                )
            )
            cmsgs = [
                {
                    **claimed,
                    "id": i,
                    "href": f"/v2/queues/q/messages/{i}?claim_id={_CLAIM_ID}",
                    "body": {"evt": "Wakeup", "n": k},
                }
                for k, i in enumerate(ids)
            ]
            cheaders = dict(claim["response"]["headers"])
            cheaders["location"] = f"/v2/queues/q/claims/{_CLAIM_ID}"
            self.claim.append(
                _http_response(201, cheaders, json.dumps({"messages": cmsgs}).encode())
            )
        self.empty_list = _http_response(
            empty["response"]["status"],
            dict(empty["response"]["headers"]),
            empty["response"]["body"].encode(),
        )
        self.no_content = _http_response(204, {}, b"")
        self.created = _http_response(201, {"location": "/v2/queues/q"}, b"")
        self.not_found = _http_response(
            404,
            {"content-type": "application/json"},
            b'{"title": "Not found", "description": "no recording for this request"}',
        )

    def answer(self, method: bytes, target: bytes, body: bytes) -> bytes:
        path, _, query = target.partition(b"?")
        if method == b"POST":
            if path.endswith(b"/messages"):
                # One resource per posted message, as Zaqar answers.
                return self.post[min(body.count(b'"body"'), _MAX_N)]
            if path.endswith(b"/claims"):
                return self.claim[_limit(query, 10)]
        elif method == b"GET":
            if path.endswith(b"/messages"):
                if b"marker=" in query:
                    return self.empty_list
                return self.listing[_limit(query, 10)]
            if path.endswith(b"/ping"):
                return self.no_content
        elif method == b"DELETE":
            return self.no_content
        elif method == b"PUT":
            return self.created
        return self.not_found


_LIMIT = re.compile(rb"(?:^|&)limit=(\d+)")


def _limit(query: bytes, default: int) -> int:
    found = _LIMIT.search(query)
    return min(int(found.group(1)), _MAX_N) if found else default


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining; Content-Length bodies only."""

    def __init__(self, table: HttpTable) -> None:
        self.table = table
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data if self.buffer else data
        out = []
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            length = 0
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lowered.find(b"\r\n", at + 2)
                length = int(lowered[at + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buf) < total:
                break
            line_end = head.find(b"\r\n")
            method, target, _ = head[: line_end if line_end >= 0 else None].split(b" ", 2)
            out.append(self.table.answer(method, target, buf[end + 4 : total]))
            buf = buf[total:]
        self.buffer = buf
        if out and self.transport is not None:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])


class WsTable:
    """Zaqar WebSocket answers: ``{"request": <echo>, "body": ..., "headers": ...}``.

    Zaqar echoes the whole request; splicing the raw request bytes into a
    precomputed tail reproduces that without decoding JSON here.
    """

    def __init__(self) -> None:
        rec: dict[str, Any] = json.loads(WS_RECORDINGS.read_text())
        self.tails: dict[bytes, list[bytes]] = {}
        for action, sample in rec.items():
            status = sample["headers"]["status"]
            tails = []
            for n in range(_MAX_N + 1):
                body = _resize_ws_body(action, sample["body"], n)
                tails.append(
                    (
                        ', "body": '
                        + json.dumps(body)
                        + ', "headers": {"status": '
                        + str(status)
                        + "}}"
                    ).encode()
                )
            self.tails[action.encode()] = tails
        self.unknown = b', "body": "unknown action", "headers": {"status": 400}}'

    def answer(self, payload: bytes) -> bytes:
        found = _ACTION.search(payload)
        tails = self.tails.get(found.group(1)) if found else None
        if tails is None:
            return b'{"request": ' + payload + self.unknown
        action = found.group(1) if found else b""
        if action == b"message_post":
            n = payload.count(b'"body"') - 1  # the envelope's own "body"
        else:
            lim = _WS_LIMIT.search(payload)
            n = int(lim.group(1)) if lim else 10
        # Zaqar puts its own "api" key into the echo; the request bytes are
        # echoed as sent, which is what a client has to skip over either way.
        return b'{"request": ' + payload + tails[max(0, min(n, _MAX_N))]


_ACTION = re.compile(rb'"action"\s*:\s*"([a-z_]+)"')
_WS_LIMIT = re.compile(rb'"limit"\s*:\s*(\d+)')


def _resize_ws_body(action: str, body: Any, n: int) -> Any:
    ids = [_fake_id(i) for i in range(n)]
    if action == "message_post":
        return {"message_ids": ids}
    if action == "message_list":
        template = body["messages"][0]
        return {
            "messages": [
                {**template, "id": i, "body": {"evt": "Wakeup", "n": k}} for k, i in enumerate(ids)
            ]
        }
    if action == "claim_create":
        template = body["messages"][0]
        return {
            "claim_id": _CLAIM_ID,
            "messages": [
                {**template, "id": i, "claim_id": _CLAIM_ID, "body": {"evt": "Wakeup", "n": k}}
                for k, i in enumerate(ids)
            ],
        }
    return body


class WsProtocol(asyncio.Protocol):
    """RFC 6455 server side: handshake, masked client frames, unmasked replies."""

    def __init__(self, table: WsTable) -> None:
        self.table = table
        self.buffer = b""
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buf = self.buffer + data if self.buffer else data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buf
                return
            head = buf[:end].decode("latin-1")
            key = ""
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "sec-websocket-key":
                    key = value.strip()
            accept = base64.b64encode(hashlib.sha1(key.encode() + _WS_GUID).digest()).decode()
            self.transport.write(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            self.open = True
            buf = buf[end + 4 :]
        out = []
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            length = b1 & 0x7F
            pos = 2
            if length == 126:
                if len(buf) < 4:
                    break
                length = struct.unpack_from("!H", buf, 2)[0]
                pos = 4
            elif length == 127:
                if len(buf) < 10:
                    break
                length = struct.unpack_from("!Q", buf, 2)[0]
                pos = 10
            masked = b1 & 0x80
            if masked:
                pos += 4
            if len(buf) < pos + length:
                break
            payload = buf[pos : pos + length]
            if masked:
                payload = _unmask(payload, buf[pos - 4 : pos])
            opcode = b0 & 0x0F
            buf = buf[pos + length :]
            if opcode in (1, 2):
                out.append(_frame(self.table.answer(payload), opcode))
            elif opcode == 9:  # ping -> pong
                out.append(_frame(payload, 10))
            elif opcode == 8:  # close: echo it and hang up
                self.transport.write(b"".join(out) + _frame(payload[:2], 8))
                self.transport.close()
                return
        self.buffer = buf
        if out:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])


def _unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


def _frame(payload: bytes, opcode: int) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


async def serve(host: str = "127.0.0.1") -> None:
    loop = asyncio.get_running_loop()
    http_table, ws_table = HttpTable(), WsTable()
    http = await loop.create_server(lambda: HttpProtocol(http_table), host, 0, backlog=512)
    ws = await loop.create_server(lambda: WsProtocol(ws_table), host, 0, backlog=512)
    http_port = http.sockets[0].getsockname()[1]
    ws_port = ws.sockets[0].getsockname()[1]
    print(http_port, ws_port, flush=True)
    # Serve until the parent closes our stdin (or kills us): no orphan servers.
    stdin_closed = loop.create_future()
    loop.add_reader(
        sys.stdin.fileno(),
        lambda: (
            stdin_closed.done()
            or (not os.read(sys.stdin.fileno(), 1) and stdin_closed.set_result(None))
        ),
    )
    await stdin_closed


def main() -> None:
    cpu = os.environ.get("BENCH_REPLAY_CPU")
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu)})
    asyncio.run(serve())


if __name__ == "__main__":
    main()
