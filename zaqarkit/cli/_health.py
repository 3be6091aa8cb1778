"""``zaqarkit consume --health-port PORT``: Kubernetes-style probes and
Prometheus metrics for the running consumer, on a small threaded HTTP server.

- ``/healthz`` (liveness): 200 while the consumer runs (stalled included:
  its watchdog is recreating the connection), 503 before it starts and once
  it stopped;
- ``/readyz`` (readiness): 200 while it runs and is not stalled, else 503;
  both answer the :class:`zaqarkit.ConsumerHealth` snapshot as JSON;
- ``/metrics``: the consumer's counters (``ConsumerStats``) and health as
  Prometheus metrics, labelled with the queue, exposed by ``prometheus_client``.

Example::

    server = serve_health(lambda: consumer, "orders", "127.0.0.1", 9100)
    ...
    server.shutdown()
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from zaqarkit.errors import UnsupportedOperation

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

__all__ = ["HealthServer", "serve_health"]

#: Returns the consumer, or None before it is entered.
ConsumerRef = Callable[[], Any]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # Probes every few seconds would flood the consumer's stderr.
        pass


class _ConsumerCollector:
    """Reads the consumer at every scrape (nothing is copied in between)."""

    def __init__(self, consumer: ConsumerRef, queue_name: str) -> None:
        self._consumer = consumer
        self._labels = [queue_name]

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        consumer = self._consumer()
        if consumer is None:
            return
        for field in dataclasses.fields(consumer.stats):
            counter = CounterMetricFamily(
                f"zaqarkit_consumer_{field.name}",
                f"ConsumerStats.{field.name} of the consumer",
                labels=["queue"],
            )
            counter.add_metric(self._labels, getattr(consumer.stats, field.name))
            yield counter
        health = consumer.health()
        losses = CounterMetricFamily(
            "zaqarkit_consumer_lease_losses", "Claims found gone or expired", labels=["queue"]
        )
        losses.add_metric(self._labels, health.lease_losses)
        yield losses
        gauges = {
            "in_flight": ("Messages claimed and not finished", health.in_flight),
            "push_active": ("1 while a push subscription wakes it", int(health.push_active)),
            "ready": ("1 while running and not stalled", int(health.ready)),
            "last_claim_timestamp_seconds": (
                "When a claim last brought messages (Unix time)",
                health.last_claim_at,
            ),
            "last_ack_timestamp_seconds": (
                "When an acknowledgement was last accepted (Unix time)",
                health.last_ack_at,
            ),
        }
        for name, (documentation, value) in gauges.items():
            if value is None:
                continue
            gauge = GaugeMetricFamily(f"zaqarkit_consumer_{name}", documentation, labels=["queue"])
            gauge.add_metric(self._labels, float(value))
            yield gauge
        state = GaugeMetricFamily(
            "zaqarkit_consumer_state",
            "1 for the state the consumer is in",
            labels=["queue", "state"],
        )
        for name in ("starting", "running", "stalled", "stopping", "stopped"):
            state.add_metric([*self._labels, name], 1.0 if health.state == name else 0.0)
        yield state


class HealthServer:
    """The running probe server: ``url`` (``http://host:port``), ``shutdown()``."""

    def __init__(self, server: WSGIServer) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever, name="zaqarkit-health", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_health(consumer: ConsumerRef, queue_name: str, host: str, port: int) -> HealthServer:
    """Serve ``/healthz``, ``/readyz`` and ``/metrics`` for ``consumer()`` on
    ``host:port`` (0: any free port; see ``HealthServer.url``)."""
    try:
        from prometheus_client import CollectorRegistry, make_wsgi_app
    except ImportError:
        raise UnsupportedOperation(
            "--health-port needs prometheus_client: pip install 'zaqarkit[prometheus]'"
        ) from None
    registry = CollectorRegistry()
    registry.register(_ConsumerCollector(consumer, queue_name))
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if path not in ("/healthz", "/readyz"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: /healthz, /readyz, /metrics\n"]
        current = consumer()
        health = current.health() if current is not None else None
        if health is None:
            ok, body = False, {"state": "starting"}
        else:
            ok = health.live if path == "/healthz" else health.ready
            body = {**dataclasses.asdict(health), "live": health.live, "ready": health.ready}
        start_response(
            "200 OK" if ok else "503 Service Unavailable",
            [("Content-Type", "application/json")],
        )
        return [json.dumps(body).encode() + b"\n"]

    server = make_server(
        host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    return HealthServer(server)
