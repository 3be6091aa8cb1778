"""The conductor: queues, interleaved turns, role processes, live progress, report."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from zaqarkit.bench._config import ROLES, TRANSPORTS, BenchConfig
from zaqarkit.bench._measure import ProcessCpu, interleave, saturation
from zaqarkit.bench._report import OpReport, Report, RoleReport, machine, merge_errors
from zaqarkit.bench._roles import OPERATIONS, RoleResult, RoleSpec, drain, role_main

__all__ = ["run"]

log = logging.getLogger("zaqarkit.bench")

#: How long role processes may take to start, connect and warm up.
READY_TIMEOUT = 120.0
#: In --messages mode, consumers stop when they consumed everything posted,
#: or when nothing was consumed for this long after the producers finished.
DRAIN_IDLE = 3.0


def run(config: BenchConfig) -> Report:
    """Run the benchmark ``config`` describes and return its :class:`Report`.

    The queues are created first (``prefix-0`` .. ``prefix-K-1``); the run
    refuses queues that already exist unless ``skip_queue_reset`` (then they
    are used as they are and left in place). Queues it created are deleted
    at the end unless ``keep_queues``.

    Example::

        report = run(BenchConfig(url="http://127.0.0.1:8888", producers=2, consumers=2,
                                 time=5))
        report.print()
        report.write_json("bench.json")
    """
    config.validate()
    seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    names = config.queue_names(tag=f"{rng.getrandbits(32):08x}")
    started = time.time()
    t0 = time.perf_counter()
    results: list[RoleResult] = []
    server_cpu: dict[str, list[dict[str, float]]] = defaultdict(list)
    client_cpu: dict[str, list[dict[str, float]]] = defaultdict(list)
    with _queues(config, names) as queues, _Display(config) as display:
        orders = interleave(config.transports, config.rounds, rng)
        turn = 0
        for rnd, order in enumerate(orders):
            for transport in order:
                turn += 1
                if turn > 1 and queues["created"] and not config.skip_queue_reset:
                    _purge(config, queues["created"])
                display.turn(rnd, transport)
                got, srv = _turn(config, transport, rnd, names, seed, display)
                results.extend(got)
                server_cpu[transport].append(srv)
                client_cpu[transport].append(_client_util(got))
    report = _build(config, seed, started, time.perf_counter() - t0, results, queues)
    for t in config.transports:
        report.server_cpu[t] = _mean_util(server_cpu[t])
        report.client_cpu[t] = _mean_util(client_cpu[t])
        server = dict(report.server_cpu[t])
        machine_busy = server.pop("(machine)", None)
        report.machine_cpu[t] = machine_busy
        report.server_cpu[t] = server
        if config.server_pids or report.client_cpu[t]:
            report.saturation[t] = saturation(report.client_cpu[t], server, machine=machine_busy)
    return report


# -- queues ---------------------------------------------------------------------------


def _admin(config: BenchConfig) -> Any:
    from zaqarkit import Client

    opts = dict(config.client_options)
    opts.setdefault("version", config.api_version)
    return Client(config.url or config.ws_url, **opts)


@contextlib.contextmanager
def _queues(config: BenchConfig, names: list[str]) -> Iterator[dict[str, list[str]]]:
    """Create the run's queues; delete (only) those it created afterwards."""
    from zaqarkit.errors import ValidationError

    record: dict[str, list[str]] = {"names": names, "created": [], "reused": [], "deleted": []}
    with _admin(config) as cli:
        for name in names:
            q = cli.queue(name, auto_create=False)
            if q.exists():
                if not config.skip_queue_reset:
                    raise ValidationError(
                        "queue_prefix",
                        f"queue {name!r} already exists: pass another prefix, "
                        "or skip_queue_reset to use it as it is",
                    )
                record["reused"].append(name)
                continue
            q.ensure_exists(force_create=True)
            record["created"].append(name)
        try:
            yield record
        finally:
            if not config.keep_queues:
                for name in record["created"]:
                    try:
                        cli.queue(name, auto_create=False).delete()
                        record["deleted"].append(name)
                    except Exception as exc:  # report what is left, carry on
                        log.warning("could not delete queue %s: %r", name, exc)


def _purge(config: BenchConfig, names: list[str]) -> None:
    # Between turns, so that a transport does not start on its predecessor's
    # backlog; only queues this run created.
    with _admin(config) as cli:
        for name in names:
            cli.queue(name, auto_create=False).purge()


# -- one turn: every role process of one transport -------------------------------------


