"""Start and stop real local Zaqar servers (redis + HTTP + WebSocket) for tests.

Only the standard library is used here, so this module imports anywhere.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import http.client
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

from ._provision import Release, ServerEnv, cache_root, ensure_server_env, get_release

__all__ = ["HttpResult", "ServerStartError", "ZaqarServer"]

logger = logging.getLogger("zaqarkit.testing")

_HOST = "127.0.0.1"
_STOP_GRACE_SECONDS = 5.0
_START_ATTEMPTS = 3


class ServerStartError(RuntimeError):
    """A server process did not become ready; the message carries its log tails."""


@dataclass(frozen=True)
class HttpResult:
    """Status, headers (lower-cased names) and body of one plain HTTP exchange."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Decode the body as JSON.

        Example::

            >>> HttpResult(200, {}, b'{"a": 1}').json()
            {'a': 1}
        """
        return json.loads(self.body)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((_HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _http(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname or _HOST
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    path = parts.path.rstrip("/") + path
    try:
        hdrs = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return HttpResult(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text[-lines:]) or "<empty>"


def _redis_ping(port: int) -> bool:
    with socket.create_connection((_HOST, port), timeout=1.0) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def _http_root_ready(port: int) -> bool:
    # Zaqar's home answers GET / with 300 Multiple Choices (the versions list).
    return _http(f"http://{_HOST}:{port}", "GET", "/", timeout=2.0).status == 300


def _websocket_ready(port: int) -> bool:
    # A real opening handshake: the listening socket alone could belong to a
    # process that is still importing its protocol factory.
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: {_HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((_HOST, port), timeout=2.0) as s:
        s.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1024)
            if not chunk:
                break
            head += chunk
        ok = head.startswith(b"HTTP/1.1 101")
        if ok:
            # Close frame (masked, as a client must), code 1000.
            mask = os.urandom(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"\x03\xe8"))
            with contextlib.suppress(OSError):
                s.sendall(b"\x88\x82" + mask + payload)
        return ok


def _pid_alive(pid: int) -> bool:
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


def _group_pids(pgid: int) -> list[int]:
    """All live pids whose process group is ``pgid`` (Linux ``/proc``)."""
    pids: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return [pgid] if _pid_alive(pgid) else []
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


def _running_dir() -> Path:
    return cache_root() / "running"


def reap_orphans() -> list[str]:
    """Kill the servers a harness started and never stopped because it was
    killed itself (SIGKILL skips ``atexit``): each started process group is
    recorded with its owner's pid, and a group whose owner is gone is
    killed here, before the next harness starts anything. Returns the names
    of what was reaped.
    """
    reaped: list[str] = []
    directory = _running_dir()
    if not directory.is_dir():
        return reaped
    for record in directory.glob("*.json"):
        try:
            entry = json.loads(record.read_text())
            owner, pgid, name = int(entry["owner"]), int(entry["pgid"]), str(entry["name"])
        except (OSError, ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)
            continue
        if _pid_alive(owner):
            continue
        # Only a group still led by the recorded command: pids are reused.
        if _group_pids(pgid) and str(entry.get("cmd0", "?")) in _cmdline(pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            reaped.append(name)
            logger.warning("killed %s (pid %d), left running by dead harness %d",
                           name, pgid, owner)
        record.unlink(missing_ok=True)
    return reaped


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class _Process:
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
        self._record = _running_dir() / f"{self.popen.pid}.json"
        with contextlib.suppress(OSError):
            self._record.parent.mkdir(parents=True, exist_ok=True)
            self._record.write_text(json.dumps({
                "owner": os.getpid(), "pgid": self.popen.pid, "name": self.name,
                "cmd0": self.cmd[0],
            }))

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def exited(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None

    def pids(self) -> list[int]:
        if self.popen is None:
            return []
        return _group_pids(self.popen.pid)

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
                popen.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop on SIGTERM; sending SIGKILL", self.name)
            # Kill whatever is left in the group (workers, or the leader itself).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            popen.wait(timeout=_STOP_GRACE_SECONDS)
            deadline = time.monotonic() + _STOP_GRACE_SECONDS
            while _group_pids(pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
        if self._record is not None:
            self._record.unlink(missing_ok=True)
            self._record = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None


_WSGI_MODULE = """\
# Generated by zaqarkit.testing: serves Zaqar's WSGI app under gunicorn.
from oslo_config import cfg
from zaqar import bootstrap

