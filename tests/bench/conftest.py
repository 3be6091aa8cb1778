"""Coverage for the processes these tests start (zaqarkit bench's role
processes, Locust's master and workers).

Only here, not suite-wide: other tests inspect what a fresh interpreter
imports, and a measured one imports coverage's modules too.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _measure_subprocesses(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import coverage
    except ImportError:
        return
    current = coverage.Coverage.current()
    if current is None or current.config.config_file is None:
        return
    # Documented subprocess start-up: the .pth coverage installs reads this
    # variable in every new interpreter of this environment.
    monkeypatch.setenv("COVERAGE_PROCESS_START", current.config.config_file)
