"""Fixtures for the kombu transport tests: real Celery workers (separate
processes) on the harness's Zaqar.

``celery_worker_factory(queue, pool=..., url=...)`` starts ``celery worker``
for ``tests.kombu.celery_app`` in its own process group and returns a
:class:`Worker`; every worker a test started is stopped (SIGTERM, then SIGKILL
to its group) when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery")

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, *, step: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)


def task_log(path: Path) -> list[tuple[str, int, int]]:
    """``(event, n, pid)`` for every line the tasks wrote."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        event, n, pid = line.split()
        rows.append((event, int(n), int(pid)))
    return rows


class Worker:
    """A ``celery worker`` process (its pool children share its process group)."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.output()}")
        return " ready." in self.output()

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a crash (or the OOM killer) would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, timeout: float = 60) -> int:
        """Celery's warm shutdown (SIGTERM to the main process); SIGKILL after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        # Pool children a hard kill may have orphaned share the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode


@pytest.fixture
def celery_worker_factory(
    zaqar_server: Any, project_id: str, tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(
        queues: str,
        *,
        log: Path,
        pool: str = "solo",
        concurrency: int = 1,
        url: str | None = None,
        claim_ttl: int = 60,
        name: str = "w",
    ) -> Worker:
        broker = url or zaqar_server.url.replace("http://", "zaqar://")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ZK_BROKER_URL": broker,
            "ZK_PROJECT": project_id,
            "ZK_QUEUE": queues.split(",")[0],
            "ZK_CLAIM_TTL": str(claim_ttl),
            "ZK_TASK_LOG": str(log),
        }
        out = tmp_path / f"worker-{name}-{len(workers)}.log"
        with out.open("wb") as sink:  # the child writes to its own copy
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.kombu.celery_app",
                    "worker",
                    "--pool",
                    pool,
                    "--concurrency",
                    str(concurrency),
                    "-Q",
                    queues,
                    "--hostname",
                    f"{name}{len(workers)}@%h",
                    "--loglevel",
                    "INFO",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(proc, out)
        workers.append(worker)
        wait_for(worker.ready, 120, f"worker {name} to be ready")
        return worker

    yield start
    for worker in workers:
        worker.stop()
