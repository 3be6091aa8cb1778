"""Fault-injection fixtures: a :class:`~tests.faults.proxy.FaultProxy` in front of
the real harness server (HTTP and WebSocket sides).

Every test here is bounded: calls use short timeouts and tests assert that
each ends within its timeout plus a generous margin (the machine is shared
and may be busy), never that it is fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .proxy import FaultProxy, split_url


@pytest.fixture
def http_proxy(zaqar_server: Any) -> Iterator[FaultProxy]:
    """A fault proxy in front of the harness server's HTTP port."""
    with FaultProxy(split_url(zaqar_server.url)) as proxy:
        yield proxy


@pytest.fixture
def ws_proxy(zaqar_server: Any) -> Iterator[FaultProxy]:
    """A fault proxy in front of the harness server's WebSocket port."""
    with FaultProxy(split_url(zaqar_server.ws_url)) as proxy:
        yield proxy


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> Callable[[], list[tuple[str, float]]]:
    """The (reason, delay) of every retry the policy logged (``zaqarkit.retry``)."""
    caplog.set_level(logging.WARNING, "zaqarkit.retry")

    def delays() -> list[tuple[str, float]]:
        return [
            (r.reason, r.delay)  # type: ignore[attr-defined]
            for r in caplog.records
            if r.name == "zaqarkit.retry"
        ]

    return delays
