"""User programs type-checked with ``mypy --strict``: the public API has precise
types (no ``Any`` where zaqarkit knows better) in sync, asyncio, trio and
WebSocket-consumer code.

Each program marks its ``reveal_type`` lines with the expected type; the test
runs mypy once over all of them and compares. A program with deliberate
mistakes must fail type checking, proving that the types have teeth.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

PROGRAMS = {
    "sync_program": """
        from zaqarkit import Client

        def main() -> None:
            with Client("http://127.0.0.1:8888", project_id="demo") as cli:
                queue = cli.queue("orders")
                reveal_type(queue.post([{"body": 1}]))  # list[builtins.str]
                for message in queue.messages(echo=True):
                    reveal_type(message)  # zaqarkit._sync.messages.Message[Any]
                    reveal_type(message.id)  # builtins.str
                    reveal_type(message.ttl)  # builtins.int
                    reveal_type(message.age)  # builtins.int
                    reveal_type(message.claim_id)  # builtins.str | None
                    reveal_type(message.href)  # builtins.str | None
                claim = queue.claim(ttl=60, grace=60)
                reveal_type(claim.id)  # builtins.str | None
                reveal_type(claim.ttl)  # builtins.int | None
                reveal_type(claim.messages)  # list[zaqarkit._sync.messages.Message[Any]]
                for subscription in queue.subscriptions():
                    reveal_type(subscription.id)  # builtins.str
                    reveal_type(subscription.ttl)  # builtins.int
                    reveal_type(subscription.subscriber)  # builtins.str
                reveal_type(cli.ping())  # builtins.bool
                stats = queue.stats()
                reveal_type(stats.total)  # builtins.int
                if stats.oldest is not None:
                    reveal_type(stats.oldest.created_at)  # datetime.datetime
                reveal_type(queue.signed_url().expires_at)  # datetime.datetime
                reveal_type(cli.queue_count())  # builtins.int
    """,
    "asyncio_program": """
        import asyncio

        from zaqarkit import AsyncClient

        async def main() -> None:
            async with AsyncClient("http://127.0.0.1:8888", project_id="demo") as cli:
                queue = cli.queue("orders")
                reveal_type(await queue.post([{"body": 1}]))  # list[builtins.str]
                async for message in queue.messages():
                    reveal_type(message.id)  # builtins.str
                    reveal_type(message.claim_id)  # builtins.str | None
                claim = await queue.claim(ttl=60)
                reveal_type(claim.id)  # builtins.str | None
                reveal_type(claim.ttl)  # builtins.int | None
                reveal_type(await queue.pop(2))  # list[zaqarkit._async.messages.AsyncMessage[Any]]

        asyncio.run(main())
    """,
    "trio_program": """
        import trio

        from zaqarkit import AsyncClient

        async def main() -> None:
            async with AsyncClient("http://127.0.0.1:8888", project_id="demo") as cli:
                message = await cli.queue("orders").message("m1")
                reveal_type(message.id)  # builtins.str
                reveal_type(message.ttl)  # builtins.int

        trio.run(main)
    """,
    "websocket_consumer": """
        import anyio

        from zaqarkit import AsyncClient, Client, PushGap

        def sync_consumer() -> None:
            with Client("ws://127.0.0.1:9000", project_id="demo") as cli:
                with cli.queue("orders").subscribe(ttl=600) as notes:
                    reveal_type(notes)  # zaqarkit.transports.websocket.PushStream[Any]
                    for note in notes:
                        if isinstance(note, PushGap):
                            reveal_type(note.missed)  # builtins.int | None
                            continue
                        reveal_type(note)  # zaqarkit.core.ws.Notification[Any]
                        reveal_type(note.queue_name)  # builtins.str
                        reveal_type(note.ttl)  # builtins.int | None

        async def async_consumer() -> None:
            async with AsyncClient("ws://127.0.0.1:9000", project_id="demo") as cli:
                async with cli.queue("orders").subscribe() as notes:
                    reveal_type(notes)  # zaqarkit.transports.websocket.AsyncPushStream[Any]
                    async for note in notes:
                        if not isinstance(note, PushGap):
                            reveal_type(note)  # zaqarkit.core.ws.Notification[Any]

        anyio.run(async_consumer)
    """,
    "typed_sync": """
        from dataclasses import dataclass
        from typing import TypedDict

        import msgspec
        import pydantic

        from zaqarkit import Client, Delivery, PushGap

        class Order(msgspec.Struct):
            sku: str
            qty: int = 1

        @dataclass
        class Refund:
            order: str

        class Ping(TypedDict):
            seq: int

        class Invoice(pydantic.BaseModel):
            total: float

        def handle(delivery: Delivery[Order]) -> None:
            reveal_type(delivery.body)  # typed_sync.Order

        def main() -> None:
            with Client("http://127.0.0.1:8888", project_id="demo") as cli:
                queue = cli.queue("orders")
                queue.post([{"body": Order("A-1"), "ttl": 60}])
                for message in queue.messages(body_type=Order):
                    reveal_type(message)  # zaqarkit._sync.messages.Message[typed_sync.Order]
                    reveal_type(message.body)  # typed_sync.Order
                reveal_type(queue.message("m1", body_type=Refund).body)  # typed_sync.Refund
                reveal_type(queue.pop(2, body_type=Ping)[0].body)  # TypedDict(typed_sync.Ping, {'seq': int})
                claim = queue.claim(ttl=60, body_type=Invoice)
                reveal_type(claim)  # zaqarkit._sync.messages.Claim[typed_sync.Invoice]
                for claimed in claim:
                    reveal_type(claimed.body)  # typed_sync.Invoice
                for raw in queue.messages():
                    reveal_type(raw.body)  # Any
                with queue.consumer(body_type=Order) as consumer:
                    reveal_type(consumer)  # zaqarkit._sync.consumer.Consumer[typed_sync.Order]
                    for delivery in consumer:
                        reveal_type(delivery)  # zaqarkit._sync.delivery.Delivery[typed_sync.Order]
                        reveal_type(delivery.body)  # typed_sync.Order
                        reveal_type(delivery.body.qty)  # int
                queue.consume(handle, body_type=Order, on_poison="drop")
                for named in queue.messages(body_type=dict[str, int]):
                    reveal_type(named.body)  # dict[str, int]
            with Client("ws://127.0.0.1:9000", project_id="demo") as ws:
                with ws.queue("orders").subscribe(body_type=Order) as notes:
                    for note in notes:
                        if not isinstance(note, PushGap):
                            reveal_type(note.body)  # typed_sync.Order
    """,
    "typed_async": """
        import msgspec

        from zaqarkit import AsyncClient, AsyncDelivery

        class Order(msgspec.Struct):
            sku: str

        async def handle(delivery: AsyncDelivery[Order]) -> None:
            reveal_type(delivery.body)  # typed_async.Order

        async def main() -> None:
            async with AsyncClient("http://127.0.0.1:8888", project_id="demo") as cli:
                queue = cli.queue("orders")
                async for message in queue.messages(body_type=Order):
                    reveal_type(message.body)  # typed_async.Order
                reveal_type((await queue.message("m1", body_type=Order)).body)  # typed_async.Order
                reveal_type(await queue.pop(body_type=Order))  # list[zaqarkit._async.messages.AsyncMessage[typed_async.Order]]
                reveal_type((await queue.claim(body_type=Order)).messages)  # list[zaqarkit._async.messages.AsyncMessage[typed_async.Order]]
                async with queue.consumer(body_type=Order) as consumer:
                    async for delivery in consumer:
                        reveal_type(delivery)  # zaqarkit._async.delivery.AsyncDelivery[typed_async.Order]
                        reveal_type(delivery.body)  # typed_async.Order
                await queue.consume(handle, body_type=Order)
                async with queue.subscribe(body_type=Order) as notes:
                    async for note in notes:
                        if not note.gap:
                            reveal_type(note)  # zaqarkit.core.ws.Notification[typed_async.Order] | zaqarkit.core.wsconn.PushGap
    """,
    "mistakes": """
        from zaqarkit import Client

        def main() -> None:
            with Client("ws://127.0.0.1:9000", project_id="demo") as cli:
                queue = cli.queue("orders")
                with queue.subscribe() as notes:
                    notes.no_such_method()  # E: attr-defined
                for message in queue.messages():
                    message.id + 1  # E: operator
                    message.no_such_attribute  # E: attr-defined
                claim = queue.claim()
                claim.ttl + 1  # E: operator

        import msgspec

        class Order(msgspec.Struct):
            sku: str

        def typed(cli: Client) -> None:
            for message in cli.queue("orders").messages(body_type=Order):
                message.body.qty  # E: attr-defined
                message.body.sku + 1  # E: operator
    """,
}

_REVEALED = re.compile(r'^(\w+)\.py:(\d+): note: Revealed type is "(.+)"$')
_ERROR = re.compile(r"^(\w+)\.py:(\d+): error: .*\[([\w-]+)\]$")


def _expectations(marker: str) -> dict[tuple[str, int], str]:
    found = {}
    for name, source in PROGRAMS.items():
        for number, line in enumerate(textwrap.dedent(source).splitlines(), start=1):
            code, _, comment = line.partition(f"  # {marker}")
            if comment and (marker != "" or "reveal_type" in code):
                found[(name, number)] = comment.strip(": ").strip().replace("builtins.", "")
    return found


def test_user_programs_type_check_with_precise_types(tmp_path: Path) -> None:
    for name, source in PROGRAMS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    out, err, _status = mypy_api.run(
        [
            "--strict",
            "--no-error-summary",
            "--hide-error-context",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(tmp_path),
        ]
    )
    lines = [line.replace(str(tmp_path) + "/", "") for line in out.splitlines()]
    revealed = {}
    errors = {}
    for line in lines:
        if (match := _REVEALED.match(line)) is not None:
            revealed[(match[1], int(match[2]))] = match[3].replace("builtins.", "")
        elif (match := _ERROR.match(line)) is not None:
            errors[(match[1], int(match[2]))] = match[3]
        elif line.strip():
            assert "note:" in line, line
    expected_types = _expectations("")
    assert expected_types, "no reveal_type expectations found"
    assert revealed == expected_types, (lines, err)
    # Only the deliberate mistakes are errors, each with the expected code.
    assert errors == _expectations("E"), lines
