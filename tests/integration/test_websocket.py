"""What only the asyncio WebSocket transport has (the rest, written once for
every transport, is in ``tests/integration/_async/test_websocket.py``)."""

from __future__ import annotations

import uuid

import pytest

from zaqarkit.core.api import ApiV2
from zaqarkit.testing import ZaqarServer
from zaqarkit.transports.websocket import AsyncWebSocketTransport


@pytest.mark.anyio
async def test_async_socket_reads_are_64k(
    zaqar_server: ZaqarServer, project_id: str, anyio_backend: str
) -> None:
    # asyncio's default (256 KiB per recv) cost an mmap/munmap pair per reply.
    async with AsyncWebSocketTransport(
        zaqar_server.ws_url, timeout=10, project_id=project_id, client_id=str(uuid.uuid4())
    ) as transport:
        await transport.handle_async_request(ApiV2().queue_create("reads").request)
        socket_transport = getattr(transport._ws, "transport", None)
        read_size = getattr(socket_transport, "max_size", None)
        assert read_size == (65_536 if anyio_backend == "asyncio" else None)
