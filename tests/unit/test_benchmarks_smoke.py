"""The benchmark runner works end to end on a tiny budget.

This checks that the report has the expected rows and sections; it never
checks a timing or a target (those are reported, not asserted).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import report, runner

CONTENDERS = (
    "core",
    "facade-noio",
    "json-floor",
    "floor-http",
    "httpx",
    "zk-http",
    "zk-async-http",
)


@pytest.fixture(scope="module")
def results() -> runner.Results:
    cfg = runner.Config.quick_mode(
        rounds=1,
        duration=0.03,
        warmup=0.01,
        tiers=("core", "replay"),
        scenarios=("post1", "list10", "claim_delete_many", "concurrency", "memory"),
        contenders=CONTENDERS,
        concurrency=(1, 2),
        memory_messages=100,
        memory_windows=2,
        pin=False,
        progress=False,
    )
    return runner.run(cfg)


def test_every_contender_has_a_measured_row(results: runner.Results) -> None:
    for tier, keys in (
        ("core", ("core", "facade-noio", "json-floor")),
        ("replay", ("floor-http", "httpx", "zk-http", "zk-async-http")),
    ):
        for scenario in ("post1", "list10", "claim_delete_many"):
            for key in keys:
                row = results.row(tier, scenario, key)
                assert row is not None, (tier, scenario, key)
                assert row.ok, (tier, scenario, key, row.error)
                assert row.ops_per_s > 0
                assert row.cpu_us > 0
                assert row.percentile(0.5) <= row.percentile(0.99)


def test_concurrency_rows(results: runner.Results) -> None:
    for n in (1, 2):
        row = results.row("replay", "concurrency", "zk-async-http", n)
        assert row is not None
        assert row.ok, row.error


def test_memory_is_reported(results: runner.Results) -> None:
    keys = {m["contender"] for m in results.memory}
    assert "zk-http" in keys
    for m in results.memory:
        assert "error" not in m, m
        assert len(m["growth_per_10k_kib"]) == 1


def test_report_has_tables_and_target_lines(results: runner.Results, tmp_path: Path) -> None:
    md_path = tmp_path / "RESULTS.md"
    report.write_all(results, md_path, None)
    text = md_path.read_text()
    assert "## Targets" in text
    assert "### replay: post 1 message" in text
    assert "### core: list 10 messages" in text
    assert "| zaqarkit Client (HTTP) |" in text
    assert "| http.client keep-alive (floor) |" in text
    assert "Memory" in text
    names = [t["target"] for t in report.targets(results)]
    assert any("plain httpx.Client" in n for n in names)
    # Every target line is PASS, FAIL or N/A (the real tier did not run here).
    assert {t["status"] for t in report.targets(results)} <= {"PASS", "FAIL", "N/A"}
    assert (tmp_path / "results.json").exists()
