"""What a client shows of its calls: log records, event hooks and OpenTelemetry spans.

One place sees every request, HTTP and WebSocket alike: the facade's send
path runs each operation in :meth:`AsyncObserver.traced` when tracing (one
span) and sends each request through :meth:`AsyncObserver.send` (request
hooks, one DEBUG line, response hooks; a plain call when none of them is
on). The sync :class:`Observer` is the same with plain calls.

Loggers (standard :mod:`logging`, nothing is configured here):

- ``zaqarkit.http`` / ``zaqarkit.websocket``: one DEBUG line per request,
  ``<operation> <METHOD> <path> -> <status> in <ms> ms (request id <id>)``,
  and DEBUG for a request that got no response; the record also carries
  ``zaqar_operation``, ``zaqar_method``, ``zaqar_path``, ``zaqar_status``,
  ``zaqar_duration`` (seconds) and ``zaqar_request_id`` attributes. The HTTP
  transport logs INFO when it opens a connection.
- ``zaqarkit.auth``: INFO when a Keystone token is fetched and when a
  rejected one is dropped for renewal.

No record ever holds a header value, a body or a URL's userinfo: lines are
built from the operation, method, path and status only.

Example::

    import logging
    logging.basicConfig(level=logging.DEBUG)
    # DEBUG:zaqarkit.http:message_post POST /v2/queues/q/messages -> 201 in 2.1 ms
    #     (request id req-6a1b...)
"""

from __future__ import annotations

import importlib
import inspect
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from zaqarkit._version import __version__
from zaqarkit.core.operations import Operation
from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import UnsupportedOperation, ValidationError

if TYPE_CHECKING:
    # Not at run time: the HTTP transport imports this module.
    pass

__all__ = [
    "EventHooks",
    "Metrics",
    "RequestEvent",
    "ResponseEvent",
    "async_connection_trace",
    "connection_trace",
]

T = TypeVar("T")

http_log = logging.getLogger("zaqarkit.http")
websocket_log = logging.getLogger("zaqarkit.websocket")

#: ``{"request": [hook, ...], "response": [hook, ...]}``, as httpx's ``event_hooks``.
EventHooks = Mapping[str, Iterable[Callable[..., Any]]]


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """What a ``request`` hook receives, just before a request is sent.

    ``operation`` is Zaqar's name for it (``message_post``...), ``transport``
    is ``"http"`` or ``"websocket"``. ``request`` is the prepared request
    with its credentials; its ``repr`` masks them.
    """

    operation: str
    request: Request
    transport: str


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """What a ``response`` hook receives, once a response arrived (any status).

    ``elapsed`` is the seconds between sending and receiving. A request that
    got no response (a connection or timeout error) calls no response hook.
    """

    operation: str
    request: Request
    response: Response
    elapsed: float
    transport: str

    @property
    def status(self) -> int:
        return self.response.status


def transport_kind(url: str) -> str:
    return "websocket" if url.startswith(("ws:", "wss:")) else "http"


def _request_id(response: Response) -> str | None:
    return response.header("x-openstack-request-id")


def request_logger(request: Request) -> logging.Logger:
    return websocket_log if request.url.startswith("ws") else http_log


def log_response(request: Request, response: Response, elapsed: float) -> None:
    logger = request_logger(request)
    if not logger.isEnabledFor(logging.DEBUG):
        return
    request_id = _request_id(response)
    logger.debug(
        "%s %s %s -> %d in %.1f ms (request id %s)",
        request.operation.value,
        request.method,
        request.path,
        response.status,
        elapsed * 1000,
        request_id or "-",
        extra={
            "zaqar_operation": request.operation.value,
            "zaqar_method": request.method,
            "zaqar_path": request.path,
            "zaqar_status": response.status,
            "zaqar_duration": elapsed,
            "zaqar_request_id": request_id,
        },
    )


def log_failure(request: Request, exc: BaseException, elapsed: float) -> None:
    logger = request_logger(request)
    if logger.isEnabledFor(logging.DEBUG):
        # The error's class only: its message is the caller's to show.
        logger.debug(
            "%s %s %s -> no response after %.1f ms (%s)",
            request.operation.value,
            request.method,
            request.path,
            elapsed * 1000,
            type(exc).__name__,
            extra={
                "zaqar_operation": request.operation.value,
                "zaqar_method": request.method,
                "zaqar_path": request.path,
                "zaqar_status": None,
                "zaqar_duration": elapsed,
                "zaqar_request_id": None,
            },
        )


