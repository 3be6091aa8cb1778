#!/usr/bin/env python3
"""Record real Zaqar answers to every v2 operation into ``tests/data/``.

Starts a real server with :class:`zaqarkit.testing.ZaqarServer` (a plain one,
then a pooled one for pools and flavors), sends each request exactly as the
sans-I/O core builds it, with plain httpx, and writes
``tests/data/<operation>[--<variant>].json``::

    {"operation": "<Operation value>",
     "request": {"method", "path", "query": [[name, value], ...]},
     "response": {"status", "headers": {content-type, location}, "body": "<text>"}}

Topics are not recorded: the redis store the harness runs has no topic
controller. ``tests/unit/test_recorded.py`` parses every file with the
matching builder's parser.

Usage: python scripts/record_fixtures.py [--out tests/data]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zaqarkit.core import ApiV2, Call, Context, Response  # noqa: E402
from zaqarkit.testing import ZaqarServer  # noqa: E402

CLIENT_ID = "3b1e0f52-6a5c-4ac6-9d9e-1a2b3c4d5e6f"
PROJECT = "recorded"
QUEUE = "orders"
EMPTY_QUEUE = "empty-queue"
KEPT_HEADERS = ("content-type", "location")
#: A well-formed message id that no queue holds.
MISSING_ID = "00000000-0000-4000-8000-000000000000"


class Recorder:
    def __init__(self, url: str, out: Path) -> None:
        self.ctx = Context(
            url, (("Client-ID", CLIENT_ID), ("X-Project-ID", PROJECT), ("X-Roles", "admin"))
        )
        self.http = httpx.Client(timeout=30.0)
        self.out = out
        self.api = ApiV2()
        self.written: list[str] = []

    def close(self) -> None:
        self.http.close()

    def send(self, call: Call[Any]) -> httpx.Response:
        request = self.ctx.prepare(call.request)
        return self.http.request(
            request.method, request.url, headers=list(request.headers), content=request.body
        )

    def record(self, call: Call[Any], variant: str = "", *, expect_error: bool = False) -> Any:
        """Send, write the fixture, and return the parsed result (or the error)."""
        answer = self.send(call)
        operation = call.request.operation.value
        headers = {k: answer.headers[k] for k in KEPT_HEADERS if k in answer.headers}
        fixture = {
            "operation": operation,
            "request": {
                "method": call.request.method,
                "path": call.request.path,
                "query": [list(pair) for pair in call.request.query],
            },
            "response": {"status": answer.status_code, "headers": headers, "body": answer.text},
        }
        name = operation + (f"--{variant}" if variant else "")
        path = self.out / f"{name}.json"
        path.write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n")
        self.written.append(name)
        response = Response(answer.status_code, dict(headers), answer.content)
        try:
            result = call.parse(response)
        except Exception as exc:
            if not expect_error:
                raise RuntimeError(f"{name}: {answer.status_code} {answer.text}") from exc
            print(f"  {name}: {answer.status_code} -> {type(exc).__name__}")
            return exc
        if expect_error:
            raise RuntimeError(f"{name}: expected an error, got {answer.status_code}")
        print(f"  {name}: {answer.status_code}")
        return result


def record_plain(rec: Recorder) -> None:
    api = rec.api
    rec.record(api.home_document())
    rec.record(api.ping())
    rec.record(api.health())

    rec.record(api.queue_create(QUEUE, {"color": "red"}))
    rec.record(api.queue_create(QUEUE, {"color": "blue"}), "exists")
    rec.record(api.queue_get(QUEUE))
    rec.record(api.queue_update(QUEUE, [{"op": "add", "path": "/metadata/size", "value": 3}]))
    rec.record(
        api.queue_update(QUEUE, [{"op": "remove", "path": "/metadata/missing"}]),
        "conflict",
        expect_error=True,
    )

    messages = [{"body": {"event": "paid", "n": n}, "ttl": 600} for n in range(4)]
    ids = rec.record(api.message_post(QUEUE, messages))
    rec.record(api.message_list(QUEUE, limit=2, echo=True))
    rec.record(api.message_list(EMPTY_QUEUE, echo=True), "empty")
    rec.record(api.message_get(QUEUE, ids[0]))
    rec.record(api.message_get_many(QUEUE, ids[:2]))
    rec.record(api.message_get_many(QUEUE, [MISSING_ID]), "none-found")
    rec.record(api.queue_stats(QUEUE))

    claim = rec.record(api.claim_create(QUEUE, ttl=300, grace=60, limit=2))
    rec.record(api.claim_create(EMPTY_QUEUE, ttl=300, grace=60), "nothing-to-claim")
    rec.record(api.claim_get(QUEUE, claim.id))
    rec.record(api.claim_get(QUEUE, MISSING_ID), "missing", expect_error=True)
    rec.record(api.claim_update(QUEUE, claim.id, ttl=600, grace=60))
    claimed = claim.messages[0]
    rec.record(api.message_delete(QUEUE, claimed.id, claim_id=claim.id))
    unclaimed = [m for m in ids if m not in {c.id for c in claim.messages}]
    rec.record(api.message_delete(QUEUE, claim.messages[1].id), "claimed", expect_error=True)
    rec.record(api.claim_delete(QUEUE, claim.id))
    rec.record(api.message_delete_many(QUEUE, unclaimed[:1]))
    rec.record(api.message_pop(QUEUE, 1))

    rec.record(api.queue_list(limit=20, detailed=True, with_count=True))
    rec.record(
        api.queue_share(
            QUEUE, paths=["messages"], methods=["GET", "POST"], expires="2099-01-01T00:00:00"
        )
    )

    subscriber = "http://127.0.0.1:9/hook"
    sid = rec.record(
        api.subscription_create(QUEUE, subscriber, ttl=3600, options={"post_headers": {"a": "b"}})
    )
    rec.record(api.subscription_list(QUEUE, limit=5))
    rec.record(api.subscription_get(QUEUE, sid))
    rec.record(api.subscription_update(QUEUE, sid, ttl=7200))
    rec.record(api.subscription_confirm(QUEUE, sid, True))
    rec.record(api.subscription_delete(QUEUE, sid))

    rec.record(api.queue_purge(QUEUE, ["messages", "subscriptions"]))
    rec.record(api.queue_delete(QUEUE))


def record_pooled(rec: Recorder, redis_url: str) -> None:
    api = rec.api
    rec.record(api.health(), "pooled")
    rec.record(api.pool_list(detailed=True))
    rec.record(api.pool_get("pool1", detailed=True))
    rec.record(api.pool_create("pool2", redis_url, 50))
    rec.record(api.pool_update("pool2", weight=60))
    rec.record(api.flavor_create("gold", ["pool2"]))
    rec.record(api.flavor_list(detailed=True))
    rec.record(api.flavor_get("gold"))
    rec.record(api.flavor_update("gold", ["pool2"]))
    rec.record(api.flavor_delete("gold"))
    rec.record(api.pool_delete("pool2"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in args.out.glob("*.json"):
        stale.unlink()

    print("plain server")
    with ZaqarServer() as srv:
        rec = Recorder(srv.url, args.out)
        try:
            record_plain(rec)
        finally:
            rec.close()
    print("pooled server")
    with ZaqarServer(pooled=True) as srv:
        pooled = Recorder(srv.url, args.out)
        try:
            record_pooled(pooled, srv.redis_url.rstrip("/") + "/?dbid=1")
        finally:
            pooled.close()
    print(f"wrote {len(rec.written) + len(pooled.written)} fixtures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
