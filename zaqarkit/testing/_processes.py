"""Child processes of the harness: started in their own session, logging to a
file, recorded under the cache's ``running/`` folder so that a harness killed
before it could stop them has them reaped by the next one; and the temporary
work directory each server lives in (standard library only)."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar

from ._probe import HOST
from ._templates import GUNICORN_CONF

__all__ = [
    "Process",
    "WorkdirLifecycle",
    "cache_root",
    "group_pids",
    "pid_alive",
    "reap_orphans",
    "tail",
]

logger = logging.getLogger("zaqarkit.testing")

#: How long a stopping process gets after SIGTERM (and again after SIGKILL).
STOP_GRACE_SECONDS = 5.0


def cache_root() -> Path:
    """Where server virtualenvs (and the records of running servers) live:
    ``$ZAQARKIT_CACHE_DIR`` or ``~/.cache/zaqarkit/servers``."""
    env = os.environ.get("ZAQARKIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "zaqarkit" / "servers"


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of the log at ``path``, for error messages."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text[-lines:]) or "<empty>"


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # The state follows the parenthesised command name, which may hold spaces.
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def group_pids(pgid: int) -> list[int]:
    """All live pids whose process group is ``pgid`` (Linux ``/proc``)."""
    pids: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return [pgid] if pid_alive(pgid) else []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            pids.append(int(entry.name))
    return sorted(pids)


def running_dir() -> Path:
    return cache_root() / "running"


def reap_orphans() -> list[str]:
    """Kill the servers a harness started and never stopped because it was
    killed itself (SIGKILL skips ``atexit``): each started process group is
    recorded with its owner's pid, and a group whose owner is gone is
    killed here, before the next harness starts anything. Returns the names
    of what was reaped.
    """
    reaped: list[str] = []
    directory = running_dir()
    if not directory.is_dir():
        return reaped
    for record in directory.glob("*.json"):
        try:
            entry = json.loads(record.read_text())
            owner, pgid, name = int(entry["owner"]), int(entry["pgid"]), str(entry["name"])
        except (OSError, ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)
            continue
        if pid_alive(owner):
            continue
        # Only a group still led by the recorded command: pids are reused.
        if group_pids(pgid) and str(entry.get("cmd0", "?")) in cmdline(pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            reaped.append(name)
            logger.warning("killed %s (pid %d), left running by dead harness %d", name, pgid, owner)
        record.unlink(missing_ok=True)
    return reaped


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Process:
    """One child process in its own session, logging to a file, recorded in
    the cache's ``running/`` folder until stopped (see :func:`reap_orphans`)."""

    def __init__(self, name: str, cmd: list[str], log: Path, cwd: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.log = log
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self._record: Path | None = None

    def start(self) -> None:
        reap_orphans()
        self._log_fh = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self._log_fh.write(f"$ {shlex.join(self.cmd)}\n".encode())
        self._log_fh.flush()
        self.popen = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            start_new_session=True,
        )
        self._record = running_dir() / f"{self.popen.pid}.json"
        with contextlib.suppress(OSError):
            self._record.parent.mkdir(parents=True, exist_ok=True)
            self._record.write_text(
                json.dumps(
                    {
                        "owner": os.getpid(),
                        "pgid": self.popen.pid,
                        "name": self.name,
                        "cmd0": self.cmd[0],
                    }
                )
            )

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def exited(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None

    def pids(self) -> list[int]:
        if self.popen is None:
            return []
        return group_pids(self.popen.pid)

    def kill(self) -> None:
        """SIGKILL the whole process group now (a crash, not a shutdown)."""
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)

    def stop(self) -> None:
        popen, self.popen = self.popen, None
        if popen is not None:
            pgid = popen.pid
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
            try:
                popen.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop on SIGTERM; sending SIGKILL", self.name)
            # Kill whatever is left in the group (workers, or the leader itself).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            popen.wait(timeout=STOP_GRACE_SECONDS)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while group_pids(pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
        if self._record is not None:
            self._record.unlink(missing_ok=True)
            self._record = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None


_L = TypeVar("_L", bound="WorkdirLifecycle")


class WorkdirLifecycle:
    """A server's temporary work directory and its exit hook, shared by the
    Zaqar and Keystone servers: created on start, removed on stop (kept with
    ``keep_logs``), and stopped at interpreter exit if nobody else did.

    It also holds the settings both servers take: ``keep_logs`` None follows
    ``ZAQARKIT_KEEP_SERVER_LOGS``; ``cache_dir`` holds the servers' virtualenvs."""

    def __init__(
        self,
        *,
        startup_timeout: float,
        gunicorn_threads: int,
        keep_logs: bool | None,
        cache_dir: str | os.PathLike[str] | None,
    ) -> None:
        self.startup_timeout = startup_timeout
        self.gunicorn_threads = gunicorn_threads
        if keep_logs is None:
            keep_logs = os.environ.get("ZAQARKIT_KEEP_SERVER_LOGS", "") not in ("", "0")
        self.keep_logs = keep_logs
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.workdir: Path | None = None
        self._atexit: Callable[[], None] | None = None
        self._started = False

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError(f"{type(self).__name__} is not running: use start() or a with block")

    def _path(self, name: str) -> Path:
        assert self.workdir is not None
        return self.workdir / name

    def start(self: _L) -> _L:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _L) -> _L:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _open_workdir(self, prefix: str) -> Path:
        self.workdir = Path(tempfile.mkdtemp(prefix=prefix))
        self._atexit = self.stop
        atexit.register(self._atexit)
        return self.workdir

    def _write_gunicorn_app(self, app_module: str, app_source: str, port: int) -> None:
        """Write what gunicorn serves a WSGI app from: ``app_module``.py
        (``app_source``, defining ``application``) and ``gunicorn.conf.py``
        binding ``port``."""
        self._path(f"{app_module}.py").write_text(app_source)
        self._path("gunicorn.conf.py").write_text(
            GUNICORN_CONF.format(
                bind=f"{HOST}:{port}",
                threads=self.gunicorn_threads,
                pythonpath=str(self.workdir),
            )
        )

    def _gunicorn_process(self, name: str, gunicorn: Path, app_module: str, log: str) -> Process:
        """The (unstarted) gunicorn process serving what
        :meth:`_write_gunicorn_app` wrote, logging to ``log`` in the workdir."""
        return Process(
            name,
            [str(gunicorn), "--config", str(self._path("gunicorn.conf.py")),
             f"{app_module}:application"],
            self._path(log),
            self._path(""),
        )  # fmt: skip

    def _release_workdir(self, what: str) -> None:
        if self._atexit is not None:
            atexit.unregister(self._atexit)
            self._atexit = None
        if self.workdir is not None and self.workdir.exists():
            if self.keep_logs:
                logger.info("kept %s logs in %s", what, self.workdir)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