async def async_connection_trace(event: str, info: Mapping[str, Any]) -> None:
    """:func:`connection_trace` for async transports (httpcore awaits it there)."""
    connection_trace(event, info)


def connection_trace(event: str, info: Mapping[str, Any]) -> None:
    """httpcore's ``trace`` extension: an INFO line per new HTTP connection.

    httpcore calls it for every phase of every request; only a completed TCP
    connect is logged.
    """
    if event == "connection.connect_tcp.complete" and http_log.isEnabledFor(logging.INFO):
        stream = info.get("return_value")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        local = stream.get_extra_info("client_addr") if stream is not None else None
        http_log.info("connected to %s from %s", _address(peer), _address(local))


def _address(value: Any) -> str:
    if isinstance(value, tuple) and len(value) >= 2:
        return f"{value[0]}:{value[1]}"
    return str(value)


def _hooks(
    event_hooks: EventHooks | None, *, allow_async: bool
) -> tuple[tuple[Callable[..., Any], ...], tuple[Callable[..., Any], ...]]:
    if event_hooks is None:
        return (), ()
    if not isinstance(event_hooks, Mapping):
        raise ValidationError(
            "event_hooks", f"must be a dict like {{'request': [...]}}, got {type(event_hooks)!r}"
        )
    unknown = set(event_hooks) - {"request", "response"}
    if unknown:
        raise ValidationError(
            "event_hooks", f"has unknown events {sorted(unknown)}; use 'request' and 'response'"
        )
    found: dict[str, tuple[Callable[..., Any], ...]] = {}
    for event in ("request", "response"):
        hooks = tuple(event_hooks.get(event) or ())
        for hook in hooks:
            if not callable(hook):
                raise ValidationError(f"event_hooks[{event!r}]", f"{hook!r} is not callable")
            if not allow_async and inspect.iscoroutinefunction(hook):
                raise ValidationError(
                    f"event_hooks[{event!r}]",
                    f"{hook!r} is async; the sync Client calls hooks directly "
                    "(use AsyncClient for async hooks)",
                )
        found[event] = hooks
    return found["request"], found["response"]


# -- tracing ------------------------------------------------------------------------

#: messaging.operation.type per operation; the others are management calls.
_SEND = {Operation.MESSAGE_POST}
_RECEIVE = {
    Operation.MESSAGE_LIST,
    Operation.MESSAGE_GET,
    Operation.MESSAGE_GET_MANY,
    Operation.MESSAGE_POP,
    Operation.CLAIM_CREATE,
    Operation.CLAIM_GET,
}
_SETTLE = {
    Operation.MESSAGE_DELETE,
    Operation.MESSAGE_DELETE_MANY,
    Operation.CLAIM_UPDATE,
    Operation.CLAIM_DELETE,
}


def _instrument_source(setting: Any, option: str, api: str, getter: str, provider: str) -> Any:
    """What ``tracing=`` or ``metrics=`` (``option``) asks for: None when off,
    zaqarkit's tracer or meter from OpenTelemetry's global provider for True,
    or from the provider given. ``getter`` is the method the ``opentelemetry``
    module ``api`` and its ``provider`` classes share."""
    if setting is None or setting is False:
        return None
    try:
        module = importlib.import_module(f"opentelemetry.{api}")
    except ImportError:
        raise UnsupportedOperation(
            f"{option}= needs OpenTelemetry: pip install 'zaqarkit[otel]'"
        ) from None
    source = module if setting is True else setting
    if not hasattr(source, getter):
        raise ValidationError(
            option, f"must be True, False or an OpenTelemetry {provider}, got {setting!r}"
        )
    return getattr(source, getter)("zaqarkit", __version__)


