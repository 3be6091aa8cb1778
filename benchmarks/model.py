"""What a benchmark run is made of: its config, rows of samples, results, tiers.

Data only, imported by the runner, the pub/sub scenario and the report alike
(so none of them imports another for its types). Samples, percentiles and
summaries are the engine's (:mod:`zaqarkit.bench`), the same ones
``zaqarkit bench`` reports.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.contenders import CONTENDERS, SCENARIOS
from zaqarkit.bench import Sample, percentile, summarize

HERE = Path(__file__).resolve().parent
TIERS = ("core", "replay", "real")
CONCURRENCY = (1, 8, 32)
PROJECT = "bench"

__all__ = ["CONCURRENCY", "HERE", "PROJECT", "TIERS", "Config", "Results", "Row", "Sample", "Tier"]


@dataclass
class Config:
    rounds: int = 5
    duration: float = 0.8
    warmup: float = 0.2
    tiers: tuple[str, ...] = TIERS
    scenarios: tuple[str, ...] = (*SCENARIOS, "concurrency", "pubsub", "memory", "roles")
    contenders: tuple[str, ...] = tuple(c.key for c in CONTENDERS)
    concurrency: tuple[int, ...] = CONCURRENCY
    seed: int = 20240501
    quick: bool = False
    #: messages per memory window, and windows (the first is warm-up)
    memory_messages: int = 10_000
    memory_windows: int = 4
    #: seconds per pub/sub round and producer interval
    pubsub_seconds: float = 3.0
    pubsub_interval: float = 0.01
    #: the `roles` scenario (real tier): zaqarkit bench's engine, measured
    #: seconds per transport, and producers/consumers per transport
    roles_seconds: float = 6.0
    roles_workers: int = 4
    pin: bool = True
    progress: bool = True

    @classmethod
    def quick_mode(cls, **kw: Any) -> Config:
        base: dict[str, Any] = dict(
            rounds=2,
            duration=0.15,
            warmup=0.05,
            quick=True,
            memory_messages=2_000,
            memory_windows=3,
            pubsub_seconds=0.6,
            roles_seconds=1.0,
            roles_workers=2,
        )
        base.update(kw)
        return cls(**base)


@dataclass
class Row:
    tier: str
    scenario: str
    contender: str
    label: str
    concurrency: int = 1
    samples: list[Sample] = field(default_factory=list)
    #: the round each of ``samples`` was measured in (parallel to it)
    sample_rounds: list[int] = field(default_factory=list)
    error: str | None = None
    note: str = ""
    #: per round (real tier): what limited it, from zaqarkit.bench.saturation
    saturation: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)

    @property
    def ops_per_s(self) -> float:
        return statistics.median(s.ops / s.wall for s in self.samples if s.wall > 0)

    @property
    def cpu_us(self) -> float:
        return statistics.median(s.cpu / s.ops * 1e6 for s in self.samples if s.ops)

    def cpu_us_by_round(self) -> dict[int, float]:
        """CPU µs/op of each round this row was measured in."""
        return {
            rnd: s.cpu / s.ops * 1e6
            for rnd, s in zip(self.sample_rounds, self.samples, strict=True)
            if s.ops
        }

    @property
    def cpu_us_min(self) -> float:
        return min(s.cpu / s.ops * 1e6 for s in self.samples if s.ops)

    def _sorted(self) -> list[int]:
        return sorted(x for s in self.samples for x in s.lat_ns)

    def percentile(self, q: float) -> float:
        """Latency quantile ``q`` over all measured operations, in µs."""
        return percentile(self._sorted(), q) * 1e3

    @property
    def limited_by(self) -> str:
        """The most frequent saturation verdict over the rounds ('' if none)."""
        if not self.saturation:
            return ""
        return max(set(self.saturation), key=self.saturation.count)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tier": self.tier,
            "scenario": self.scenario,
            "contender": self.contender,
            "label": self.label,
            "concurrency": self.concurrency,
            "error": self.error,
            "note": self.note,
        }
        if self.ok:
            out.update(
                ops_per_s=self.ops_per_s,
                cpu_us=self.cpu_us,
                cpu_us_min=self.cpu_us_min,
                p50_us=self.percentile(0.5),
                p99_us=self.percentile(0.99),
                latency_ms=summarize(x for s in self.samples for x in s.lat_ns),
                rounds=len(self.samples),
                ops=sum(s.ops for s in self.samples),
            )
        if self.saturation:
            out["limited_by"] = self.limited_by
        return out


@dataclass
class Tier:
    name: str
    http_url: str = ""
    ws_url: str = ""
    seeder: Any = None
    server: Any = None
    #: local server pids (real tier), to tell whether the server saturated
    server_pids: tuple[int, ...] = ()


@dataclass
class Results:
    config: Config
    rows: list[Row] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    tier_notes: dict[str, str] = field(default_factory=dict)
    #: the `roles` scenario: zaqarkit bench reports (zaqarkit.bench.Report)
    bench: list[Any] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    elapsed: float = 0.0

    def row(self, tier: str, scenario: str, contender: str, concurrency: int = 1) -> Row | None:
        for r in self.rows:
            if (r.tier, r.scenario, r.contender, r.concurrency) == (
                tier,
                scenario,
                contender,
                concurrency,
            ):
                return r
        return None
