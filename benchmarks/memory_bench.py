"""Memory over long runs: does a client's memory stay flat?

The ``memory`` scenario of ``python -m benchmarks`` only posts (batches of 10,
a few windows of 10,000 messages). This one runs a whole producer/consumer
life per client, each in its own process so its RSS is its own:

* four clients, ``zk-http`` (``Client`` over HTTP), ``zk-async-http``
  (``AsyncClient`` on asyncio), ``zk-ws`` and ``zk-async-ws`` (their WebSocket
  transports), each posting ``--messages`` messages (batches of 10) and
  consuming them (claim 10, delete the claimed ones by id) against the replay
  server (``benchmarks/replay.py``);
* one push consumer, ``push-zk-ws`` (sampled every ``--push-every``):
  ``WebSocketTransport.subscribe()`` fed
  ``--notifications`` notifications by a small push server of its own
  (``push-server`` below, websockets' asyncio server in another process).

Every ``--every`` messages (notifications) the child samples its RSS
(``VmRSS``) and ``tracemalloc``'s traced size. The first sample is the
warm-up (imports, connections, caches); growth is measured from it to the
last sample. Target: growth under 5 % of the warm-up value.

    python -m benchmarks.memory_bench                       # 100,000 / 20,000, ~3 min
    python -m benchmarks.memory_bench --messages 20000 --notifications 5000 --plot m.png

Writes ``memory.json`` and a Markdown table to ``--output`` (a folder,
default ``$TMPDIR/zaqarkit-memory``) and the plot (RSS and traced MiB over
messages, one line per client) to ``--plot`` (default in that folder). With
``--update-results`` (full sizes only) the table also goes to the committed
``benchmarks/MEMORY.md`` and the plot to ``benchmarks/plots/memory.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = "bench"
BATCH = [{"body": {"evt": "Wakeup", "n": i}, "ttl": 300} for i in range(10)]
CLIENTS = ("zk-http", "zk-async-http", "zk-ws", "zk-async-ws")
PUSH = "push-zk-ws"
#: Growth (last sample vs warm-up sample) under this fraction is "flat".
TARGET = 0.05


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _Sampler:
    def __init__(self) -> None:
        self.samples: list[dict[str, float]] = []
        self.start = time.perf_counter()

    def __call__(self, done: int) -> None:
        self.samples.append(
            {
                "messages": done,
                "rss_mib": _rss_kib() / 1024,
                "traced_mib": tracemalloc.get_traced_memory()[0] / 2**20,
                "seconds": time.perf_counter() - self.start,
            }
        )


# -- children -----------------------------------------------------------------------------


def _client_child(key: str, http_url: str, ws_url: str, messages: int, every: int) -> Any:
    from zaqarkit import AsyncClient, Client

    client_id = str(uuid.uuid4())
    sample = _Sampler()
    batches = messages // len(BATCH)
    per_sample = every // len(BATCH)
    tracemalloc.start()
    if key in ("zk-http", "zk-ws"):
        transport: Any = None
        if key == "zk-ws":
            from zaqarkit.transports.websocket import WebSocketTransport

            transport = WebSocketTransport(ws_url)
        url = ws_url if transport is not None else http_url
        with Client(url, project_id=PROJECT, client_id=client_id, transport=transport) as client:
            queue = client.queue("b-memory-long")
            for n in range(1, batches + 1):
                queue.post(BATCH)
                claim = queue.claim(ttl=300, grace=200, limit=10)
                queue.delete_messages(*[m.id for m in claim], claim_ids=[claim.id])
                if n % per_sample == 0:
                    sample(n * len(BATCH))
        return sample.samples

    async def main() -> None:
        transport: Any = None
        if key == "zk-async-ws":
            from zaqarkit.transports.websocket import AsyncWebSocketTransport

            transport = AsyncWebSocketTransport(ws_url)
        url = ws_url if transport is not None else http_url
        async with AsyncClient(
            url, project_id=PROJECT, client_id=client_id, transport=transport
        ) as client:
            queue = client.queue("b-memory-long")
            for n in range(1, batches + 1):
                await queue.post(BATCH)
                claim = await queue.claim(ttl=300, grace=200, limit=10)
                await queue.delete_messages(*[m.id for m in claim], claim_ids=[claim.id])
                if n % per_sample == 0:
                    sample(n * len(BATCH))

    asyncio.run(main())
    return sample.samples


def _push_child(push_url: str, notifications: int, every: int) -> Any:
    from zaqarkit.transports.websocket import WebSocketTransport

    sample = _Sampler()
    received = gaps = 0
    tracemalloc.start()
    with (
        WebSocketTransport(push_url, project_id=PROJECT, timeout=60) as transport,
        transport.subscribe("b-push", ttl=3600) as stream,
    ):
        while received < notifications:
            item = stream.get(timeout=60)
            if item.gap:
                gaps += 1
                received += getattr(item, "missed", 0) or 0
                continue
            received += 1
            if received % every == 0:
                sample(received)
    return {"samples": sample.samples, "gaps": gaps}


# -- the push server (its own process) ------------------------------------------------------


def push_server(count: int) -> None:
    """Answers a push ``subscription_create`` with 201, then pushes ``count``
    notifications on that socket; answers any other frame with 204."""
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    async def handler(ws: Any) -> None:
        with contextlib.suppress(ConnectionClosed):  # the consumer left mid-stream
            await serve_one(ws)

    async def serve_one(ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            action = frame.get("action")
            status, body = (
                (201, {"subscription_id": "s-1"}) if action == "subscription_create" else (204, {})
            )
            await ws.send(
                json.dumps({"request": frame, "headers": {"status": status}, "body": body})
            )
            if action == "subscription_create":
                queue = frame["body"]["queue_name"]
                for n in range(count):
                    await ws.send(
                        json.dumps(
                            {
                                "body": {"evt": "Wakeup", "n": n},
                                "ttl": 3600,
                                "queue_name": queue,
                                "Message_Type": "Notification",
                            }
                        )
                    )

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=None, max_queue=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            print(port, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


# -- the parent -------------------------------------------------------------------------------


@contextmanager
def _process(args: list[str]) -> Iterator[list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=HERE.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().split()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # both servers exit when their stdin closes
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _child(args: list[str]) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_bench", "child", *args],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}


def growth(samples: list[dict[str, float]], key: str) -> float | None:
    """Growth from the warm-up (first) sample to the last, as a fraction."""
    if len(samples) < 2 or not samples[0][key]:
        return None
    return samples[-1][key] / samples[0][key] - 1


def run(
    messages: int,
    notifications: int,
    every: int,
    push_every: int,
    progress: Callable[[str], None],
    only: tuple[str, ...] = (*CLIENTS, PUSH),
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "messages": messages,
        "notifications": notifications,
        "every": every,
        "push_every": push_every,
        "clients": {},
    }
    clients = [key for key in CLIENTS if key in only]
    if clients:
        with _process(["benchmarks.replay"]) as ports:
            http_url, ws_url = f"http://127.0.0.1:{ports[0]}", f"ws://127.0.0.1:{ports[1]}"
            for key in clients:
                progress(key)
                out = _child([key, http_url, ws_url, str(messages), str(every)])
                results["clients"][key] = out if isinstance(out, dict) else {"samples": out}
    if PUSH in only:
        progress(PUSH)
        with _process(["benchmarks.memory_bench", "push-server", str(notifications)]) as (port,):
            results["clients"][PUSH] = _child(
                [PUSH, f"ws://127.0.0.1:{port}", "", str(notifications), str(push_every)]
            )
    for out in results["clients"].values():
        samples = out.get("samples", [])
        out["rss_growth"] = growth(samples, "rss_mib")
        out["traced_growth"] = growth(samples, "traced_mib")
        out["flat"] = (
            None
            if out["rss_growth"] is None
            else (out["rss_growth"] < TARGET and (out["traced_growth"] or 0) < TARGET)
        )
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Memory: {results['messages']:,} messages posted and consumed per client, "
        f"{results['notifications']:,} push notifications; a sample every "
        f"{results['every']:,} messages ({results['push_every']:,} notifications); "
        "growth from the first (warm-up) sample to the last, "
        f"target < {TARGET:.0%}.",
        "",
        "| client | RSS MiB (warm-up -> last) | RSS growth | traced MiB (warm-up -> last) "
        "| traced growth | flat | s |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for key, out in results["clients"].items():
        samples = out.get("samples") or []
        if not samples:
            lines.append(f"| {key} | error: {out.get('error', 'no samples')} | | | | | |")
            continue
        first, last = samples[0], samples[-1]
        lines.append(
            f"| {key} | {first['rss_mib']:.1f} -> {last['rss_mib']:.1f} | "
            f"{out['rss_growth']:+.2%} | {first['traced_mib']:.2f} -> {last['traced_mib']:.2f} | "
            f"{out['traced_growth']:+.2%} | {'yes' if out['flat'] else 'NO'} | "
            f"{last['seconds']:.0f} |"
        )
    gaps = results["clients"].get(PUSH, {}).get("gaps")
    if gaps:
        lines.append(f"\n{PUSH}: {gaps} gap marker(s) (push buffer overflowed).")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (rss, traced) = plt.subplots(1, 2, figsize=(11, 4))
    for key, out in results["clients"].items():
        samples = out.get("samples") or []
        x = [s["messages"] for s in samples]
        rss.plot(x, [s["rss_mib"] for s in samples], marker="o", label=key)
        traced.plot(x, [s["traced_mib"] for s in samples], marker="o", label=key)
    rss.set(title="RSS", xlabel="messages (notifications for push)", ylabel="MiB")
    traced.set(
        title="tracemalloc traced size", xlabel="messages (notifications for push)", ylabel="MiB"
    )
    for ax in (rss, traced):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    traced.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "push-server":
        push_server(int(argv[1]))
        return 0
    if argv and argv[0] == "child":
        key, http_url, ws_url, count, every = argv[1:6]
        if key == PUSH:
            out: Any = _push_child(http_url, int(count), int(every))
        else:
            out = _client_child(key, http_url, ws_url, int(count), int(every))
        print(json.dumps(out))
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=10_000, help="messages between samples")
    parser.add_argument(
        "--push-every", type=int, default=2_000, help="notifications between samples"
    )
    parser.add_argument(
        "--only",
        action="append",
        help=f"run only these (comma-separated): {', '.join((*CLIENTS, PUSH))}",
    )
    parser.add_argument(
        "--output", type=Path, default=Path(tempfile.gettempdir()) / "zaqarkit-memory"
    )
    parser.add_argument("--plot", type=Path)
    parser.add_argument(
        "--update-results",
        action="store_true",
        help="write the committed benchmarks/MEMORY.md and "
        "benchmarks/plots/memory.png (a full run only)",
    )
    args = parser.parse_args(argv)
    full = (args.messages, args.notifications, args.every) == (100_000, 20_000, 10_000)
    if args.update_results and (not full or args.only):
        parser.error("--update-results needs the full run (default sizes, every client)")
    if args.every % len(BATCH) or args.every > args.messages:
        parser.error("--every must be a multiple of 10, at most --messages")
    if args.push_every > args.notifications:
        parser.error("--push-every must be at most --notifications")
    only = tuple(
        k for item in args.only or [",".join((*CLIENTS, PUSH))] for k in item.split(",") if k
    )
    for key in only:
        if key not in (*CLIENTS, PUSH):
            parser.error(f"unknown client {key!r}")
    results = run(
        args.messages,
        args.notifications,
        args.every,
        args.push_every,
        lambda key: print(f"memory: {key} ...", file=sys.stderr, flush=True),
        only,
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "memory.json").write_text(json.dumps(results, indent=1))
    text = markdown(results)
    (args.output / "memory.md").write_text(text)
    print(text)
    if args.update_results:
        (HERE / "MEMORY.md").write_text(
            "# Memory over long runs\n\nWritten by `python -m benchmarks.memory_bench "
            "--update-results`; do not edit by hand.\n\n"
            + text
            + "\n![RSS and traced size over messages](plots/memory.png)\n"
        )
        print(f"wrote {HERE / 'MEMORY.md'}")
    plot_path = args.plot or (
        HERE / "plots" / "memory.png" if args.update_results else args.output / "memory.png"
    )
    if plot(results, plot_path):
        print(f"wrote {plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
