"""Fixtures shared by the facade integration tests (sync twins are generated)."""

from __future__ import annotations

from typing import Any

import pytest

from .counting import CountingTransport


@pytest.fixture
async def counting() -> Any:
    transport = CountingTransport()
    yield transport
    # A caller-supplied transport belongs to the caller: the client leaves it open.
    await transport.aclose()
