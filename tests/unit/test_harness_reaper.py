"""A harness killed with SIGKILL leaves its servers behind; the next harness
reaps them (zaqarkit.testing._processes.reap_orphans). Real processes, no server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from zaqarkit.testing import _processes

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")

#: A stand-in harness: starts a long "server" through Process, prints its
#: pid, then waits to be killed.
HARNESS = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from zaqarkit.testing._processes import Process
    proc = Process("fake-server", [sys.executable, "-c", "import time; time.sleep(300)"],
                    Path(sys.argv[1]) / "fake.log", Path(sys.argv[1]))
    proc.start()
    print(proc.pid, flush=True)
    time.sleep(300)
    """
)


def _wait_until(condition: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_servers_of_a_killed_harness_are_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZAQARKIT_CACHE_DIR", str(tmp_path / "cache"))  # for reap_orphans here
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(tmp_path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "ZAQARKIT_CACHE_DIR": str(tmp_path / "cache")},
    )
    try:
        assert harness.stdout is not None
        server_pid = int(harness.stdout.readline())
        records = list((tmp_path / "cache" / "running").glob("*.json"))
        assert [r.name for r in records] == [f"{server_pid}.json"]
        assert _processes.reap_orphans() == []  # its owner is alive: left alone
        assert _processes.group_pids(server_pid) == [server_pid]
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=30)
        assert _processes.group_pids(server_pid) == [server_pid]  # the leak
        assert _processes.reap_orphans() == ["fake-server"]
        assert _wait_until(lambda: not _processes.group_pids(server_pid))
        assert list((tmp_path / "cache" / "running").glob("*.json")) == []
    finally:
        harness.kill()
        harness.wait(timeout=30)
        if harness.stdout is not None:
            harness.stdout.close()
