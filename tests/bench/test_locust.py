"""Locust master/worker on loopback, driving zaqarkit against the harness server.

Locust runs in subprocesses only: importing it monkey-patches the process
with gevent, which this test process must not be.
"""

from __future__ import annotations

import csv
import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from zaqarkit import Client
from zaqarkit.testing import ZaqarServer

pytestmark = pytest.mark.integration

LOCUSTFILE = Path(__file__).resolve().parents[2] / "examples" / "locustfile.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("transport", ["http", "ws"])
def test_master_and_two_workers(
    zaqar_server: ZaqarServer, project_id: str, transport: str, tmp_path: Path
) -> None:
    # find_spec, not importorskip: importing locust would gevent-patch this process.
    if importlib.util.find_spec("locust") is None:
        pytest.skip("needs Locust: pip install 'zaqarkit[bench]' (the nox tests session has it)")
    port = _free_port()
    common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    workers = [
        subprocess.Popen(
            [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    prefix = tmp_path / "run"
    try:
        master = subprocess.run(
            [
                *common,
                "--master",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
                "--expect-workers",
                "2",
                "--expect-workers-max-wait",
                # Generous: under load a worker's gevent and Locust imports
                # alone took most of a minute (seen as "0 workers ready").
                "180",
                "--headless",
                "-u",
                "6",
                "-r",
                "6",
                "-t",
                "8s",
                "--host",
                zaqar_server.url,
                "--zaqar-transport",
                transport,
                "--zaqar-ws-url",
                zaqar_server.ws_url,
                "--zaqar-project",
                project_id,
                "--zaqar-queue-prefix",
                "lt",
                "--zaqar-queues",
                "2",
                "--zaqar-delete-queues",
                "--csv",
                str(prefix),
                "--only-summary",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        errors = []
        for w in workers:
            try:
                _, err = w.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
                _, err = w.communicate()
            errors.append(err)
    assert master.returncode == 0, master.stderr[-3000:]
    assert all(w.returncode == 0 for w in workers), errors
    stats = _stats(prefix)
    logs = f"master: {master.stderr[-1500:]}\nworker: {errors[0][-1500:]}"
    for op in ("post", "claim", "delete", "list"):
        assert op in stats, (op, sorted(stats), logs)
        row = stats[op]
        assert row["Type"] == f"zaqar-{transport}"
        assert int(row["Request Count"]) > 0, row
        assert int(row["Failure Count"]) == 0, (row, master.stderr[-2000:])
    assert int(stats["Aggregated"]["Failure Count"]) == 0
    # The master deleted the queues when it quit.
    with Client(zaqar_server.url, project_id=project_id) as cli:
        assert [q.name for q in cli.queues()] == []
