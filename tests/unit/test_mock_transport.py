"""MockTransport: a handler plays the server, for sync and async clients."""

from __future__ import annotations

import doctest
import functools
from typing import Any

import anyio
import pytest

import zaqarkit.transports.mock
from zaqarkit.core.operations import Operation
from zaqarkit.core.wire import Request, Response
from zaqarkit.errors import ReadError, TimeoutError, TransportError
from zaqarkit.transports import AsyncTransport, MockTransport, Transport


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _request(path: str = "/v2/queues/q", method: str = "GET") -> Request:
    return Request(Operation.PING, method, path, url="http://zaqar.test:8888" + path)


def _echo_path(request: Request) -> Response:
    return Response(200, {"x-path": request.path}, request.path.encode())


async def _async_echo_path(request: Request) -> Response:
    await anyio.sleep(0)  # a real checkpoint: proves the backend drives the handler
    return Response(201, {"x-path": request.path}, request.path.encode())


class _AsyncCallable:
    async def __call__(self, request: Request) -> Response:
        return Response(204)


def test_sync_handler_and_recording() -> None:
    transport = MockTransport(_echo_path)
    first = transport.handle_request(_request("/v2/queues/a"))
    second = transport.handle_request(_request("/v2/queues/b", "DELETE"))
    assert (first.status, first.headers["x-path"], first.body) == (
        200,
        "/v2/queues/a",
        b"/v2/queues/a",
    )
    assert second.body == b"/v2/queues/b"
    assert [(r.method, r.path) for r in transport.requests] == [
        ("GET", "/v2/queues/a"),
        ("DELETE", "/v2/queues/b"),
    ]
    assert transport.requests[0] is not transport.requests[1]


def test_is_both_kinds_of_transport() -> None:
    transport = MockTransport(_echo_path)
    assert isinstance(transport, Transport)
    assert isinstance(transport, AsyncTransport)


@pytest.mark.anyio
async def test_async_handler(anyio_backend: str) -> None:
    transport = MockTransport(_async_echo_path)
    response = await transport.handle_async_request(_request("/v2/ping"))
    assert (response.status, response.body) == (201, b"/v2/ping")
    assert [r.path for r in transport.requests] == ["/v2/ping"]


@pytest.mark.anyio
async def test_sync_handler_on_async_side() -> None:
    async with MockTransport(_echo_path) as transport:
        response = await transport.handle_async_request(_request("/v2/health"))
        assert response.body == b"/v2/health"
    assert transport.closed


@pytest.mark.parametrize(
    "handler",
    [_async_echo_path, functools.partial(_async_echo_path), _AsyncCallable()],
    ids=["async-def", "partial", "async-call-object"],
)
def test_sync_side_rejects_async_handler(handler: Any) -> None:
    # filterwarnings=error also proves no "coroutine was never awaited" warning.
    transport = MockTransport(handler)
    with pytest.raises(TypeError, match="handle_async_request"):
        transport.handle_request(_request())


@pytest.mark.anyio
async def test_async_call_object_works_on_async_side() -> None:
    response = await MockTransport(_AsyncCallable()).handle_async_request(_request())
    assert response.status == 204


def test_handler_faults_propagate_and_are_recorded() -> None:
    def flaky(request: Request) -> Response:
        raise ReadError("injected reset")

    transport = MockTransport(flaky)
    with pytest.raises(ReadError, match="injected reset"):
        transport.handle_request(_request())
    assert len(transport.requests) == 1


@pytest.mark.anyio
async def test_async_handler_faults() -> None:
    async def slow(request: Request) -> Response:
        raise TimeoutError("injected timeout")

    transport = MockTransport(slow)
    with pytest.raises(TimeoutError, match="injected timeout"):
        await transport.handle_async_request(_request())
    assert len(transport.requests) == 1


def test_handler_must_return_response() -> None:
    transport = MockTransport(lambda request: {"status": 200})  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="must return a Response, got dict"):
        transport.handle_request(_request())


def test_closed_mock_refuses_requests() -> None:
    with MockTransport(_echo_path) as transport:
        transport.handle_request(_request())
    with pytest.raises(TransportError, match="transport is closed"):
        transport.handle_request(_request())
    assert len(transport.requests) == 1


@pytest.mark.anyio
async def test_closed_mock_refuses_async_requests() -> None:
    transport = MockTransport(_echo_path)
    await transport.aclose()
    with pytest.raises(TransportError, match="transport is closed"):
        await transport.handle_async_request(_request())


def test_docstring_example_runs() -> None:
    result = doctest.testmod(zaqarkit.transports.mock, verbose=False)
    assert result.attempted >= 5
    assert result.failed == 0
