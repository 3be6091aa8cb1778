"""AsyncProducer: buffered, batched, ordered posting (asyncio and trio).

The sync ``Producer`` is generated from this file by ``scripts/unasync.py``;
there the background sender is a thread. Packing decisions live in
:mod:`zaqarkit.core.producer`.
"""

from __future__ import annotations

import logging
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any

from zaqarkit._concurrency import AsyncLock, AsyncSignal, AsyncTaskGroup, monotonic
from zaqarkit.core.producer import Batch
from zaqarkit.core.validate import integer, number
from zaqarkit.errors import ValidationError

if TYPE_CHECKING:
    from zaqarkit._async.queues import AsyncQueue

__all__ = ["AsyncProducer"]

log = logging.getLogger("zaqarkit.producer")


class AsyncProducer:
    """Send messages one at a time; they are posted in packed batches, in order.

    Obtain it with :meth:`AsyncQueue.producer` and use it as a context
    manager. ``send()`` validates and buffers a message; a background sender
    posts batches one after another, so ids come back in input order. With
    ``linger=0`` a batch is posted as soon as the sender is free (batches fill
    up by themselves while a post is in flight); with ``linger > 0`` a batch
    that is not full waits up to ``linger`` seconds for more messages. At most
    ``max_pending`` full batches wait to be posted: beyond that ``send()``
    waits (backpressure). ``flush()`` posts everything buffered and returns the
    ids posted since the previous ``flush()``; leaving the block flushes.

    A failed post stops the producer: the error is raised from the next
    ``send()``/``flush()``/``close()``, with ``posted_ids`` (the ids posted
    since the last flush) and ``unsent`` (the messages not posted, in order).

    Example::

        async with queue.producer(linger=0.01) as producer:
            for n in range(100):
                await producer.send({"body": {"n": n}, "ttl": 300})
            ids = await producer.flush()
    """

    def __init__(
        self,
        queue: AsyncQueue,
        *,
        linger: float = 0.0,
        max_count: int = 10,
        max_bytes: int | None = None,
        max_pending: int = 4,
    ) -> None:
        linger = number(linger, "linger", 0)
        max_pending = integer(max_pending, "max_pending", 1)
        self._queue = queue
        self._packer = queue._packer(max_count, max_bytes)
        self._linger = linger
        self._max_pending = max_pending
        self._ready: deque[Batch] = deque()
        self._opened_at = 0.0
        self._count = 0
        self._posting: Batch | None = None
        self._posted: list[str] = []
        self._error: BaseException | None = None
        self._flushes = 0
        self._closing = False
        self._final: list[str] | None = None
        self._started = False
        self._group: AsyncTaskGroup | None = None
        self._lock = AsyncLock()
        self._signal = AsyncSignal()

    async def __aenter__(self) -> AsyncProducer:
        self._group = AsyncTaskGroup()
        await self._group.__aenter__()
        self._group.start_soon(self._sender)
        self._started = True
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None:
                await self.close()
        finally:
            self._closing = True
            self._signal.notify()
            if exc is not None:
                assert self._group is not None
                self._group.cancel()
            assert self._group is not None
            await self._group.__aexit__(kind, exc, tb)

    @property
    def buffered(self) -> int:
        """Messages sent to the producer and not yet posted."""
        posting = len(self._posting) if self._posting is not None else 0
        return self._packer.pending() + sum(len(b) for b in self._ready) + posting

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    async def send(self, message: Any) -> int:
        """Buffer one message; returns its position (0, 1, ...). Waits while
        ``max_pending`` full batches are queued. Raises ValidationError naming
        ``messages[<position>]`` for a bad or oversize message (nothing of it
        is sent)."""
        if not self._started:
            raise ValidationError("producer", "use it as a context manager (with/async with)")
        self._raise_failure()
        index = self._count
        item = self._queue._post_item(message, index)
        size = self._packer.cost(item, index)
        while True:
            generation = self._signal.generation
            self._raise_failure()
            if len(self._ready) < self._max_pending:
                break
            await self._signal.wait(generation)
        async with self._lock:
            if not self._packer.pending():
                self._opened_at = monotonic()
            closed = self._packer.add(item, index, size)
            self._count += 1
            if closed is not None:
                self._ready.append(closed)
                self._opened_at = monotonic()
        self._signal.notify()
        return index

    async def _take(self) -> Batch | None:
        async with self._lock:
            if self._ready:
                return self._ready.popleft()
            if self._packer.pending() and (
                self._flushes or self._closing or monotonic() - self._opened_at >= self._linger
            ):
                return self._packer.flush()
            return None

    async def _sender(self) -> None:
        while True:
            generation = self._signal.generation
            batch = await self._take()
            if batch is None:
                if self._closing:
                    return
                timeout = None
                if self._packer.pending():
                    timeout = self._opened_at + self._linger - monotonic()
                await self._signal.wait(generation, timeout)
                continue
            self._posting = batch
            try:
                ids = await self._queue.post(batch.items)
            except Exception as error:
                log.warning("post of %d messages failed: %s", len(batch), error)
                unsent = list(batch.items)
                for rest in self._ready:
                    unsent += rest.items
                pending = self._packer.flush()
                if pending is not None:
                    unsent += pending.items
                self._ready.clear()
                error.unsent = unsent  # type: ignore[attr-defined]
                error.posted_ids = list(self._posted)  # type: ignore[attr-defined]
                self._error = error
                self._posting = None
                self._signal.notify()
                return
            log.debug("posted %d messages", len(ids))
            self._posted += ids
            self._posting = None
            self._signal.notify()

    async def flush(self) -> list[str]:
        """Post everything buffered; the ids posted since the last flush, in
        input order."""
        self._flushes += 1
        self._signal.notify()
        try:
            while True:
                generation = self._signal.generation
                self._raise_failure()
                if not self.buffered:
                    break
                await self._signal.wait(generation)
        finally:
            self._flushes -= 1
        posted, self._posted = self._posted, []
        return posted

    async def close(self) -> list[str]:
        """Flush, then stop the sender; returns the ids posted since the last
        flush. Leaving the block closes; calling it again returns the same ids."""
        if self._final is not None:
            return self._final
        try:
            self._final = await self.flush()
            return self._final
        finally:
            self._closing = True
            self._signal.notify()