class OperationSpan:
    """One operation, observed after the messaging conventions: an
    OpenTelemetry span when tracing, and the operation's metrics (duration,
    messages sent or consumed) when ``metrics=`` is on."""

    __slots__ = ("_attributes", "_metrics", "_operation", "_scope", "_sent", "_span", "_started")

    def __init__(self, tracer: Any, request: Request, metrics: Metrics | None = None) -> None:
        operation = request.operation
        params = request.params
        destination = params.get("queue_name")
        attributes: dict[str, Any] = {
            "messaging.system": "zaqar",
            "messaging.operation.name": operation.value,
        }
        span_kind = "CLIENT"
        if operation in _SEND:
            attributes["messaging.operation.type"] = "send"
            span_kind = "PRODUCER"
        elif operation in _RECEIVE:
            attributes["messaging.operation.type"] = "receive"
            span_kind = "CONSUMER"
        elif operation in _SETTLE:
            attributes["messaging.operation.type"] = "settle"
        if isinstance(destination, str):
            attributes["messaging.destination.name"] = destination
        host, port = _server(request.url)
        if host:
            attributes["server.address"] = host
        if port is not None:
            attributes["server.port"] = port
        # Metrics carry only these (bounded) attributes; spans get more.
        self._attributes = dict(attributes)
        self._metrics = metrics
        self._operation = operation
        self._span: Any = None
        self._scope: Any = None
        if tracer is not None:
            from opentelemetry.trace import SpanKind

            messages = params.get("messages")
            if operation in _SEND and isinstance(messages, (list, tuple)):
                attributes["messaging.batch.message_count"] = len(messages)
            message_id = params.get("message_id")
            if isinstance(message_id, str):
                attributes["messaging.message.id"] = message_id
            client_id = request.header("Client-ID")
            if client_id:
                attributes["messaging.client.id"] = client_id
            name = operation.value if destination is None else f"{operation.value} {destination}"
            self._scope = tracer.start_as_current_span(
                name,
                kind=getattr(SpanKind, span_kind),
                attributes=attributes,
                record_exception=True,
                set_status_on_exception=True,
            )
        messages = params.get("messages")
        self._sent = (
            len(messages) if operation in _SEND and isinstance(messages, (list, tuple)) else 0
        )
        self._started = 0.0

    def __enter__(self) -> OperationSpan:
        if self._scope is not None:
            self._span = self._scope.__enter__()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            kind = type(exc)
            error_type = f"{kind.__module__}.{kind.__qualname__}"
            if self._span is not None:
                self._span.set_attribute("error.type", error_type)
            self._attributes["error.type"] = error_type
        if self._metrics is not None:
            self._metrics.operation_done(
                time.perf_counter() - self._started, self._sent, self._attributes
            )
        if self._scope is not None:
            self._scope.__exit__(exc_type, exc, tb)

    def result(self, value: T) -> T:
        """Record what the operation returned (message counts), return it."""
        if self._operation in _RECEIVE:
            items = getattr(value, "items", None)
            if items is None:
                items = getattr(value, "messages", None)
            if isinstance(items, (list, tuple)):
                if self._span is not None:
                    self._span.set_attribute("messaging.batch.message_count", len(items))
                if self._metrics is not None:
                    self._metrics.consumed(len(items), self._attributes)
        return value


# -- metrics ------------------------------------------------------------------------

#: The histogram buckets the messaging conventions advise for durations (s).
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


