"""Producer/consumer pair on the real server: time from post to consume.

One producer (a zaqarkit ``Client`` over HTTP, in a thread) posts one message
every ``pubsub_interval`` seconds carrying ``perf_counter_ns()`` taken just
before the post. The consumer, in the main thread, is one of:

* ``poll-http``: zaqarkit ``Client`` over HTTP claiming in a tight loop (no
  sleep: the best latency polling can give, at the price of server load),
  deleting what it claimed in one request;
* ``push-zk-ws``: zaqarkit's WebSocket transport, ``transport.subscribe()``;
* ``push-websockets``: the plain websockets client sending Zaqar's
  ``subscription_create`` frame by hand and reading notifications.

Latency is consume time minus post-start time; both clocks are the same
process's monotonic clock. Rounds alternate the consumers (shuffled), and the
first messages of each round are discarded as warm-up.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from benchmarks.contenders import Contender
from benchmarks.model import PROJECT, Config, Results, Row, Sample, Tier

WARMUP_MESSAGES = 5
CLIENT_ID = "6c1f5b0e-7d3a-4c71-9b0f-2f0a1d7e4b22"


def _producer(
    url: str, queue: str, stop: threading.Event, interval: float, posted: list[int]
) -> None:
    from zaqarkit import Client

    with Client(url, project_id=PROJECT, client_id=CLIENT_ID) as cli:
        q = cli.queue(queue, auto_create=False)
        while not stop.is_set():
            t = time.perf_counter_ns()
            q.post({"body": {"t": t}, "ttl": 300})
            posted.append(t)
            time.sleep(interval)


def _consume_poll(env: Tier, queue: str, until: Callable[[], bool], lat: list[int]) -> None:
    from zaqarkit import Client

    with Client(env.http_url, project_id=PROJECT) as cli:
        q = cli.queue(queue, auto_create=False)
        while not until():
            claim = q.claim(ttl=60, grace=60, limit=10)
            now = time.perf_counter_ns()
            if len(claim):
                lat.extend(now - m.body["t"] for m in claim)
                q.delete_messages(*[m.id for m in claim], claim_ids=[claim.id])


def _consume_push_zk(
    env: Tier, queue: str, until: Callable[[], bool], lat: list[int], ready: threading.Event
) -> None:
    from zaqarkit import Client
    from zaqarkit.transports.websocket import WebSocketTransport  # type: ignore

    transport = WebSocketTransport(env.ws_url, project_id=PROJECT)
    with Client(env.ws_url, project_id=PROJECT, transport=transport) as cli:
        stream = cli.transport().subscribe(queue, ttl=3600)  # type: ignore[attr-defined]
        ready.set()
        try:
            while not until():
                try:
                    note = stream.get(timeout=0.2)
                except Exception:  # the stream's timeout: poll the stop condition
                    continue
                now = time.perf_counter_ns()
                if isinstance(note.body, dict) and "t" in note.body:
                    lat.append(now - note.body["t"])
        finally:
            stream.close()


def _consume_push_plain(
    env: Tier, queue: str, until: Callable[[], bool], lat: list[int], ready: threading.Event
) -> None:
    from websockets.sync.client import connect

    headers = {"Client-ID": CLIENT_ID, "X-Project-ID": PROJECT}
    with connect(env.ws_url, compression=None) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "subscription_create",
                    "headers": headers,
                    "body": {"queue_name": queue, "ttl": 3600},
                }
            )
        )
        ready.set()
        while not until():
            try:
                frame = ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            now = time.perf_counter_ns()
            doc = json.loads(frame)
            if doc.get("Message_Type") == "Notification":
                lat.append(now - doc["body"]["t"])


def _modes(contenders: list[Contender], env: Tier) -> list[tuple[str, str, Any]]:
    keys = {c.key for c in contenders}
    modes: list[tuple[str, str, Any]] = [("poll-http", "zaqarkit Client, HTTP claim polling", None)]
    if env.ws_url and "zk-ws" in keys:
        modes.append(("push-zk-ws", "zaqarkit WebSocket push", _consume_push_zk))
    if env.ws_url and "websockets" in keys:
        modes.append(("push-websockets", "plain websockets push", _consume_push_plain))
    return modes


def run_pubsub(
    env: Tier,
    cfg: Config,
    contenders: list[Contender],
    results: Results,
    step: Callable[[str], None],
) -> None:
    modes = _modes(contenders, env)
    rows = {key: Row("real", "pubsub", key, label) for key, label, _ in modes}
    results.rows.extend(rows.values())
    rng = random.Random(cfg.seed + 1)
    for rnd in range(cfg.rounds):
        order = list(modes)
        rng.shuffle(order)
        for key, _, push in order:
            step(f"real pubsub {key}")
            row = rows[key]
            if row.error is not None:
                continue
            try:
                row.samples.append(_one_round(env, cfg, f"b-pubsub-{key}-{rnd}", push))
                row.sample_rounds.append(rnd)
            except Exception as exc:
                row.error = f"{type(exc).__name__}: {exc}"[:300]
    for _ in range(cfg.rounds * 3 - cfg.rounds * len(modes)):
        step("real pubsub")  # keep the progress total honest when a mode is missing


def _one_round(env: Tier, cfg: Config, queue: str, push: Any) -> Sample:
    assert env.seeder is not None
    env.seeder._rt("PUT", f"/v2/queues/{queue}")
    lat: list[int] = []
    posted: list[int] = []
    stop = threading.Event()
    done_at: list[float] = []

    def until() -> bool:
        # Stop once the producer has stopped and everything arrived (or after a grace).
        if not stop.is_set():
            return False
        if not done_at:
            done_at.append(time.perf_counter())
        return len(lat) >= len(posted) or time.perf_counter() - done_at[0] > 1.0

    producer = threading.Thread(
        target=_producer, args=(env.http_url, queue, stop, cfg.pubsub_interval, posted), daemon=True
    )
    timer = threading.Timer(cfg.pubsub_seconds, stop.set)
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        if push is None:
            producer.start()
            timer.start()
            _consume_poll(env, queue, until, lat)
        else:
            ready = threading.Event()

            def start_when_ready() -> None:
                ready.wait(10)
                producer.start()
                timer.start()

            starter = threading.Thread(target=start_when_ready, daemon=True)
            starter.start()
            push(env, queue, until, lat, ready)
    finally:
        stop.set()
        timer.cancel()
        if producer.is_alive():
            producer.join(10)
        env.seeder.purge(queue)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    kept = lat[WARMUP_MESSAGES:] if len(lat) > 2 * WARMUP_MESSAGES else lat
    if not kept:
        raise RuntimeError(f"no message consumed ({len(posted)} posted)")
    # CPU here covers producer and consumer threads; it is not a per-op client cost.
    return Sample(len(kept), wall, cpu, len(kept), kept)
