"""The end report of a run: per transport and role, as a table, JSON and plots."""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zaqarkit.bench._measure import summarize

__all__ = ["OpReport", "Report", "RoleReport", "machine"]

PACKAGES = (
    "zaqarkit",
    "httpx",
    "httpcore",
    "h11",
    "websockets",
    "anyio",
    "trio",
    "python-zaqarclient",
    "locust",
    "matplotlib",
)


def machine(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """CPU model and count, OS, Python and library versions of this client host."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


@dataclass
class OpReport:
    """One operation (post, claim, delete, list) of one role over one transport."""

    count: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    ops_per_s: float

    @classmethod
    def of(cls, lat_ns: Sequence[int], errors: int, wall: float) -> OpReport:
        s = summarize(lat_ns)
        return cls(
            len(lat_ns),
            errors,
            s["p50_ms"],
            s["p90_ms"],
            s["p99_ms"],
            s["max_ms"],
            s["mean_ms"],
            len(lat_ns) / wall if wall > 0 else 0.0,
        )


@dataclass
class RoleReport:
    """One role over one transport, summed over its processes and rounds."""

    transport: str
    role: str
    processes: int
    workers: int
    ops: int
    errors: int
    messages: int
    wall_s: float
    cpu_s: float
    ops_per_s: float
    messages_per_s: float
    #: client CPU (all processes of the role) per successful operation
    cpu_us_per_op: float
    #: client cores busy: CPU seconds per wall second, summed over processes
    client_cores: float
    empty_claims: int = 0
    operations: dict[str, OpReport] = field(default_factory=dict)
    errors_by_type: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@dataclass
class Report:
    """What :func:`zaqarkit.bench.run` returns.

    ``roles`` has one :class:`RoleReport` per transport and role; ``queues``
    the queues the run created and deleted; ``saturation`` says per
    transport which resource limited it (when the server's pids were given).
    """

    config: dict[str, Any]
    machine: dict[str, str]
    started: float
    elapsed_s: float
    transports: list[str]
    roles: list[RoleReport] = field(default_factory=list)
    queues: dict[str, list[str]] = field(default_factory=dict)
    server_cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    client_cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    #: cores of the whole machine busy during each transport's turns
    machine_cpu: dict[str, float | None] = field(default_factory=dict)
    saturation: dict[str, str] = field(default_factory=dict)
    seed: int = 0

    def role(self, transport: str, role: str) -> RoleReport | None:
        for r in self.roles:
            if (r.transport, r.role) == (transport, role):
                return r
        return None

    @property
    def total_errors(self) -> int:
        return sum(r.errors for r in self.roles) + sum(len(r.failures) for r in self.roles)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _finite(asdict(self))
        return out

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (NaN becomes null)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return p

    # -- text -------------------------------------------------------------------------

    def rows(self) -> list[list[str]]:
        """The table, one row per transport, role and operation."""
        rows = []
        for r in self.roles:
            for i, (name, op) in enumerate(r.operations.items()):
                first = i == 0
                rows.append(
                    [
                        r.transport if first else "",
                        r.role if first else "",
                        f"{r.processes}x{r.workers}" if first else "",
                        f"{r.ops_per_s:,.0f}" if first else "",
                        f"{r.messages_per_s:,.0f}" if first else "",
                        name,
                        f"{op.count:,}",
                        _ms(op.p50_ms),
                        _ms(op.p90_ms),
                        _ms(op.p99_ms),
                        _ms(op.max_ms),
                        f"{r.cpu_us_per_op:,.0f}" if first else "",
                        (_errors(r) if first else "") or ("0" if first else ""),
                    ]
                )
        return rows

    HEADERS = (
        "transport",
        "role",
        "procs x workers",
        "ops/s",
        "msgs/s",
        "op",
        "count",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "CPU µs/op",
        "errors",
    )

    def table(self) -> str:
        """The report as a plain-text table (the same as the rich one)."""
        rows = [list(self.HEADERS), *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADERS))]
        lines = []
        for n, r in enumerate(rows):
            lines.append(
                "  ".join(
                    c.rjust(w) if i >= 3 and i != 5 else c.ljust(w)
                    for i, (c, w) in enumerate(zip(r, widths, strict=True))
                )
            )
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += self.notes()
        return "\n".join(lines)

    def notes(self) -> list[str]:
        out = []
        for t in self.transports:
            if t in self.saturation:
                out.append(f"{t}: {self.saturation[t]}")
        for r in self.roles:
            for f in r.failures:
                out.append(f"{r.transport} {r.role}: process failed: {f}")
            if r.empty_claims:
                out.append(f"{r.transport} {r.role}: {r.empty_claims:,} claims found nothing")
        return out

    def print(self, console: Any = None) -> None:
        """Print the table with rich when it is installed, as plain text otherwise."""
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            print(self.table())
            return
        console = console or Console()
        if not console.is_terminal:
            # Piped or captured: the plain table, never squeezed to 80 columns.
            console.file.write(self.table() + "\n")
            return
        table = Table(title="zaqarkit bench", show_lines=False)
        for i, h in enumerate(self.HEADERS):
            table.add_column(h, justify="right" if i >= 3 and i != 5 else "left")
        for row in self.rows():
            table.add_row(*row)
        console.print(table)
        for line in self.notes():
            console.print(line)

    # -- plots ------------------------------------------------------------------------

    def plot(self, folder: str | Path) -> list[Path]:
        """PNG charts (latency per operation, throughput per role) into ``folder``.

        Needs matplotlib (``pip install 'zaqarkit[plot]'``); raises
        :class:`~zaqarkit.UnsupportedOperation` without it.
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as exc:
            from zaqarkit.errors import UnsupportedOperation

            raise UnsupportedOperation(
                "--plot needs matplotlib: pip install 'zaqarkit[plot]'"
            ) from exc
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        ops = [(r, name, op) for r in self.roles for name, op in r.operations.items() if op.count]
        if ops:
            fig, ax = plt.subplots(figsize=(9, 1.5 + 0.35 * len(ops)))
            labels = [f"{r.transport} {name}" for r, name, _ in ops]
            ax.barh(labels, [op.p50_ms for _, _, op in ops], color="#1f77b4", label="p50")
            ax.plot([op.p90_ms for _, _, op in ops], labels, "k|", markersize=10, label="p90")
            ax.plot([op.p99_ms for _, _, op in ops], labels, "r|", markersize=12, label="p99")
            ax.set_xlabel("latency ms (closed loop)")
            ax.set_title("zaqarkit bench: latency per operation")
            ax.legend(fontsize=7)
            fig.tight_layout()
            path = out / "latency.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
        if self.roles:
            fig, ax = plt.subplots(figsize=(9, 1.5 + 0.35 * len(self.roles)))
            labels = [f"{r.transport} {r.role}" for r in self.roles]
            ax.barh(labels, [r.ops_per_s for r in self.roles], color="#2ca02c")
            ax.set_xlabel("operations per second")
            ax.set_title("zaqarkit bench: throughput per role")
            fig.tight_layout()
            path = out / "throughput.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
        return written


def _ms(x: float) -> str:
    if x is None or math.isnan(x):
        return "—"
    return f"{x:.2f}" if x < 100 else f"{x:,.0f}"


def _errors(r: RoleReport) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(r.errors_by_type.items()))


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def merge_errors(counters: Iterable[Counter[str]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counters:
        total.update(c)
    return dict(total)
