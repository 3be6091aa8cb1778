"""Keystone configuration as OpenStack users give it: ``--os-*`` options, the
``OS_*`` environment, and ``--os-cloud`` reading clouds.yaml through
openstacksdk's loader; the endpoint comes from the service catalog."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.cli.conftest import _CLEAN_ENV
from zaqarkit.cli import cli as root

pytestmark = pytest.mark.integration


def _run(args: list[str], env: dict[str, Any]) -> Any:
    result = CliRunner().invoke(root, args, env={**_CLEAN_ENV, **env}, catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def test_os_options_and_catalog(zaqar_keystone_server: Any, keystone_server: Any) -> None:
    user = keystone_server.demo
    name = "ks-" + uuid.uuid4().hex[:8]
    options = [
        "--os-auth-url",
        user.auth_url,
        "--os-username",
        user.username,
        "--os-password",
        user.password,
        "--os-project-name",
        user.project_name,
        "--os-user-domain-id",
        "default",
        "--os-project-domain-id",
        "default",
    ]
    # No --os-url: the messaging endpoint comes from Keystone's catalog.
    _run([*options, "queue", "create", name], {})
    listed = _run([*options, "queue", "list", "-f", "json"], {})
    assert name in [row["Name"] for row in json.loads(listed.stdout)]
    # The same from the OS_* environment.
    env = {key: value for key, value in user.environ().items()}
    listed = _run(["queue", "list", "-f", "value"], env)
    assert name in listed.stdout.split()
    _run([*options, "queue", "delete", name], {})


def test_os_cloud_reads_clouds_yaml(
    zaqar_keystone_server: Any, keystone_server: Any, tmp_path: Path
) -> None:
    pytest.importorskip("openstack")
    user = keystone_server.demo
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        json.dumps(
            {
                "clouds": {
                    "dev": {
                        "auth": {
                            "auth_url": user.auth_url,
                            "username": user.username,
                            "password": user.password,
                            "project_name": user.project_name,
                            "user_domain_id": "default",
                            "project_domain_id": "default",
                        }
                    }
                }
            }
        )
    )  # JSON is YAML
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds)}
    name = "cloud-" + uuid.uuid4().hex[:8]
    _run(["--os-cloud", "dev", "queue", "create", name], env)
    listed = _run(["queue", "list", "-f", "value"], {**env, "OS_CLOUD": "dev"})
    assert name in listed.stdout.split()
    _run(["--os-cloud", "dev", "queue", "delete", name], env)
    missing = CliRunner().invoke(
        root, ["--os-cloud", "nope", "queue", "list"], env={**_CLEAN_ENV, **env}
    )
    assert missing.exit_code == 2
    assert missing.stderr.startswith("zaqarkit: ValidationError: os_cloud: cannot load cloud")
