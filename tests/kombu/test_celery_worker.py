"""Celery on Zaqar: real ``celery worker`` processes on zaqarkit.kombu against the
harness's Zaqar, tasks submitted from this (another) process.

The claim ttl is Zaqar's floor, 60 s: a killed worker's task comes back a
minute after the kill, so the SIGKILL scenario and the long-task scenario
share that minute in one test.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from zaqarkit import Client

from .celery_app import make_app
from .conftest import task_log, wait_for

TOTAL = 500


def _broker(zaqar_server: Any, ws: bool = False) -> str:
    return "zaqar+" + zaqar_server.ws_url if ws else zaqar_server.url.replace("http://", "zaqar://")


def _queue_messages(zaqar_server: Any, project_id: str, name: str) -> int:
    with Client(zaqar_server.url, project_id=project_id) as client:
        return client.queue(name).stats().total


def test_500_tasks_run_exactly_once(
    zaqar_server: Any, project_id: str, tmp_path: Path, celery_worker_factory: Any
) -> None:
    queue = f"bulk.{uuid.uuid4().hex[:8]}"  # a dot: mapped to '-' on Zaqar
    log = tmp_path / "tasks.log"
    # Two prefork workers compete for the queue.
    workers = [
        celery_worker_factory(queue, log=log, pool="prefork", concurrency=2, name=f"bulk{i}")
        for i in range(2)
    ]
    app = make_app(_broker(zaqar_server), project_id, queue, log_path=str(log))
    for n in range(TOTAL):
        app.send_task("record", (n,))

    wait_for(lambda: len(task_log(log)) >= TOTAL, 240, f"{TOTAL} tasks to run", step=0.5)
    for worker in workers:
        assert worker.stop() == 0, worker.output()

    runs = Counter(n for event, n, _ in task_log(log) if event == "run")
    assert sorted(runs) == list(range(TOTAL))
    assert set(runs.values()) == {1}
    # Every task was acknowledged (deleted): nothing is left to come back.
    assert _queue_messages(zaqar_server, project_id, queue.replace(".", "-")) == 0
    # Both workers took part (their pool children's pids are in the log).
    assert len({pid for _, _, pid in task_log(log)}) >= 2


def test_killed_worker_task_reruns_and_long_task_does_not(
    zaqar_server: Any, project_id: str, tmp_path: Path, celery_worker_factory: Any
) -> None:
    """Worker A runs a task on queue ``kill`` and is SIGKILLed mid-task (acks_late):
    worker C, started after the kill, runs it again once A's claim expires.
    Meanwhile worker B runs a task on queue ``long`` for 75 s, beyond the 60 s
    claim ttl: its claim is renewed, so C (which consumes ``long`` too) never
    receives it. C's task log is ``kill.log``: a run of the long task by C
    would show there."""
    kill_q, long_q = f"kill-{uuid.uuid4().hex[:6]}", f"long-{uuid.uuid4().hex[:6]}"
    kill_log, long_log = tmp_path / "kill.log", tmp_path / "long.log"
    # Over WebSocket for the long task: renewals travel on the shared socket.
    worker_b = celery_worker_factory(
        long_q, log=long_log, url=_broker(zaqar_server, ws=True), name="b"
    )
    worker_a = celery_worker_factory(kill_q, log=kill_log, name="a")

    broker = _broker(zaqar_server)
    make_app(broker, project_id, long_q).send_task("hold", (1, 75))
    make_app(broker, project_id, kill_q).send_task("hold", (2, 600, True))
    wait_for(lambda: ("start", 1, worker_b.pid) in task_log(long_log), 60, "B to start")
    wait_for(lambda: ("start", 2, worker_a.pid) in task_log(kill_log), 60, "A to start")
    worker_a.kill()
    assert worker_a.proc.returncode == -9

    worker_c = celery_worker_factory(f"{kill_q},{long_q}", log=kill_log, name="c")
    rerun = wait_for(
        lambda: [row for row in task_log(kill_log) if row == ("done", 2, worker_c.pid)],
        150,
        "C to re-run the killed task after the claim expired",
        step=0.5,
    )
    assert rerun == [("done", 2, worker_c.pid)]
    wait_for(
        lambda: ("done", 1, worker_b.pid) in task_log(long_log),
        150,
        "B to finish the long task",
        step=0.5,
    )
    assert worker_b.stop() == 0
    assert worker_c.stop() == 0

    assert task_log(kill_log) == [
        ("start", 2, worker_a.pid),
        ("start", 2, worker_c.pid),
        ("done", 2, worker_c.pid),
    ]
    # Ran once, by B, though it outlived the claim ttl: C never got it.
    assert task_log(long_log) == [("start", 1, worker_b.pid), ("done", 1, worker_b.pid)]
    for name in (kill_q, long_q):
        assert _queue_messages(zaqar_server, project_id, name) == 0


def test_worker_survives_zaqar_http_restart(
    zaqar_server: Any, project_id: str, tmp_path: Path, celery_worker_factory: Any
) -> None:
    """The HTTP server is killed and restarted while a worker polls and this
    process publishes: publishes that hit the outage are retried by kombu (the
    transport's connection errors), the worker carries on and runs them."""
    queue = f"restart-{uuid.uuid4().hex[:6]}"
    log = tmp_path / "tasks.log"
    worker = celery_worker_factory(queue, log=log, name="r")
    app = make_app(_broker(zaqar_server), project_id, queue, log_path=str(log))
    policy = {"max_retries": 100, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 1.0}

    for n in range(20):
        app.send_task("record", (n,), retry=True, retry_policy=policy)
    wait_for(lambda: len(task_log(log)) >= 20, 60, "the first tasks to run")
    # ... and their acks to reach the server, before it goes away.
    wait_for(lambda: _queue_messages(zaqar_server, project_id, queue) == 0, 60, "the acks")

    restart = threading.Thread(target=zaqar_server.restart_http, kwargs={"kill": True})
    restart.start()
    # During the restart: refused connections are kombu connection errors,
    # retried under the policy until the server is back.
    for n in range(20, 40):
        app.send_task("record", (n,), retry=True, retry_policy=policy)
    restart.join(120)
    assert not restart.is_alive()
    for n in range(40, 60):
        app.send_task("record", (n,), retry=True, retry_policy=policy)

    wait_for(
        lambda: {n for _, n, _ in task_log(log)} >= set(range(60)),
        120,
        "every task to run after the restart",
        step=0.25,
    )
    assert worker.proc.poll() is None, worker.output()  # still running
    assert worker.stop() == 0
    runs = Counter(n for _, n, _ in task_log(log))
    assert set(runs) == set(range(60))
    # Before and after the outage: exactly once. A publish cut off by the kill
    # may have been stored before its retry, so during it at least once.
    assert all(runs[n] == 1 for n in [*range(20), *range(40, 60)])
