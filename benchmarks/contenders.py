"""The contenders: one driver class per client, one method per scenario.

Every driver sends the same logical requests (same headers, same JSON
bodies, same queue) and fully reads and decodes every answer, checking its
status, so a contender cannot win by skipping work. Each scenario method
returns the number of messages it handled, which the runner sanity-checks.

Sync drivers have ``close()``; async ones ``aclose()`` and are built by an
``async`` factory so that their connections belong to the running loop.
"""

from __future__ import annotations

import http.client
import importlib
import importlib.util
import itertools
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from benchmarks.replay import HttpTable

#: zaqar-bench's dominant message shape (80% of its weighted pool).
MESSAGE: dict[str, Any] = {"body": {"evt": "Wakeup"}, "ttl": 300}
BATCH: list[dict[str, Any]] = [{"body": {"evt": "Wakeup", "n": i}, "ttl": 300} for i in range(10)]
CLAIM = {"ttl": 300, "grace": 200}
PAGE = 10

SCENARIOS = ("post1", "post10", "list10", "claim_delete", "claim_delete_many")
#: Requests per scenario operation, for the report.
REQUESTS_PER_OP = {"post1": 1, "post10": 1, "list10": 1, "claim_delete": 11, "claim_delete_many": 2}


@dataclass
class Target:
    """Where a driver talks to and as whom; one queue per contender and scenario."""

    tier: str
    http_url: str = ""
    ws_url: str = ""
    project: str = "bench"
    client_id: str = "3381af92-2b9e-11e3-b191-71861300734c"
    queue: str = "bench"
    extra: dict[str, Any] = field(default_factory=dict)


class BenchError(RuntimeError):
    """An answer a benchmark did not expect (wrong status or shape)."""


def _expect(status: int, *allowed: int) -> None:
    if status not in allowed:
        raise BenchError(f"unexpected HTTP status {status}, wanted {allowed}")


def _claim_id(location: str) -> str:
    return location.rsplit("/", 1)[-1]


# -- raw floors ---------------------------------------------------------------------


