"""What a ``zaqarkit bench`` run does: :class:`BenchConfig` and message pools."""

from __future__ import annotations

import json
import pickle
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zaqarkit.errors import ValidationError

__all__ = ["ROLES", "TRANSPORTS", "BenchConfig", "MessagePool"]

#: transport name -> (facade, event loop, wire)
TRANSPORTS: dict[str, tuple[str, str, str]] = {
    "http": ("sync", "sync", "http"),
    "ws": ("sync", "sync", "ws"),
    "async-http": ("async", "asyncio", "http"),
    "async-ws": ("async", "asyncio", "ws"),
    "trio-http": ("async", "trio", "http"),
    "trio-ws": ("async", "trio", "ws"),
}
ROLES = ("producer", "consumer", "observer")

#: zaqar-bench's built-in message when no file is given.
DEFAULT_MESSAGE: dict[str, Any] = {"ttl": 300, "body": {"evt": "Wakeup"}}


@dataclass(frozen=True)
class MessagePool:
    """Message documents to post, drawn by weight (zaqar-bench's message file:
    a JSON list of ``{"weight": 0.8, "doc": {"ttl": 60, "body": ...}}``).

    >>> pool = MessagePool.from_docs([({"ttl": 60, "body": 1}, 3.0), ({"ttl": 60, "body": 2}, 1.0)])
    >>> pool.choose(random.Random(0))["body"] in (1, 2)
    True
    >>> MessagePool.of_size(100).docs[0]["body"]["pad"].__len__() > 0
    True
    """

    docs: tuple[dict[str, Any], ...]
    cumulative: tuple[float, ...]

    @classmethod
    def from_docs(cls, weighted: Sequence[tuple[dict[str, Any], float]]) -> MessagePool:
        if not weighted:
            raise ValidationError("message_file", "holds no message")
        total = 0.0
        cum = []
        for doc, weight in weighted:
            if not isinstance(doc, dict) or "body" not in doc:
                raise ValidationError("message_file", f"each doc needs a 'body', got {doc!r:.60}")
            if not isinstance(weight, (int, float)) or weight <= 0:
                raise ValidationError("message_file", f"weights must be > 0, got {weight!r}")
            total += float(weight)
            cum.append(total)
        return cls(tuple(dict(doc) for doc, _ in weighted), tuple(c / total for c in cum))

    @classmethod
    def from_file(cls, path: str | Path) -> MessagePool:
        """Load zaqar-bench's format (``etc/zaqar-benchmark-messages.json``)."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ValidationError("message_file", f"cannot read {path}: {exc}") from exc
        if not isinstance(data, list):
            raise ValidationError("message_file", "must be a JSON list of {weight, doc}")
        items = []
        for entry in data:
            if not isinstance(entry, dict) or "doc" not in entry or "weight" not in entry:
                raise ValidationError("message_file", "every entry needs 'weight' and 'doc'")
            items.append((entry["doc"], entry["weight"]))
        return cls.from_docs(items)

    @classmethod
    def of_size(cls, size: int, ttl: int = 300) -> MessagePool:
        """One message whose JSON document is about ``size`` bytes."""
        base = {"ttl": ttl, "body": {"evt": "Wakeup", "pad": ""}}
        pad = max(1, size - len(json.dumps(base)))
        return cls.from_docs([({"ttl": ttl, "body": {"evt": "Wakeup", "pad": "x" * pad}}, 1.0)])

    def choose(self, rng: random.Random) -> dict[str, Any]:
        x = rng.random()
        for doc, c in zip(self.docs, self.cumulative, strict=True):
            if x < c:
                return doc
        return self.docs[-1]


def _tag() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class BenchConfig:
    """One benchmark run. Each role runs ``processes`` client processes with
    ``producers`` (``consumers``, ``observers``) workers each: threads for the
    sync transports, tasks on one event loop for the async ones.

    ``url`` is the HTTP endpoint, ``ws_url`` the WebSocket one (needed by the
    ``*-ws`` transports). ``client_options`` are keyword arguments for
    :class:`~zaqarkit.Client`/:class:`~zaqarkit.AsyncClient` (``conf``,
    ``project_id``, ``insecure``, ``timeout``, ...); they cross process
    boundaries, so they must pickle. Several ``transports`` are run in
    ``rounds`` interleaved turns (shuffled with ``seed``), each transport
    measured ``time`` seconds in all (or until ``messages`` were posted).

    Example::

        from zaqarkit.bench import BenchConfig, run
        report = run(BenchConfig(url="http://127.0.0.1:8888", ws_url="ws://127.0.0.1:9000",
                                 transports=("http", "ws"), producers=4, consumers=4, time=30))
        print(report.table())
    """

    url: str | None = None
    ws_url: str | None = None
    transports: tuple[str, ...] = ("http",)
    producers: int = 1
    consumers: int = 0
    observers: int = 0
    processes: int = 1
    time: float | None = 10.0
    messages: int | None = None
    queues: int = 4
    queue_prefix: str | None = None
    message_file: str | None = None
    message_size: int | None = None
    claim_batch: int = 5
    claim_ttl: int = 300
    claim_grace: int = 200
    list_page: int = 5
    api_version: str = "2"
    skip_queue_reset: bool = False
    keep_queues: bool = False
    rounds: int = 1
    warmup: float = 0.0
    seed: int | None = None
    client_options: Mapping[str, Any] = field(default_factory=dict)
    #: local pids of the server under test, to say whether it saturated
    server_pids: tuple[int, ...] = ()
    progress: bool = True

    def validate(self) -> None:
        """Raise :class:`~zaqarkit.ValidationError` naming the first bad field."""
        if not self.transports:
            raise ValidationError("transport", "give at least one")
        for t in self.transports:
            if t not in TRANSPORTS:
                raise ValidationError(
                    "transport", f"unknown {t!r}; choose from {', '.join(TRANSPORTS)}"
                )
        if len(set(self.transports)) != len(self.transports):
            raise ValidationError("transport", "each transport at most once")
        wires = {TRANSPORTS[t][2] for t in self.transports}
        # With Keystone credentials the HTTP endpoint may come from the catalog.
        catalog = "conf" in self.client_options or "session" in self.client_options
        if "http" in wires and not self.url and not catalog:
            raise ValidationError("url", "the HTTP transports need --url")
        if "ws" in wires and not self.ws_url:
            raise ValidationError("ws_url", "the WebSocket transports need --ws-url")
        for name in ("producers", "consumers", "observers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValidationError(name, f"must be an integer >= 0, got {value!r}")
        if self.producers + self.consumers + self.observers == 0:
            raise ValidationError("producers", "no role has a worker")
        positive = {
            "processes": self.processes,
            "queues": self.queues,
            "claim_batch": self.claim_batch,
            "list_page": self.list_page,
            "rounds": self.rounds,
        }
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValidationError(name, f"must be an integer >= 1, got {value!r}")
        if not 1 <= self.claim_batch <= 20:
            raise ValidationError("claim_batch", "Zaqar claims 1 to 20 messages at a time")
        if not 1 <= self.list_page <= 20:
            raise ValidationError("list_page", "Zaqar lists 1 to 20 messages per page")
        if self.time is None and self.messages is None:
            raise ValidationError("time", "give --time or --messages")
        if self.time is not None and self.time <= 0:
            raise ValidationError("time", f"must be > 0 seconds, got {self.time!r}")
        if self.messages is not None:
            if self.messages < 1:
                raise ValidationError("messages", f"must be >= 1, got {self.messages!r}")
            if self.producers == 0:
                raise ValidationError("messages", "needs at least one producer")
        if self.warmup < 0:
            raise ValidationError("warmup", f"must be >= 0, got {self.warmup!r}")
        if self.message_file and self.message_size:
            raise ValidationError("message_size", "give --message-file or --message-size")
        if self.message_size is not None and self.message_size < 1:
            raise ValidationError("message_size", f"must be >= 1 byte, got {self.message_size}")
        if self.queue_prefix is not None and not self.queue_prefix:
            raise ValidationError("queue_prefix", "must not be empty")
        if str(self.api_version) not in ("1", "1.1", "2"):
            raise ValidationError("api_version", f"must be 1, 1.1 or 2, got {self.api_version!r}")
        if self.api_version != "2" and wires & {"ws"}:
            raise ValidationError("api_version", "Zaqar's WebSocket speaks API v2 only")
        self.message_pool()  # reads and checks the message file
        try:
            pickle.dumps(dict(self.client_options))
        except Exception as exc:
            raise ValidationError(
                "client_options", f"must pickle to reach the role processes: {exc}"
            ) from None

    def message_pool(self) -> MessagePool:
        if self.message_file:
            return MessagePool.from_file(self.message_file)
        if self.message_size:
            return MessagePool.of_size(self.message_size)
        return MessagePool.from_docs([(DEFAULT_MESSAGE, 1.0)])

    def queue_names(self, tag: str | None = None) -> list[str]:
        """``prefix-0 .. prefix-(K-1)``; without a prefix, a fresh one per run
        (``zaqarkit-bench-<8 hex>``) so no existing queue can be hit."""
        prefix = self.queue_prefix or f"zaqarkit-bench-{tag or _tag()}"
        return [f"{prefix}-{i}" for i in range(self.queues)]

    def workers(self, role: str) -> int:
        return int(getattr(self, role + "s"))
