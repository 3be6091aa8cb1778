"""``zaqarkit consume`` on the consumer runtime, against a real Zaqar: drain to
stdout, ``--exec`` acking on exit status 0 and releasing otherwise."""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from pathlib import Path

import pytest

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
