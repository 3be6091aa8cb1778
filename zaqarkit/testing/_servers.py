"""Start and stop real local Zaqar servers (redis + HTTP + WebSocket) for tests.

Only the standard library is used here, so this module imports anywhere.
"""

from __future__ import annotations

import http.client
import logging
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._probe import (
    HOST,
    HttpResult,
    free_port,
    http_request,
    http_root_ready,
    redis_ping,
    websocket_ready,
)
from ._processes import Process, WorkdirLifecycle, tail
from ._provision import Release, ServerEnv, ensure_server_env, get_release
from ._templates import CREATE_SCHEMA, WSGI_MODULE, ini

__all__ = ["HttpResult", "ServerStartError", "ZaqarServer"]

logger = logging.getLogger("zaqarkit.testing")

_START_ATTEMPTS = 3


class ServerStartError(RuntimeError):
    """A server process did not become ready; the message carries its log tails."""


class ZaqarServer(WorkdirLifecycle):
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
        super().__init__(
            startup_timeout=startup_timeout,
            gunicorn_threads=gunicorn_threads,
            keep_logs=keep_logs,
            cache_dir=cache_dir,
        )
        self._extra_config = {k: dict(v) for k, v in (extra_config or {}).items()}
        self.client_id = str(uuid.uuid4())
        self.env: ServerEnv | None = None
        self.redis_port = 0
        self.http_port = 0
        self.ws_port = 0
        self.ws_notification_port = 0
        self._procs: dict[str, Process] = {}
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
        return f"http://{HOST}:{self.http_port}"

    @property
    def ws_url(self) -> str:
        """URL of the WebSocket transport, e.g. ``ws://127.0.0.1:40125``."""
        self._require_started()
        if not self.websocket:
            raise RuntimeError("this ZaqarServer was started with websocket=False")
        if self._external is not None and self._external[1] is not None:
            return self._external[1]
        return f"ws://{HOST}:{self.ws_port}"

    @property
    def redis_url(self) -> str:
        """URL of the server's private redis, e.g. ``redis://127.0.0.1:40121``."""
        self._require_started()
        if self._external is not None:
            raise RuntimeError("the redis of an attached external server is unknown")
        return f"redis://{HOST}:{self.redis_port}"

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
        return http_request(self.url, method, path, body=body, headers=headers, timeout=timeout)

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
        self._wait_ready({"websocket": lambda: websocket_ready(self.ws_port)})

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
        self._wait_ready({"http": lambda: http_root_ready(self.http_port)})

    # -- internals ---------------------------------------------------------

    def _start_all(self) -> None:
        assert self.env is not None
        self._procs = {}
        self.redis_port = free_port()
        self.http_port = free_port()
        self.ws_port = free_port()
        self.ws_notification_port = free_port()
        self._write_configs()

        redis = Process(
            "redis",
            [
                self.env.redis_server,
                "--port", str(self.redis_port),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            self._path("redis.log"),
            self._path(""),
        )  # fmt: skip
        self._procs["redis"] = redis
        redis.start()
        self._wait_ready({"redis": lambda: redis_ping(self.redis_port)})

        if self.pooled:
            self._create_catalog_schema()

        http = self._gunicorn_process("http", self.env.gunicorn, "zaqarkit_zaqar_wsgi", "http.log")
        self._procs["http"] = http
        http.start()
        checks: dict[str, Callable[[], bool]] = {"http": lambda: http_root_ready(self.http_port)}
        if self.websocket:
            self._start_websocket()
            checks["websocket"] = lambda: websocket_ready(self.ws_port)
        self._wait_ready(checks)

        if self.pooled:
            self._register_pool()

    def _start_websocket(self) -> None:
        assert self.env is not None
        proc = Process(
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
        redis_uri = f"redis://{HOST}:{self.redis_port}"
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
            "drivers:transport:wsgi": {"bind": HOST, "port": str(self.http_port)},
            # The options are declared as "notification-bind"/"-port", but
            # oslo.config only reads the underscore spelling from a file; the
            # dashed one is silently ignored (a random port on the hostname).
            "drivers:transport:websocket": {
                "bind": HOST,
                "port": str(self.ws_port),
                "notification_bind": HOST,
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
        self._path("zaqar.conf").write_text(ini(self._config()))
        self._path("websocket.conf").write_text(ini({"drivers": {"transport": "websocket"}}))
        self._write_gunicorn_app(
            "zaqarkit_zaqar_wsgi",
            WSGI_MODULE.format(config=str(self._path("zaqar.conf"))),
            self.http_port,
        )

    def _create_catalog_schema(self) -> None:
        # `zaqar-sql-db-manage upgrade head` fails on SQLite (a MySQL-only
        # ALTER in migration 006), so create the tables from the metadata.
        assert self.env is not None
        proc = subprocess.run(
            [str(self.env.python), "-c", CREATE_SCHEMA, self._catalog_uri()],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ServerStartError(f"creating the SQLite pool catalog failed:\n{proc.stderr}")

    def _register_pool(self) -> None:
        r = http_request(
            f"http://{HOST}:{self.http_port}",
            "PUT",
            f"/v2/pools/{self.POOL_NAME}",
            body={"uri": f"redis://{HOST}:{self.redis_port}", "weight": 100},
            headers=self.admin_headers(),
        )
        if r.status not in (201, 204):
            raise ServerStartError(
                f"registering pool {self.POOL_NAME} failed: {r.status} {r.body!r}\n"
                + self._log_report()
            )

    def _log_report(self) -> str:
        parts = [
            f"--- {name} (pid {p.pid}, log {p.log}) ---\n{tail(p.log)}"
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