class HttpClientFloor:
    """``http.client`` on one keep-alive connection: the floor for a Python HTTP client.

    Bodies are JSON-encoded per call (every client must), headers are a
    prebuilt dict, answers are read and decoded; nothing else.
    """

    def __init__(self, t: Target) -> None:
        parts = urlsplit(t.http_url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.base = f"/v2/queues/{t.queue}"
        self.headers = {
            "Accept": "application/json",
            "Client-ID": t.client_id,
            "X-Project-ID": t.project,
            "Content-Type": "application/json",
        }

    def _rt(self, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        data = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, data, self.headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, resp, json.loads(raw) if raw else None

    def post1(self) -> int:
        status, _, doc = self._rt("POST", self.base + "/messages", {"messages": [MESSAGE]})
        _expect(status, 201)
        return len(doc["resources"])

    def post10(self) -> int:
        status, _, doc = self._rt("POST", self.base + "/messages", {"messages": BATCH})
        _expect(status, 201)
        return len(doc["resources"])

    def list10(self) -> int:
        status, _, doc = self._rt("GET", self.base + f"/messages?limit={PAGE}&echo=true")
        _expect(status, 200)
        return len(doc["messages"])

    def _claim(self) -> tuple[str, list[str]]:
        status, resp, doc = self._rt("POST", self.base + f"/claims?limit={PAGE}", CLAIM)
        _expect(status, 201)
        return _claim_id(resp.getheader("location")), [m["id"] for m in doc["messages"]]

    def claim_delete(self) -> int:
        claim_id, ids = self._claim()
        for mid in ids:
            status, _, _ = self._rt("DELETE", f"{self.base}/messages/{mid}?claim_id={claim_id}")
            _expect(status, 204)
        return len(ids)

    def claim_delete_many(self) -> int:
        claim_id, ids = self._claim()
        status, _, _ = self._rt(
            "DELETE", f"{self.base}/messages?ids={','.join(ids)}&claim_ids={claim_id}"
        )
        _expect(status, 204)
        return len(ids)

    def close(self) -> None:
        self.conn.close()


class HttpxPlain:
    """One reused ``httpx.Client``, plain calls, no abstraction."""

    def __init__(self, t: Target) -> None:
        import httpx

        self.client = httpx.Client()
        self.base = f"{t.http_url}/v2/queues/{t.queue}"
        self.headers = {
            "Accept": "application/json",
            "Client-ID": t.client_id,
            "X-Project-ID": t.project,
        }

    def post1(self) -> int:
        r = self.client.post(
            self.base + "/messages", json={"messages": [MESSAGE]}, headers=self.headers
        )
        _expect(r.status_code, 201)
        return len(r.json()["resources"])

    def post10(self) -> int:
        r = self.client.post(
            self.base + "/messages", json={"messages": BATCH}, headers=self.headers
        )
        _expect(r.status_code, 201)
        return len(r.json()["resources"])

    def list10(self) -> int:
        r = self.client.get(
            self.base + "/messages", params={"limit": PAGE, "echo": "true"}, headers=self.headers
        )
        _expect(r.status_code, 200)
        return len(r.json()["messages"])

    def _claim(self) -> tuple[str, list[str]]:
        r = self.client.post(
            self.base + "/claims", params={"limit": PAGE}, json=CLAIM, headers=self.headers
        )
        _expect(r.status_code, 201)
        return _claim_id(r.headers["location"]), [m["id"] for m in r.json()["messages"]]

    def claim_delete(self) -> int:
        claim_id, ids = self._claim()
        for mid in ids:
            r = self.client.delete(
                f"{self.base}/messages/{mid}", params={"claim_id": claim_id}, headers=self.headers
            )
            _expect(r.status_code, 204)
        return len(ids)

    def claim_delete_many(self) -> int:
        claim_id, ids = self._claim()
        # A literal comma: Falcon splits ids only on an unencoded one.
        r = self.client.delete(
            f"{self.base}/messages?ids={','.join(ids)}&claim_ids={claim_id}", headers=self.headers
        )
        _expect(r.status_code, 204)
        return len(ids)

    def close(self) -> None:
        self.client.close()


class AsyncHttpxPlain:
    """One reused ``httpx.AsyncClient``, plain calls (the async no-abstraction baseline)."""

    def __init__(self, t: Target) -> None:
        import httpx

        self.client = httpx.AsyncClient()
        self.base = f"{t.http_url}/v2/queues/{t.queue}"
        self.headers = {
            "Accept": "application/json",
            "Client-ID": t.client_id,
            "X-Project-ID": t.project,
        }

    async def post1(self) -> int:
        r = await self.client.post(
            self.base + "/messages", json={"messages": [MESSAGE]}, headers=self.headers
        )
        _expect(r.status_code, 201)
        return len(r.json()["resources"])

    async def post10(self) -> int:
        r = await self.client.post(
            self.base + "/messages", json={"messages": BATCH}, headers=self.headers
        )
        _expect(r.status_code, 201)
        return len(r.json()["resources"])

    async def list10(self) -> int:
        r = await self.client.get(
            self.base + "/messages", params={"limit": PAGE, "echo": "true"}, headers=self.headers
        )
        _expect(r.status_code, 200)
        return len(r.json()["messages"])

    async def _claim(self) -> tuple[str, list[str]]:
        r = await self.client.post(
            self.base + "/claims", params={"limit": PAGE}, json=CLAIM, headers=self.headers
        )
        _expect(r.status_code, 201)
        return _claim_id(r.headers["location"]), [m["id"] for m in r.json()["messages"]]

    async def claim_delete(self) -> int:
        claim_id, ids = await self._claim()
        for mid in ids:
            r = await self.client.delete(
                f"{self.base}/messages/{mid}", params={"claim_id": claim_id}, headers=self.headers
            )
            _expect(r.status_code, 204)
        return len(ids)

    async def claim_delete_many(self) -> int:
        claim_id, ids = await self._claim()
        r = await self.client.delete(
            f"{self.base}/messages?ids={','.join(ids)}&claim_ids={claim_id}",
            headers=self.headers,
        )
        _expect(r.status_code, 204)
        return len(ids)

    async def aclose(self) -> None:
        await self.client.aclose()


class WebsocketsPlain:
    """The plain ``websockets`` sync client sending Zaqar frames written by hand."""

    def __init__(self, t: Target) -> None:
        from websockets.sync.client import connect

        self.ws = connect(t.ws_url, compression=None, max_size=None)
        self.queue = t.queue
        self.headers = {"Client-ID": t.client_id, "X-Project-ID": t.project}

    def _rt(self, action: str, body: dict[str, Any], *allowed: int) -> Any:
        self.ws.send(json.dumps({"action": action, "headers": self.headers, "body": body}))
        answer = json.loads(self.ws.recv())
        status = answer["headers"]["status"]
        if status not in allowed:
            raise BenchError(f"{action}: status {status}: {answer['body']!r}")
        return answer["body"]

    def post1(self) -> int:
        body = self._rt("message_post", {"queue_name": self.queue, "messages": [MESSAGE]}, 201)
        return len(body["message_ids"])

    def post10(self) -> int:
        body = self._rt("message_post", {"queue_name": self.queue, "messages": BATCH}, 201)
        return len(body["message_ids"])

    def list10(self) -> int:
        body = self._rt(
            "message_list", {"queue_name": self.queue, "limit": PAGE, "echo": True}, 200
        )
        return len(body["messages"])

    def _claim(self) -> tuple[str, list[str]]:
        body = self._rt("claim_create", {"queue_name": self.queue, "limit": PAGE, **CLAIM}, 201)
        return body["claim_id"], [m["id"] for m in body["messages"]]

    def claim_delete(self) -> int:
        claim_id, ids = self._claim()
        for mid in ids:
            self._rt(
                "message_delete",
                {"queue_name": self.queue, "message_id": mid, "claim_id": claim_id},
                204,
            )
        return len(ids)

    def claim_delete_many(self) -> int:
        _, ids = self._claim()
        self._rt("message_delete_many", {"queue_name": self.queue, "message_ids": ids}, 204)
        return len(ids)

    def close(self) -> None:
        self.ws.close()


# -- peers ---------------------------------------------------------------------------


class ZaqarClientPeer:
    """python-zaqarclient 4.7.0 as shipped, ``noauth``, its high-level API."""

    def __init__(self, t: Target) -> None:
        from zaqarclient.queues import client as zc

        self.client = zc.Client(
            t.http_url,
            version=2,
            conf={
                "client_uuid": t.client_id,
                "auth_opts": {"backend": "noauth", "options": {"os_project_id": t.project}},
            },
        )
        self.queue = self.client.queue(t.queue)  # auto_create: one PUT here, not per op

    def post1(self) -> int:
        return len(self.queue.post(MESSAGE)["resources"])

    def post10(self) -> int:
        return len(self.queue.post(BATCH)["resources"])

    def list10(self) -> int:
        return len(list(itertools.islice(self.queue.messages(limit=PAGE, echo=True), PAGE)))

    def claim_delete(self) -> int:
        messages = list(self.queue.claim(ttl=CLAIM["ttl"], grace=CLAIM["grace"], limit=PAGE))
        for message in messages:
            message.delete()
        return len(messages)

    def claim_delete_many(self) -> int:
        messages = list(self.queue.claim(ttl=CLAIM["ttl"], grace=CLAIM["grace"], limit=PAGE))
        # 4.7.0's delete_messages takes no claim ids; Zaqar deletes claimed ones anyway.
        self.queue.delete_messages(*[m.id for m in messages])
        return len(messages)

    def close(self) -> None:
        pass  # nothing persistent: it opens a session per operation


# -- zaqarkit ----------------------------------------------------------------------


class ZaqarkitSync:
    """``zaqarkit.Client`` over HTTP, or over WebSocket with a ws:// target."""

    def __init__(self, t: Target, *, ws: bool = False) -> None:
        from zaqarkit import Client

        if ws:
            from zaqarkit.transports.websocket import WebSocketTransport  # type: ignore

            self.client = Client(
                t.ws_url,
                project_id=t.project,
                client_id=t.client_id,
                transport=WebSocketTransport(t.ws_url),
            )
        else:
            self.client = Client(t.http_url, project_id=t.project, client_id=t.client_id)
        self.queue = self.client.queue(t.queue)

    def post1(self) -> int:
        return len(self.queue.post(MESSAGE))

    def post10(self) -> int:
        return len(self.queue.post(BATCH))

    def list10(self) -> int:
        # islice stops the lazy listing after one page: exactly one request.
        return len(list(itertools.islice(self.queue.messages(limit=PAGE, echo=True), PAGE)))

    def claim_delete(self) -> int:
        claim = self.queue.claim(ttl=CLAIM["ttl"], grace=CLAIM["grace"], limit=PAGE)
        for message in claim:
            message.delete()
        return len(claim)

    def claim_delete_many(self) -> int:
        claim = self.queue.claim(ttl=CLAIM["ttl"], grace=CLAIM["grace"], limit=PAGE)
        self.queue.delete_messages(*[m.id for m in claim], claim_ids=[claim.id])
        return len(claim)

    def close(self) -> None:
        self.client.close()


class ZaqarkitAsync:
    """``zaqarkit.AsyncClient`` over HTTP (or WebSocket), on asyncio or trio."""

    def __init__(self, t: Target, *, ws: bool = False) -> None:
        from zaqarkit import AsyncClient

        if ws:
            from zaqarkit.transports.websocket import AsyncWebSocketTransport  # type: ignore

            self.client = AsyncClient(
                t.ws_url,
                project_id=t.project,
                client_id=t.client_id,
                transport=AsyncWebSocketTransport(t.ws_url),
            )
        else:
            self.client = AsyncClient(t.http_url, project_id=t.project, client_id=t.client_id)
        self.queue = self.client.queue(t.queue)

    async def post1(self) -> int:
        return len(await self.queue.post(MESSAGE))

    async def post10(self) -> int:
        return len(await self.queue.post(BATCH))

    async def list10(self) -> int:
        listing = self.queue.messages(limit=PAGE, echo=True)
        count = 0
        async for _ in listing:
            count += 1
            if count == PAGE:
                break
        # Close the generator here, not in the GC (trio warns about that).
        await listing.aclose()
        return count

    async def claim_delete(self) -> int:
        claim = await self.queue.claim(ttl=CLAIM["ttl"], grace=CLAIM["grace"], limit=PAGE)
        for message in claim:
            await message.delete()
        return len(claim)

    async def claim_delete_many(self) -> int:
        claim = await self.queue.claim(ttl=CLAIM["ttl"], grace=CLAIM["grace"], limit=PAGE)
        await self.queue.delete_messages(*[m.id for m in claim], claim_ids=[claim.id])
        return len(claim)

    async def aclose(self) -> None:
        await self.client.aclose()


# -- core tier (no I/O) ----------------------------------------------------------------


def _split_http(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    headers.pop("content-length", None)
    return int(lines[0].split(" ")[1]), headers, body


class CannedResponses:
    """The replay server's answers as core ``Response`` objects, decoded once."""

    def __init__(self) -> None:
        from zaqarkit.core import Response

        self.table = HttpTable()
        self._cache: dict[int, Any] = {}
        self._response = Response

    def answer(self, method: str, url: str, body: bytes | None) -> Any:
        raw = self.table.answer(method.encode(), url.encode(), body or b"")
        hit = self._cache.get(id(raw))
        if hit is None:
            hit = self._cache[id(raw)] = self._response(*_split_http(raw))
        return hit


class CoreOnly:
    """The sans-I/O core alone: build, prepare and parse; no transport, no facade."""

    def __init__(self, t: Target) -> None:
        from zaqarkit._settings import resolve

        settings = resolve(
            "http://127.0.0.1:1", 2, None, None, project_id=t.project, client_id=t.client_id
        )
        self.api, self.ctx, self.q = settings.api, settings.context, t.queue
        self.cut = len(settings.endpoint)
        self.canned = CannedResponses()

    def _do(self, call: Any) -> Any:
        req = self.ctx.prepare(call.request)
        target = req.url[self.cut :]
        return call.parse(self.canned.answer(req.method, target, req.body))

    def post1(self) -> int:
        return len(self._do(self.api.message_post(self.q, MESSAGE)))

    def post10(self) -> int:
        return len(self._do(self.api.message_post(self.q, BATCH)))

    def list10(self) -> int:
        return len(self._do(self.api.message_list(self.q, limit=PAGE, echo=True)).items)

    def claim_delete(self) -> int:
        claim = self._do(self.api.claim_create(self.q, limit=PAGE, **CLAIM))
        for m in claim.messages:
            self._do(self.api.message_delete(self.q, m.id, claim_id=claim.id))
        return len(claim.messages)

    def claim_delete_many(self) -> int:
        claim = self._do(self.api.claim_create(self.q, limit=PAGE, **CLAIM))
        self._do(
            self.api.message_delete_many(
                self.q, [m.id for m in claim.messages], claim_ids=[claim.id]
            )
        )
        return len(claim.messages)

    def close(self) -> None:
        pass


class _CannedTransport:
    """A sync transport answering from memory (MockTransport would record every request)."""

    def __init__(self) -> None:
        self.canned = CannedResponses()

    def handle_request(self, request: Any) -> Any:
        url = request.url
        target = url[url.find("/", url.find("//") + 2) :]
        return self.canned.answer(request.method, target, request.body)

    def close(self) -> None:
        pass


class FacadeNoIO(ZaqarkitSync):
    """``zaqarkit.Client`` over an in-memory transport: core plus facade, no I/O."""

    def __init__(self, t: Target) -> None:
        from zaqarkit import Client

        self.client = Client(
            "http://127.0.0.1:1",
            project_id=t.project,
            client_id=t.client_id,
            transport=_CannedTransport(),
        )
        self.queue = self.client.queue(t.queue)


class JsonFloor:
    """Only the JSON work any client must do: encode the body, decode the answer."""

    def __init__(self, t: Target) -> None:
        self.canned = CannedResponses()
        base = f"/v2/queues/{t.queue}"
        self.post1_raw = self.canned.answer("POST", base + "/messages", b'"body"').body
        self.post10_raw = self.canned.answer("POST", base + "/messages", b'"body"' * 10).body
        self.list_raw = self.canned.answer("GET", base + "/messages?limit=10", b"").body
        self.claim_raw = self.canned.answer("POST", base + "/claims?limit=10", b"").body

    def post1(self) -> int:
        json.dumps({"messages": [MESSAGE]}).encode()
        return len(json.loads(self.post1_raw)["resources"])

    def post10(self) -> int:
        json.dumps({"messages": BATCH}).encode()
        return len(json.loads(self.post10_raw)["resources"])

    def list10(self) -> int:
        return len(json.loads(self.list_raw)["messages"])

    def claim_delete(self) -> int:
        json.dumps(CLAIM).encode()
        return len(json.loads(self.claim_raw)["messages"])

    claim_delete_many = claim_delete

    def close(self) -> None:
        pass


# -- the registry ----------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    #: "sync", "asyncio" or "trio"
    mode: str
    #: "http", "ws" or "none" (core tier)
    wire: str
    tiers: tuple[str, ...]
    make: Callable[[Target], Any]
    #: modules that must import for the contender to run
    requires: tuple[str, ...] = ()
    #: whether N concurrent producers may share one driver
    concurrent: bool = False
    #: scenarios the client has no API for (reported as not offered)
    lacks: frozenset[str] = frozenset()

    def unavailable(self) -> str | None:
        """Why this contender cannot run here, or None."""
        for module in self.requires:
            try:
                if importlib.util.find_spec(module) is None:
                    return f"{module} is not installed"
                importlib.import_module(module)
            except Exception as exc:  # a half-written module must not stop the suite
                return f"{module} does not import: {type(exc).__name__}: {exc}"
        return None

    @property
    def is_async(self) -> bool:
        return self.mode in ("asyncio", "trio")


async def _async_make(cls: Callable[..., Any], t: Target, **kw: Any) -> Any:
    # Built inside the running loop so connections and locks belong to it.
    return cls(t, **kw)


def _amake(cls: Callable[..., Any], **kw: Any) -> Callable[[Target], Awaitable[Any]]:
    return lambda t: _async_make(cls, t, **kw)


def _openstacksdk(t: Target) -> Any:
    from benchmarks.openstacksdk_contender import OpenstackSdkPeer

    return OpenstackSdkPeer(t)


NET = ("replay", "real")
WS_MODULE = "zaqarkit.transports.websocket"

CONTENDERS: tuple[Contender, ...] = (
    Contender("core", "zaqarkit core (build+parse)", "sync", "none", ("core",), CoreOnly),
    Contender(
        "facade-noio", "zaqarkit Client, in-memory transport", "sync", "none", ("core",), FacadeNoIO
    ),
    Contender("json-floor", "json.dumps + json.loads only", "sync", "none", ("core",), JsonFloor),
    Contender("floor-http", "http.client keep-alive (floor)", "sync", "http", NET, HttpClientFloor),
    Contender("httpx", "plain httpx.Client", "sync", "http", NET, HttpxPlain, ("httpx",)),
    Contender(
        "zaqarclient",
        "python-zaqarclient 4.7.0",
        "sync",
        "http",
        NET,
        ZaqarClientPeer,
        ("zaqarclient.queues.client",),
    ),
    Contender(
        "openstacksdk",
        "openstacksdk message proxy",
        "sync",
        "http",
        NET,
        _openstacksdk,
        ("openstack.message.v2._proxy",),
        lacks=frozenset({"claim_delete_many"}),
    ),
    Contender("zk-http", "zaqarkit Client (HTTP)", "sync", "http", NET, ZaqarkitSync),
    Contender(
        "zk-async-http",
        "zaqarkit AsyncClient (HTTP, asyncio)",
        "asyncio",
        "http",
        NET,
        _amake(ZaqarkitAsync),
        concurrent=True,
    ),
    Contender(
        "zk-trio-http",
        "zaqarkit AsyncClient (HTTP, trio)",
        "trio",
        "http",
        NET,
        _amake(ZaqarkitAsync),
        ("trio",),
        concurrent=True,
    ),
    Contender(
        "httpx-async",
        "plain httpx.AsyncClient (asyncio)",
        "asyncio",
        "http",
        NET,
        _amake(AsyncHttpxPlain),
        ("httpx",),
        concurrent=True,
    ),
    Contender(
        "httpx-trio",
        "plain httpx.AsyncClient (trio)",
        "trio",
        "http",
        NET,
        _amake(AsyncHttpxPlain),
        ("httpx", "trio"),
        concurrent=True,
    ),
    Contender(
        "websockets",
        "plain websockets sync client",
        "sync",
        "ws",
        NET,
        WebsocketsPlain,
        ("websockets.sync.client",),
    ),
    Contender(
        "zk-ws",
        "zaqarkit Client (WebSocket)",
        "sync",
        "ws",
        NET,
        lambda t: ZaqarkitSync(t, ws=True),
        (WS_MODULE,),
    ),
    Contender(
        "zk-async-ws",
        "zaqarkit AsyncClient (WebSocket, asyncio)",
        "asyncio",
        "ws",
        NET,
        _amake(ZaqarkitAsync, ws=True),
        (WS_MODULE,),
        concurrent=True,
    ),
    Contender(
        "zk-trio-ws",
        "zaqarkit AsyncClient (WebSocket, trio)",
        "trio",
        "ws",
        NET,
        _amake(ZaqarkitAsync, ws=True),
        (WS_MODULE, "trio"),
        concurrent=True,
    ),
)

BY_KEY = {c.key: c for c in CONTENDERS}
