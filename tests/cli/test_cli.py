"""The command line beyond the plugin's verbs, against real harness servers:
message get/delete/pop, queue exists/count, subscription confirm, JSON lines
posting, API v1/v1.1, output formats, errors and exit codes, --debug, and the
missing-extra hint."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest

from tests.cli.conftest import Cli
from zaqarkit import Client

pytestmark = pytest.mark.integration


def _q() -> str:
    return "q-" + uuid.uuid4().hex[:10]


def _post(cli: Cli, queue: str, *bodies: Any) -> list[str]:
    messages = json.dumps([{"body": b, "ttl": 300} for b in bodies])
    return [row["ID"] for row in cli.json("message", "post", queue, messages)]


def _stats(cli: Cli, queue: str) -> dict[str, Any]:
    with Client(cli.url, project_id=cli.project_id) as c:
        s = c.queue(queue, auto_create=False).stats()
    return {"total": s.total, "claimed": s.claimed, "free": s.free}


def _exists(cli: Cli, queue: str) -> bool:
    with Client(cli.url, project_id=cli.project_id) as c:
        return c.queue(queue, auto_create=False).exists()


# -- what the plugin lacks -----------------------------------------------------------


def test_message_get_delete_pop(cli: Cli) -> None:
    name = _q()
    first, second, third = _post(cli, name, "a", "b", "c")
    got = cli.json("message", "get", name, first)
    assert (got["ID"], got["Body"], got["TTL"]) == (first, "a", 300)
    cli.ok("message", "delete", name, first)
    assert "NotFound" in cli.fails(3, "message", "get", name, first)
    popped = cli.json("message", "pop", name, "--count", "1")
    assert [(row["ID"], row["Body"]) for row in popped] == [(second, "b")]
    assert _stats(cli, name)["total"] == 1
    # A claimed message is deleted with its claim id.
    claim_id = cli.json("claim", "create", name)[0]["Claim ID"]
    cli.ok("message", "delete", name, third, "--claim-id", claim_id)
    assert _stats(cli, name)["total"] == 0


def test_message_delete_many(cli: Cli) -> None:
    name = _q()
    ids = _post(cli, name, 1, 2, 3)
    cli.ok("message", "delete", name, *ids[:2])
    assert [row["ID"] for row in cli.json("message", "list", name, "--echo")] == ids[2:]


def test_queue_exists_and_count(cli: Cli) -> None:
    assert cli.json("queue", "count") == {"count": 0}
    for _ in range(3):
        cli.ok("queue", "create", _q())
    assert cli.json("queue", "count") == {"count": 3}
    result = cli.run("queue", "exists", "nope", "-f", "value")
    assert (result.exit_code, result.stdout) == (1, "false\n")


def test_subscription_confirm(cli: Cli) -> None:
    name = _q()
    sid = cli.json("subscription", "create", name, "http://127.0.0.1:9/c", "600")["ID"]
    cli.ok("subscription", "confirm", name, sid)
    assert cli.json("subscription", "show", name, sid)["Confirmed"] is True
    cli.ok("subscription", "confirm", name, sid, "--unconfirm")
    assert cli.json("subscription", "show", name, sid)["Confirmed"] is False


# -- posting JSON lines ----------------------------------------------------------------


def test_post_json_lines_from_stdin_in_batches(cli: Cli) -> None:
    name = _q()
    # 25 messages of ~20 KB: over Zaqar's 256 KiB per post, so several posts.
    lines = "".join(json.dumps({"body": {"n": n, "pad": "x" * 20_000}}) + "\n" for n in range(25))
    rows = cli.json("message", "post", name, "--ttl", "600", input=lines)
    assert len(rows) == len({row["ID"] for row in rows}) == 25
    listed = cli.json("message", "list", name, "--echo")
    assert [row["Body"]["n"] for row in listed] == list(range(25))
    assert {row["TTL"] for row in listed} == {600}


def test_post_json_lines_progress_bar(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # rich draws its bar on a terminal; FORCE_COLOR makes stderr count as one.
    monkeypatch.setenv("FORCE_COLOR", "1")
    name = _q()
    lines = "".join(json.dumps({"body": n, "ttl": 300}) + "\n" for n in range(250))
    result = cli.run("message", "post", name, "-f", "value", input=lines)
    assert result.exit_code == 0, result.stderr
    assert "posting" in result.stderr
    assert "250/250" in result.stderr
    assert len(set(result.stdout.split())) == 250
    assert _stats(cli, name)["total"] == 250


def test_post_json_lines_from_file_as_bodies(cli: Cli, tmp_path: Any) -> None:
    name = _q()
    path = tmp_path / "bodies.jsonl"
    path.write_text('{"event": "a"}\n\n"plain"\n[1, 2]\n')
    ids = cli.ok(
        "message", "post", name, "--file", str(path), "--bodies", "-f", "value"
    ).stdout.split()
    assert len(ids) == 3
    bodies = [row["Body"] for row in cli.json("message", "list", name, "--echo")]
    assert bodies == [{"event": "a"}, "plain", [1, 2]]


# -- bad input: a one-line error naming the field or line; nothing sent ------------------


def test_malformed_json_line_7_sends_nothing(cli: Cli) -> None:
    name = _q()
    lines = [json.dumps({"body": n}) for n in range(1, 7)] + ['{"body": 7,,}', '{"body": 8}']
    error = cli.fails(2, "message", "post", name, input="\n".join(lines) + "\n")
    assert error.startswith("zaqarkit: ValidationError: line 7: is not valid JSON")
    assert not _exists(cli, name)  # posting would have created the queue


def test_ttl_out_of_range_names_the_field_and_line(cli: Cli) -> None:
    name = _q()
    error = cli.fails(2, "message", "post", name, input='{"body": 1}\n{"body": 2, "ttl": 5}\n')
    assert error == (
        "zaqarkit: ValidationError: line 2: ttl: must be between 60 and 1209600, got 5"
    )
    error = cli.fails(2, "message", "post", name, '[{"body": 1, "ttl": 99999999}]')
    assert "messages[0]: ttl: must be between 60 and 1209600" in error
    assert not _exists(cli, name)


def test_oversize_line_sends_nothing(cli: Cli) -> None:
    name = _q()
    lines = '{"body": "small"}\n' + json.dumps({"body": "x" * 300_000}) + "\n"
    error = cli.fails(2, "message", "post", name, input=lines)
    assert error.startswith("zaqarkit: ValidationError: line 2: is ")
    assert "max_messages_post_size" in error
    assert not _exists(cli, name)


@pytest.mark.parametrize(
    "args",
    [
        ("queue", "create", "bad name!"),
        ("message", "post", "bad/name", '{"body": 1}'),
        ("queue", "stats", "é"),
    ],
    ids=["queue create", "message post", "queue stats"],
)
def test_bad_queue_name_characters(cli: Cli, args: tuple[str, ...]) -> None:
    error = cli.fails(2, *args)
    assert error.startswith("zaqarkit: ValidationError: queue name: must match")
    assert cli.json("queue", "list") == []


def test_bad_json_argument_names_it(cli: Cli) -> None:
    error = cli.fails(2, "queue", "set", "metadata", _q(), "{nope")
    assert error.startswith("zaqarkit: ValidationError: queue_metadata: is not valid JSON")


# -- exit codes ----------------------------------------------------------------------------


def test_exit_codes(cli: Cli) -> None:
    usage = cli.run("queue", "create")
    assert usage.exit_code == 2
    assert "Missing argument" in usage.stderr
    assert "NotFound" in cli.fails(3, "message", "get", _q(), "0" * 24)
    refused = Cli("http://127.0.0.1:1", cli.project_id)
    assert refused.fails(4, "queue", "list").startswith("zaqarkit: ConnectError: ")
    no_url = Cli("", cli.project_id)
    no_url.global_args = ["--os-project-id", "p"]
    assert "os_url" in no_url.fails(2, "queue", "list")


def test_unknown_column_is_a_usage_error(cli: Cli) -> None:
    result = cli.run("queue", "list", "-c", "Nope")
    assert result.exit_code == 2
    assert "no such column" in result.stderr


# -- output formats --------------------------------------------------------------------------


def test_output_formats(cli: Cli) -> None:
    name = _q()
    cli.ok("queue", "create", name)
    table = cli.ok("queue", "list", "-f", "table").stdout
    assert "| Name" in table
    assert f"| {name}" in table
    assert cli.ok("queue", "list", "-f", "yaml").stdout == f"- Name: {name}\n"
    assert cli.ok("queue", "list", "-f", "value").stdout == f"{name}\n"
    # Off a terminal the default is JSON, for scripts.
    assert json.loads(cli.ok("queue", "list").stdout) == [{"Name": name}]
    shown = cli.ok("queue", "stats", name, "-f", "table", "-c", "total").stdout
    assert "| Field" in shown
    assert "| total | 0" in shown


# -- API v1 and v1.1 -------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_legacy_versions(legacy_server: Any, project_id: str, version: str) -> None:
    cli = Cli(legacy_server.url, project_id, extra=["--api-version", version])
    name = _q()
    cli.ok("queue", "create", name)
    assert cli.json("queue", "exists", name) == {"exists": True}
    assert name in [row["Name"] for row in cli.json("queue", "list")]
    ids = [row["ID"] for row in cli.json("message", "post", name, '[{"body": "old", "ttl": 300}]')]
    assert [row["Body"] for row in cli.json("message", "list", name, "--echo")] == ["old"]
    rows = cli.json("claim", "create", name, "--ttl", "60", "--grace", "60")
    assert [row["Message ID"] for row in rows] == ids
    cli.ok("claim", "release", name, rows[0]["Claim ID"])
    assert cli.json("queue", "stats", name)["total"] == 1
    assert cli.json("ping") == {"pingable": True}
    if version == "1":
        cli.ok("queue", "set", "metadata", name, '{"v": 1}')
        assert cli.json("queue", "get", "metadata", name) == {"v": 1}
    else:
        error = cli.fails(5, "queue", "set", "metadata", name, '{"v": 1}')
        assert error.startswith("zaqarkit: UnsupportedOperation: ")
    cli.ok("queue", "delete", name)


def test_v1_lacks_subscriptions(legacy_server: Any, project_id: str) -> None:
    cli = Cli(legacy_server.url, project_id, extra=["--api-version", "1"])
    error = cli.fails(5, "subscription", "list", _q())
    assert error.startswith("zaqarkit: UnsupportedOperation: ")


# -- --debug, --help, the missing extra ------------------------------------------------------


def test_debug_logs_on_stderr_without_secrets(cli: Cli) -> None:
    result = cli.with_args("--debug", "--roles", "admin").run("queue", "list")
    assert result.exit_code == 0
    assert "zaqarkit.cli DEBUG client for " + cli.url in result.stderr
    quiet = cli.run("queue", "list")
    assert "DEBUG" not in quiet.stderr
    keystone = Cli(
        cli.url,
        cli.project_id,
        extra=[
            "--debug",
            "--os-auth-url",
            "http://127.0.0.1:1/v3",
            "--os-username",
            "u",
            "--os-password",
            "hunter2-secret",
            "--os-project-name",
            "p",
            "--os-user-domain-id",
            "default",
            "--os-project-domain-id",
            "default",
        ],
    )
    failed = keystone.run("queue", "list")
    assert failed.exit_code != 0
    assert "hunter2-secret" not in failed.stderr + failed.stdout


def test_help_lists_the_groups(cli: Cli) -> None:
    result = cli.run("--help", bare=True)
    assert result.exit_code == 0
    for group in (
        "queue",
        "message",
        "claim",
        "subscription",
        "pool",
        "flavor",
        "ping",
        "health",
        "homedoc",
        "tail",
        "server",
    ):
        assert f"  {group} " in result.stdout
    for option in ("--os-url", "--ws-url", "--os-cloud", "--api-version", "-h, --help"):
        assert option in result.stdout


def test_python_m_zaqarkit_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zaqarkit", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("zaqarkit, version ")


def test_missing_extra_gives_a_one_line_hint() -> None:
    code = (
        "import sys; sys.modules['click'] = None\n"
        "from zaqarkit.__main__ import main\n"
        "main(['--help'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == (
        "zaqarkit's command line needs: pip install 'zaqarkit[cli]' (missing click)\n"
    )


# -- over WebSocket ----------------------------------------------------------------------------


def test_verbs_over_websocket(zaqar_server: Any, project_id: str) -> None:
    ws = Cli(zaqar_server.ws_url, project_id)
    name = _q()
    ws.ok("queue", "create", name)
    ids = [row["ID"] for row in ws.json("message", "post", name, '{"body": "ws", "ttl": 300}')]
    listed = ws.json("message", "list", name, "--echo")
    assert [(row["ID"], row["Body"]) for row in listed] == [(ids[0], "ws")]
    # Zaqar serves no health over WebSocket: an UnsupportedOperation, exit 5 ...
    admin = ws.with_args("--roles", "admin")
    assert admin.fails(5, "health").startswith("zaqarkit: UnsupportedOperation: ")
    # With --os-url as well, the verbs go over HTTP (--ws-url is for tail).
    both = Cli(zaqar_server.ws_url, project_id)
    both.global_args = [
        "--ws-url",
        zaqar_server.ws_url,
        "--os-url",
        zaqar_server.url,
        "--os-project-id",
        project_id,
        "--roles",
        "admin",
    ]
    assert both.json("health")["storage_reachable"] is True
