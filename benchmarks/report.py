"""RESULTS.md, the target checks and the PNG plots, from a :class:`Results`."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import statistics
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.contenders import REQUESTS_PER_OP, SCENARIOS
from benchmarks.model import HERE, Results, Row
from zaqarkit.bench import machine as _machine
from zaqarkit.errors import UnsupportedOperation

SCENARIO_TITLES = {
    "post1": "post 1 message",
    "post10": "post a batch of 10",
    "list10": "list 10 messages",
    "claim_delete": "claim 10, delete one by one (11 requests)",
    "claim_delete_many": "claim 10, delete-many (2 requests)",
    "concurrency": "N concurrent async producers on one client (post 1)",
    "pubsub": "producer/consumer: post to consume",
}
PACKAGES = (
    "zaqarkit",
    "httpx",
    "httpcore",
    "h11",
    "websockets",
    "anyio",
    "trio",
    "python-zaqarclient",
    "requests",
    "matplotlib",
)


def machine() -> dict[str, str]:
    """The engine's machine record (zaqarkit.bench.machine) plus this checkout's commit."""
    m = _machine(PACKAGES)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    m["commit"] = commit or "unknown"
    return m


# -- targets -------------------------------------------------------------------------------


def _cpu(res: Results, tier: str, scenario: str, key: str, conc: int = 1) -> float | None:
    row = res.row(tier, scenario, key, conc)
    return row.cpu_us if row is not None and row.ok else None


def _ops(res: Results, tier: str, scenario: str, key: str, conc: int = 1) -> float | None:
    row = res.row(tier, scenario, key, conc)
    return row.ops_per_s if row is not None and row.ok else None


def _why_missing(res: Results, tier: str, scenario: str, *keys: str, conc: int = 1) -> str:
    for key in keys:
        if key in res.unavailable:
            return f"{key} not available: {res.unavailable[key]}"
        row = res.row(tier, scenario, key, conc)
        if row is None:
            return f"{key} not run on {tier}/{scenario}"
        if row.error:
            return f"{key} failed: {row.error}"
    return "not measured"


def _paired_cpu(
    res: Results, tier: str, scenario: str, key: str, peer: str
) -> tuple[float, int] | None:
    """The median over rounds of ``key``'s CPU/op divided by ``peer``'s in the
    same round, and how many rounds had both; None without a common round."""
    row, other = res.row(tier, scenario, key), res.row(tier, scenario, peer)
    if row is None or other is None or not row.ok or not other.ok:
        return None
    mine, theirs = row.cpu_us_by_round(), other.cpu_us_by_round()
    ratios = [mine[r] / theirs[r] for r in mine.keys() & theirs.keys() if theirs[r] > 0]
    return (statistics.median(ratios), len(ratios)) if ratios else None


def targets(res: Results) -> list[dict[str, Any]]:
    """Each target: what, measured ratio, threshold, and whether it holds.

    A CPU/op target is the median of the per-round ratios: a round runs both
    contenders within seconds of each other, so the machine's drift over a
    scenario's rounds (this host's speed changes by up to 2x within minutes)
    cancels out of each ratio. The medians of each contender, and their
    ratio, are shown beside it."""
    out: list[dict[str, Any]] = []

    def add(
        name: str,
        num: float | None,
        den: float | None,
        limit: float,
        kind: str,
        missing: str,
        paired: tuple[float, int] | None = None,
    ) -> None:
        if num is None or den is None or den == 0:
            out.append(
                {
                    "target": name,
                    "ratio": None,
                    "limit": limit,
                    "kind": kind,
                    "status": "N/A",
                    "detail": missing,
                }
            )
            return
        ratio = num / den
        detail = f"{num:.1f} / {den:.1f}"
        if paired is not None:
            detail = f"median of {paired[1]} per-round ratios; medians {detail} = {ratio:.2f}x"
            ratio = paired[0]
        ok = ratio <= limit if kind == "<=" else ratio >= limit
        out.append(
            {
                "target": name,
                "ratio": ratio,
                "limit": limit,
                "kind": kind,
                "status": "PASS" if ok else "FAIL",
                "detail": detail,
            }
        )

    def cpu_target(name: str, tier: str, scenario: str, key: str, peer: str, limit: float) -> None:
        add(
            name,
            _cpu(res, tier, scenario, key),
            _cpu(res, tier, scenario, peer),
            limit,
            "<=",
            _why_missing(res, tier, scenario, key, peer),
            _paired_cpu(res, tier, scenario, key, peer),
        )

    for s in SCENARIOS:
        cpu_target(
            f"replay {s}: CPU/op zaqarkit sync HTTP vs python-zaqarclient",
            "replay",
            s,
            "zk-http",
            "zaqarclient",
            0.35,
        )
    for s in SCENARIOS:
        cpu_target(
            f"replay {s}: CPU/op zaqarkit sync HTTP vs plain httpx.Client",
            "replay",
            s,
            "zk-http",
            "httpx",
            0.7,
        )
    for s in SCENARIOS:
        cpu_target(
            f"replay {s}: CPU/op zaqarkit WebSocket vs plain websockets",
            "replay",
            s,
            "zk-ws",
            "websockets",
            1.2,
        )
    for s in SCENARIOS:
        cpu_target(
            f"replay {s}: CPU/op zaqarkit async WebSocket (asyncio) vs sync WebSocket",
            "replay",
            s,
            "zk-async-ws",
            "zk-ws",
            1.3,
        )
        cpu_target(
            f"replay {s}: CPU/op zaqarkit async WebSocket (trio) vs sync WebSocket",
            "replay",
            s,
            "zk-trio-ws",
            "zk-ws",
            1.3,
        )
    # Async HTTP against sync HTTP (issue 29): what the event loop adds per call.
    for s in ("post1", "list10", "claim_delete_many"):
        cpu_target(
            f"replay {s}: CPU/op zaqarkit async HTTP (asyncio) vs sync HTTP",
            "replay",
            s,
            "zk-async-http",
            "zk-http",
            1.3,
        )
        cpu_target(
            f"replay {s}: CPU/op zaqarkit async HTTP (trio) vs sync HTTP",
            "replay",
            s,
            "zk-trio-http",
            "zk-http",
            1.25,
        )
    cpu_target(
        "core list10: CPU/op zaqarkit core (build+parse) vs the json.dumps+json.loads floor",
        "core",
        "list10",
        "core",
        "json-floor",
        2.0,
    )
    for s in SCENARIOS:
        add(
            f"real {s}: ops/s zaqarkit WebSocket vs zaqarkit HTTP (one connection each)",
            _ops(res, "real", s, "zk-ws"),
            _ops(res, "real", s, "zk-http"),
            1.3,
            ">=",
            _why_missing(res, "real", s, "zk-ws", "zk-http"),
        )
    # Concurrency on the replay tier, where the client is what is measured: one
    # server worker saturates first on the real one (see its "limited by").
    n = max(res.config.concurrency)
    for key, peer in (("zk-async-http", "httpx-async"), ("zk-trio-http", "httpx-trio")):
        add(
            f"replay: ops/s {n} concurrent producers on one {key} vs plain {peer} doing the same",
            _ops(res, "replay", "concurrency", key, n),
            _ops(res, "replay", "concurrency", peer, n),
            1.0,
            ">=",
            _why_missing(res, "replay", "concurrency", key, peer, conc=n),
        )
    # Retention: on a client-bound tier concurrency cannot multiply throughput,
    # but it must not lose it (performance anchors: rps(N)/rps(1) >= 0.8).
    for key in ("zk-async-http", "zk-trio-http", "zk-async-ws"):
        add(
            f"replay: ops/s {n} concurrent vs 1 sequential producer ({key})",
            _ops(res, "replay", "concurrency", key, n),
            _ops(res, "replay", "concurrency", key, 1),
            0.8,
            ">=",
            _why_missing(res, "replay", "concurrency", key, conc=n),
        )
    poll = res.row("real", "pubsub", "poll-http")
    for key in ("push-zk-ws", "push-websockets"):
        push = res.row("real", "pubsub", key)
        if push is not None and push.ok and poll is not None and poll.ok:
            add(
                f"real: push delivery p50 ({key}) vs HTTP polling consumer p50",
                push.percentile(0.5),
                poll.percentile(0.5),
                1.0,
                "<",
                "",
            )
            out[-1]["status"] = "PASS" if out[-1]["ratio"] < 1.0 else "FAIL"
        else:
            add(
                f"real: push delivery p50 ({key}) vs HTTP polling consumer p50",
                None,
                None,
                1.0,
                "<",
                _why_missing(res, "real", "pubsub", key, "poll-http")
                if push is not None
                else f"{key} not run",
            )
    return out


# -- markdown ------------------------------------------------------------------------------


def _failure(row: Any) -> str:
    """A row without numbers: a scenario the client does not offer, or its error."""
    error = row.error or "no samples"
    return error if error.startswith("not offered") else f"error: {error}"


def _fmt(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _ratio(x: float | None, y: float | None) -> str:
    if x is None or y is None or y == 0:
        return "—"
    return f"{x / y:.2f}x"


def _table(res: Results, tier: str, scenario: str, conc: int | None = None) -> list[str]:
    rows = [
        r
        for r in res.rows
        if r.tier == tier and r.scenario == scenario and (conc is None or r.concurrency == conc)
    ]
    if not rows:
        return []
    ref = "json-floor" if tier == "core" else "floor-http"
    peer = _cpu(res, tier, scenario, "zaqarclient", rows[0].concurrency)
    floor = _cpu(res, tier, scenario, ref, rows[0].concurrency)
    limited = any(r.saturation for r in rows)
    lines = [
        "| contender | ops/s | p50 µs | p99 µs | CPU µs/op (min) | CPU x zaqarclient "
        f"| CPU x {'json floor' if tier == 'core' else 'http.client floor'} |"
        + (" limited by |" if limited else ""),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---|" if limited else ""),
    ]
    ok = sorted((r for r in rows if r.ok), key=lambda r: r.cpu_us)
    for r in ok:
        lines.append(
            f"| {r.label} | {_fmt(r.ops_per_s)} | {_fmt(r.percentile(0.5), 1)} | "
            f"{_fmt(r.percentile(0.99), 1)} | {_fmt(r.cpu_us, 1)} ({_fmt(r.cpu_us_min, 1)}) | "
            f"{_ratio(r.cpu_us, peer)} | {_ratio(r.cpu_us, floor)} |"
            + (f" {r.limited_by} |" if limited else "")
        )
    for r in rows:
        if not r.ok:
            lines.append(f"| {r.label} | {_failure(r)} | | | | | |" + (" |" if limited else ""))
    return lines


def markdown(res: Results) -> str:
    cfg = res.config
    m = machine()
    when = _dt.datetime.fromtimestamp(res.started, _dt.UTC)
    out = [
        "# zaqarkit benchmark results",
        "",
        "Generated by `python -m benchmarks` (`nox -s bench`); do not edit by hand. "
        "Method and how to read the numbers: `benchmarks/README.md`.",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC; run took {res.elapsed / 60:.1f} min"
        f"{' (--quick)' if cfg.quick else ''}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['os']}",
        f"- Python: {m['python']}; commit {m['commit']}",
        f"- Libraries: {m['versions']}",
        f"- Rounds: {cfg.rounds} interleaved (shuffled order, seed {cfg.seed}); per contender "
        f"and round {cfg.warmup:g} s warm-up (discarded) then {cfg.duration:g} s measured",
        "- ops/s: median over rounds; CPU µs/op: client process CPU time "
        "(`time.process_time`) per op, median over rounds (min in brackets); p50/p99: "
        "closed-loop latency over all measured ops",
    ]
    for tier, note in res.tier_notes.items():
        out.append(f"- {tier} tier: {note}")
    out += ["", "## Targets (ratios from this run)", ""]
    out += ["| | target | measured | limit | detail |", "|---|---|---:|---:|---|"]
    for t in targets(res):
        ratio = "—" if t["ratio"] is None else f"{t['ratio']:.2f}x"
        out.append(
            f"| **{t['status']}** | {t['target']} | {ratio} | {t['kind']} "
            f"{t['limit']:g}x | {t['detail']} |"
        )
    tiers = [
        ("core", "Core only (build + parse, no I/O)"),
        ("replay", "Replay server (separate process, canned Zaqar answers)"),
        ("real", "Real Zaqar (harness)"),
    ]
    for tier, title in tiers:
        if not any(r.tier == tier for r in res.rows) and tier not in res.tier_notes:
            continue
        out += ["", f"## {title}"]
        if res.tier_notes.get(tier, "").startswith("tier failed"):
            out += ["", res.tier_notes[tier]]
        for s in SCENARIOS:
            table = _table(res, tier, s)
            if table:
                title_s = SCENARIO_TITLES[s]
                out += [
                    "",
                    f"### {tier}: {title_s} ({REQUESTS_PER_OP[s]} request(s) per op)",
                    "",
                    *table,
                ]
        levels = sorted(
            {r.concurrency for r in res.rows if r.tier == tier and r.scenario == "concurrency"}
        )
        for n in levels:
            out += [
                "",
                f"### {tier}: {n} concurrent async producer(s) on one client",
                "",
                *_table(res, tier, "concurrency", n),
            ]
        if tier == "real":
            out += _pubsub(res)
            out += _roles(res)
        if tier == "replay" and res.memory:
            out += _memory(res)
    gone = {k: v for k, v in res.unavailable.items()}
    if gone:
        out += ["", "## Not available in this run", ""]
        out += [f"- `{k}`: {v}" for k, v in gone.items()]
    return "\n".join(out) + "\n"


def _pubsub(res: Results) -> list[str]:
    rows = [r for r in res.rows if r.scenario == "pubsub"]
    if not rows:
        return []
    out = [
        "",
        "### real: producer/consumer, time from post to consume",
        "",
        f"One producer posts a message every {res.config.pubsub_interval * 1000:g} ms "
        "over HTTP; the consumer polls with claims in a tight loop, or receives "
        "WebSocket push notifications.",
        "",
        "| consumer | messages/s | p50 ms | p99 ms | messages |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.ok:
            out.append(
                f"| {r.label} | {_fmt(r.ops_per_s)} | {_fmt(r.percentile(0.5) / 1e3, 2)} "
                f"| {_fmt(r.percentile(0.99) / 1e3, 2)} | {sum(s.ops for s in r.samples)} |"
            )
        else:
            out.append(f"| {r.label} | {_failure(r)} | | | |")
    return out


def _roles(res: Results) -> list[str]:
    out: list[str] = []
    for rep in res.bench:
        cfg = rep.config
        out += [
            "",
            "### real: zaqar-bench roles through `zaqarkit bench` (every transport)",
            "",
            f"`zaqarkit bench` engine: {cfg['producers']} producer and {cfg['consumers']} "
            f"consumer workers per transport, {cfg['time']:g} s each in {cfg['rounds']} "
            "interleaved turns, 4 queues; CPU µs/op is the role process's; "
            '"saturated" names the process at or above 85% of a core.',
            "",
            "```",
            rep.table(),
            "```",
        ]
    return out


def _memory(res: Results) -> list[str]:
    out = [
        "",
        "### Memory: post batches of 10 on the replay tier, one process per client",
        "",
        f"{res.memory[0].get('messages_per_window', '?')} messages per window; the first "
        "window is warm-up. Growth is tracemalloc's traced size between consecutive "
        "windows, scaled to 10,000 messages; flat means no per-message leak.",
        "",
        "| client | mean growth / 10k msgs | per window (KiB / 10k) | peak RSS MiB |",
        "|---|---:|---|---:|",
    ]
    for m in res.memory:
        if "error" in m:
            out.append(f"| {m['label']} | error: {m['error']} | | |")
            continue
        per = ", ".join(f"{g:+.1f}" for g in m["growth_per_10k_kib"])
        flat = "flat" if abs(m["mean_growth_per_10k_kib"]) < 16 else "GROWS"
        out.append(
            f"| {m['label']} | {m['mean_growth_per_10k_kib']:+.1f} KiB ({flat}) | {per} "
            f"| {m['peak_rss_mib'][-1]:.1f} |"
        )
    return out


def write_json(res: Results, path: Path) -> None:
    doc = {
        "config": asdict(res.config),
        "machine": machine(),
        "elapsed_s": res.elapsed,
        "rows": [r.to_json() for r in res.rows],
        "memory": res.memory,
        "unavailable": res.unavailable,
        "tier_notes": res.tier_notes,
        "targets": targets(res),
        "bench": [rep.to_dict() for rep in res.bench],
    }
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


# -- plots ----------------------------------------------------------------------------------


def plots(res: Results, folder: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for tier in ("core", "replay", "real"):
        scen = [
            s
            for s in SCENARIOS
            if any(r.ok and r.tier == tier and r.scenario == s for r in res.rows)
        ]
        if not scen:
            continue
        for metric, xlabel, fn in (
            ("throughput", "ops/s (median of rounds)", lambda r: r.ops_per_s),
            ("latency", "latency µs (bar p50, tick p99)", lambda r: r.percentile(0.5)),
            ("cpu", "client CPU µs per op", lambda r: r.cpu_us),
        ):
            fig, axes = plt.subplots(
                len(scen), 1, figsize=(9, 2.2 + 1.9 * len(scen)), squeeze=False
            )
            for ax, s in zip(axes[:, 0], scen, strict=True):
                rows = sorted(
                    (r for r in res.rows if r.ok and r.tier == tier and r.scenario == s),
                    key=lambda r: r.label,
                )
                labels = [r.label for r in rows]
                values = [fn(r) for r in rows]
                ax.barh(
                    labels,
                    values,
                    color=[
                        "#d62728"
                        if r.contender.startswith("zk") or r.contender in ("core", "facade-noio")
                        else "#7f7f7f"
                        for r in rows
                    ],
                )
                if metric == "latency":
                    ax.plot([r.percentile(0.99) for r in rows], labels, "k|", markersize=12)
                ax.set_title(f"{tier}: {SCENARIO_TITLES[s]}", fontsize=9)
                ax.tick_params(labelsize=7)
                ax.set_xlabel(xlabel, fontsize=8)
            fig.tight_layout()
            path = folder / f"{tier}_{metric}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
        conc = [r for r in res.rows if r.ok and r.tier == tier and r.scenario == "concurrency"]
        if conc:
            fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
            for key in sorted({r.contender for r in conc}):
                pts = sorted((r for r in conc if r.contender == key), key=lambda r: r.concurrency)
                ax[0].plot(
                    [r.concurrency for r in pts],
                    [r.ops_per_s for r in pts],
                    "o-",
                    label=pts[0].label,
                )
                ax[1].plot(
                    [r.concurrency for r in pts],
                    [r.percentile(0.99) / 1e3 for r in pts],
                    "o-",
                    label=pts[0].label,
                )
            ax[0].set(
                xscale="log",
                xlabel="concurrent producers",
                ylabel="ops/s",
                title=f"{tier}: throughput vs concurrency",
            )
            ax[1].set(
                xscale="log",
                xlabel="concurrent producers",
                ylabel="p99 ms",
                title=f"{tier}: p99 latency vs concurrency",
            )
            ax[0].legend(fontsize=7)
            fig.tight_layout()
            path = folder / f"{tier}_concurrency.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
    pub = [r for r in res.rows if r.ok and r.scenario == "pubsub"]
    if pub:
        fig, ax = plt.subplots(figsize=(8, 2.5))
        labels = [r.label for r in pub]
        ax.barh(labels, [r.percentile(0.5) / 1e3 for r in pub], color="#1f77b4")
        ax.plot([r.percentile(0.99) / 1e3 for r in pub], labels, "k|", markersize=12)
        ax.set_xlabel("post-to-consume ms (bar p50, tick p99)")
        ax.set_title("real: producer/consumer delivery latency")
        fig.tight_layout()
        path = folder / "real_pubsub.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def write_all(res: Results, md_path: Path, plot_dir: Path | None) -> list[Path]:
    """RESULTS.md-style markdown at ``md_path``, ``results.json`` beside it, plots."""
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(markdown(res))
    write_json(res, md_path.with_name("results.json"))
    written = plots(res, plot_dir) if plot_dir is not None else []
    for n, rep in enumerate(res.bench):
        # Without matplotlib the tables are the result.
        if plot_dir is not None:
            with contextlib.suppress(UnsupportedOperation):
                written += rep.plot(plot_dir / f"roles{n or ''}")
    return written


__all__ = ["markdown", "plots", "targets", "write_all", "Row"]
