"""``zaqarkit consume QUEUE``: at-least-once consumption on zaqarkit's consumer
runtime (``queue.consumer()`` / ``queue.consume()``).

Without ``--exec`` it drains to stdout: each message as a JSON line, acked
once printed. With ``--exec CMD`` it runs CMD once per message, the body as
JSON on its stdin and ``ZAQAR_QUEUE``, ``ZAQAR_MESSAGE_ID``,
``ZAQAR_CLAIM_ID`` in its environment: exit status 0 acks the message,
anything else releases it for another try.

``--health-port PORT`` serves ``/healthz``, ``/readyz`` and Prometheus
``/metrics`` for the consumer while it runs (see :mod:`zaqarkit.cli._health`;
needs the ``prometheus`` extra).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import click

from zaqarkit.cli._common import client, echo_json_line, sigterm_as_interrupt
from zaqarkit.errors import ValidationError

__all__ = ["consume"]


def _status(text: str) -> None:
    click.echo(f"zaqarkit: {text}", err=True)


def _delivery_line(delivery: Any, queue_name: str) -> dict[str, Any]:
    m = delivery.message
    return {
        "queue": queue_name,
        "id": delivery.id,
        "claim_id": delivery.claim_id,
        "body": m.body,
        "ttl": m.ttl,
        "age": m.age,
    }


@contextlib.contextmanager
def _health(port: int | None, host: str, queue_name: str, current: list[Any]) -> Iterator[None]:
    """The probe server for ``current[0]`` (the consumer, once entered)."""
    if port is None:
        yield
        return
    from zaqarkit.cli._health import serve_health

    try:
        server = serve_health(lambda: current[0] if current else None, queue_name, host, port)
    except OSError as exc:
        raise click.UsageError(f"--health-port {port}: {exc.strerror or exc}") from None
    _status(f"health endpoints on {server.url} (/healthz, /readyz, /metrics)")
    try:
        yield
    finally:
        server.shutdown()


def _runner(argv: list[str], queue_name: str) -> Any:
    def handle(delivery: Any) -> None:
        env = {
            **os.environ,
            "ZAQAR_QUEUE": queue_name,
            "ZAQAR_MESSAGE_ID": delivery.id,
            "ZAQAR_CLAIM_ID": delivery.claim_id,
        }
        try:
            done = subprocess.run(
                argv, input=json.dumps(delivery.body).encode(), env=env, check=False
            )
        except OSError as exc:
            _status(f"cannot run {argv[0]}: {exc.strerror}; releasing {delivery.id}")
            delivery.nack()
            return
        if done.returncode == 0:
            delivery.ack()
        else:
            _status(f"{argv[0]} exited {done.returncode} on {delivery.id}; released")
            delivery.nack()

    return handle


@click.command()
@click.argument("queue_name")
@click.option(
    "--exec",
    "command",
    metavar="CMD",
    help="Run CMD per message (body as JSON on stdin); exit 0 acks it.",
)
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many messages.")
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Drain mode: exit once no message came for SECONDS.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="--exec: commands running at once.",
)
@click.option("--batch", type=click.IntRange(min=1), help="Messages per claim.")
@click.option("--ttl", type=int, default=60, show_default=True, help="Claim TTL (renewed).")
@click.option("--grace", type=int, default=60, show_default=True, help="Claim grace.")
@click.option(
    "--health-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve /healthz, /readyz and Prometheus /metrics on PORT (0: any free port).",
)
@click.option(
    "--health-host",
    default="0.0.0.0",
    show_default=True,
    help="Address the --health-port server listens on.",
)
@click.option(
    "--stall-after",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Watchdog: no claim brought messages that long while some are available "
    "means a stall (logged, connection recreated).",
)
def consume(
    queue_name: str,
    command: str | None,
    count: int | None,
    idle_exit: float | None,
    concurrency: int,
    batch: int | None,
    ttl: int,
    grace: int,
    health_port: int | None,
    health_host: str,
    stall_after: float,
) -> None:
    """Consume QUEUE at least once: drain to stdout as JSON lines, or --exec CMD."""
    options: dict[str, Any] = {
        "batch": batch,
        "ttl": ttl,
        "grace": grace,
        "stall_after": stall_after,
    }
    current: list[Any] = []  # the consumer, for the health endpoints
    with client() as c, _health(health_port, health_host, queue_name, current):
        q = c.queue(queue_name, auto_create=False)
        if command is not None:
            argv = shlex.split(command)
            if not argv:
                raise ValidationError("exec", "is an empty command")
            if idle_exit is not None:
                raise click.UsageError("--idle-exit is for the drain mode (without --exec)")
            _status(f"consuming {queue_name} with {argv[0]} (Ctrl-C to stop)")
            # The runtime stops gracefully on SIGINT/SIGTERM and releases what it holds.
            with q.consumer(**options) as consumer:
                current.append(consumer)
                stats = consumer.run(
                    _runner(argv, queue_name), concurrency=concurrency, max_messages=count
                )
            _status(f"acked {stats.acked}, failed and released {stats.nacked}")
            return
        _status(f"draining {queue_name} to stdout (Ctrl-C to stop)")
        printed = 0
        with sigterm_as_interrupt(), q.consumer(**options) as consumer:
            current.append(consumer)
            # Leaving the block (done, Ctrl-C, an error) releases what is unacked.
            while count is None or printed < count:
                delivery = consumer.next_delivery(timeout=idle_exit)
                if delivery is None:
                    break
                echo_json_line(_delivery_line(delivery, queue_name))
                sys.stdout.flush()
                delivery.ack()
                printed += 1