conf = cfg.ConfigOpts()
conf(args=["--config-file", {config!r}], project="zaqar")
application = bootstrap.Bootstrap(conf).transport.app
"""

# Settings unknown to an older gunicorn are ignored in a config file (they
# would be fatal on the command line). gunicorn 27 opens a control socket at
# a fixed path in $HOME by default, which concurrent servers would share.
_GUNICORN_CONF = """\
# Generated by zaqarkit.testing.
bind = [{bind!r}]
worker_class = "gthread"
workers = 1
threads = {threads}
keepalive = 30
timeout = 120
graceful_timeout = 3
pythonpath = {pythonpath!r}
errorlog = "-"
loglevel = "info"
control_socket_disable = True
"""

_CREATE_SCHEMA = """\
import sys
import sqlalchemy
from zaqar.storage.sqlalchemy import tables
tables.metadata.create_all(sqlalchemy.create_engine(sys.argv[1]))
"""


def _ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    out: list[str] = []
    for section, options in sections.items():
        out.append(f"[{section}]")
        out.extend(f"{k} = {v}" for k, v in options.items())
        out.append("")
    return "\n".join(out)


_L = TypeVar("_L", bound="_WorkdirLifecycle")


class _WorkdirLifecycle:
    """A server's temporary work directory and its exit hook, shared by the
    Zaqar and Keystone servers: created on start, removed on stop (kept with
    ``keep_logs``), and stopped at interpreter exit if nobody else did."""

    workdir: Path | None
    keep_logs: bool
    _atexit: Callable[[], None] | None
    _started: bool

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError(
                f"{type(self).__name__} is not running: use start() or a with block"
            )

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

    def _release_workdir(self, what: str) -> None:
        if self._atexit is not None:
            atexit.unregister(self._atexit)
            self._atexit = None
        if self.workdir is not None and self.workdir.exists():
            if self.keep_logs:
                logger.info("kept %s logs in %s", what, self.workdir)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)


class ZaqarServer(_WorkdirLifecycle):
    """A real Zaqar (redis + HTTP via gunicorn + WebSocket) on loopback ports.

    The first use installs the release into a cached virtualenv outside the
    project (see :func:`zaqarkit.testing.ensure_server_env`); later uses reuse
    it. Servers run without authentication and with ``admin_mode`` on, so send
    ``X-Project-ID`` yourself (and ``X-Roles: admin`` for health, pools and
    flavors: :meth:`admin_headers` builds the headers).

    ``pooled=True`` turns on pooling with a SQLite catalog and registers one
    pool, ``pool1``, backed by the server's redis. ``release`` is ``"current"``
    (Zaqar 23, ``/v2``), ``"legacy"`` (Zaqar 19, ``/v1``, ``/v1.1`` and
    ``/v2``; HTTP only) or a :class:`~zaqarkit.testing.Release`. ``websocket``
    defaults to whether the release can serve it.

    Example::

        from zaqarkit.testing import ZaqarServer

        with ZaqarServer() as srv:
            print(srv.url, srv.ws_url, srv.redis_url)
            r = srv.request("PUT", "/v2/queues/demo", headers=srv.admin_headers("demo"))
            assert r.status == 201

    Logs and config live in a temp directory, removed on :meth:`stop` unless
    ``keep_logs`` is true or ``ZAQARKIT_KEEP_SERVER_LOGS=1``.
    """

    POOL_NAME = "pool1"

    def __init__(
        self,
        *,
        release: str | Release = "current",
        pooled: bool = False,
        websocket: bool | None = None,
        startup_timeout: float = 60.0,
        gunicorn_threads: int = 8,
        keep_logs: bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        extra_config: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.release: Release = get_release(release)
        self.pooled = pooled
        if websocket is None:
            websocket = self.release.websocket
        elif websocket and not self.release.websocket:
            raise ValueError(f"Zaqar {self.release.name} cannot serve WebSocket on this Python")
        self.websocket = websocket
        self.startup_timeout = startup_timeout
        self.gunicorn_threads = gunicorn_threads
        if keep_logs is None:
            keep_logs = os.environ.get("ZAQARKIT_KEEP_SERVER_LOGS", "") not in ("", "0")
        self.keep_logs = keep_logs
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._extra_config = {k: dict(v) for k, v in (extra_config or {}).items()}
        self.client_id = str(uuid.uuid4())
        self.env: ServerEnv | None = None
        self.workdir: Path | None = None
        self.redis_port = 0
        self.http_port = 0
        self.ws_port = 0
        self.ws_notification_port = 0
        self._procs: dict[str, _Process] = {}
        self._atexit: Callable[[], None] | None = None
        self._started = False
        self._external: tuple[str, str | None, tuple[str, ...]] | None = None

    @classmethod
    def attach(
        cls,
        url: str,
        *,
        ws_url: str | None = None,
        pool_names: Sequence[str] = (),
    ) -> ZaqarServer:
        """Wrap an already running Zaqar (no auth) so code written for the harness uses it.

        Nothing is started or stopped; :attr:`redis_url`, :meth:`pids` and
        :meth:`restart_websocket` are not available.

        Example::

            srv = ZaqarServer.attach("http://zaqar.test:8888", ws_url="ws://zaqar.test:9000")
            srv.request("GET", "/v2/ping", headers=srv.admin_headers()).status  # 204
        """
        srv = cls(websocket=False)
        srv._external = (url.rstrip("/"), ws_url, tuple(pool_names))
        srv.websocket = ws_url is not None
        srv.pooled = bool(pool_names)
        srv._started = True
        return srv

    @property
    def external(self) -> bool:
        """True for a server wrapped with :meth:`attach` rather than started here."""
        return self._external is not None

    # -- addresses ---------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the HTTP API, e.g. ``http://127.0.0.1:40123``."""
        self._require_started()
        if self._external is not None:
            return self._external[0]
        return f"http://{_HOST}:{self.http_port}"

    @property
    def ws_url(self) -> str:
        """URL of the WebSocket transport, e.g. ``ws://127.0.0.1:40125``."""
        self._require_started()
        if not self.websocket:
            raise RuntimeError("this ZaqarServer was started with websocket=False")
        if self._external is not None and self._external[1] is not None:
            return self._external[1]
        return f"ws://{_HOST}:{self.ws_port}"

    @property
    def redis_url(self) -> str:
        """URL of the server's private redis, e.g. ``redis://127.0.0.1:40121``."""
        self._require_started()
        if self._external is not None:
            raise RuntimeError("the redis of an attached external server is unknown")
        return f"redis://{_HOST}:{self.redis_port}"

    @property
    def pool_names(self) -> tuple[str, ...]:
        """Names of the pools registered at start: ``("pool1",)`` when pooled, else ``()``."""
        if self._external is not None:
            return self._external[2]
        return (self.POOL_NAME,) if self.pooled else ()

    @property
    def api_versions(self) -> tuple[str, ...]:
        """API versions the release serves, e.g. ``("v2",)``."""
        return self.release.api_versions

    @property
    def log_files(self) -> dict[str, Path]:
        """Log file of each process by name (``redis``, ``http``, ``websocket``)."""
        return {name: p.log for name, p in self._procs.items()}

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._started

    def pids(self) -> list[int]:
        """Pids of every live process this server started (including gunicorn workers).

        Example::

            with ZaqarServer() as srv:
                pids = srv.pids()
            # after the block, none of ``pids`` is running
        """
        return sorted(pid for p in self._procs.values() for pid in p.pids())

    def admin_headers(self, project: str = "harness") -> dict[str, str]:
        """Headers for a no-auth admin request in ``project``.

        Example::

            >>> sorted(ZaqarServer().admin_headers("p1"))
            ['Client-ID', 'X-Project-ID', 'X-Roles']
        """
        return {"Client-ID": self.client_id, "X-Project-ID": project, "X-Roles": "admin"}

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> HttpResult:
        """Send one plain HTTP request (stdlib only) to the server.

        ``body`` is sent as JSON unless it is ``bytes``.

        Example::

            r = srv.request("GET", "/v2/ping", headers=srv.admin_headers())
            assert r.status == 204
        """
        self._require_started()
        return _http(self.url, method, path, body=body, headers=headers, timeout=timeout)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> ZaqarServer:
        """Provision if needed, start every process and wait until all are ready.

        Raises :class:`ServerStartError` (with each log's tail) on timeout or
        early exit; nothing is left running in that case.

        Example::

            srv = ZaqarServer().start()
            try:
                ...
            finally:
                srv.stop()
        """
        if self._started or self._external is not None:
            return self
        began = time.monotonic()
        self.env = ensure_server_env(self.release, cache_dir=self._cache_dir)
        for attempt in range(1, _START_ATTEMPTS + 1):
            self._open_workdir("zaqarkit-server-")
            try:
                self._start_all()
            except ServerStartError as exc:
                self.stop()
                # A free port is found by binding port 0 and closing the
                # socket; another process may take it before we bind it again.
                text = str(exc).lower()
                port_taken = "already in use" in text or "connection in use" in text
                if attempt < _START_ATTEMPTS and port_taken:
                    logger.info("a port was taken while starting; retrying")
                    continue
                raise
            except BaseException:
                self.stop()
                raise
            break
        self._started = True
        logger.info(
            "Zaqar %s ready in %.1f s: %s%s (logs in %s)",
            self.release.name,
            time.monotonic() - began,
            self.url,
            f", {self.ws_url}" if self.websocket else "",
            self.workdir,
        )
        return self

    def stop(self) -> None:
        """Stop every process (SIGTERM to its group, SIGKILL after a grace period).

        Safe to call more than once; also runs at interpreter exit. Does
        nothing for a server wrapped with :meth:`attach`.
        """
        if self._external is not None:
            return
        for name in ("websocket", "http", "redis"):
            proc = self._procs.get(name)
            if proc is not None:
                proc.stop()
        self._started = False
        self._release_workdir("Zaqar server")

    def restart_websocket(self, *, kill: bool = False) -> None:
        """Stop the WebSocket process and start it again on the same port
        (``kill=True``: SIGKILL at once, as in a crash).

        Connected WebSocket clients see their connection drop; new connections
        succeed once this returns.

        Example::

            srv.restart_websocket()   # the ws_url stays the same
        """
        self._require_started()
        if self._external is not None:
            raise RuntimeError("cannot restart the WebSocket side of an attached external server")
        if not self.websocket:
            raise RuntimeError("this ZaqarServer was started with websocket=False")
        if kill:
            self._procs["websocket"].kill()
        self._procs["websocket"].stop()
        self._start_websocket()
        self._wait_ready({"websocket": lambda: _websocket_ready(self.ws_port)})

    def restart_http(self, *, kill: bool = False) -> None:
        """Stop the HTTP (gunicorn) process and start it again on the same port.

        ``kill=True`` sends SIGKILL at once instead of a graceful SIGTERM.
        Messages live in redis, which keeps running: nothing stored is lost.
        Requests in flight fail; new ones succeed once this returns.

        Example::

            srv.restart_http()   # the url stays the same
        """
        self._require_started()
        if self._external is not None:
            raise RuntimeError("cannot restart the HTTP side of an attached external server")
        proc = self._procs["http"]
        if kill:
            proc.kill()
        proc.stop()
        proc.start()
        self._wait_ready({"http": lambda: _http_root_ready(self.http_port)})

    # -- internals ---------------------------------------------------------

    def _start_all(self) -> None:
        assert self.env is not None
        self._procs = {}
        self.redis_port = _free_port()
        self.http_port = _free_port()
        self.ws_port = _free_port()
        self.ws_notification_port = _free_port()
        self._write_configs()

        redis = _Process(
            "redis",
            [
                self.env.redis_server,
                "--port", str(self.redis_port),
                "--bind", _HOST,
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            self._path("redis.log"),
            self._path(""),
        )  # fmt: skip
        self._procs["redis"] = redis
        redis.start()
        self._wait_ready({"redis": lambda: _redis_ping(self.redis_port)})

        if self.pooled:
            self._create_catalog_schema()

        http = _Process(
            "http",
            [
                str(self.env.gunicorn),
                "--config", str(self._path("gunicorn.conf.py")),
                "zaqarkit_zaqar_wsgi:application",
            ],
            self._path("http.log"),
            self._path(""),
        )  # fmt: skip
        self._procs["http"] = http
        http.start()
        checks: dict[str, Callable[[], bool]] = {"http": lambda: _http_root_ready(self.http_port)}
        if self.websocket:
            self._start_websocket()
            checks["websocket"] = lambda: _websocket_ready(self.ws_port)
        self._wait_ready(checks)

        if self.pooled:
            self._register_pool()

    def _start_websocket(self) -> None:
        assert self.env is not None
        proc = _Process(
            "websocket",
            [
                str(self.env.zaqar_server),
                "--config-file", str(self._path("zaqar.conf")),
                "--config-file", str(self._path("websocket.conf")),
            ],
            self._path("websocket.log"),
            self._path(""),
        )  # fmt: skip
        self._procs["websocket"] = proc
        proc.start()

    def _config(self) -> dict[str, dict[str, str]]:
        redis_uri = f"redis://{_HOST}:{self.redis_port}"
        conf: dict[str, dict[str, str]] = {
            "DEFAULT": {
                # Empty: no auth; clients send X-Project-ID themselves.
                "auth_strategy": "",
                "admin_mode": "True",
                "unreliable": "True",
                "debug": "False",
                "use_stderr": "True",
            },
            "drivers": {
                "transport": "wsgi",
                "message_store": "redis",
                "management_store": "redis",
            },
            "drivers:transport:wsgi": {"bind": _HOST, "port": str(self.http_port)},
            # The options are declared as "notification-bind"/"-port", but
            # oslo.config only reads the underscore spelling from a file; the
            # dashed one is silently ignored (a random port on the hostname).
            "drivers:transport:websocket": {
                "bind": _HOST,
                "port": str(self.ws_port),
                "notification_bind": _HOST,
                "notification_port": str(self.ws_notification_port),
            },
            "drivers:message_store:redis": {"uri": redis_uri},
            "drivers:management_store:redis": {"uri": redis_uri},
            "signed_url": {"secret_key": "zaqarkit-test-secret"},
            # In both processes, so a message posted over HTTP is pushed to
            # WebSocket subscribers and webhooks.
            "storage": {"message_pipeline": "zaqar.notification.notifier"},
            "profiler": {"enabled": "False"},
        }
        if self.pooled:
            conf["DEFAULT"]["pooling"] = "True"
            # The redis management store's pools controller answers 500: the
            # pool catalog needs SQL.
            conf["drivers"]["management_store"] = "sqlalchemy"
            conf["drivers:management_store:sqlalchemy"] = {"uri": self._catalog_uri()}
        for section, option, value in self.release.extra_config:
            conf.setdefault(section, {})[option] = value
        for section, options in self._extra_config.items():
            conf.setdefault(section, {}).update(options)
        return conf

    def _catalog_uri(self) -> str:
        return f"sqlite:///{self._path('catalog.sqlite')}"

    def _write_configs(self) -> None:
        self._path("zaqar.conf").write_text(_ini(self._config()))
        self._path("websocket.conf").write_text(_ini({"drivers": {"transport": "websocket"}}))
        self._path("zaqarkit_zaqar_wsgi.py").write_text(
            _WSGI_MODULE.format(config=str(self._path("zaqar.conf")))
        )
        self._path("gunicorn.conf.py").write_text(
            _GUNICORN_CONF.format(
                bind=f"{_HOST}:{self.http_port}",
                threads=self.gunicorn_threads,
                pythonpath=str(self.workdir),
            )
        )

    def _create_catalog_schema(self) -> None:
        # `zaqar-sql-db-manage upgrade head` fails on SQLite (a MySQL-only
        # ALTER in migration 006), so create the tables from the metadata.
        assert self.env is not None
        proc = subprocess.run(
            [str(self.env.python), "-c", _CREATE_SCHEMA, self._catalog_uri()],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ServerStartError(f"creating the SQLite pool catalog failed:\n{proc.stderr}")

    def _register_pool(self) -> None:
        r = _http(
            f"http://{_HOST}:{self.http_port}",
            "PUT",
            f"/v2/pools/{self.POOL_NAME}",
            body={"uri": f"redis://{_HOST}:{self.redis_port}", "weight": 100},
            headers=self.admin_headers(),
        )
        if r.status not in (201, 204):
            raise ServerStartError(
                f"registering pool {self.POOL_NAME} failed: {r.status} {r.body!r}\n"
                + self._log_report()
            )

    def _log_report(self) -> str:
        parts = [
            f"--- {name} (pid {p.pid}, log {p.log}) ---\n{_tail(p.log)}"
            for name, p in self._procs.items()
        ]
        return "\n".join(parts)

    def _wait_ready(self, checks: Mapping[str, Callable[[], bool]]) -> None:
        pending = dict(checks)
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.05
        while pending:
            for name in list(pending):
                proc = self._procs[name]
                code = proc.exited()
                if code is not None:
                    raise ServerStartError(
                        f"Zaqar {name} process exited with code {code} during startup\n"
                        + self._log_report()
                    )
                try:
                    ok = pending[name]()
                except (OSError, http.client.HTTPException):
                    ok = False
                if ok:
                    del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"Zaqar {', '.join(sorted(pending))} not ready after "
                    f"{self.startup_timeout:.0f} s\n" + self._log_report()
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
