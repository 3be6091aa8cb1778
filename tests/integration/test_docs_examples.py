"""Every fenced ``python`` block of docs/**/*.md runs against the harness.

Blocks of one page run in order in one namespace, like a reader following
the page. The docs name the servers by placeholders, replaced here:
``http://127.0.0.1:8888`` and ``ws://127.0.0.1:9000`` by the local Zaqar,
``redis://127.0.0.1:6379`` by its redis. An HTML comment right before a block
picks another server: ``<!-- docs-test: pooled -->`` (pooling on, for pools
and flavors) or ``<!-- docs-test: keystone -->`` (a Keystone-protected Zaqar;
``https://keystone.example/v3``, ``https://zaqar.example:8888`` and the
password ``secret`` stand for the harness Keystone's ``demo`` user, whose
``OS_*`` variables are set too). The project ``demo`` is emptied after each page.

Fenced ``console`` blocks that run ``zaqarkit`` (the command line guide) are
shell sessions: each ``$ `` line is a command, the other lines its output as
shown (not compared: ids and ages differ from run to run). A block marked
``<!-- docs-test: shell -->`` (or ``shell-pooled``) runs as one bash script in
a temporary directory, with ``OS_URL``, ``OS_WS_URL`` and ``OS_PROJECT_ID=demo``
naming the harness server; each command must exit 0, or the code its trailing
comment announces (``# exit 3``). ``zaqarkit server up`` there keeps its state
in that directory, and whatever it started is stopped afterwards. A block that
cannot run here is marked ``<!-- docs-test: not-run -->``; an unmarked one fails
:func:`test_every_console_block_is_marked`.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(
    r"(?:<!--\s*docs-test:\s*(?P<marker>[\w-]+)\s*-->\s*\n)?^```python\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
MARKERS = {None, "pooled", "keystone"}
CONSOLE = re.compile(
    r"(?:<!--\s*docs-test:\s*(?P<marker>[\w-]+)\s*-->\s*\n)?^```console\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
SHELL_MARKERS = {"shell", "shell-pooled", "not-run"}
EXPECTED_EXIT = re.compile(r"#\s*exit (\d+)\b")


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())


def blocks(page: Path) -> list[tuple[str | None, str]]:
    return [(m["marker"], m["code"]) for m in BLOCK.finditer(page.read_text())]


def test_every_python_block_is_found() -> None:
    # A block the regex missed (say, indented) would silently never run.
    for page in _pages():
        assert len(blocks(page)) == page.read_text().count("```python"), page
        assert {marker for marker, _ in blocks(page)} <= MARKERS, page


def _empty_project(server: Any, project: str) -> None:
    headers = server.admin_headers(project)
    listed = server.request("GET", "/v2/queues?limit=20", headers=headers)
    for queue in (listed.json() or {}).get("queues", []) if listed.status == 200 else []:
        server.request("DELETE", f"/v2/queues/{queue['name']}", headers=headers)


def console_blocks(page: Path) -> list[tuple[str | None, str]]:
    """The console blocks of a page that run ``zaqarkit``."""
    return [
        (m["marker"], m["code"])
        for m in CONSOLE.finditer(page.read_text())
        if re.search(r"^\$ .*\bzaqarkit\b", m["code"], re.MULTILINE)
    ]


def _shell_pages() -> list[Path]:
    return sorted(
        p for p in DOCS.rglob("*.md") if any(marker != "not-run" for marker, _ in console_blocks(p))
    )


def test_every_console_block_is_marked() -> None:
    # Every zaqarkit session shown either runs or says why it does not.
    for page in sorted(DOCS.rglob("*.md")):
        for marker, code in console_blocks(page):
            assert marker in SHELL_MARKERS, (page, code.splitlines()[0])


def shell_script(code: str) -> str:
    """A bash script for a console block: its ``$ `` lines, each followed by
    a check of its exit code.
    """
    lines = ["set -o pipefail"]
    for line in code.splitlines():
        if not line.startswith("$ "):
            continue
        command = line[2:].strip()
        comment = command.find(" #")
        shown = command if comment < 0 else command[:comment].strip()
        expected = EXPECTED_EXIT.search(command[comment:]) if comment >= 0 else None
        code_ = int(expected[1]) if expected else 0
        lines.append(command)
        lines.append(
            f'rc=$?; [ $rc -eq {code_} ] || {{ echo "exit $rc, not {code_}: "'
            f"{shlex.quote(shown)} >&2; exit 1; }}"
        )
    return "\n".join(lines) + "\n"


def test_shell_script_checks_each_exit_code() -> None:
    script = shell_script("$ zaqarkit ping\n{}\n$ zaqarkit queue exists q  # exit 1: absent\n")
    assert script.splitlines() == [
        "set -o pipefail",
        "zaqarkit ping",
        """rc=$?; [ $rc -eq 0 ] || { echo "exit $rc, not 0: "'zaqarkit ping' >&2; exit 1; }""",
        "zaqarkit queue exists q  # exit 1: absent",
        """rc=$?; [ $rc -eq 1 ] || { echo "exit $rc, not 1: "'zaqarkit queue exists q' >&2; """
        "exit 1; }",
    ]
    assert (
        subprocess.run(
            ["bash", "-c", shell_script("$ false  # exit 1\n$ true\n")], check=False
        ).returncode
        == 0
    )
    assert (
        subprocess.run(
            ["bash", "-c", shell_script("$ true\n$ false\n$ true\n")],
            capture_output=True,
            check=False,
        ).returncode
        == 1
    )


def _run_shell(code: str, server: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="docs-shell-") as workdir:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("OS_", "ZAQARKIT_"))
        }
        env.update(
            {
                # The zaqarkit console script of the running interpreter.
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
                "OS_URL": server.url,
                "OS_WS_URL": server.ws_url,
                "OS_PROJECT_ID": "demo",
                "ZAQARKIT_STATE_DIR": workdir,
                "COLUMNS": "200",
            }
        )
        script = (
            code.replace("http://127.0.0.1:8888", server.url)
            .replace("ws://127.0.0.1:9000", server.ws_url)
            .replace("redis://127.0.0.1:6379", server.redis_url)
        )
        try:
            done = subprocess.run(
                ["bash", "-c", shell_script(script)],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        finally:
            if (Path(workdir) / "server.json").exists():
                subprocess.run(
                    ["zaqarkit", "server", "down"],
                    cwd=workdir,
                    env=env,
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
        assert done.returncode == 0, (done.stderr[-3000:], done.stdout[-3000:])


def _remove_pools(server: Any) -> None:
    """Flavors and pools a page made on the shared pooled server, not pool1."""
    headers = server.admin_headers("demo")
    listed = server.request("GET", "/v2/flavors", headers=headers)
    for flavor in (listed.json() or {}).get("flavors", []) if listed.status == 200 else []:
        server.request("DELETE", f"/v2/flavors/{flavor['name']}", headers=headers)
    listed = server.request("GET", "/v2/pools", headers=headers)
    for pool in (listed.json() or {}).get("pools", []) if listed.status == 200 else []:
        if pool["name"] not in server.pool_names:
            server.request("DELETE", f"/v2/pools/{pool['name']}", headers=headers)


@pytest.mark.parametrize("page", _shell_pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_shell_sessions(page: Path, request: pytest.FixtureRequest) -> None:
    plain = request.getfixturevalue("zaqar_server")
    used = {plain}
    try:
        for marker, code in console_blocks(page):
            if marker == "not-run":
                continue
            server = plain
            if marker == "shell-pooled":
                server = request.getfixturevalue("zaqar_pooled_server")
            used.add(server)
            _run_shell(code, server)
    finally:
        for server in used:
            _empty_project(server, "demo")
            if server.pool_names:
                _remove_pools(server)


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_page(
    page: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    plain = request.getfixturevalue("zaqar_server")
    used = {plain}
    # A page may configure logging as an application would (the Celery guide's
    # worker sets the root logger up): the next page starts from this state.
    root = logging.getLogger()
    root_state = root.level, root.handlers[:]
    try:
        for index, (marker, code) in enumerate(blocks(page)):
            server = plain
            if marker == "pooled":
                server = request.getfixturevalue("zaqar_pooled_server")
            elif marker == "keystone":
                server = request.getfixturevalue("zaqar_keystone_server")
                keystone = request.getfixturevalue("keystone_server")
                for key, value in keystone.demo.environ().items():
                    monkeypatch.setenv(key, value)
                code = (
                    code.replace("https://keystone.example/v3", keystone.auth_url)
                    .replace("https://zaqar.example:8888", server.url)
                    .replace('"secret"', repr(keystone.demo.password))
                )
            used.add(server)
            code = (
                code.replace("http://127.0.0.1:8888", server.url)
                .replace("ws://127.0.0.1:9000", server.ws_url)
                .replace("redis://127.0.0.1:6379", server.redis_url)
            )
            # dont_inherit: a block runs as a reader's script would, without this
            # module's `from __future__ import annotations` (under which a
            # dataclass defined in exec'd code cannot resolve its annotations).
            name = f"{page.relative_to(DOCS)}[{index}]"
            exec(compile(code, name, "exec", dont_inherit=True), namespace)
    finally:
        root.setLevel(root_state[0])
        root.handlers[:] = root_state[1]
        # A failing block leaves its clients open: close them, not the GC.
        for value in namespace.values():
            if type(value).__module__.startswith("zaqarkit") and hasattr(value, "close"):
                value.close()
        for server in used:
            if not hasattr(server, "keystone"):
                _empty_project(server, "demo")
