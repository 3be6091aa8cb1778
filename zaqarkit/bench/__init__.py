"""``zaqarkit bench``: benchmark any Zaqar deployment over any zaqarkit transport.

Roles as in Zaqar's own ``zaqar-bench``: producers post (weighted message
file or a size), consumers claim a batch and delete each message, observers
list pages following the ``next`` marker. Each role runs ``processes``
client processes with N workers each, over ``http``, ``ws``,
``async-http``, ``async-ws``, ``trio-http`` or ``trio-ws``; several
transports are interleaved in rounds so that noise hits them alike. The
report gives, per transport and role, operations and messages per second,
latency p50/p90/p99/max per operation, errors by type and client CPU per
operation.

    python -m zaqarkit.bench --url http://127.0.0.1:8888 --ws-url ws://127.0.0.1:9000 \\
        --transport http,ws --producers 4 --consumers 4 --time 30

The same engine from Python:

>>> from zaqarkit.bench import BenchConfig
>>> BenchConfig(url="http://127.0.0.1:8888", transports=("http", "ws")).validate()
Traceback (most recent call last):
...
zaqarkit.errors.ValidationError: ws_url: the WebSocket transports need --ws-url

The measurement primitives (:func:`sync_loop`, :func:`async_loop`,
:func:`interleave`, :class:`ProcessCpu`, :func:`summarize`) are the ones the
repository's ``benchmarks/`` suite runs on.
"""

from zaqarkit.bench._config import ROLES, TRANSPORTS, BenchConfig, MessagePool
from zaqarkit.bench._engine import run, transports_of
from zaqarkit.bench._measure import (
    PERCENTILES,
    ProcessCpu,
    Sample,
    async_loop,
    interleave,
    percentile,
    saturation,
    summarize,
    sync_loop,
)
from zaqarkit.bench._report import OpReport, Report, RoleReport, machine
from zaqarkit.bench._roles import OPERATIONS, error_label

__all__ = [
    "OPERATIONS",
    "PERCENTILES",
    "ROLES",
    "TRANSPORTS",
    "BenchConfig",
    "MessagePool",
    "OpReport",
    "ProcessCpu",
    "Report",
    "RoleReport",
    "Sample",
    "async_loop",
    "error_label",
    "interleave",
    "machine",
    "percentile",
    "run",
    "saturation",
    "summarize",
    "sync_loop",
    "transports_of",
]
