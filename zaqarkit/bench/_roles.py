"""The roles, run inside one client process: producer, consumer, observer.

Each process runs one role over one transport with ``workers`` workers that
share one client (as zaqar-bench's greenlets share theirs): threads for the
sync facade, tasks on one asyncio or trio loop for the async one. The
process reports counts to the conductor every half second, waits for its
"go", measures until its deadline, its message quota or "stop", and sends
back a :class:`RoleResult` with every latency.
"""

from __future__ import annotations

import contextlib
import logging
import queue as _queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zaqarkit.bench._config import TRANSPORTS, MessagePool
from zaqarkit.errors import ApiError

__all__ = ["OPERATIONS", "RoleResult", "RoleSpec", "role_main"]

log = logging.getLogger("zaqarkit.bench")

#: The operations every report has, per role.
OPERATIONS = {"producer": ("post",), "consumer": ("claim", "delete"), "observer": ("list",)}
#: An empty claim or a failed call is followed by this pause, so that idle
#: consumers (or a refused connection) do not spin the CPU that the server
#: under test shares with them.
IDLE_PAUSE = 0.01
PROGRESS_EVERY = 0.5
#: What a timed call that raised returns (``delete`` itself returns None).
FAILED: Any = object()


@dataclass
class RoleSpec:
    """Everything one role process needs; it is pickled to the child."""

    role: str
    transport: str
    index: int
    workers: int
    url: str | None
    ws_url: str | None
    api_version: str
    client_options: dict[str, Any]
    queues: list[str]
    pool: MessagePool
    claim_batch: int
    claim_ttl: int
    claim_grace: int
    list_page: int
    duration: float | None
    #: messages this process posts at most (producers in --messages mode)
    quota: int | None
    warmup: float
    seed: int


