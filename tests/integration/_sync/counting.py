# This file is generated from tests/integration/_async/counting.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""A transport wrapper that records what crosses the wire, for the integration tests."""

from __future__ import annotations

from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import HttpxTransport


class CountingTransport:
    """Records every request and the status of every response; proves that
    refused calls send nothing and that retries happen exactly once."""

    def __init__(self) -> None:
        self.inner = HttpxTransport()
        self.sent: list[Request] = []
        self.statuses: list[int] = []

    def handle_request(self, request: Request) -> Response:
        self.sent.append(request)
        response = self.inner.handle_request(request)
        self.statuses.append(response.status)
        return response

    def close(self) -> None:
        self.inner.close()
