"""A transport wrapper that records what crosses the wire, for the integration tests."""

from __future__ import annotations

from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import AsyncHttpxTransport


class CountingTransport:
    """Records every request and the status of every response; proves that
    refused calls send nothing and that retries happen exactly once."""

    def __init__(self) -> None:
        self.inner = AsyncHttpxTransport()
        self.sent: list[Request] = []
        self.statuses: list[int] = []

    async def handle_async_request(self, request: Request) -> Response:
        self.sent.append(request)
        response = await self.inner.handle_async_request(request)
        self.statuses.append(response.status)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