class Metrics:
    """A client's OpenTelemetry instruments (``metrics=``), after the
    messaging semantic conventions, plus the consumers' own:

    - ``messaging.client.operation.duration`` (s): every operation, with
      ``messaging.operation.name`` / ``.type``, ``messaging.destination.name``,
      ``server.address`` / ``.port`` and ``error.type`` when it failed;
    - ``messaging.client.sent.messages``: messages posted (attempted);
    - ``messaging.client.consumed.messages``: messages a receive returned
      (claims, pops, listings, gets);
    - ``messaging.process.duration`` (s): a consumer's delivery from hand-out
      to ack or nack (``error.type`` ``nack`` for a nack);
    - ``zaqarkit.consumer.in_flight`` and ``zaqarkit.consumer.push.active``
      (gauges per queue, summed over the client's running consumers),
      ``zaqarkit.consumer.lease.renewals``, ``zaqarkit.consumer.lease.losses``
      and ``zaqarkit.consumer.redeliveries_noticed`` (counters).
    """

    def __init__(self, meter: Any) -> None:
        self._consumers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.operation_duration = _histogram(
            meter,
            "messaging.client.operation.duration",
            "Duration of messaging operation initiated by a producer or consumer client.",
        )
        self.sent = meter.create_counter(
            "messaging.client.sent.messages",
            unit="{message}",
            description="Number of messages producer attempted to send to the broker.",
        )
        self.consumed_messages = meter.create_counter(
            "messaging.client.consumed.messages",
            unit="{message}",
            description="Number of messages that were delivered to the application.",
        )
        self.process_duration = _histogram(
            meter, "messaging.process.duration", "Duration of processing operation."
        )
        self.renewals = meter.create_counter(
            "zaqarkit.consumer.lease.renewals",
            unit="{renewal}",
            description="Claims a consumer renewed while their messages were handled.",
        )
        self.lease_losses = meter.create_counter(
            "zaqarkit.consumer.lease.losses",
            unit="{lease}",
            description="Claims a consumer found gone or expired.",
        )
        self.redeliveries = meter.create_counter(
            "zaqarkit.consumer.redeliveries_noticed",
            unit="{message}",
            description="Messages claimed again while the consumer held them.",
        )
        meter.create_observable_gauge(
            "zaqarkit.consumer.in_flight",
            callbacks=[self._observe_in_flight],
            unit="{message}",
            description="Messages claimed by running consumers and not finished on the server.",
        )
        meter.create_observable_gauge(
            "zaqarkit.consumer.push.active",
            callbacks=[self._observe_push],
            unit="{consumer}",
            description="Running consumers woken by a live push subscription.",
        )

    def operation_done(self, seconds: float, sent: int, attributes: dict[str, Any]) -> None:
        self.operation_duration.record(seconds, attributes)
        if sent:
            self.sent.add(sent, attributes)

    def consumed(self, count: int, attributes: dict[str, Any]) -> None:
        if count:
            self.consumed_messages.add(count, attributes)

    def consumer_attributes(self, queue_name: str) -> dict[str, Any]:
        return {"messaging.system": "zaqar", "messaging.destination.name": queue_name}

    def processed(self, seconds: float, queue_name: str, *, ok: bool) -> None:
        attributes = {
            **self.consumer_attributes(queue_name),
            "messaging.operation.name": "process",
            "messaging.operation.type": "process",
        }
        if not ok:
            attributes["error.type"] = "nack"
        self.process_duration.record(seconds, attributes)

    def track(self, consumer: Any) -> None:
        """Report ``consumer`` in the gauges while it runs (``untrack``)."""
        self._consumers.add(consumer)

    def untrack(self, consumer: Any) -> None:
        self._consumers.discard(consumer)

    def _per_queue(self, value: Callable[[Any], int]) -> Iterator[Any]:
        from opentelemetry.metrics import Observation

        totals: dict[str, int] = {}
        for consumer in list(self._consumers):
            name = consumer.queue_name
            totals[name] = totals.get(name, 0) + value(consumer)
        for name, total in totals.items():
            yield Observation(total, self.consumer_attributes(name))

    def _observe_in_flight(self, options: Any) -> Iterator[Any]:
        return self._per_queue(lambda consumer: consumer.in_flight)

    def _observe_push(self, options: Any) -> Iterator[Any]:
        return self._per_queue(lambda consumer: int(consumer.push_active))


def _histogram(meter: Any, name: str, description: str) -> Any:
    try:
        return meter.create_histogram(
            name,
            unit="s",
            description=description,
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
    except TypeError:  # opentelemetry-api before 1.23 takes no advice
        return meter.create_histogram(name, unit="s", description=description)


def _server(url: str) -> tuple[str | None, int | None]:
    start = url.find("//") + 2
    end = url.find("/", start)
    netloc = url[start:] if end == -1 else url[start:end]
    netloc = netloc.rpartition("@")[2]
    host, sep, port = netloc.rpartition(":")
    if not sep or "]" in port:
        return netloc or None, None
    return host.strip("[]") or None, int(port) if port.isdigit() else None


def _with_trace_context(request: Request) -> Request:
    # W3C trace context as request headers: Zaqar ignores them, but proxies and
    # WSGI middleware in front of it can join the trace. Message bodies are
    # the user's data and are never touched.
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return request
    return replace(request, headers=request.headers + tuple(carrier.items()))


class ObserverBase:
    """What both facades' observers share: the hooks, the tracer, and
    whether anything at all is to be done per request."""

    _allow_async = False

    def __init__(
        self, event_hooks: EventHooks | None = None, tracing: Any = False, metrics: Any = False
    ) -> None:
        self._request_hooks, self._response_hooks = _hooks(
            event_hooks, allow_async=self._allow_async
        )
        #: The OpenTelemetry tracer, or None when tracing is off.
        self.tracer = _instrument_source(
            tracing, "tracing", "trace", "get_tracer", "TracerProvider"
        )
        meter = _instrument_source(metrics, "metrics", "metrics", "get_meter", "MeterProvider")
        #: The client's OpenTelemetry instruments, or None when metrics are off.
        self.metrics = Metrics(meter) if meter is not None else None
        #: Whether each operation runs in :meth:`traced` (a span or metrics).
        self.per_operation = self.tracer is not None or self.metrics is not None
        # Nothing to call per request unless logging asks for it.
        self._quiet = not (self._request_hooks or self._response_hooks or self.tracer)

    def _prepare(self, request: Request) -> Request:
        return request if self.tracer is None else _with_trace_context(request)


async def call_hook(hook: Callable[..., Any], event: object) -> None:
    """Call an async client's hook: a plain function or a coroutine function."""
    result = hook(event)
    if inspect.isawaitable(result):
        await result
