"""A short tour of zaqarkit against a real local Zaqar.

    python3 -m pip install 'nox>=2025.2.9' && nox -s demo

starts Redis and Zaqar (cached in ~/.cache/zaqarkit), then runs the same
producer/consumer story with the sync Client and with the AsyncClient.
"""

from __future__ import annotations

import asyncio
import uuid

from zaqarkit import AsyncClient, Client
from zaqarkit.testing import ZaqarServer


def sync_story(url: str) -> None:
    conf = {"auth_opts": {"backend": "noauth", "options": {"os_project_id": "demo"}}}
    with Client(url, version=2, conf=conf) as cli:
        print(f"ping: {cli.ping()}")
        queue = cli.queue("orders-" + uuid.uuid4().hex[:6])  # lazy: no request yet
        ids = queue.post([{"body": {"order": n}, "ttl": 300} for n in range(3)])
        print(f"posted {len(ids)} messages to {queue.name}")
        for message in queue.messages(echo=True):  # walks every page
            print(f"  listed {message.id[:8]}... body={message.body}")
        claim = queue.claim(ttl=60, limit=2)
        print(f"claimed {len(claim)} messages (claim {claim.id[:8]}...)")
        for message in claim:
            message.delete()  # sends the claim id
        print(f"stats after deleting them: {queue.stats().total} left")
        queue.delete()


async def async_story(url: str) -> None:
    async with AsyncClient(url, project_id="demo") as cli:
        queue = cli.queue("events-" + uuid.uuid4().hex[:6])
        await queue.post({"body": "hello from asyncio"})
        popped = await queue.pop(1)
        print(f"async: popped {[m.body for m in popped]}")
        await queue.delete()


def main() -> None:
    print("starting a local Zaqar (the first run installs it into ~/.cache/zaqarkit) ...")
    with ZaqarServer() as server:
        print(f"Zaqar at {server.url}")
        sync_story(server.url)
        asyncio.run(async_story(server.url))
    print("servers stopped")


if __name__ == "__main__":
    main()
