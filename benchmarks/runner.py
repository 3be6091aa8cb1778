"""The runner: contenders interleaved in rounds, CPU and wall time measured per op.

Method (see ``benchmarks/README.md``):

* every round runs every contender once, in an order shuffled with a recorded
  seed, so drift on the machine (thermal, other load) spreads over all of
  them instead of favouring whoever ran first;
* each contender's round builds a fresh client, runs a warm-up that is
  discarded, then measures for a fixed duration;
* client CPU is ``time.process_time()`` of this process over the measured
  window; servers run in other processes so they are never charged to the
  client. Untimed set-up inside the window (seeding the real server's queue
  before a claim) is measured separately and subtracted;
* latency is ``perf_counter_ns`` around each operation (closed loop: one op
  in flight per producer, so p99 is a closed-loop p99).
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.contenders import (
    BATCH,
    BY_KEY,
    SCENARIOS,
    Contender,
    Target,
)
from benchmarks.model import (
    CONCURRENCY,
    HERE,
    PROJECT,
    TIERS,
    Config,
    Results,
    Row,
    Sample,
    Tier,
)
from benchmarks.pubsub import run_pubsub
from zaqarkit.bench import (
    BenchConfig,
    ProcessCpu,
    async_loop,
    interleave,
    saturation,
    sync_loop,
)
from zaqarkit.bench import run as bench_run

__all__ = [
    "CONCURRENCY",
    "HERE",
    "PROJECT",
    "TIERS",
    "Config",
    "Results",
    "Row",
    "Sample",
    "Tier",
    "memory_child",
    "replay_server",
    "run",
    "run_round",
]


def run_round(
    contender: Contender,
    target: Target,
    method: str,
    cfg: Config,
    concurrency: int = 1,
    prepare: Callable[[], None] | None = None,
) -> Sample:
    """Build the contender's client, warm up (discarded), measure, close."""
    if not contender.is_async:
        driver = contender.make(target)
        try:
            op = getattr(driver, method)
            sync_loop(op, cfg.warmup, prepare)
            return sync_loop(op, cfg.duration, prepare)
        finally:
            driver.close()

    async def main() -> Sample:
        driver = await contender.make(target)
        try:
            op = getattr(driver, method)
            await async_loop(op, cfg.warmup, concurrency, prepare)
            return await async_loop(op, cfg.duration, concurrency, prepare)
        finally:
            await driver.aclose()

    import anyio

    return anyio.run(main, backend=contender.mode)


# -- tiers -----------------------------------------------------------------------------