def _specs(
    config: BenchConfig, transport: str, rnd: int, names: list[str], seed: int
) -> list[RoleSpec]:
    pool = config.message_pool()
    duration = None if config.time is None else config.time / config.rounds
    quotas: list[int | None] = [None] * config.processes
    if config.messages is not None:
        # --messages N is per transport: split over rounds, then processes.
        per_round = config.messages // config.rounds + (rnd < config.messages % config.rounds)
        quotas = [
            per_round // config.processes + (i < per_round % config.processes)
            for i in range(config.processes)
        ]
    specs: list[RoleSpec] = []
    for role in ROLES:
        workers = config.workers(role)
        if not workers:
            continue
        for i in range(config.processes):
            specs.append(
                RoleSpec(
                    role=role,
                    transport=transport,
                    index=i,
                    workers=workers,
                    url=config.url,
                    ws_url=config.ws_url,
                    api_version=str(config.api_version),
                    client_options=dict(config.client_options),
                    queues=names,
                    pool=pool,
                    claim_batch=config.claim_batch,
                    claim_ttl=config.claim_ttl,
                    claim_grace=config.claim_grace,
                    list_page=config.list_page,
                    duration=duration,
                    quota=quotas[i] if role == "producer" else None,
                    warmup=config.warmup,
                    seed=seed + 7919 * rnd + 104729 * len(specs),
                )
            )
    return specs


def _turn(
    config: BenchConfig, transport: str, rnd: int, names: list[str], seed: int, display: _Display
) -> tuple[list[RoleResult], dict[str, float]]:
    # spawn, not fork: the parent may hold threads (a WebSocket transport's
    # reader) and locks that a forked child would inherit half-taken.
    ctx = mp.get_context("spawn")
    out: Any = ctx.Queue()
    go: Any = ctx.Event()
    stop: Any = ctx.Event()
    specs = _specs(config, transport, rnd, names, seed)
    procs = [
        ctx.Process(
            target=role_main,
            args=(s, out, go, stop),
            daemon=True,
            name=f"zaqarkit-bench-{s.role}-{s.index}",
        )
        for s in specs
    ]
    results: list[RoleResult] = []
    server: dict[str, float] = {}
    try:
        for p in procs:
            p.start()
        ready = 0
        deadline = time.monotonic() + READY_TIMEOUT
        while ready < len(specs):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{transport}: role processes did not get ready in time")
            for item in drain(out, 0.5):
                if item[0] == "ready":
                    ready += 1
                elif item[0] == "result":
                    results.append(item[1])
            dead = [p for p in procs if p.exitcode is not None]
            if len(dead) > len(results):
                # Died before it could report (an import error, or a script
                # without `if __name__ == "__main__":` re-run by spawn).
                raise RuntimeError(
                    f"{transport}: a role process exited with status {dead[0].exitcode} "
                    "before it was ready; see its error above"
                )
        cpu = ProcessCpu(config.server_pids)
        go.set()
        display.go(len(specs))
        producers_done_at: float | None = None
        last_change, last_consumed = time.monotonic(), -1
        while len(results) < len(specs):
            for item in drain(out, 0.25):
                if item[0] == "progress":
                    display.progress(transport, *item[1:])
                elif item[0] == "result":
                    results.append(item[1])
            if not any(p.is_alive() for p in procs) and len(results) < len(specs):
                # A child died without reporting (killed): do not wait for it.
                for item in drain(out, 1.0):
                    if item[0] == "result":
                        results.append(item[1])
                break
            if config.messages is not None and not stop.is_set():
                posted = sum(r.messages for r in results if r.role == "producer")
                if producers_done_at is None and sum(r.role == "producer" for r in results) == sum(
                    s.role == "producer" for s in specs
                ):
                    producers_done_at = time.monotonic()
                if producers_done_at is not None:
                    consumed = display.consumed(transport)
                    if consumed != last_consumed:
                        last_consumed, last_change = consumed, time.monotonic()
                    if (
                        consumed >= posted
                        or not config.consumers
                        or time.monotonic() - last_change > DRAIN_IDLE
                    ):
                        stop.set()
        server = cpu.utilization()
        busy = cpu.machine_busy()
        if busy is not None:
            server["(machine)"] = busy
    finally:
        stop.set()
        go.set()
        for p in procs:
            if p.pid is None:
                continue
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
        out.close()
    for s in specs:
        if not any((r.role, r.index) == (s.role, s.index) for r in results):
            lost = RoleResult(s.role, transport, s.index, s.workers)
            lost.fatal = "the process ended without a result"
            results.append(lost)
    return results, server


def _client_util(results: list[RoleResult]) -> dict[str, float]:
    return {f"{r.transport}-{r.role}-{r.index}": r.cpu / r.wall for r in results if r.wall > 0}


def _mean_util(samples: list[dict[str, float]]) -> dict[str, float]:
    sums: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        for k, v in s.items():
            sums[k].append(v)
    return {k: sum(v) / len(v) for k, v in sums.items()}


# -- the report -------------------------------------------------------------------------


