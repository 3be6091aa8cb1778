"""Fixtures for the command line tests: ``cli`` runs ``zaqarkit`` in-process
(click's CliRunner) against a real harness server, in a fresh project."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.integration.conftest import legacy_server  # noqa: F401  (a fixture)
from zaqarkit.cli import cli as root

# Tests must not pick up the developer's OpenStack environment.
_CLEAN_ENV = {
    name: None
    for name in (
        "OS_URL",
        "OS_WS_URL",
        "OS_PROJECT_ID",
        "OS_AUTH_URL",
        "OS_USERNAME",
        "OS_PASSWORD",
        "OS_PROJECT_NAME",
        "OS_TOKEN",
        "OS_CLOUD",
        "OS_MESSAGING_API_VERSION",
        "ZAQARKIT_ROLES",
        "ZAQARKIT_SIGNED_URL",
        "OS_USER_DOMAIN_NAME",
        "OS_PROJECT_DOMAIN_NAME",
        "OS_USER_DOMAIN_ID",
        "OS_PROJECT_DOMAIN_ID",
        "OS_REGION_NAME",
        "OS_CACERT",
        "OS_INSECURE",
        "OS_USER_ID",
        "OS_INTERFACE",
        "ZAQARKIT_TIMEOUT",
    )
}


class Cli:
    """``zaqarkit`` with connection options for one server and project.

    ``run`` returns click's Result; ``json`` asserts success and parses stdout.
    """

    def __init__(self, url: str, project_id: str, *, extra: Sequence[str] = ()) -> None:
        self.url = url
        self.project_id = project_id
        self.global_args = ["--os-url", url, "--os-project-id", project_id, *extra]

    def run(self, *args: str, input: str | None = None, bare: bool = False) -> Result:
        argv = list(args) if bare else [*self.global_args, *args]
        return CliRunner().invoke(root, argv, input=input, env=_CLEAN_ENV, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.ok(*args, "-f", "json", input=input).stdout)

    def fails(self, code: int, *args: str, input: str | None = None) -> str:
        """Run, expect exit ``code``, return stderr (asserted to be one line)."""
        result = self.run(*args, input=input)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]

    def with_args(self, *extra: str) -> Cli:
        return Cli(self.url, self.project_id, extra=extra)


@pytest.fixture
def cli(zaqar_server: Any, project_id: str) -> Cli:
    return Cli(zaqar_server.url, project_id)


@pytest.fixture
def admin_cli(zaqar_pooled_server: Any, project_id: str) -> Cli:
    return Cli(zaqar_pooled_server.url, project_id, extra=["--roles", "admin"])
