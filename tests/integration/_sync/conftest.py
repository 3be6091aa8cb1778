# This file is generated from tests/integration/_async/conftest.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Fixtures shared by the facade integration tests (sync twins are generated)."""

from __future__ import annotations

from typing import Any

import pytest

from .counting import CountingTransport


@pytest.fixture
def counting() -> Any:
    transport = CountingTransport()
    yield transport
    # A caller-supplied transport belongs to the caller: the client leaves it open.
    transport.close()
