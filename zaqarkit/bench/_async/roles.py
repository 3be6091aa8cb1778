"""The producer, consumer and observer roles, their workers sharing one
client (``zaqarkit/bench/_async`` is the source; scripts/unasync.py
generates the sync roles in ``zaqarkit/bench/_sync``).

Observers list with echo (they share no Client-ID with the producers, and
a lister that did not see its own client's messages would time empty
pages) but without zaqar-bench's include_claimed: Zaqar 23's redis driver
answers 503/500 to include_claimed=true on a first page (no marker).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import anyio  # async-only

from zaqarkit.bench._counts import FAILED, IDLE_PAUSE, Counts, RoleSpec, error_label

__all__ = ["AsyncRole"]

log = logging.getLogger("zaqarkit.bench")


class AsyncRole:
    """One role's workers over one shared client; ``worker`` runs until ``until()``."""

    def __init__(self, spec: RoleSpec, counts: Counts, client: Any) -> None:
        self.spec, self.counts = spec, counts
        self.queues = [client.queue(q, auto_create=False) for q in spec.queues]

    async def worker(self, n: int, until: Callable[[], bool]) -> None:
        rng = random.Random(self.spec.seed * 1000 + n)
        step = getattr(self, self.spec.role)
        state: dict[str, Any] = {}
        try:
            while not until():
                if not await step(rng, state):
                    break
        finally:
            for it in state.values():
                with contextlib.suppress(Exception):
                    await it.aclose()

    async def _timed(self, op: str, call: Callable[[], Any]) -> Any:
        c = self.counts
        t0 = time.perf_counter_ns()
        try:
            out = await call()
        except Exception as exc:
            c.errors[op][error_label(exc)] += 1
            log.debug("%s failed: %r", op, exc)
            await anyio.sleep(IDLE_PAUSE)  # async-only
            # sync-only: time.sleep(IDLE_PAUSE)
            return FAILED
        c.lat[op].append(time.perf_counter_ns() - t0)
        return out

    async def producer(self, rng: random.Random, state: dict[str, Any]) -> bool:
        if not self.counts.take_quota():
            return False
        q = rng.choice(self.queues)
        doc = self.spec.pool.choose(rng)
        if await self._timed("post", lambda: q.post(doc)) is not FAILED:
            self.counts.messages += 1
        return True

    async def consumer(self, rng: random.Random, state: dict[str, Any]) -> bool:
        s = self.spec
        q = rng.choice(self.queues)
        claim = await self._timed(
            "claim", lambda: q.claim(ttl=s.claim_ttl, grace=s.claim_grace, limit=s.claim_batch)
        )
        if claim is FAILED:
            return True
        if not len(claim):
            self.counts.empty += 1
            await anyio.sleep(IDLE_PAUSE)  # async-only
            # sync-only: time.sleep(IDLE_PAUSE)
            return True
        for message in claim:
            if await self._timed("delete", message.delete) is not FAILED:
                self.counts.messages += 1
        return True

    async def observer(self, rng: random.Random, state: dict[str, Any]) -> bool:
        q = rng.choice(self.queues)
        page = self.spec.list_page

        async def one_page() -> int:
            it = state.get(q.name)
            if it is None:
                it = state[q.name] = q.messages(limit=page, echo=True)
            n = 0
            async for _ in it:
                n += 1
                if n == page:
                    return n
            # The listing ran out: start from the first page next time, and
            # close it here, not in the garbage collector (trio warns about that).
            state.pop(q.name, None)
            await it.aclose()
            return n

        got = await self._timed("list", one_page)
        if got is not FAILED:
            self.counts.messages += got
        return True
