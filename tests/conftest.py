"""Shared fixtures. The real-server fixtures (``zaqar_server``,
``zaqar_pooled_server``, ``project_id``) come from zaqarkit's own pytest plugin."""

from __future__ import annotations

import pytest

pytest_plugins = ["zaqarkit.testing.pytest_plugin"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on asyncio and on trio."""
    return str(request.param)
