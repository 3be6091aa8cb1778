"""What the role processes and the conductor share: the role spec, its
result, the live counters and the error labels."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from zaqarkit.bench._config import MessagePool
from zaqarkit.errors import ApiError

__all__ = ["FAILED", "IDLE_PAUSE", "OPERATIONS", "Counts", "RoleResult", "RoleSpec", "error_label"]

#: The operations every report has, per role.
OPERATIONS = {"producer": ("post",), "consumer": ("claim", "delete"), "observer": ("list",)}
#: An empty claim or a failed call is followed by this pause, so that idle
#: consumers (or a refused connection) do not spin the CPU that the server
#: under test shares with them.
IDLE_PAUSE = 0.01
#: What a timed call that raised returns (``delete`` itself returns None).
FAILED: Any = object()


@dataclass
class RoleSpec:
    """Everything one role process needs; it is pickled to the child."""

    role: str
    transport: str
    index: int
    workers: int
    url: str | None
    ws_url: str | None
    api_version: str
    client_options: dict[str, Any]
    queues: list[str]
    pool: MessagePool
    claim_batch: int
    claim_ttl: int
    claim_grace: int
    list_page: int
    duration: float | None
    #: messages this process posts at most (producers in --messages mode)
    quota: int | None
    warmup: float
    seed: int


@dataclass
class RoleResult:
    role: str
    transport: str
    index: int
    workers: int
    lat_ns: dict[str, list[int]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    messages: int = 0
    empty_claims: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    fatal: str | None = None


def error_label(exc: BaseException) -> str:
    """A short, stable name for an error, for the "errors by type" table.

    >>> from zaqarkit.errors import ServiceUnavailable
    >>> error_label(ServiceUnavailable(503, "Service Unavailable", "busy", "message_post"))
    'ServiceUnavailable (503)'
    >>> error_label(ConnectionResetError())
    'ConnectionResetError'
    """
    if isinstance(exc, ApiError):
        return f"{type(exc).__name__} ({exc.status})"
    return type(exc).__name__


class Counts:
    """Live counters shared by the workers of one process (GIL-atomic adds)."""

    def __init__(self, spec: RoleSpec) -> None:
        self.spec = spec
        self.lat: dict[str, list[int]] = {op: [] for op in OPERATIONS[spec.role]}
        self.errors: dict[str, Counter[str]] = {op: Counter() for op in OPERATIONS[spec.role]}
        self.messages = 0
        self.empty = 0
        self.posted = 0  # reserved post slots, for the quota
        self.lock = threading.Lock()

    def ops(self) -> int:
        return sum(len(v) for v in self.lat.values())

    def error_total(self) -> int:
        return sum(sum(c.values()) for c in self.errors.values())

    def take_quota(self) -> bool:
        quota = self.spec.quota
        if quota is None:
            return True
        with self.lock:
            if self.posted >= quota:
                return False
            self.posted += 1
            return True

    def result(self, cpu: float, wall: float) -> RoleResult:
        s = self.spec
        return RoleResult(
            s.role,
            s.transport,
            s.index,
            s.workers,
            self.lat,
            self.errors,
            self.messages,
            self.empty,
            cpu,
            wall,
        )

    def reset(self) -> None:
        for v in self.lat.values():
            v.clear()
        for c in self.errors.values():
            c.clear()
        self.messages = self.empty = self.posted = 0
