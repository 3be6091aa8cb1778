"""The benchmark engine against the real harness server, over every transport.

Figures are checked for plausibility (operations counted, no errors, every
percentile present and ordered), never for speed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from zaqarkit import Client
from zaqarkit.bench import OPERATIONS, TRANSPORTS, BenchConfig, run
from zaqarkit.testing import ZaqarServer

pytestmark = pytest.mark.integration


def _existing(srv: ZaqarServer, project: str, names: list[str]) -> list[str]:
    with Client(srv.url, project_id=project) as cli:
        return [q.name for q in cli.queues() if q.name in names]


def _check_report(doc: dict, transports: list[str], roles: dict[str, int]) -> None:
    assert doc["transports"] == transports
    seen = {(r["transport"], r["role"]) for r in doc["roles"]}
    assert seen == {(t, role) for t in transports for role in roles}
    for r in doc["roles"]:
        assert r["failures"] == [], r["failures"]
        assert r["errors"] == 0, r["errors_by_type"]
        assert r["errors_by_type"] == {}
        assert r["workers"] == roles[r["role"]]
        assert r["ops"] > 0, r
        assert r["ops_per_s"] > 0
        assert r["cpu_us_per_op"] > 0
        assert r["wall_s"] > 0
        assert set(r["operations"]) == set(OPERATIONS[r["role"]])
        for name, op in r["operations"].items():
            assert op["count"] > 0, (r["transport"], r["role"], name)
            assert op["errors"] == 0
            values = [op[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")]
            assert all(v is not None and v > 0 for v in values), (name, op)
            assert values == sorted(values), (name, op)
        if r["role"] == "producer":
            # Every successful post is one message.
            assert r["messages"] == r["operations"]["post"]["count"]
        if r["role"] == "consumer":
            assert r["messages"] == r["operations"]["delete"]["count"]


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_each_transport(
    zaqar_server: ZaqarServer, project_id: str, transport: str, tmp_path: Path
) -> None:
    cfg = BenchConfig(
        url=zaqar_server.url,
        ws_url=zaqar_server.ws_url,
        transports=(transport,),
        producers=2,
        consumers=2,
        observers=1,
        time=1.5,
        queues=2,
        progress=False,
        client_options={"project_id": project_id},
        seed=7,
        server_pids=tuple(zaqar_server.pids()),
    )
    report = run(cfg)
    path = report.write_json(tmp_path / "bench.json")
    doc = json.loads(path.read_text())
    _check_report(doc, [transport], {"producer": 2, "consumer": 2, "observer": 1})
    names = doc["queues"]["names"]
    assert len(names) == 2
    assert doc["queues"]["created"] == names == doc["queues"]["deleted"]
    assert _existing(zaqar_server, project_id, names) == []
    # The server's pids were given: the report says what limited the run.
    assert doc["saturation"][transport].split(":")[0] in ("saturated", "not CPU-bound")
    assert doc["server_cpu"][transport], doc["server_cpu"]
    assert "project_id" in doc["config"]["client_options"]  # names only, no values
    assert project_id not in json.dumps(doc["config"])


def test_messages_mode_consumes_what_was_posted(zaqar_server: ZaqarServer, project_id: str) -> None:
    cfg = BenchConfig(
        url=zaqar_server.url,
        transports=("http",),
        producers=2,
        consumers=2,
        time=None,
        messages=60,
        processes=2,
        progress=False,
        client_options={"project_id": project_id},
    )
    report = run(cfg)
    producer, consumer = report.role("http", "producer"), report.role("http", "consumer")
    assert producer is not None
    assert consumer is not None
    assert producer.messages == 60
    assert producer.processes == 2
    assert consumer.messages == 60
    assert report.total_errors == 0


def test_existing_queues_are_never_touched(zaqar_server: ZaqarServer, project_id: str) -> None:
    from zaqarkit.errors import ValidationError

    with Client(zaqar_server.url, project_id=project_id) as cli:
        mine = cli.queue("theirs-0")
        mine.post({"body": "keep me", "ttl": 300})
        cfg = BenchConfig(
            url=zaqar_server.url,
            transports=("http",),
            queue_prefix="theirs",
            queues=2,
            time=0.5,
            progress=False,
            client_options={"project_id": project_id},
        )
        with pytest.raises(ValidationError) as info:
            run(cfg)
        assert info.value.field == "queue_prefix"
        assert _existing(zaqar_server, project_id, ["theirs-0", "theirs-1"]) == ["theirs-0"]
        # Reusing it (skip_queue_reset) leaves it in place, and deletes only
        # the queue the run created.
        cfg.skip_queue_reset = True
        report = run(cfg)
        assert report.queues["reused"] == ["theirs-0"]
        assert report.queues["deleted"] == ["theirs-1"]
        assert _existing(zaqar_server, project_id, ["theirs-0", "theirs-1"]) == ["theirs-0"]
        bodies = [m.body for m in mine.messages(echo=True)]
        assert "keep me" in bodies


def test_zaqarkit_bench_command_writes_json(
    zaqar_server: ZaqarServer, project_id: str, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run(
        # Connection options on the root group, run options on the subcommand.
        [
            sys.executable,
            "-m",
            "zaqarkit",
            "--os-url",
            zaqar_server.url,
            "--ws-url",
            zaqar_server.ws_url,
            "--os-project-id",
            project_id,
            "bench",
            "--transport",
            "http,async-ws",
            "--producers",
            "1",
            "--consumers",
            "1",
            "--observers",
            "1",
            "--time",
            "2",
            "--rounds",
            "2",
            "--no-progress",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "p99 ms" in proc.stdout
    # The observer lists one page on purpose: no hint about WebSocket listings.
    assert "stop after one page" not in proc.stderr
    doc = json.loads(out.read_text())
    _check_report(doc, ["http", "async-ws"], {"producer": 1, "consumer": 1, "observer": 1})
    assert doc["config"]["rounds"] == 2
    for r in doc["roles"]:
        assert not math.isclose(r["wall_s"], 0.0)


def test_bad_options_fail_before_anything_is_sent(tmp_path: Path) -> None:
    from zaqarkit.errors import ValidationError

    bad = [
        (dict(transports=("carrier-pigeon",)), "transport"),
        (dict(transports=("ws",)), "ws_url"),
        (dict(producers=0), "producers"),
        (dict(claim_batch=50, consumers=1), "claim_batch"),
        (dict(time=None), "time"),
        (dict(message_size=10, message_file="x.json"), "message_size"),
        (dict(message_file=str(tmp_path / "missing.json")), "message_file"),
    ]
    for kw, field in bad:
        cfg = BenchConfig(url="http://127.0.0.1:1", **kw)  # type: ignore[arg-type]
        with pytest.raises(ValidationError) as info:
            run(cfg)
        assert info.value.field == field, (kw, info.value)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "zaqarkit",
            "bench",
            "--url",
            "http://127.0.0.1:1",
            "--transport",
            "http,nope",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "transport" in proc.stderr


def test_message_file_in_zaqar_bench_format(tmp_path: Path) -> None:
    import random

    from zaqarkit.bench import MessagePool

    f = tmp_path / "messages.json"
    f.write_text(
        json.dumps(
            [
                {"weight": 0.8, "doc": {"ttl": 60, "body": {"evt": "Wakeup"}}},
                {"weight": 0.2, "doc": {"ttl": 60, "body": {"evt": "Search", "hits": [1, 2, 3]}}},
            ]
        )
    )
    pool = MessagePool.from_file(f)
    rng = random.Random(3)
    picks = [pool.choose(rng)["body"]["evt"] for _ in range(2000)]
    share = picks.count("Wakeup") / len(picks)
    assert 0.75 < share < 0.85
