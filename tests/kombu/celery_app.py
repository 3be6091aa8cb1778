"""The Celery app the kombu tests run workers of (``celery -A tests.kombu.celery_app
worker``): broker and queue from the environment, tasks that log every run.

Each task appends one line to ``ZK_TASK_LOG`` (opened for appending, so lines
from concurrent processes never interleave): ``<event> <n> <pid>``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery import Celery

import zaqarkit.kombu  # registers zaqar:// and zaqar+ws://


def make_app(
    broker_url: str, project: str, queue: str, *, claim_ttl: int = 60, log_path: str = ""
) -> Celery:
    app = Celery("zk_tests", set_as_current=False)
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options={
            "project_id": project,
            "claim_ttl": claim_ttl,
            "claim_poll_max": 0.5,
        },
        broker_connection_retry_on_startup=True,
        task_default_queue=queue,
        task_ignore_result=True,
        # A killed worker's task must come back: acknowledge after it ran.
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
    )

    def log(event: str, n: int) -> None:
        with open(log_path or os.environ["ZK_TASK_LOG"], "a") as out:
            out.write(f"{event} {n} {os.getpid()}\n")

    @app.task(name="record", shared=False)  # not in other apps of the process
    def record(n: int) -> int:
        log("run", n)
        return n

    @app.task(name="hold", shared=False)
    def hold(n: int, seconds: float, once: bool = False) -> int:
        """Log ``start``, sleep, log ``done``; with ``once``, a second run
        (after a redelivery) does not sleep."""
        path = Path(log_path or os.environ["ZK_TASK_LOG"])
        again = once and f"start {n} " in (path.read_text() if path.exists() else "")
        log("start", n)
        if not again:
            time.sleep(seconds)
        log("done", n)
        return n

    _ = (record, hold, zaqarkit.kombu)
    return app


def _from_env() -> Any:
    env = os.environ
    if "ZK_BROKER_URL" not in env:  # imported by the tests, not by a worker
        return None
    return make_app(
        env["ZK_BROKER_URL"],
        env["ZK_PROJECT"],
        env["ZK_QUEUE"],
        claim_ttl=int(env.get("ZK_CLAIM_TTL", "60")),
    )


app = _from_env()
