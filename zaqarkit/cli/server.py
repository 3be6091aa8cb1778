"""``zaqarkit server up|down|status|env``: a real local Zaqar for development.

``up`` starts a supervisor process, detached from the terminal (its own
session, no stdin), that runs :class:`zaqarkit.testing.ZaqarServer` (Redis,
the HTTP API under gunicorn, the WebSocket transport) and writes a state file
once everything answers; ``down`` asks the supervisor to stop the server,
waits, and kills whatever the state file lists that is still alive.
The state file lives in ``$ZAQARKIT_STATE_DIR``, else
``$XDG_RUNTIME_DIR/zaqarkit``, else ``~/.cache/zaqarkit``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from zaqarkit.cli._output import Output, output_options
from zaqarkit.cli.main import CliError
from zaqarkit.testing._processes import pid_alive

__all__ = ["server", "state_dir"]

_STATE_NAME = "server.json"
_SUPERVISOR = "zaqarkit.cli._supervisor"


def state_dir() -> Path:
    """Where ``zaqarkit server`` keeps its state file and the supervisor's log.

    >>> isinstance(state_dir(), Path)
    True
    """
    explicit = os.environ.get("ZAQARKIT_STATE_DIR")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "zaqarkit"
    return Path.home() / ".cache" / "zaqarkit"


def _state_file() -> Path:
    return state_dir() / _STATE_NAME


def _is_supervisor(pid: int) -> bool:
    # A recycled pid must not be mistaken for our supervisor.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid_alive(pid)
    return _SUPERVISOR.encode() in cmdline and pid_alive(pid)


def _read_state() -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return None
    return data


def _running_state() -> dict[str, Any] | None:
    state = _read_state()
    if state is None or not _is_supervisor(int(state.get("supervisor", 0))):
        return None
    return state if state.get("status") == "ready" else None


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": state["url"],
        "ws_url": state.get("ws_url"),
        "supervisor": state["supervisor"],
        "pids": state.get("pids", []),
        "pooled": state.get("pooled", False),
    }


@click.group()
def server() -> None:
    """A real local Zaqar (HTTP, WebSocket, Redis) for development."""


@server.command()
@click.option("--pooled", is_flag=True, help="Pooling on (SQLite catalog, pool 'pool1').")
@click.option("--no-websocket", is_flag=True, help="HTTP only.")
@click.option(
    "--release",
    default="current",
    show_default=True,
    help="Zaqar release: current, or legacy (serves v1 and v1.1; HTTP only).",
)
@click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=900.0,
    show_default=True,
    help="Seconds to wait for the server (the first start installs Zaqar).",
)
@output_options
def up(out: Output, pooled: bool, no_websocket: bool, release: str, wait_seconds: float) -> None:
    """Start a local Zaqar in the background and print its URLs."""
    running = _running_state()
    if running is not None:
        click.echo("zaqarkit: a server is already running", err=True)
        out.show(_summary(running))
        return
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = _state_file()
    path.unlink(missing_ok=True)
    log = directory / "server.log"
    argv = [sys.executable, "-m", _SUPERVISOR, str(path), "--release", release]
    if pooled:
        argv.append("--pooled")
    if no_websocket or release != "current":
        argv.append("--no-websocket")
    with open(log, "ab") as log_file:
        supervisor = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + wait_seconds
    while True:
        state = _read_state()
        if state is not None and state.get("supervisor") == supervisor.pid:
            if state.get("status") == "ready":
                out.show(_summary(state))
                return
            if state.get("status") == "failed":
                supervisor.wait(timeout=30)
                raise CliError(f"the server did not start: {state.get('error')}", 1)
        code = supervisor.poll()
        if code is not None:
            raise CliError(f"the server supervisor exited with {code}; see {log}", 1)
        if time.monotonic() > deadline:
            _stop(supervisor.pid, [])
            raise CliError(f"the server was not ready after {wait_seconds:g} s; see {log}", 1)
        time.sleep(0.2)


def _stop(supervisor: int, pids: list[int], grace: float = 60.0) -> list[int]:
    """Stop the supervisor (which stops its server), then whatever is left.
    Returns the pids that had to be killed."""
    with contextlib.suppress(ProcessLookupError):
        if _is_supervisor(supervisor):
            os.kill(supervisor, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _is_supervisor(supervisor) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _is_supervisor(supervisor):
        with contextlib.suppress(ProcessLookupError):
            os.kill(supervisor, signal.SIGKILL)
    killed = [pid for pid in pids if pid_alive(pid)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return killed


@server.command()
def down() -> None:
    """Stop the local Zaqar; nothing it started is left running."""
    state = _read_state()
    if state is None:
        click.echo("zaqarkit: no server is running", err=True)
        return
    killed = _stop(int(state.get("supervisor", 0)), [int(p) for p in state.get("pids", [])])
    _state_file().unlink(missing_ok=True)
    if killed:
        click.echo(f"zaqarkit: killed leftover processes {killed}", err=True)
    click.echo("zaqarkit: server stopped", err=True)


@server.command()
@output_options
def status(out: Output) -> None:
    """Show the local Zaqar's URLs (exit 1 when none is running)."""
    state = _running_state()
    if state is None:
        out.show({"running": False})
        raise SystemExit(1)
    out.show({"running": True, **_summary(state)})


@server.command()
def env() -> None:
    """Print shell exports for the running server: eval "$(zaqarkit server env)"."""
    state = _running_state()
    if state is None:
        raise CliError("no server is running: zaqarkit server up", 1)
    click.echo(f"export OS_URL={state['url']}")
    if state.get("ws_url"):
        click.echo(f"export OS_WS_URL={state['ws_url']}")
    # A no-auth server takes any project id; keep the user's if set.
    click.echo(f"export OS_PROJECT_ID={os.environ.get('OS_PROJECT_ID') or 'demo'}")