@dataclass
class RoleResult:
    role: str
    transport: str
    index: int
    workers: int
    lat_ns: dict[str, list[int]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    messages: int = 0
    empty_claims: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    fatal: str | None = None


def error_label(exc: BaseException) -> str:
    """A short, stable name for an error, for the "errors by type" table.

    >>> from zaqarkit.errors import ServiceUnavailable
    >>> error_label(ServiceUnavailable(503, "Service Unavailable", "busy", "message_post"))
    'ServiceUnavailable (503)'
    >>> error_label(ConnectionResetError())
    'ConnectionResetError'
    """
    if isinstance(exc, ApiError):
        return f"{type(exc).__name__} ({exc.status})"
    return type(exc).__name__


class _Counts:
    """Live counters shared by the workers of one process (GIL-atomic adds)."""

    def __init__(self, spec: RoleSpec) -> None:
        self.spec = spec
        self.lat: dict[str, list[int]] = {op: [] for op in OPERATIONS[spec.role]}
        self.errors: dict[str, Counter[str]] = {op: Counter() for op in OPERATIONS[spec.role]}
        self.messages = 0
        self.empty = 0
        self.posted = 0  # reserved post slots, for the quota
        self.lock = threading.Lock()

    def ops(self) -> int:
        return sum(len(v) for v in self.lat.values())

    def error_total(self) -> int:
        return sum(sum(c.values()) for c in self.errors.values())

    def take_quota(self) -> bool:
        quota = self.spec.quota
        if quota is None:
            return True
        with self.lock:
            if self.posted >= quota:
                return False
            self.posted += 1
            return True

    def result(self, cpu: float, wall: float) -> RoleResult:
        s = self.spec
        return RoleResult(s.role, s.transport, s.index, s.workers, self.lat, self.errors,
                          self.messages, self.empty, cpu, wall)

    def reset(self) -> None:
        for v in self.lat.values():
            v.clear()
        for c in self.errors.values():
            c.clear()
        self.messages = self.empty = self.posted = 0


def _client(spec: RoleSpec) -> Any:
    facade, _, wire = TRANSPORTS[spec.transport]
    url = spec.ws_url if wire == "ws" else spec.url
    opts = dict(spec.client_options)
    opts.setdefault("version", spec.api_version)
    if facade == "sync":
        from zaqarkit import Client

        return Client(url, **opts)
    from zaqarkit import AsyncClient

    return AsyncClient(url, **opts)


# -- sync workers --------------------------------------------------------------------


# Observers list with echo (they share no Client-ID with the producers, and
# a lister that did not see its own client's messages would time empty
# pages) but without zaqar-bench's include_claimed: Zaqar 23's redis driver
# answers 503/500 to include_claimed=true on a first page (no marker).


class _SyncRole:
    def __init__(self, spec: RoleSpec, counts: _Counts, client: Any) -> None:
        self.spec, self.counts = spec, counts
        self.queues = [client.queue(q, auto_create=False) for q in spec.queues]

    def worker(self, n: int, until: Callable[[], bool]) -> None:
        rng = random.Random(self.spec.seed * 1000 + n)
        step = getattr(self, self.spec.role)
        state: dict[str, Any] = {}
        try:
            while not until():
                if not step(rng, state):
                    break
        finally:
            for it in state.values():
                with contextlib.suppress(Exception):
                    it.close()

    def _timed(self, op: str, call: Callable[[], Any]) -> Any:
        c = self.counts
        t0 = time.perf_counter_ns()
        try:
            out = call()
        except Exception as exc:
            c.errors[op][error_label(exc)] += 1
            log.debug("%s failed: %r", op, exc)
            time.sleep(IDLE_PAUSE)
            return FAILED
        c.lat[op].append(time.perf_counter_ns() - t0)
        return out

    def producer(self, rng: random.Random, state: dict[str, Any]) -> bool:
        if not self.counts.take_quota():
            return False
        q = rng.choice(self.queues)
        doc = self.spec.pool.choose(rng)
        if self._timed("post", lambda: q.post(doc)) is not FAILED:
            self.counts.messages += 1
        return True

    def consumer(self, rng: random.Random, state: dict[str, Any]) -> bool:
        s = self.spec
        q = rng.choice(self.queues)
        claim = self._timed("claim", lambda: q.claim(ttl=s.claim_ttl, grace=s.claim_grace,
                                                     limit=s.claim_batch))
        if claim is FAILED:
            return True
        if not len(claim):
            self.counts.empty += 1
            time.sleep(IDLE_PAUSE)
            return True
        for message in claim:
            if self._timed("delete", message.delete) is not FAILED:
                self.counts.messages += 1
        return True

    def observer(self, rng: random.Random, state: dict[str, Any]) -> bool:
        q = rng.choice(self.queues)
        page = self.spec.list_page

        def one_page() -> int:
            it = state.get(q.name)
            if it is None:
                it = state[q.name] = q.messages(limit=page, echo=True)
            n = 0
            for _ in it:
                n += 1
                if n == page:
                    return n
            # The listing ran out: start from the first page next time.
            state.pop(q.name, None)
            return n

        got = self._timed("list", one_page)
        if got is not FAILED:
            self.counts.messages += got
        return True


# -- async workers -------------------------------------------------------------------


class _AsyncRole:
    def __init__(self, spec: RoleSpec, counts: _Counts, client: Any) -> None:
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
        import anyio

        c = self.counts
        t0 = time.perf_counter_ns()
        try:
            out = await call()
        except Exception as exc:
            c.errors[op][error_label(exc)] += 1
            log.debug("%s failed: %r", op, exc)
            await anyio.sleep(IDLE_PAUSE)
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
        import anyio

        s = self.spec
        q = rng.choice(self.queues)
        claim = await self._timed("claim", lambda: q.claim(ttl=s.claim_ttl, grace=s.claim_grace,
                                                           limit=s.claim_batch))
        if claim is FAILED:
            return True
        if not len(claim):
            self.counts.empty += 1
            await anyio.sleep(IDLE_PAUSE)
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
            state.pop(q.name, None)
            # Close it here, not in the garbage collector (trio warns about that).
            await it.aclose()
            return n

        got = await self._timed("list", one_page)
        if got is not FAILED:
            self.counts.messages += got
        return True


# -- the process ---------------------------------------------------------------------


class _Control:
    """The conductor's side of the pipe: ready/go/stop and the report queue."""

    def __init__(self, out: Any, go: Any, stop: Any) -> None:
        self.out, self.go, self.stop = out, go, stop

    def send(self, kind: str, *payload: Any) -> None:
        self.out.put((kind, *payload))


@contextlib.contextmanager
def _reporter(ctl: _Control, spec: RoleSpec, counts: _Counts) -> Iterator[None]:
    done = threading.Event()

    def loop() -> None:
        while not done.wait(PROGRESS_EVERY):
            ctl.send("progress", spec.role, spec.index, counts.ops(), counts.messages,
                     counts.error_total())

    t = threading.Thread(target=loop, name="zaqarkit-bench-progress", daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()


def _deadline(spec: RoleSpec, ctl: _Control) -> Callable[[], bool]:
    end = None if spec.duration is None else time.perf_counter() + spec.duration
    stop = ctl.stop

    def until() -> bool:
        if end is not None and time.perf_counter() >= end:
            return True
        return bool(stop.is_set())

    return until


def _run_sync(spec: RoleSpec, ctl: _Control, counts: _Counts) -> RoleResult:
    with _client(spec) as client:
        role = _SyncRole(spec, counts, client)
        role.queues[0].stats()  # opens the connection before the clock starts
        if spec.warmup > 0:
            end = time.perf_counter() + spec.warmup
            _sync_workers(role, spec, lambda: time.perf_counter() >= end or ctl.stop.is_set())
            counts.reset()
        ctl.send("ready", spec.role, spec.index)
        ctl.go.wait()
        until = _deadline(spec, ctl)
        c0, t0 = time.process_time(), time.perf_counter()
        with _reporter(ctl, spec, counts):
            _sync_workers(role, spec, until)
        return counts.result(time.process_time() - c0, time.perf_counter() - t0)


def _sync_workers(role: _SyncRole, spec: RoleSpec, until: Callable[[], bool]) -> None:
    threads = [threading.Thread(target=role.worker, args=(n, until), daemon=True,
                                name=f"zaqarkit-bench-{spec.role}-{n}")
               for n in range(spec.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _run_async(spec: RoleSpec, ctl: _Control, counts: _Counts) -> RoleResult:
    import anyio

    async def wait_go() -> None:
        # The go event is a multiprocessing one: wait for it off the loop.
        await anyio.to_thread.run_sync(ctl.go.wait)

    async def workers(role: _AsyncRole, until: Callable[[], bool]) -> None:
        async with anyio.create_task_group() as tg:
            for n in range(spec.workers):
                tg.start_soon(role.worker, n, until)

    async def main() -> RoleResult:
        async with _client(spec) as client:
            role = _AsyncRole(spec, counts, client)
            await role.queues[0].stats()
            if spec.warmup > 0:
                end = time.perf_counter() + spec.warmup
                await workers(role, lambda: time.perf_counter() >= end or ctl.stop.is_set())
                counts.reset()
            ctl.send("ready", spec.role, spec.index)
            await wait_go()
            until = _deadline(spec, ctl)
            c0, t0 = time.process_time(), time.perf_counter()
            with _reporter(ctl, spec, counts):
                await workers(role, until)
            return counts.result(time.process_time() - c0, time.perf_counter() - t0)

    return anyio.run(main, backend=TRANSPORTS[spec.transport][1])


def role_main(spec: RoleSpec, out: Any, go: Any, stop: Any) -> None:
    """Entry point of a role process (``multiprocessing`` target)."""
    ctl = _Control(out, go, stop)
    counts = _Counts(spec)
    try:
        if TRANSPORTS[spec.transport][0] == "sync":
            result = _run_sync(spec, ctl, counts)
        else:
            result = _run_async(spec, ctl, counts)
    except BaseException as exc:  # report, never hang the conductor
        result = counts.result(0.0, 0.0)
        result.fatal = f"{type(exc).__name__}: {exc}"[:500]
        ctl.send("ready", spec.role, spec.index)  # unblock a conductor waiting for ready
    ctl.send("result", result)


def drain(q: Any, timeout: float) -> list[tuple[Any, ...]]:
    """Every message waiting on a multiprocessing queue (first one waited for)."""
    items = []
    try:
        items.append(q.get(timeout=timeout))
        while True:
            items.append(q.get_nowait())
    except _queue.Empty:
        pass
    return items
