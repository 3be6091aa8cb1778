"""``zaqarkit tail`` and ``zaqarkit server`` as real processes: a tail receives
a message posted while it runs (WebSocket push and HTTP polling), ``--claim``
consumes and releases what it holds on Ctrl-C, and ``server up`` / ``queue
list`` / ``server down`` leaves no process behind."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

from zaqarkit import Client

pytestmark = pytest.mark.integration

# Generous: a cold interpreter on a busy two-core machine.
STARTUP_SECONDS = 120.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ZAQARKIT_"))}
    env.update(extra)
    return env


class Running:
    """A ``python -m zaqarkit ...`` process whose stderr lines are collected."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zaqarkit", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.stderr_lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stderr is not None
        threading.Thread(target=self._pump, args=(self.proc.stderr,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr_lines.put(line)

    def wait_for_stderr(self, text: str, timeout: float = STARTUP_SECONDS) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.stderr_lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not on stderr; got {seen!r} (exit {self.proc.poll()})")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=60)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for r in started:
        r.stop()


def _tail(running: list[Running], *args: str) -> Running:
    r = Running(["tail", *args], _env())
    running.append(r)
    return r


def _q() -> str:
    return "tail-" + uuid.uuid4().hex[:10]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_tail_receives_a_message_posted_while_it_runs(
    zaqar_server: Any, project_id: str, running: list[Running], transport: str
) -> None:
    name = _q()
    connection = ["--os-url", zaqar_server.url, "--os-project-id", project_id]
    if transport == "websocket":
        connection += ["--ws-url", zaqar_server.ws_url]
    with Client(zaqar_server.url, project_id=project_id) as producer:
        q = producer.queue(name)
        q.post({"body": "before", "ttl": 300})  # already there: not printed
        r = Running([*connection, "tail", name, "--count", "1", "--interval", "0.2"], _env())
        running.append(r)
        expected = "WebSocket push" if transport == "websocket" else "by polling"
        r.wait_for_stderr(expected)
        q.post({"body": {"event": "live"}, "ttl": 300})
        out, _ = r.proc.communicate(timeout=STARTUP_SECONDS)
    assert r.proc.returncode == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["body"] for line in lines] == [{"event": "live"}]
    assert lines[0]["queue"] == name
    if transport == "websocket":
        # The push subscription ended with the tail.
        with Client(zaqar_server.url, project_id=project_id) as c:
            assert list(c.subscriptions(name)) == []


def test_tail_claim_consumes(zaqar_server: Any, project_id: str, running: list[Running]) -> None:
    name = _q()
    with Client(zaqar_server.url, project_id=project_id) as c:
        ids = c.queue(name).post([{"body": n, "ttl": 300} for n in range(3)])
        r = Running(
            [
                "--os-url",
                zaqar_server.url,
                "--os-project-id",
                project_id,
                "tail",
                name,
                "--claim",
                "--count",
                "3",
                "--interval",
                "0.2",
            ],
            _env(),
        )
        running.append(r)
        out, _ = r.proc.communicate(timeout=STARTUP_SECONDS)
        assert r.proc.returncode == 0
        lines = [json.loads(line) for line in out.splitlines()]
        assert [line["id"] for line in lines] == ids
        assert all(line["claim_id"] for line in lines)
        stats = c.queue(name, auto_create=False).stats()
        assert (stats.total, stats.claimed) == (0, 0)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_tail_claim_releases_its_claim_on_ctrl_c(
    zaqar_server: Any, project_id: str, running: list[Running], signum: int
) -> None:
    name = _q()
    with Client(zaqar_server.url, project_id=project_id) as c:
        q = c.queue(name)
        # 40 KB bodies: the tail blocks writing to the pipe that nobody reads
        # yet, while it holds the claim on the rest of its batch.
        q.post([{"body": "x" * 40_000, "ttl": 300} for _ in range(4)])
        r = Running(
            [
                "--os-url",
                zaqar_server.url,
                "--os-project-id",
                project_id,
                "tail",
                name,
                "--claim",
                "--batch",
                "4",
                "--ttl",
                "600",
            ],
            _env(),
        )
        running.append(r)
        r.wait_for_stderr("consuming")
        deadline = time.monotonic() + STARTUP_SECONDS
        while q.stats().claimed == 0:
            assert time.monotonic() < deadline, "the tail never claimed"
            time.sleep(0.1)
        r.proc.send_signal(signum)
        out, _ = r.proc.communicate(timeout=STARTUP_SECONDS)
        assert r.proc.returncode == 130
        printed = len(out.splitlines())
        stats = q.stats()
        # What was not printed is free again at once, not after the claim's
        # 600 s. Printed messages were deleted, except possibly the one being
        # written when Ctrl-C came (at least once: it is delivered again).
        assert stats.claimed == 0
        assert stats.total == stats.free
        assert 4 - printed <= stats.total <= 4 - printed + 1
        assert printed < 4


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_server_up_queue_list_down_leaves_no_process(tmp_path: Path) -> None:
    env = _env(ZAQARKIT_STATE_DIR=str(tmp_path))

    def zaqarkit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "zaqarkit", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    up = zaqarkit("server", "up", "-f", "json")
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    pids = [state["supervisor"], *state["pids"]]
    try:
        assert state["url"].startswith("http://127.0.0.1:")
        assert state["ws_url"].startswith("ws://127.0.0.1:")
        assert len(state["pids"]) >= 3  # redis, gunicorn (+ worker), websocket
        assert not any(_gone(pid) for pid in pids)
        again = zaqarkit("server", "up", "-f", "json")
        assert json.loads(again.stdout)["supervisor"] == state["supervisor"]
        status = zaqarkit("server", "status", "-f", "json")
        assert json.loads(status.stdout)["running"] is True
        exports = zaqarkit("server", "env").stdout
        assert f"export OS_URL={state['url']}\n" in exports
        connection = ["--os-url", state["url"], "--os-project-id", "demo"]
        assert zaqarkit(*connection, "queue", "create", "from-cli").returncode == 0
        listed = zaqarkit(*connection, "queue", "list", "-f", "value")
        assert listed.stdout == "from-cli\n"
    finally:
        down = zaqarkit("server", "down")
    assert down.returncode == 0, down.stderr
    assert "server stopped" in down.stderr
    deadline = time.monotonic() + 60
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if not _gone(pid)] == []
    assert not (tmp_path / "server.json").exists()
    status = zaqarkit("server", "status", "-f", "json")
    assert (status.returncode, json.loads(status.stdout)) == (1, {"running": False})
