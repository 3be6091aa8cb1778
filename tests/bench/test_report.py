"""The report's text, JSON and plots from synthetic figures (no server)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from zaqarkit.bench import OpReport, Report, RoleReport
from zaqarkit.errors import UnsupportedOperation


def _report() -> Report:
    post = OpReport.of([2_000_000, 1_000_000, 3_000_000, 9_000_000], errors=1, wall=2.0)
    role = RoleReport(
        transport="ws",
        role="producer",
        processes=1,
        workers=2,
        ops=4,
        errors=1,
        messages=4,
        wall_s=2.0,
        cpu_s=0.001,
        ops_per_s=2.0,
        messages_per_s=2.0,
        cpu_us_per_op=250.0,
        client_cores=0.0005,
        operations={"post": post},
        errors_by_type={"ServiceUnavailable (503)": 1},
    )
    idle = RoleReport(
        transport="ws",
        role="observer",
        processes=1,
        workers=1,
        ops=0,
        errors=0,
        messages=0,
        wall_s=2.0,
        cpu_s=0.0,
        ops_per_s=0.0,
        messages_per_s=0.0,
        cpu_us_per_op=float("nan"),
        client_cores=0.0,
        operations={"list": OpReport.of([], errors=0, wall=2.0)},
    )
    return Report(
        config={},
        machine={},
        started=0.0,
        elapsed_s=2.0,
        transports=["ws"],
        roles=[role, idle],
        saturation={"ws": "saturated: server CPU (x[1] at 99%)"},
    )


def test_percentiles_and_table() -> None:
    rep = _report()
    post = rep.roles[0].operations["post"]
    assert (post.p50_ms, post.p90_ms, post.p99_ms, post.max_ms) == (3.0, 9.0, 9.0, 9.0)
    assert post.mean_ms == pytest.approx(3.75)
    text = rep.table()
    assert "ServiceUnavailable (503): 1" in text
    assert "ws: saturated: server CPU" in text
    assert text.splitlines()[0].split()[:3] == ["transport", "role", "procs"]
    assert rep.total_errors == 1


def test_json_has_no_nan(tmp_path: Path) -> None:
    doc = json.loads(_report().write_json(tmp_path / "r.json").read_text())
    observer = doc["roles"][1]
    assert observer["cpu_us_per_op"] is None
    assert observer["operations"]["list"]["p99_ms"] is None
    assert doc["roles"][0]["operations"]["post"]["p99_ms"] == 9.0


def test_plot_writes_pngs_or_says_what_is_missing(tmp_path: Path) -> None:
    rep = _report()
    if importlib.util.find_spec("matplotlib") is None:
        with pytest.raises(UnsupportedOperation, match="zaqarkit\\[plot\\]"):
            rep.plot(tmp_path)
        return
    written = rep.plot(tmp_path / "plots")
    assert {p.name for p in written} == {"latency.png", "throughput.png"}
    for p in written:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
