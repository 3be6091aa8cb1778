"""Measurement primitives shared by ``zaqarkit bench`` and the repo's ``benchmarks/``.

Latency is ``perf_counter_ns`` around each operation, closed loop (one
operation in flight per worker), so a p99 here is a closed-loop p99. Client
CPU is ``time.process_time()`` of the measuring process over the measured
window, divided by the operations of that window: every thread of the
process is charged (the sync WebSocket transport's reader thread included),
other processes (servers) never are.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

__all__ = [
    "PERCENTILES",
    "ProcessCpu",
    "Sample",
    "async_loop",
    "interleave",
    "percentile",
    "saturation",
    "summarize",
    "sync_loop",
]

T = TypeVar("T")

#: The percentiles every report carries, per operation.
PERCENTILES = (0.5, 0.9, 0.99)


def percentile(sorted_ns: Sequence[int], q: float) -> float:
    """The ``q`` quantile (nearest rank) of already sorted nanoseconds, in ms.

    >>> percentile([1_000_000, 2_000_000, 3_000_000, 4_000_000], 0.5)
    3.0
    >>> math.isnan(percentile([], 0.9))
    True
    """
    if not sorted_ns:
        return math.nan
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1e6


def summarize(lat_ns: Iterable[int]) -> dict[str, float]:
    """p50/p90/p99/max/mean in milliseconds of a latency list.

    >>> s = summarize([1_000_000] * 99 + [9_000_000])
    >>> s["p50_ms"], s["p99_ms"], s["max_ms"]
    (1.0, 9.0, 9.0)
    """
    data = sorted(lat_ns)
    out = {f"p{round(q * 100)}_ms": percentile(data, q) for q in PERCENTILES}
    out["max_ms"] = data[-1] / 1e6 if data else math.nan
    out["mean_ms"] = sum(data) / len(data) / 1e6 if data else math.nan
    return out


def interleave(items: Sequence[T], rounds: int, rng: random.Random) -> list[list[T]]:
    """``rounds`` orders of ``items``, each shuffled with ``rng`` (A B C, C A B, ...),
    so that slow drift of the machine spreads over every item alike.

    >>> interleave(["http", "ws"], 3, random.Random(1))
    [['ws', 'http'], ['ws', 'http'], ['http', 'ws']]
    """
    orders = []
    for _ in range(rounds):
        order = list(items)
        rng.shuffle(order)
        orders.append(order)
    return orders


@dataclass
class Sample:
    """One measured window: operations, wall and CPU seconds, messages handled,
    and the latency of every operation in nanoseconds."""

    ops: int
    wall: float
    cpu: float
    messages: int
    lat_ns: list[int] = field(default_factory=list)


def sync_loop(
    op: Callable[[], int], seconds: float, prepare: Callable[[], None] | None = None
) -> Sample:
    """Call ``op`` (which returns the messages it handled) for ``seconds``.

    ``prepare`` runs before each call, outside the timing: its wall and CPU
    time are subtracted from the window.

    >>> s = sync_loop(lambda: 1, 0.01)
    >>> s.ops == s.messages == len(s.lat_ns) > 0
    True
    """
    lat: list[int] = []
    append = lat.append
    clock = time.perf_counter_ns
    ops = messages = 0
    prep_cpu = 0.0
    prep_wall = 0
    deadline = clock() + int(seconds * 1e9)
    c0 = time.process_time()
    start = clock()
    now = start
    while now < deadline:
        if prepare is not None:
            pc, pw = time.process_time(), clock()
            prepare()
            prep_cpu += time.process_time() - pc
            prep_wall += clock() - pw
        t0 = clock()
        messages += op()
        now = clock()
        append(now - t0)
        ops += 1
    cpu = time.process_time() - c0 - prep_cpu
    return Sample(ops, (now - start - prep_wall) / 1e9, cpu, messages, lat)


async def async_loop(
    op: Callable[[], Awaitable[int]],
    seconds: float,
    concurrency: int = 1,
    prepare: Callable[[], None] | None = None,
) -> Sample:
    """:func:`sync_loop` for a coroutine function, with ``concurrency`` workers
    sharing ``op`` on the running loop (asyncio or trio)."""
    import anyio

    lat: list[int] = []
    clock = time.perf_counter_ns
    counters = [0, 0]
    prep = [0.0, 0]
    deadline = clock() + int(seconds * 1e9)

    async def worker() -> None:
        append = lat.append
        while clock() < deadline:
            if prepare is not None:
                pc, pw = time.process_time(), clock()
                prepare()
                prep[0] += time.process_time() - pc
                prep[1] += clock() - pw
            t0 = clock()
            # Await first: `counters[1] += await op()` would read the counter
            # before suspending and lose the other workers' updates.
            handled = await op()
            append(clock() - t0)
            counters[0] += 1
            counters[1] += handled

    c0 = time.process_time()
    start = clock()
    if concurrency == 1:
        await worker()
    else:
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
    end = clock()
    cpu = time.process_time() - c0 - prep[0]
    return Sample(counters[0], (end - start - prep[1]) / 1e9, cpu, counters[1], lat)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    # /proc/<pid>/stat fields 14 and 15 (utime, stime) in clock ticks; the
    # command name (field 2) may hold spaces, so split after its ')'.
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _name(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    words = [w.decode(errors="replace") for w in cmd if w]
    # "python .../gunicorn ..." says more as "gunicorn": take the first word
    # that is not an interpreter.
    for w in words:
        base = w.rsplit("/", 1)[-1]
        if not base.startswith("python") and not base.startswith("-"):
            return base[:40]
    return (words[0].rsplit("/", 1)[-1] if words else str(pid))[:40]


def _machine_jiffies() -> tuple[int, int] | None:
    # First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal ..."
    try:
        with open("/proc/stat") as f:
            parts = f.readline().split()
    except OSError:
        return None
    values = [int(v) for v in parts[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class ProcessCpu:
    """CPU use of other local processes (a server under test) over a window.

    Linux only (``/proc``); elsewhere, or for pids that are gone, nothing is
    reported. ``utilization()`` is CPU seconds per wall second for each pid:
    1.0 means one core busy all the time, the ceiling of a single-threaded
    (or GIL-bound) server process.

    >>> cpu = ProcessCpu([os.getpid()])
    >>> sum(range(10**5)) > 0
    True
    >>> all(u >= 0 for u in cpu.utilization().values())
    True
    """

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = list(pids)
        self.names = {pid: _name(pid) for pid in self.pids}
        self.start = time.perf_counter()
        self.cpu0 = {pid: _cpu_seconds(pid) for pid in self.pids}
        self.machine0 = _machine_jiffies()

    def utilization(self) -> dict[str, float]:
        """``"name[pid]" -> cores used`` since construction."""
        wall = max(time.perf_counter() - self.start, 1e-9)
        out = {}
        for pid in self.pids:
            c0, c1 = self.cpu0[pid], _cpu_seconds(pid)
            if c0 is not None and c1 is not None:
                out[f"{self.names[pid]}[{pid}]"] = (c1 - c0) / wall
        return out

    def machine_busy(self) -> float | None:
        """Cores of the whole machine busy since construction (every process,
        ours or not), or None where ``/proc/stat`` is missing."""
        now = _machine_jiffies()
        if now is None or self.machine0 is None or now[1] == self.machine0[1]:
            return None
        busy = (now[0] - self.machine0[0]) / (now[1] - self.machine0[1])
        return busy * (os.cpu_count() or 1)


def saturation(
    client: dict[str, float],
    server: dict[str, float],
    threshold: float = 0.85,
    machine: float | None = None,
) -> str:
    """Which side limited a run, from cores used per process (``ProcessCpu``
    figures; ``client`` the same for the client's own processes).

    >>> saturation({"bench[1]": 0.2}, {"gunicorn[7]": 0.97})
    'saturated: server CPU (gunicorn[7] at 97% of a core)'
    >>> saturation({"bench[1]": 0.99}, {"gunicorn[7]": 0.4})
    'saturated: client CPU (bench[1] at 99% of a core)'
    >>> saturation({"bench[1]": 0.3}, {"gunicorn[7]": 0.5}, machine=1.9)[:45]
    'saturated: machine CPU (1.9 of 2 cores busy, '
    >>> saturation({"bench[1]": 0.3}, {})
    'not CPU-bound: no process above 85% of a core (client max 30%, server not measured)'
    """

    def top(d: dict[str, float]) -> tuple[str, float]:
        return max(d.items(), key=lambda kv: kv[1]) if d else ("", 0.0)

    cname, cval = top(client)
    sname, sval = top(server)
    ncores = os.cpu_count() or 1
    if sval >= threshold and sval >= cval:
        return f"saturated: server CPU ({sname} at {sval:.0%} of a core)"
    if cval >= threshold:
        return f"saturated: client CPU ({cname} at {cval:.0%} of a core)"
    total = sum(client.values()) + sum(server.values())
    if total >= threshold * ncores:
        return (
            f"saturated: machine CPU (client and server together use {total:.1f} of {ncores} cores)"
        )
    if machine is not None and machine >= threshold * ncores:
        return (
            f"saturated: machine CPU ({machine:.1f} of {ncores} cores busy, "
            f"{max(machine - total, 0.0):.1f} of them outside this client and server)"
        )
    srv = f"server max {sval:.0%} ({sname})" if server else "server not measured"
    return (
        f"not CPU-bound: no process above {threshold:.0%} of a core (client max {cval:.0%}, {srv})"
    )
