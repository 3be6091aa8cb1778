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
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from zaqarkit.bench._async.roles import AsyncRole
from zaqarkit.bench._config import TRANSPORTS
from zaqarkit.bench._counts import OPERATIONS, Counts, RoleResult, RoleSpec, error_label
from zaqarkit.bench._sync.roles import Role
from zaqarkit.core.wsconn import INCOMPLETE_LOGGER

__all__ = ["OPERATIONS", "RoleResult", "RoleSpec", "drain", "error_label", "role_main"]

PROGRESS_EVERY = 0.5


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


# -- the process ---------------------------------------------------------------------


class _Control:
    """The conductor's side of the pipe: ready/go/stop and the report queue."""

    def __init__(self, out: Any, go: Any, stop: Any) -> None:
        self.out, self.go, self.stop = out, go, stop

    def send(self, kind: str, *payload: Any) -> None:
        self.out.put((kind, *payload))


@contextlib.contextmanager
def _reporter(ctl: _Control, spec: RoleSpec, counts: Counts) -> Iterator[None]:
    done = threading.Event()

    def loop() -> None:
        while not done.wait(PROGRESS_EVERY):
            ctl.send(
                "progress",
                spec.role,
                spec.index,
                counts.ops(),
                counts.messages,
                counts.error_total(),
            )

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


def _run_sync(spec: RoleSpec, ctl: _Control, counts: Counts) -> RoleResult:
    with _client(spec) as client:
        role = Role(spec, counts, client)
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


def _sync_workers(role: Role, spec: RoleSpec, until: Callable[[], bool]) -> None:
    threads = [
        threading.Thread(
            target=role.worker, args=(n, until), daemon=True, name=f"zaqarkit-bench-{spec.role}-{n}"
        )
        for n in range(spec.workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _run_async(spec: RoleSpec, ctl: _Control, counts: Counts) -> RoleResult:
    import anyio

    async def wait_go() -> None:
        # The go event is a multiprocessing one: wait for it off the loop.
        await anyio.to_thread.run_sync(ctl.go.wait)

    async def workers(role: AsyncRole, until: Callable[[], bool]) -> None:
        async with anyio.create_task_group() as tg:
            for n in range(spec.workers):
                tg.start_soon(role.worker, n, until)

    async def main() -> RoleResult:
        async with _client(spec) as client:
            role = AsyncRole(spec, counts, client)
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
    # The observer role reads one page of a listing on purpose: the hint that
    # WebSocket listings stop after one page is not for the bench's user.
    logging.getLogger(INCOMPLETE_LOGGER).setLevel(logging.ERROR)
    ctl = _Control(out, go, stop)
    counts = Counts(spec)
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
