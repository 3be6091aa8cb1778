"""A chaos run: consumers killed and restarted, Zaqar's servers restarted, and
an account of every message.

    python -m benchmarks.chaos [--seconds 60] [--rate 40]

One real Zaqar (HTTP and WebSocket, redis kept running) from
:mod:`zaqarkit.testing`; six consumer processes, one per loop and wire (sync,
asyncio and trio, over HTTP and over WebSocket), each logging the number of
every message its handler ran for; a producer posting numbered messages over
HTTP and WebSocket in turn. While it posts, every few seconds one of these
happens: a consumer is SIGKILLed and replaced, a consumer is SIGTERMed
(graceful stop) and replaced, the WebSocket server is killed and restarted,
the HTTP server is restarted gracefully or killed and restarted. Then the
chaos stops and the queue drains.

At the end it reports messages posted, handled, lost (posted, never handled:
must be 0), duplicates and, for each duplicate, the fate of the consumer that
first handled it (a SIGKILLed consumer's unacknowledged deliveries come back
once their claim expires: at-least-once), the consumers' own counters, and
whether every live WebSocket consumer has its push subscription at the end.
Exit status 1 when a message was lost or a live WebSocket consumer is
without push.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

PROJECT = "chaos"
ROLES = [(loop, wire) for loop in ("sync", "asyncio", "trio") for wire in ("http", "ws")]
#: Zaqar's shortest claim: a killed consumer's messages come back a minute later.
CLAIM = {"ttl": 60, "grace": 60}


# -- one consumer process ---------------------------------------------------------


def _consumer_main(args: argparse.Namespace) -> int:
    """Consume ``args.queue`` until SIGTERM, logging each handled message."""
    from zaqarkit import AsyncClient, Client

    url = args.ws if args.wire == "ws" else args.http
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    status = Path(args.status)
    options: dict[str, Any] = {"batch": 10, **CLAIM, "stall_after": 30}

    def record(n: int) -> None:
        log.write(f"{n}\n")  # written before the handler returns: before the ack

    def publish(consumer: Any) -> None:
        health = consumer.health()
        state = {"stats": asdict(consumer.stats), "push_active": health.push_active}
        tmp = status.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(status)

    if args.loop == "sync":
        with Client(url, project_id=PROJECT) as cli:
            queue = cli.queue(args.queue)

            def handle(delivery: Any) -> None:
                time.sleep(0.005)
                record(delivery.body["n"])

            with queue.consumer(**options) as c:
                stop = threading.Event()
                # The handler only sets an event; a thread stops the consumer
                # (a signal handler must not take the consumer's locks).
                signal.signal(signal.SIGTERM, lambda *_: stop.set())

                def report() -> None:
                    while not stop.wait(0.5):
                        publish(c)
                    c.stop()

                threading.Thread(target=report, daemon=True).start()
                for delivery in c:
                    handle(delivery)
                    delivery.ack()
                publish(c)
        return 0

    import anyio

    async def main() -> None:
        async with AsyncClient(url, project_id=PROJECT) as cli:
            queue = cli.queue(args.queue)
            async with queue.consumer(**options) as c, anyio.create_task_group() as tasks:

                async def on_signal() -> None:
                    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                        async for _ in signals:
                            c.stop()
                            return

                async def report() -> None:
                    while True:
                        publish(c)
                        await anyio.sleep(0.5)

                tasks.start_soon(on_signal)
                tasks.start_soon(report)
                async for delivery in c:
                    await anyio.sleep(0.005)
                    record(delivery.body["n"])
                    await delivery.ack()
                publish(c)
                tasks.cancel_scope.cancel()

    anyio.run(main, backend=args.loop)
    return 0


# -- the run --------------------------------------------------------------------


class _Incarnation:
    """One consumer process and what became of it."""

    def __init__(self, role: tuple[str, str], folder: Path, index: int, servers: Any, queue: str):
        self.role = role
        self.log = folder / f"c{index}-{role[0]}-{role[1]}.log"
        self.status = folder / f"c{index}.json"
        self.fate = "running"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.chaos",
                "consumer",
                "--loop",
                role[0],
                "--wire",
                role[1],
                "--http",
                servers.url,
                "--ws",
                servers.ws_url,
                "--queue",
                queue,
                "--log",
                str(self.log),
                "--status",
                str(self.status),
            ],
            stderr=open(folder / f"c{index}.err", "w"),  # noqa: SIM115
        )

    def handled(self) -> list[int]:
        if not self.log.exists():
            return []
        return [int(line) for line in self.log.read_text().split() if line]

    def state(self) -> dict[str, Any]:
        with contextlib.suppress(OSError, ValueError):
            return dict(json.loads(self.status.read_text()))
        return {}


def run(seconds: float, rate: float, seed: int) -> int:
    from zaqarkit import Client
    from zaqarkit.testing import ZaqarServer

    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="zaqarkit-chaos-"))
    queue = f"chaos-{uuid.uuid4().hex[:8]}"
    posted: list[int] = []
    events: list[str] = []
    with ZaqarServer() as servers:
        with Client(servers.url, project_id=PROJECT) as admin:
            admin.queue(queue).ensure_exists()
        consumers = [_Incarnation(role, folder, i, servers, queue) for i, role in enumerate(ROLES)]
        spawned = len(consumers)
        stop_posting = threading.Event()

        def produce() -> None:
            clients = [
                Client(servers.url, project_id=PROJECT, retries=8),
                Client(servers.ws_url, project_id=PROJECT, retries=8),
            ]
            n = 0
            try:
                while not stop_posting.is_set():
                    batch = list(range(n, n + 10))
                    client = clients[(n // 10) % 2]
                    try:
                        client.queue(queue).post([{"body": {"n": i}, "ttl": 3600} for i in batch])
                    except (
                        Exception
                    ) as exc:  # a restart mid-post: the batch may or may not be stored
                        events.append(f"post of {batch[0]}..{batch[-1]} failed: {exc!r}")
                    else:
                        posted.extend(batch)
                    n += 10
                    time.sleep(10 / rate)
            finally:
                for client in clients:
                    client.close()

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        actions = [
            "kill-consumer",
            "term-consumer",
            "kill-ws",
            "restart-http",
            "restart-ws",
            "kill-http",
        ]
        began = time.monotonic()
        step = 0
        while time.monotonic() - began < seconds:
            time.sleep(4)
            action = actions[step % len(actions)]
            step += 1
            if action.endswith("consumer"):
                victim = rng.choice([c for c in consumers if c.fate == "running"])
                killing = action == "kill-consumer"
                victim.proc.send_signal(signal.SIGKILL if killing else signal.SIGTERM)
                victim.proc.wait(timeout=60)
                victim.fate = "SIGKILLed" if killing else "SIGTERMed"
                consumers.append(_Incarnation(victim.role, folder, spawned, servers, queue))
                spawned += 1
                events.append(f"{action}: {victim.role} -> replaced")
            elif action == "kill-ws":
                servers.restart_websocket(kill=True)
                events.append("WebSocket server SIGKILLed and restarted")
            elif action == "restart-ws":
                servers.restart_websocket()
                events.append("WebSocket server restarted gracefully")
            elif action == "restart-http":
                servers.restart_http()
                events.append("HTTP server restarted gracefully")
            else:
                servers.restart_http(kill=True)
                events.append("HTTP server SIGKILLed and restarted")
        stop_posting.set()
        producer.join(timeout=120)
        # Drain: everything posted is handled and acked (a killed consumer's
        # claims expire within CLAIM's ttl, then live consumers take them).
        with Client(servers.url, project_id=PROJECT, retries=8) as admin:
            deadline = time.monotonic() + 180
            while admin.queue(queue).stats().total and time.monotonic() < deadline:
                time.sleep(1)
            left = admin.queue(queue).stats().total
        time.sleep(3)  # the consumers publish their state every 0.5 s
        live = [c for c in consumers if c.fate == "running"]
        states = {id(c): c.state() for c in live}
        for c in live:
            c.proc.send_signal(signal.SIGTERM)
        for c in live:
            try:
                c.proc.wait(timeout=60)
                c.fate = "running at the end (SIGTERMed)"
            except subprocess.TimeoutExpired:
                c.proc.kill()
                c.fate = "running at the end (did not stop in 60 s: SIGKILLed)"

    return _report(consumers, states, posted, left, events, folder)


def _report(
    consumers: list[_Incarnation],
    states: dict[int, dict[str, Any]],
    posted: list[int],
    left: int,
    events: list[str],
    folder: Path,
) -> int:
    first_by: dict[int, _Incarnation] = {}
    counts: collections.Counter[int] = collections.Counter()
    for c in consumers:
        for n in c.handled():
            counts[n] += 1
            first_by.setdefault(n, c)
    lost = sorted(set(posted) - set(counts))
    duplicates = {n: k - 1 for n, k in counts.items() if k > 1}
    why: collections.Counter[str] = collections.Counter(
        f"first handled by a consumer that was {first_by[n].fate}" for n in duplicates
    )
    totals: collections.Counter[str] = collections.Counter()
    for c in consumers:
        stats = c.state().get("stats", {})
        totals.update({k: v for k, v in stats.items() if isinstance(v, int)})
    print("## Chaos run\n")
    for event in events:
        print(f"- {event}")
    print(f"\nposted {len(posted)}, handled {sum(counts.values())} ({len(counts)} distinct),")
    extra = sum(duplicates.values())
    print(f"lost {len(lost)}, left in the queue {left}, duplicate handlings {extra}")
    for reason, number in why.most_common():
        print(f"  {number} duplicates {reason}")
    print("\nconsumers' counters (all incarnations, as last published):")
    keys = ("delivered", "acked", "redeliveries_noticed", "release_failures", "ack_failures")
    more = ("renewal_failures", "push_failures", "push_losses", "stalls", "reconnects")
    print("  " + ", ".join(f"{k} {totals.get(k, 0)}" for k in keys + more))
    push_ok = True
    print("\nlive WebSocket consumers at the end:")
    for c in consumers:
        if c.role[1] == "ws" and id(c) in states:
            active = states[id(c)].get("push_active")
            push_ok = push_ok and active is True
            print(f"  {c.role[0]}: push_active={active}")
    print(f"\nlogs: {folder}")
    if lost:
        print(f"LOST: {lost[:20]}")
    return 0 if not lost and push_ok and left == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("consumer", help="(internal) one consumer process")
    for name in ("--loop", "--wire", "--http", "--ws", "--queue", "--log", "--status"):
        child.add_argument(name, required=True)
    parser.add_argument("--seconds", type=float, default=60.0, help="chaos duration")
    parser.add_argument("--rate", type=float, default=40.0, help="messages posted per second")
    parser.add_argument("--seed", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command == "consumer":
        return _consumer_main(args)
    return run(args.seconds, args.rate, args.seed)


if __name__ == "__main__":
    sys.exit(main())
