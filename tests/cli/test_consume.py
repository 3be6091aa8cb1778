"""``zaqarkit consume`` on the consumer runtime, against a real Zaqar: drain to
stdout, ``--exec`` acking on exit status 0 and releasing otherwise."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.conftest import Cli
from zaqarkit import Client

pytestmark = pytest.mark.integration


def _filled(cli: Cli, n: int) -> tuple[str, list[str]]:
    name = "c-" + uuid.uuid4().hex[:10]
    with Client(cli.url, project_id=cli.project_id) as c:
        ids = c.queue(name).post([{"body": {"n": i}, "ttl": 300} for i in range(n)])
    return name, ids


def _stats(cli: Cli, name: str) -> tuple[int, int]:
    with Client(cli.url, project_id=cli.project_id) as c:
        s = c.queue(name, auto_create=False).stats()
    return s.total, s.claimed


def test_drain_to_stdout(cli: Cli) -> None:
    name, ids = _filled(cli, 5)
    result = cli.ok("consume", name, "--idle-exit", "2")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(ids)
    assert sorted(line["body"]["n"] for line in lines) == list(range(5))
    assert all(line["claim_id"] for line in lines)
    assert _stats(cli, name) == (0, 0)


def test_drain_count_leaves_the_rest(cli: Cli) -> None:
    name, _ = _filled(cli, 5)
    result = cli.ok("consume", name, "--count", "2", "--batch", "5")
    assert len(result.stdout.splitlines()) == 2
    # The other three were claimed in the same batch and released on exit.
    assert _stats(cli, name) == (3, 0)


def test_exec_acks_on_success_and_releases_on_failure(cli: Cli, tmp_path: Path) -> None:
    name, ids = _filled(cli, 4)
    seen = tmp_path / "seen.txt"
    failed_once = tmp_path / "failed"
    # Exits 3 the first time it sees n == 2, succeeds otherwise.
    script = (
        "import json, os, sys; body = json.load(sys.stdin); "
        f"open({str(seen)!r}, 'a').write(os.environ['ZAQAR_MESSAGE_ID'] + '\\n'); "
        f"first = body['n'] == 2 and not os.path.exists({str(failed_once)!r}); "
        f"first and open({str(failed_once)!r}, 'w').close(); "
        "sys.exit(3 if first else 0)"
    )
    command = shlex.join([sys.executable, "-c", script])
    # Five deliveries: four messages, and the released one once more.
    result = cli.run("consume", name, "--exec", command, "--count", "5", "--batch", "4")
    assert result.exit_code == 0, result.stderr
    assert f"exited 3 on {ids[2]}; released" in result.stderr
    assert "acked 4, failed and released 1" in result.stderr
    runs = seen.read_text().split()
    assert sorted(runs) == sorted([*ids, ids[2]])
    assert _stats(cli, name) == (0, 0)


def test_exec_needs_a_command(cli: Cli) -> None:
    error = cli.fails(2, "consume", "q", "--exec", "  ")
    assert error == "zaqarkit: ValidationError: exec: is an empty command"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_health_port_serves_probes_and_prometheus_metrics(
    zaqar_server: Any, project_id: str
) -> None:
    name = "c-" + uuid.uuid4().hex[:10]
    with Client(zaqar_server.url, project_id=project_id) as c:
        ids = c.queue(name).post([{"body": {"n": i}, "ttl": 300} for i in range(3)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ZAQARKIT_"))}
    args = ["--os-url", zaqar_server.url, "--os-project-id", project_id, "consume", name]
    args += ["--health-port", "0", "--health-host", "127.0.0.1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "zaqarkit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        assert proc.stdout is not None
        announced = ""
        for line in proc.stderr:  # bounded by the test's own timeout below
            if "health endpoints on " in line:
                announced = line
                break
        base = announced.split("health endpoints on ", 1)[1].split()[0]
        printed = [json.loads(proc.stdout.readline()) for _ in ids]
        assert sorted(line["id"] for line in printed) == sorted(ids)

        deadline = time.monotonic() + 60
        while True:  # the last ack is sent just after the line is printed
            status, body = _get(base + "/metrics")
            assert status == 200
            families = {f.name: f for f in text_string_to_metric_families(body.decode())}
            acked = families["zaqarkit_consumer_acked"].samples[0]
            if acked.value == 3 and families["zaqarkit_consumer_in_flight"].samples[0].value == 0:
                break
            assert time.monotonic() < deadline, body.decode()
            time.sleep(0.2)
        assert acked.name == "zaqarkit_consumer_acked_total"
        assert acked.labels == {"queue": name}
        assert families["zaqarkit_consumer_ready"].samples[0].value == 1
        states = {s.labels["state"]: s.value for s in families["zaqarkit_consumer_state"].samples}
        assert states["running"] == 1
        assert states["stalled"] == 0
        assert families["zaqarkit_consumer_last_ack_timestamp_seconds"].samples[0].value > 0

        status, body = _get(base + "/healthz")
        assert status == 200
        health = json.loads(body)
        assert health["state"] == "running"
        assert health["live"] is True
        assert health["in_flight"] == 0
        status, body = _get(base + "/readyz")
        assert status == 200
        assert json.loads(body)["ready"] is True
        assert _get(base + "/nothing")[0] == 404

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130  # interrupted, as Ctrl-C
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base + "/healthz", timeout=5)  # served only while it runs
