"""The few concurrency primitives the consumer and producer runtimes use, twice.

``zaqarkit/_async/consumer.py`` and ``producer.py`` are written once, against
the ``Async*`` names here (anyio: asyncio and trio); ``scripts/unasync.py``
renames them to the thread-based twins below for the generated sync code
(``AsyncEvent`` -> ``Event``, ``AsyncTaskGroup`` -> ``TaskGroup``...). Both
sides have the same methods, so one runtime drives either.

Every wait takes a timeout and every loop checks a stop event, because a
thread cannot be cancelled: the sync runtime stops by being told to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any

import anyio

__all__ = [
    "AsyncEvent",
    "AsyncLock",
    "AsyncShield",
    "AsyncSignal",
    "AsyncTaskGroup",
    "Event",
    "Lock",
    "Shield",
    "Signal",
    "TaskGroup",
    "monotonic",
]


monotonic = time.monotonic


# -- async (anyio) ------------------------------------------------------------------


class AsyncEvent:
    def __init__(self) -> None:
        self._event = anyio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, timeout: float | None = None) -> bool:
        """True when set, False when ``timeout`` passed first."""
        if timeout is None:
            await self._event.wait()
            return True
        with anyio.move_on_after(max(timeout, 0.0)):
            await self._event.wait()
        return self._event.is_set()


class AsyncLock:
    def __init__(self) -> None:
        self._lock = anyio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


class AsyncSignal:
    """Wakes every waiter on ``notify()``. Read ``generation`` before checking
    shared state, then ``wait(generation)``: a notify in between is not lost."""

    def __init__(self) -> None:
        self._generation = 0
        self._event = anyio.Event()

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        self._generation += 1
        self._event.set()
        self._event = anyio.Event()

    async def wait(self, generation: int, timeout: float | None = None) -> bool:
        """True once notified after ``generation``, False on timeout."""
        if self._generation != generation:
            return True
        event = self._event
        if timeout is None:
            await event.wait()
        else:
            with anyio.move_on_after(max(timeout, 0.0)):
                await event.wait()
        return self._generation != generation


class AsyncTaskGroup:
    """Background tasks bound to a block; ``cancel()`` stops them."""

    def __init__(self) -> None:
        self._group = anyio.create_task_group()

    async def __aenter__(self) -> AsyncTaskGroup:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return await self._group.__aexit__(kind, exc, tb)

    def start_soon(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        self._group.start_soon(func, *args)

    def cancel(self) -> None:
        self._group.cancel_scope.cancel()


def AsyncShield() -> AbstractContextManager[Any]:
    """Cleanup that must finish even while the surrounding task is cancelled."""
    return anyio.CancelScope(shield=True)


# -- sync (threads) -------------------------------------------------------------------


class Event:
    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(None if timeout is None else max(timeout, 0.0))


class Lock:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class Signal:
    """The thread-safe twin of :class:`AsyncSignal`."""

    def __init__(self) -> None:
        self._generation = 0
        self._cond = threading.Condition()

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, generation: int, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: self._generation != generation,
                None if timeout is None else max(timeout, 0.0),
            )


class TaskGroup:
    """Threads bound to a block: leaving it joins them. Threads cannot be
    cancelled: ``cancel()`` makes the block stop waiting for them (they run on
    as daemons; the functions run here watch their own stop flags)."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._cancelled = False

    def __enter__(self) -> TaskGroup:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        for thread in self._threads:
            while thread.is_alive() and not self._cancelled:
                thread.join(0.1)
        if self._errors and exc is None:
            raise self._errors[0]
        return None

    def start_soon(self, func: Callable[..., Any], *args: Any) -> None:
        def run() -> None:
            try:
                func(*args)
            except BaseException as error:  # re-raised when the block ends
                self._errors.append(error)

        name = f"zaqarkit-{getattr(func, '__name__', 'task')}"
        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def cancel(self) -> None:
        self._cancelled = True


def Shield() -> AbstractContextManager[Any]:
    return nullcontext()