def _build(
    config: BenchConfig,
    seed: int,
    started: float,
    elapsed: float,
    results: list[RoleResult],
    queues: dict[str, list[str]],
) -> Report:
    cfg = asdict(config)
    # Credentials never go into a report: keep the option names only.
    cfg["client_options"] = sorted(config.client_options)
    report = Report(
        cfg, machine(), started, elapsed, list(config.transports), seed=seed, queues=queues
    )
    for transport in config.transports:
        for role in ROLES:
            mine = [r for r in results if r.transport == transport and r.role == role]
            if not mine:
                continue
            # Processes of a role run side by side: a round's wall time is its
            # slowest process; rounds add up.
            by_round: dict[int, float] = defaultdict(float)
            for n, r in enumerate(mine):
                key = n // config.processes
                by_round[key] = max(by_round[key], r.wall)
            wall = sum(by_round.values())
            lat: dict[str, list[int]] = {op: [] for op in OPERATIONS[role]}
            errors: dict[str, Counter[str]] = {op: Counter() for op in OPERATIONS[role]}
            for r in mine:
                for op in OPERATIONS[role]:
                    lat[op].extend(r.lat_ns.get(op, ()))
                    errors[op].update(r.errors.get(op, Counter()))
            ops = sum(len(v) for v in lat.values())
            cpu = sum(r.cpu for r in mine)
            messages = sum(r.messages for r in mine)
            by_type = merge_errors(errors.values())
            report.roles.append(
                RoleReport(
                    transport=transport,
                    role=role,
                    processes=config.processes,
                    workers=config.workers(role),
                    ops=ops,
                    errors=sum(by_type.values()),
                    messages=messages,
                    wall_s=wall,
                    cpu_s=cpu,
                    ops_per_s=ops / wall if wall > 0 else 0.0,
                    messages_per_s=messages / wall if wall > 0 else 0.0,
                    cpu_us_per_op=cpu / ops * 1e6 if ops else float("nan"),
                    client_cores=cpu / wall if wall > 0 else 0.0,
                    empty_claims=sum(r.empty_claims for r in mine),
                    operations={
                        op: OpReport.of(lat[op], sum(errors[op].values()), wall)
                        for op in OPERATIONS[role]
                    },
                    errors_by_type=by_type,
                    failures=[r.fatal for r in mine if r.fatal],
                )
            )
    return report


# -- live progress -------------------------------------------------------------------------


class _Display:
    """A rich live table while the run goes (plain lines without rich or a tty)."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.enabled = config.progress
        self.counts: dict[tuple[str, str, int], tuple[int, int, int]] = {}
        self.live: Any = None
        self.current = ""
        self.turn_started = time.perf_counter()
        self.last_plain = 0.0
        self.turns = len(config.transports) * config.rounds
        self.n = 0

    def __enter__(self) -> _Display:
        if self.enabled and sys.stderr.isatty():
            try:
                from rich.console import Console
                from rich.live import Live
            except ImportError:
                pass
            else:
                self.live = Live(
                    self._render(),
                    console=Console(stderr=True),
                    refresh_per_second=4,
                    transient=True,
                )
                self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def turn(self, rnd: int, transport: str) -> None:
        self.n += 1
        self.turn_started = time.perf_counter()
        self.current = f"round {rnd + 1}/{self.config.rounds}: {transport} (starting)"
        self._refresh()

    def go(self, processes: int) -> None:
        self.turn_started = time.perf_counter()
        self.current = self.current.replace("(starting)", f"({processes} processes)")
        self._refresh()

    def progress(
        self, transport: str, role: str, index: int, ops: int, messages: int, errors: int
    ) -> None:
        self.counts[(transport, role, index)] = (ops, messages, errors)
        self._refresh()

    def consumed(self, transport: str) -> int:
        return sum(v[1] for k, v in self.counts.items() if k[0] == transport and k[1] == "consumer")

    def _totals(self) -> dict[tuple[str, str], list[int]]:
        totals: dict[tuple[str, str], list[int]] = {}
        for (t, role, _), (ops, msgs, errs) in self.counts.items():
            row = totals.setdefault((t, role), [0, 0, 0])
            row[0] += ops
            row[1] += msgs
            row[2] += errs
        return totals

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(
            title=f"zaqarkit bench — {self.current} — turn {self.n}/{self.turns}, "
            f"{time.perf_counter() - self.turn_started:.0f} s"
        )
        for h in ("transport", "role", "ops", "messages", "errors"):
            table.add_column(h, justify="left" if h in ("transport", "role") else "right")
        for (t, role), (ops, msgs, errs) in sorted(self._totals().items()):
            table.add_row(t, role, f"{ops:,}", f"{msgs:,}", f"{errs:,}")
        return table

    def _refresh(self) -> None:
        if not self.enabled:
            return
        if self.live is not None:
            self.live.update(self._render())
            return
        now = time.perf_counter()
        if now - self.last_plain < 2.0:
            return
        self.last_plain = now
        parts = [
            f"{t} {role}: {ops:,} ops, {errs} errors"
            for (t, role), (ops, _, errs) in sorted(self._totals().items())
        ]
        sys.stderr.write(f"[{self.current}] " + "; ".join(parts) + "\n")
        sys.stderr.flush()


def transports_of(text: str) -> tuple[str, ...]:
    """``"http,ws"`` -> ``("http", "ws")``; ``"all"`` for every transport."""
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    return tuple(TRANSPORTS) if items == ("all",) else items
