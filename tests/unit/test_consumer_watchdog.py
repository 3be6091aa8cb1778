"""Fault injection for the stall watchdog's other branch: the server answers
(claims come back empty) while the queue's stats say messages are free, as a
broken storage node or a claim path stuck behind a load balancer would. The
transport is the caller's, so the watchdog cannot recreate it and says so."""

from __future__ import annotations

import json
import logging
import time

import pytest

from zaqarkit import Client
from zaqarkit.core.operations import Operation
from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import MockTransport


def _server(request: Request) -> Response:
    if request.operation is Operation.QUEUE_GET_STATS:
        stats = {"messages": {"free": 3, "claimed": 0, "total": 3}}
        return Response(200, {"content-type": "application/json"}, json.dumps(stats).encode())
    return Response(204)  # every claim: nothing to claim


def test_free_messages_that_no_claim_brings_are_a_stall(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="zaqarkit.consumer")
    mock = MockTransport(_server)
    with Client("http://zaqar.test", project_id="p", transport=mock) as cli:
        queue = cli.queue("q", auto_create=False)
        with queue.consumer(stall_after=0.5, poll_max=0.1) as consumer:
            deadline = time.monotonic() + 30
            while consumer.stats.stalls == 0:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            health = consumer.health()
            assert health.state == "stalled"
            assert health.last_error is not None
            assert "3 messages available" in health.last_error
        assert consumer.stats.reconnects == 0  # transport= is the caller's to recreate
        assert consumer.stats.claims >= 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("stalled" in e and "3 messages available" in e for e in errors)
    assert any("recreating the connection failed" in e for e in errors)
    assert any(r.operation is Operation.QUEUE_GET_STATS for r in mock.requests)


def test_fresh_free_messages_next_to_faster_consumers_are_no_stall() -> None:
    # Push-woken consumers beside this polling one take every message within
    # milliseconds: its claims come back empty while the stats, read a moment
    # later, count messages posted a moment ago (seen in benchmarks/chaos.py).
    def server(request: Request) -> Response:
        if request.operation is Operation.QUEUE_GET_STATS:
            fresh = {"age": 0, "created": "2026-12-07T00:00:00Z"}
            stats = {"messages": {"free": 3, "claimed": 0, "total": 3, "oldest": fresh}}
            return Response(200, {"content-type": "application/json"}, json.dumps(stats).encode())
        return Response(204)

    mock = MockTransport(server)
    with Client("http://zaqar.test", project_id="p", transport=mock) as cli:
        queue = cli.queue("q", auto_create=False)
        with queue.consumer(stall_after=0.5, poll_max=0.1) as consumer:
            deadline = time.monotonic() + 30
            while sum(r.operation is Operation.QUEUE_GET_STATS for r in mock.requests) < 2:
                assert time.monotonic() < deadline, "the watchdog never read the stats"
                time.sleep(0.02)
            assert consumer.stats.stalls == 0
            assert consumer.health().state == "running"
