"""Consumer and producer benchmarks against a real Zaqar: ratios from one run.

    python -m benchmarks.consumer_bench                 # starts its own Zaqar
    python -m benchmarks.consumer_bench --messages 2000 --rounds 1 --latency-samples 10
    python -m benchmarks.consumer_bench --url http://127.0.0.1:8888 --ws-url ws://127.0.0.1:9000

Three comparisons, each contender interleaved with its baseline round by
round on the same server (client and server share the machine, so only the
ratios are meaningful, never the absolute figures across runs):

1. consumer throughput (messages/s, claim to delete, end to end):
   ``queue.consume()`` with 4 handlers against a hand-written sequential
   claim(20) + delete-many loop; target >= 0.9x;
2. latency from post to handler, p50: a push-woken WebSocket consumer against
   a consumer polling once a second; target: well below;
3. producer throughput: ``post_many()`` and ``queue.producer()`` against one
   message per request (target: many times higher) and against hand-packed
   batches of 10 (target >= 0.9x).

Logs on ``zaqarkit.bench``. Nothing here is a test: no figure is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from zaqarkit import Client

log = logging.getLogger("zaqarkit.bench")

BATCH = 20  # Zaqar's default max_messages_per_claim_or_pop


def _queue(client: Client) -> Any:
    queue = client.queue("bench-" + uuid.uuid4().hex[:10])
    queue.ensure_exists()
    return queue


def _fill(queue: Any, count: int) -> None:
    queue.post_many({"body": {"n": n, "pad": "x" * 64}, "ttl": 3_600} for n in range(count))


# -- 1. consumer throughput ----------------------------------------------------------


def hand_loop(queue: Any, count: int) -> float:
    """What everyone writes by hand: claim a batch, delete it, repeat."""
    done = 0
    start = time.perf_counter()
    while done < count:
        claim = queue.claim(ttl=60, grace=60, limit=BATCH)
        ids = [m.id for m in claim]
        if not ids:
            continue
        queue.delete_messages(*ids, claim_ids=[claim.id])
        done += len(ids)
    return count / (time.perf_counter() - start)


def consumer_run(queue: Any, count: int, **options: Any) -> float:
    handled = [0]
    lock = threading.Lock()

    def handler(delivery: Any) -> None:
        with lock:
            handled[0] += 1
            if handled[0] >= count:
                delivery.consumer.stop()

    start = time.perf_counter()
    queue.consume(
        handler,
        concurrency=4,
        batch=BATCH,
        max_in_flight=2 * BATCH,
        poll_initial=0.01,
        poll_max=0.05,
        **options,
    )
    elapsed = time.perf_counter() - start
    return count / elapsed


def bench_consumer(client: Client, count: int, rounds: int) -> dict[str, list[float]]:
    contenders: dict[str, Callable[[Any, int], float]] = {
        "hand claim+delete-many loop": hand_loop,
        "queue.consume (4 handlers)": consumer_run,
        "queue.consume, delete_claims=False": lambda q, n: consumer_run(q, n, delete_claims=False),
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            queue = _queue(client)
            _fill(queue, count)
            results[name].append(run(queue, count))
            queue.delete()
    return results


def _paired(results: dict[str, list[float]], base: str) -> dict[str, tuple[float, float]]:
    """Median msg/s, and the median of per-round ratios to ``base`` (each round
    runs every contender back to back, so a ratio is immune to slow drifts in
    the load of the machine)."""
    return {
        name: (
            statistics.median(values),
            statistics.median(v / b for v, b in zip(values, results[base], strict=True)),
        )
        for name, values in results.items()
    }


# -- 2. latency from post to handler ----------------------------------------------------


def _latencies(
    consumer_client: Client, poster: Client, samples: int, **options: Any
) -> list[float]:
    queue = _queue(consumer_client)
    target = poster.queue(queue.name, auto_create=False)
    seen: dict[int, float] = {}
    ready = threading.Event()

    def run() -> None:
        with queue.consumer(**options) as consumer:
            ready.set()
            for delivery in consumer:
                seen[delivery.body["n"]] = time.perf_counter()
                delivery.ack()
                if len(seen) >= samples:
                    consumer.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    time.sleep(1.5)  # let the first empty claim and the push subscription settle
    sent: dict[int, float] = {}
    for n in range(samples):
        # Irregular spacing, so the polling consumer is not phase-locked to posts.
        time.sleep(0.3 + (n * 0.37) % 0.9)
        sent[n] = time.perf_counter()
        target.post([{"body": {"n": n}, "ttl": 600}])
    thread.join(60)
    queue.delete()
    return [seen[n] - sent[n] for n in sent if n in seen]


def bench_latency(ws: Client, http: Client, samples: int) -> dict[str, float]:
    push = _latencies(ws, http, samples, push=True, push_poll=30.0)
    poll = _latencies(http, http, samples, push=False, poll_initial=1.0, poll_max=1.0)
    return {
        "push-woken consumer (WebSocket) p50 ms": statistics.median(push) * 1000,
        "1 s polling consumer (HTTP) p50 ms": statistics.median(poll) * 1000,
    }


# -- 3. producer throughput ---------------------------------------------------------------


def _payloads(count: int) -> list[dict[str, Any]]:
    return [{"body": {"n": n, "pad": "y" * (n % 200)}, "ttl": 3_600} for n in range(count)]


def one_per_request(queue: Any, messages: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for message in messages:
        queue.post([message])
    return len(messages) / (time.perf_counter() - start)


def hand_packed(queue: Any, messages: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for i in range(0, len(messages), 10):
        queue.post(messages[i : i + 10])
    return len(messages) / (time.perf_counter() - start)


def post_many(queue: Any, messages: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    queue.post_many(messages)
    return len(messages) / (time.perf_counter() - start)


def producer(queue: Any, messages: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    with queue.producer() as p:
        for message in messages:
            p.send(message)
    return len(messages) / (time.perf_counter() - start)


def bench_producer(client: Client, count: int, rounds: int) -> dict[str, list[float]]:
    messages = _payloads(count)
    contenders = {
        "one message per request": one_per_request,
        "hand-packed batches of 10": hand_packed,
        "queue.post_many": post_many,
        "queue.producer": producer,
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            queue = _queue(client)
            # One-per-request is slow: it gets a fifth of the messages.
            subset = messages[: max(1, count // 5)] if name.startswith("one") else messages
            results[name].append(run(queue, subset))
            queue.delete()
    return results


# -- driver ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _server(url: str | None, ws_url: str | None) -> Iterator[tuple[str, str]]:
    if url is not None and ws_url is not None:
        yield url, ws_url
        return
    from zaqarkit.testing import ZaqarServer

    with ZaqarServer() as srv:
        yield srv.url, srv.ws_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running no-auth Zaqar (HTTP)")
    parser.add_argument("--ws-url", help="its WebSocket endpoint")
    parser.add_argument("--messages", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-samples", type=int, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    project = "bench-" + uuid.uuid4().hex[:8]
    with (
        _server(args.url, args.ws_url) as (url, ws_url),
        Client(url, project_id=project) as http,
        Client(ws_url, project_id=project) as ws,
    ):
        consumer = bench_consumer(http, args.messages, args.rounds)
        latency = bench_latency(ws, http, args.latency_samples)
        produced = bench_producer(http, args.messages, args.rounds)

    print(
        f"\n1. consumer throughput, {args.messages} messages, {args.rounds} interleaved "
        "rounds: median msg/s, median of per-round ratios"
    )
    for name, (rate, ratio) in _paired(consumer, "hand claim+delete-many loop").items():
        print(f"   {name:38s} {rate:8.0f} msg/s  {ratio:5.2f}x")
    print(f"\n2. post -> handler latency, {args.latency_samples} messages")
    for name, value in latency.items():
        print(f"   {name:38s} {value:8.1f}")
    push, poll = latency.values()
    print(f"   push / polling p50: {push / poll:.3f}")
    print(f"\n3. producer throughput, {args.messages} messages (one-per-request: a fifth)")
    one = _paired(produced, "one message per request")
    ten = _paired(produced, "hand-packed batches of 10")
    for name, (rate, ratio) in one.items():
        print(
            f"   {name:38s} {rate:8.0f} msg/s  {ratio:6.1f}x one-per-request  "
            f"{ten[name][1]:5.2f}x batches of 10"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