class Seeder:
    """Untimed set-up against the real server over its own plain connection."""

    def __init__(self, http_url: str) -> None:
        parts = urlsplit(http_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.headers = {
            "Client-ID": str(uuid.uuid4()),
            "X-Project-ID": PROJECT,
            "Content-Type": "application/json",
        }
        self.conn: http.client.HTTPConnection | None = None

    def _rt(self, method: str, path: str, body: Any = None) -> int:
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                data = None if body is None else json.dumps(body).encode()
                self.conn.request(method, path, data, self.headers)
                resp = self.conn.getresponse()
                resp.read()
                return resp.status
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return 0

    def post(self, queue: str, n: int = 10) -> None:
        status = self._rt("POST", f"/v2/queues/{queue}/messages", {"messages": BATCH[:n]})
        if status != 201:
            raise RuntimeError(f"seeding {queue} failed: {status}")

    def purge(self, queue: str) -> None:
        self._rt("DELETE", f"/v2/queues/{queue}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@contextlib.contextmanager
def replay_server(cpu: int | None = None) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    env = dict(os.environ)
    if cpu is not None:
        env["BENCH_REPLAY_CPU"] = str(cpu)
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.replay"],
        cwd=HERE.parent,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if len(line) != 2:
            raise RuntimeError("the replay server did not start")
        yield f"http://127.0.0.1:{line[0]}", f"ws://127.0.0.1:{line[1]}", proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the server exits when its stdin closes
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def open_tier(name: str, cfg: Config, results: Results) -> Iterator[Tier]:
    if name == "core":
        yield Tier("core")
        return
    if name == "replay":
        pin = cfg.pin and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2
        before = os.sched_getaffinity(0) if pin else None
        cpus = sorted(before) if before else []
        with replay_server(cpus[0] if pin else None) as (http_url, ws_url, _):
            if pin and before is not None:
                # Server on the first CPU, client on the second: neither steals
                # the other's core, so client CPU/op is not inflated by contention.
                os.sched_setaffinity(0, {cpus[1]})
                results.tier_notes["replay"] = (
                    f"replay server pinned to CPU {cpus[0]}, client to CPU {cpus[1]}"
                )
            try:
                yield Tier("replay", http_url, ws_url)
            finally:
                if before is not None:
                    os.sched_setaffinity(0, before)
        return
    from zaqarkit.testing import ZaqarServer

    with ZaqarServer() as srv:
        seeder = Seeder(srv.url)
        results.tier_notes["real"] = (
            f"Zaqar {srv.release.name} via gunicorn gthread ({srv.gunicorn_threads} threads, "
            "1 worker, keep-alive) and its WebSocket server; redis; all on this machine"
        )
        try:
            yield Tier(
                "real", srv.url, srv.ws_url if srv.websocket else "", seeder, srv, tuple(srv.pids())
            )
        finally:
            seeder.close()


# -- orchestration -----------------------------------------------------------------------


class Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Any = None
        self.enabled = enabled
        self.total, self.done = total, 0
        if not enabled:
            return
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="run", dynamic_ncols=True, file=sys.stderr)
        except ImportError:
            self.bar = None

    def step(self, text: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_description_str(text[:48].ljust(48))
            self.bar.update(1)
        else:  # a plain bar when tqdm is missing
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done}/{self.total} {text[:40]:<40}"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


def _selected(cfg: Config, results: Results) -> list[Contender]:
    chosen = []
    for key in cfg.contenders:
        c = BY_KEY[key]
        reason = c.unavailable()
        if reason is not None:
            results.unavailable[key] = reason
            continue
        chosen.append(c)
    return chosen


def _plan(cfg: Config, contenders: list[Contender]) -> list[tuple[str, str, list[Contender], int]]:
    """(tier, scenario, contenders, concurrency) groups; each group is interleaved."""
    plan = []
    for tier in cfg.tiers:
        on_tier = [c for c in contenders if tier in c.tiers]
        for scenario in cfg.scenarios:
            if scenario in SCENARIOS:
                if on_tier:
                    plan.append((tier, scenario, on_tier, 1))
            elif scenario == "concurrency" and tier != "core":
                conc = [c for c in on_tier if c.concurrent]
                for n in cfg.concurrency:
                    if conc:
                        plan.append((tier, "concurrency", conc, n))
    return plan


def run(cfg: Config) -> Results:
    results = Results(cfg)
    contenders = _selected(cfg, results)
    for key, reason in results.unavailable.items():
        if cfg.scenarios:
            results.rows.append(
                Row("-", "-", key, BY_KEY[key].label, error=f"not available: {reason}")
            )
    plan = _plan(cfg, contenders)
    rng = random.Random(cfg.seed)
    extra = 0
    if "pubsub" in cfg.scenarios and "real" in cfg.tiers:
        extra += cfg.rounds * 3
    if "memory" in cfg.scenarios and "replay" in cfg.tiers:
        extra += len(_memory_contenders(cfg, contenders))
    if "roles" in cfg.scenarios and "real" in cfg.tiers:
        extra += 1
    total = sum(cfg.rounds * len(group) for _, _, group, _ in plan) + extra
    progress = Progress(total, cfg.progress)
    t_start = time.perf_counter()
    try:
        for tier in cfg.tiers:
            groups = [g for g in plan if g[0] == tier]
            wants_pubsub = tier == "real" and "pubsub" in cfg.scenarios
            wants_memory = tier == "replay" and "memory" in cfg.scenarios
            wants_roles = tier == "real" and "roles" in cfg.scenarios
            if not groups and not wants_pubsub and not wants_memory and not wants_roles:
                continue
            try:
                with open_tier(tier, cfg, results) as env:
                    for _, scenario, group, conc in groups:
                        _run_group(env, scenario, group, conc, cfg, rng, results, progress)
                    if wants_memory:
                        _run_memory(env, cfg, contenders, results, progress)
                    if wants_pubsub:
                        run_pubsub(env, cfg, contenders, results, progress.step)
                    if wants_roles:
                        progress.step("real roles (zaqarkit bench)")
                        _run_roles(env, cfg, contenders, results)
            except Exception as exc:  # a tier that cannot start is reported, not fatal
                results.tier_notes[tier] = f"tier failed: {type(exc).__name__}: {exc}"
    finally:
        progress.close()
    results.elapsed = time.perf_counter() - t_start
    return results


def _run_group(
    env: Tier,
    scenario: str,
    group: list[Contender],
    conc: int,
    cfg: Config,
    rng: random.Random,
    results: Results,
    progress: Progress,
) -> None:
    method = "post1" if scenario == "concurrency" else scenario
    rows = {c.key: Row(env.name, scenario, c.key, c.label, conc) for c in group}
    for c in group:
        if method in c.lacks:
            rows[c.key].error = f"not offered: {c.label} has no API for {method}"
    results.rows.extend(rows.values())
    for rnd, order in enumerate(interleave(group, cfg.rounds, rng)):
        for c in order:
            row = rows[c.key]
            progress.step(f"{env.name} {scenario} x{conc} {c.key}")
            if row.error is not None:
                continue
            queue = f"b-{scenario}-{c.key}-{rnd}"[:64]
            target = Target(env.name, env.http_url, env.ws_url, PROJECT, queue=queue)
            if c.wire == "ws" and not env.ws_url and env.name != "core":
                row.error = "no WebSocket server on this tier"
                continue
            prepare = None
            seeder = env.seeder
            try:
                if seeder is not None:
                    if scenario == "list10":
                        seeder.post(queue, 10)
                    elif scenario.startswith("claim"):
                        prepare = _refill(seeder, queue)
                server = ProcessCpu(env.server_pids)
                sample = run_round(c, target, method, cfg, conc, prepare)
                _check(scenario, sample)
                row.samples.append(sample)
                row.sample_rounds.append(rnd)
                if env.server_pids:
                    # What limited this round: the server's processes or this one.
                    client = {"client": sample.cpu / sample.wall if sample.wall else 0.0}
                    row.saturation.append(
                        saturation(client, server.utilization(), machine=server.machine_busy())
                    )
            except Exception as exc:
                row.error = f"{type(exc).__name__}: {exc}"[:300]
            finally:
                if seeder is not None:
                    with contextlib.suppress(Exception):
                        seeder.purge(queue)


#: zaqarkit contender -> zaqarkit bench transport, for the `roles` scenario
ROLE_TRANSPORTS = {
    "zk-http": "http",
    "zk-ws": "ws",
    "zk-async-http": "async-http",
    "zk-async-ws": "async-ws",
    "zk-trio-http": "trio-http",
}


def _run_roles(env: Tier, cfg: Config, contenders: list[Contender], results: Results) -> None:
    """zaqar-bench's producer/consumer roles through ``zaqarkit bench``'s engine,
    every zaqarkit transport interleaved, the server's CPU watched."""
    keys = {c.key for c in contenders}
    transports = [
        t for k, t in ROLE_TRANSPORTS.items() if k in keys and (t.endswith("http") or env.ws_url)
    ]
    if {"zk-trio-http", "zk-async-ws"} <= keys and env.ws_url:
        transports.append("trio-ws")
    if not transports:
        return
    n = cfg.roles_workers
    bench = BenchConfig(
        url=env.http_url,
        ws_url=env.ws_url or None,
        transports=tuple(transports),
        producers=n,
        consumers=n,
        time=cfg.roles_seconds * cfg.rounds,
        rounds=cfg.rounds,
        seed=cfg.seed,
        client_options={"project_id": PROJECT},
        server_pids=env.server_pids,
        progress=False,
    )
    results.bench.append(bench_run(bench))


def _refill(seeder: Seeder, queue: str) -> Callable[[], None]:
    # Each claim op takes 10 messages; put 10 back before it, outside the timing.
    return lambda: seeder.post(queue, 10)


def _check(scenario: str, sample: Sample) -> None:
    want = {"post1": 1, "post10": 10}.get(scenario, 10)
    if scenario == "concurrency":
        want = 1
    if sample.ops and sample.messages != want * sample.ops:
        raise RuntimeError(
            f"{scenario}: handled {sample.messages} messages in {sample.ops} ops, "
            f"expected {want} per op"
        )


# -- memory ---------------------------------------------------------------------------

MEMORY_KEYS = ("zk-http", "zk-async-http", "zk-ws", "zaqarclient")


def _memory_contenders(cfg: Config, contenders: list[Contender]) -> list[Contender]:
    keys = {c.key for c in contenders}
    return [BY_KEY[k] for k in MEMORY_KEYS if k in keys and k in cfg.contenders]


def _run_memory(
    env: Tier, cfg: Config, contenders: list[Contender], results: Results, progress: Progress
) -> None:
    """Each contender in its own process, so peak RSS is its own."""
    for c in _memory_contenders(cfg, contenders):
        progress.step(f"memory {c.key}")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks",
            "memory-child",
            c.key,
            env.http_url,
            env.ws_url,
            str(cfg.memory_messages),
            str(cfg.memory_windows),
        ]
        proc = subprocess.run(
            cmd, cwd=HERE.parent, capture_output=True, text=True, timeout=600, check=False
        )
        try:
            out = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            out = {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
        out.update(contender=c.key, label=c.label)
        results.memory.append(out)


def _peak_rss_kib() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child
    # would report its parent's peak.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def memory_child(key: str, http_url: str, ws_url: str, messages: int, windows: int) -> None:
    """Post ``messages`` messages (batches of 10) per window; report allocation growth."""
    import tracemalloc

    c = BY_KEY[key]
    target = Target("replay", http_url, ws_url, PROJECT, queue="b-memory")
    requests_per_window = messages // len(BATCH)
    current: list[int] = []
    rss: list[int] = []

    def sample() -> None:
        current.append(tracemalloc.get_traced_memory()[0])
        rss.append(_peak_rss_kib())

    if c.is_async:

        async def main() -> None:
            driver = await c.make(target)
            try:
                tracemalloc.start()
                for _ in range(windows):
                    for _ in range(requests_per_window):
                        await driver.post10()
                    sample()
            finally:
                await driver.aclose()

        import anyio

        anyio.run(main, backend=c.mode)
    else:
        driver = c.make(target)
        try:
            tracemalloc.start()
            for _ in range(windows):
                for _ in range(requests_per_window):
                    driver.post10()
                sample()
        finally:
            driver.close()
    # The first window warms caches (imports, pools, interned strings); growth
    # after it is what a long-running producer would keep accumulating.
    growth = [b - a for a, b in itertools.pairwise(current)]
    scale = 10_000 / messages
    print(
        json.dumps(
            {
                "messages_per_window": messages,
                "windows": windows,
                "traced_after_warmup_kib": current[0] / 1024,
                "growth_per_10k_kib": [g * scale / 1024 for g in growth],
                "mean_growth_per_10k_kib": statistics.mean(growth) * scale / 1024
                if growth
                else 0.0,
                "peak_rss_mib": [r / 1024 for r in rss],
            }
        )
    )
