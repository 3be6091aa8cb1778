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

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
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


def _tracer(tracing: Any) -> Any:
    if tracing is None or tracing is False:
        return None
    try:
        from opentelemetry import trace
    except ImportError:
        raise UnsupportedOperation(
            "tracing= needs OpenTelemetry: pip install 'zaqarkit[otel]'"
        ) from None
    if tracing is True:
        return trace.get_tracer("zaqarkit", __version__)
    if not hasattr(tracing, "get_tracer"):
        raise ValidationError(
            "tracing", f"must be True, False or an OpenTelemetry TracerProvider, got {tracing!r}"
        )
    return tracing.get_tracer("zaqarkit", __version__)


class OperationSpan:
    """One OpenTelemetry span per operation, after the messaging conventions."""

    __slots__ = ("_operation", "_scope", "_span")

    def __init__(self, tracer: Any, request: Request) -> None:
        from opentelemetry.trace import SpanKind

        operation = request.operation
        params = request.params
        destination = params.get("queue_name")
        attributes: dict[str, Any] = {
            "messaging.system": "zaqar",
            "messaging.operation.name": operation.value,
        }
        kind = SpanKind.CLIENT
        if operation in _SEND:
            attributes["messaging.operation.type"] = "send"
            kind = SpanKind.PRODUCER
            messages = params.get("messages")
            if isinstance(messages, (list, tuple)):
                attributes["messaging.batch.message_count"] = len(messages)
        elif operation in _RECEIVE:
            attributes["messaging.operation.type"] = "receive"
            kind = SpanKind.CONSUMER
        elif operation in _SETTLE:
            attributes["messaging.operation.type"] = "settle"
        if isinstance(destination, str):
            attributes["messaging.destination.name"] = destination
        message_id = params.get("message_id")
        if isinstance(message_id, str):
            attributes["messaging.message.id"] = message_id
        client_id = request.header("Client-ID")
        if client_id:
            attributes["messaging.client.id"] = client_id
        host, port = _server(request.url)
        if host:
            attributes["server.address"] = host
        if port is not None:
            attributes["server.port"] = port
        name = operation.value if destination is None else f"{operation.value} {destination}"
        self._operation = operation
        self._scope = tracer.start_as_current_span(
            name,
            kind=kind,
            attributes=attributes,
            record_exception=True,
            set_status_on_exception=True,
        )
        self._span: Any = None

    def __enter__(self) -> OperationSpan:
        self._span = self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self._span is not None:
            kind = type(exc)
            self._span.set_attribute("error.type", f"{kind.__module__}.{kind.__qualname__}")
        self._scope.__exit__(exc_type, exc, tb)

    def result(self, value: T) -> T:
        """Record what the operation returned (message counts), return it."""
        if self._operation in _RECEIVE:
            items = getattr(value, "items", None)
            if items is None:
                items = getattr(value, "messages", None)
            if isinstance(items, (list, tuple)):
                self._span.set_attribute("messaging.batch.message_count", len(items))
        return value


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

    def __init__(self, event_hooks: EventHooks | None = None, tracing: Any = False) -> None:
        self._request_hooks, self._response_hooks = _hooks(
            event_hooks, allow_async=self._allow_async
        )
        #: The OpenTelemetry tracer, or None when tracing is off.
        self.tracer = _tracer(tracing)
        # Nothing to call per request unless logging asks for it.
        self._quiet = not (self._request_hooks or self._response_hooks or self.tracer)

    def _prepare(self, request: Request) -> Request:
        return request if self.tracer is None else _with_trace_context(request)


async def call_hook(hook: Callable[..., Any], event: object) -> None:
    """Call an async client's hook: a plain function or a coroutine function."""
    result = hook(event)
    if inspect.isawaitable(result):
        await result
