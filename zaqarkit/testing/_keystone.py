"""A real local Keystone (SQLite, fernet tokens, served by gunicorn) for tests.

Keystone pins its own OpenStack libraries, so like Zaqar it lives in a cached
virtualenv of its own (see :func:`ensure_keystone_env`). Only the standard
library is imported here.

Example::

    from zaqarkit.testing import KeystoneServer, KeystoneZaqarServer

    with KeystoneServer() as ks, KeystoneZaqarServer(keystone=ks) as zaqar:
        ks.auth_url                     # "http://127.0.0.1:<port>/v3"
        ks.admin.password, ks.demo.project_id
        zaqar.url                       # a Zaqar with auth_strategy = keystone,
                                        # published in the catalog as "messaging"
"""

from __future__ import annotations

import getpass
import grp
import http.client
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._provision import (
    _MARKER,
    Release,
    ServerEnv,
    _file_lock,
    _read_marker,
    _run,
    cache_root,
)
from ._servers import (
    _GUNICORN_CONF,
    _HOST,
    HttpResult,
    ServerStartError,
    ZaqarServer,
    _free_port,
    _http,
    _ini,
    _Process,
    _tail,
    _WorkdirLifecycle,
)

__all__ = [
    "KEYSTONE",
    "KeystoneServer",
    "KeystoneUser",
    "KeystoneZaqarServer",
    "ensure_keystone_env",
]

logger = logging.getLogger("zaqarkit.testing")

KEYSTONE = Release(
    name="keystone-30.0.0",
    requirements=("keystone==30.0.0", "gunicorn"),
    # Keystone needs no redis: nothing else is installed into its venv.
    redis_server_requirement=None,
    api_versions=("v3",),
    websocket=False,
)
"""Keystone 30.0.0 (2026.1) with gunicorn, in its own cached virtualenv."""


def ensure_keystone_env(
    release: Release = KEYSTONE, *, cache_dir: str | os.PathLike[str] | None = None
) -> ServerEnv:
    """Return a virtualenv with Keystone installed, creating it on first use.

    Same cache, marker file and lock as :func:`zaqarkit.testing.ensure_server_env`,
    minus redis. ``ServerEnv.redis_server`` is empty.

    Example::

        env = ensure_keystone_env()
        print(env.bin_dir / "keystone-manage")
    """
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    path = root / release.env_dir_name()
    marker = path / _MARKER
    with _file_lock(root / f"{release.env_dir_name()}.lock"):
        if _read_marker(marker) is not None and (path / "bin" / "python").exists():
            logger.info("reusing cached Keystone environment at %s", path)
            return ServerEnv(release, path, "", reused=True)
        if path.exists():
            logger.info("removing incomplete Keystone environment at %s", path)
            shutil.rmtree(path)
        root.mkdir(parents=True, exist_ok=True)
        log = root / f"{release.env_dir_name()}.install.log"
        log.write_text("")
        started = time.monotonic()
        logger.warning(
            "provisioning %s into %s (first run; takes a minute or two, log: %s)",
            release.name,
            path,
            log,
        )
        _run([sys.executable, "-m", "venv", str(path)], log)
        pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
        _run([*pip, *release.requirements], log)
        data = {
            "release": release.name,
            "requirements": " ".join(release.requirements),
            "python": sys.version.split()[0],
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "install_seconds": f"{time.monotonic() - started:.1f}",
        }
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, marker)
        logger.warning("provisioned %s in %.0f s", path, time.monotonic() - started)
        return ServerEnv(release, path, "", reused=False)


@dataclass(frozen=True)
class KeystoneUser:
    """A user with a role on one project (all in the ``default`` domain).

    ``options()`` gives the ``auth_opts`` options zaqarkit (and
    python-zaqarclient) understand; ``environ()`` the ``OS_*`` variables.
    The password is kept out of ``repr``.
    """

    username: str
    password: str
    user_id: str
    project_name: str
    project_id: str
    auth_url: str
    domain_id: str = "default"

    def __repr__(self) -> str:
        return (
            f"KeystoneUser(username={self.username!r}, project_name={self.project_name!r}, "
            f"project_id={self.project_id!r}, password='***')"
        )

    def options(self) -> dict[str, str]:
        """Password-auth options for ``conf['auth_opts']['options']``.

        Example::

            Client(zaqar.url, conf={"auth_opts": {"backend": "keystone",
                                                 "options": ks.demo.options()}})
        """
        return {
            "os_auth_url": self.auth_url,
            "os_username": self.username,
            "os_password": self.password,
            "os_project_name": self.project_name,
            "os_user_domain_id": self.domain_id,
            "os_project_domain_id": self.domain_id,
        }

    def environ(self) -> dict[str, str]:
        """The standard ``OS_*`` environment variables for this user."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_USERNAME": self.username,
            "OS_PASSWORD": self.password,
            "OS_PROJECT_NAME": self.project_name,
            "OS_USER_DOMAIN_ID": self.domain_id,
            "OS_PROJECT_DOMAIN_ID": self.domain_id,
            "OS_AUTH_TYPE": "password",
            "OS_IDENTITY_API_VERSION": "3",
        }


_KEYSTONE_WSGI = """\
# Generated by zaqarkit.testing: serves Keystone's public WSGI app under gunicorn.
import os
import sys

# Keystone parses sys.argv as its own command line: hide gunicorn's.
sys.argv = sys.argv[:1]
os.environ["OS_KEYSTONE_CONFIG_FILES"] = {config!r}

from keystone.server.wsgi import initialize_public_application

application = initialize_public_application()
"""

REGION = "RegionOne"


class KeystoneServer(_WorkdirLifecycle):
    """A real Keystone 30 (identity v3, SQLite, fernet) on a free loopback port.

    On start it runs ``keystone-manage db_sync``, ``fernet_setup``,
    ``credential_setup`` and ``bootstrap`` (user ``admin`` with role ``admin``
    on project ``admin``, an identity endpoint in ``RegionOne``), serves the
    app with gunicorn, then creates a non-admin user ``demo`` with role
    ``member`` on project ``demo`` through the API. :meth:`register_zaqar`
    publishes a ``messaging`` and a ``messaging-websocket`` service.

    ``token_expiration`` is Keystone's token lifetime in seconds.

    Example::

        with KeystoneServer() as ks:
            token = ks.token(ks.demo)
            ks.revoke(token)            # DELETE /v3/auth/tokens
    """

    def __init__(
        self,
        *,
        release: Release = KEYSTONE,
        admin_password: str | None = None,
        token_expiration: int = 3600,
        startup_timeout: float = 90.0,
        gunicorn_threads: int = 8,
        keep_logs: bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.release = release
        self.admin_password = admin_password or "admin-" + uuid.uuid4().hex[:12]
        self.token_expiration = token_expiration
        self.startup_timeout = startup_timeout
        self.gunicorn_threads = gunicorn_threads
        if keep_logs is None:
            keep_logs = os.environ.get("ZAQARKIT_KEEP_SERVER_LOGS", "") not in ("", "0")
        self.keep_logs = keep_logs
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.env: ServerEnv | None = None
        self.workdir: Path | None = None
        self.port = 0
        self._proc: _Process | None = None
        self._atexit: Callable[[], None] | None = None
        self._started = False
        self._admin: KeystoneUser | None = None
        self._demo: KeystoneUser | None = None
        self.startup_seconds = 0.0

    def __repr__(self) -> str:
        state = self.url if self._started else "stopped"
        return f"<KeystoneServer {self.release.name} {state}>"

    # -- addresses and identities -----------------------------------------

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:40123``."""
        self._require_started()
        return f"http://{_HOST}:{self.port}"

    @property
    def auth_url(self) -> str:
        """The identity v3 URL clients authenticate against (``.../v3``)."""
        return self.url + "/v3"

    @property
    def admin(self) -> KeystoneUser:
        """The bootstrap admin (role ``admin`` on project ``admin``)."""
        self._require_started()
        assert self._admin is not None
        return self._admin

    @property
    def demo(self) -> KeystoneUser:
        """A non-admin user (role ``member`` on project ``demo``)."""
        self._require_started()
        assert self._demo is not None
        return self._demo

    @property
    def running(self) -> bool:
        return self._started

    @property
    def log_file(self) -> Path | None:
        return self._proc.log if self._proc is not None else None

    def pids(self) -> list[int]:
        """Pids of the live gunicorn processes (master and worker)."""
        return self._proc.pids() if self._proc is not None else []

    # -- API helpers ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> HttpResult:
        """One plain HTTP request to Keystone; ``path`` is relative to ``/v3``.

        ``token`` defaults to a fresh admin token.

        Example::

            ks.request("GET", "/projects").json()["projects"]
        """
        hdrs = dict(headers or {})
        hdrs["X-Auth-Token"] = token if token is not None else self.token(self.admin)
        return _http(self.auth_url, method, path, body=body, headers=hdrs)

    def token(self, user: KeystoneUser | None = None) -> str:
        """A new project-scoped token for ``user`` (default: admin)."""
        user = user or self.admin
        return self._issue_token(user)

    def revoke(self, token: str) -> None:
        """Revoke ``token`` (``DELETE /v3/auth/tokens`` with ``X-Subject-Token``).

        Example::

            ks.revoke(ks.token(ks.demo))
        """
        r = _http(
            self.auth_url,
            "DELETE",
            "/auth/tokens",
            headers={"X-Auth-Token": self.token(self.admin), "X-Subject-Token": token},
        )
        if r.status != 204:
            raise RuntimeError(f"revoking a token failed: {r.status} {r.body!r}")

    def register_zaqar(self, http_url: str, ws_url: str | None = None) -> None:
        """Publish Zaqar in the catalog as devstack does.

        Service ``messaging`` (type ``messaging``) gets public, internal and
        admin endpoints at ``http_url``; service ``zaqar-websocket`` (type
        ``messaging-websocket``) gets ``ws_url`` with its scheme rewritten to
        ``http://`` (devstack publishes it so, and clients must cope).
        """
        self._add_service("zaqar", "messaging", http_url)
        if ws_url is not None:
            published = "http://" + ws_url.split("://", 1)[1]
            self._add_service("zaqar-websocket", "messaging-websocket", published)

    def zaqar_config(self) -> dict[str, dict[str, str]]:
        """``extra_config`` that makes a :class:`ZaqarServer` validate tokens here."""
        admin = self.admin
        return {
            "DEFAULT": {"auth_strategy": "keystone"},
            "keystone_authtoken": {
                "www_authenticate_uri": self.auth_url,
                "auth_url": self.auth_url,
                "auth_type": "password",
                "username": admin.username,
                "password": admin.password,
                "project_name": admin.project_name,
                "user_domain_id": "default",
                "project_domain_id": "default",
                "interface": "public",
                "region_name": REGION,
                # No validation cache: a revoked token must fail on its next use,
                # not up to five minutes later.
                "token_cache_time": "-1",
                "service_token_roles_required": "True",
            },
        }

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> KeystoneServer:
        """Provision if needed, set up the database, serve, bootstrap identities.

        Raises :class:`~zaqarkit.testing.ServerStartError` with the log tail on
        failure; nothing is left running then.
        """
        if self._started:
            return self
        began = time.monotonic()
        self.env = ensure_keystone_env(self.release, cache_dir=self._cache_dir)
        self._open_workdir("zaqarkit-keystone-")
        try:
            self.port = _free_port()
            self._write_configs()
            # Each keystone-manage run spends ~2 s importing Keystone: run the
            # independent steps side by side, and bootstrap while gunicorn boots.
            self._manage([["db_sync"], ["fernet_setup"], ["credential_setup"]])
            self._spawn()
            self._manage([["bootstrap"]])
            self._wait_ready()
            self._started = True
            self._bootstrap_identities()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        logger.info(
            "Keystone ready in %.1f s at %s (logs in %s)",
            self.startup_seconds,
            self.auth_url,
            self.workdir,
        )
        return self

    def stop(self) -> None:
        """Stop gunicorn and remove the work directory (unless ``keep_logs``). Idempotent."""
        if self._proc is not None:
            self._proc.stop()
            self._proc = None
        self._started = False
        self._release_workdir("Keystone")

    # -- internals ---------------------------------------------------------------

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("KeystoneServer is not running: use start() or a with block")

    def _path(self, name: str) -> Path:
        assert self.workdir is not None
        return self.workdir / name

    def _write_configs(self) -> None:
        conf = {
            "DEFAULT": {"debug": "False", "use_stderr": "True"},
            "database": {"connection": f"sqlite:///{self._path('keystone.sqlite')}"},
            "fernet_tokens": {"key_repository": str(self._path("fernet-keys"))},
            "fernet_receipts": {"key_repository": str(self._path("fernet-receipts"))},
            "credential": {"key_repository": str(self._path("credential-keys"))},
            "token": {"expiration": str(self.token_expiration)},
            # bcrypt's minimum cost: hashing at the default cost (12) takes
            # about 0.3 s per authentication on a small machine.
            "identity": {"password_hash_rounds": "4"},
        }
        self._path("keystone.conf").write_text(_ini(conf))
        self._path("zaqarkit_keystone_wsgi.py").write_text(
            _KEYSTONE_WSGI.format(config=str(self._path("keystone.conf")))
        )
        self._path("gunicorn.conf.py").write_text(
            _GUNICORN_CONF.format(
                bind=f"{_HOST}:{self.port}",
                threads=self.gunicorn_threads,
                pythonpath=str(self.workdir),
            )
        )

    def _manage(self, steps: list[list[str]]) -> None:
        """Run ``keystone-manage`` steps concurrently; raise if any fails."""
        assert self.env is not None
        manage = [str(self.env.bin_dir / "keystone-manage"), "--config-file",
                  str(self._path("keystone.conf"))]  # fmt: skip
        owner = ["--keystone-user", getpass.getuser(),
                 "--keystone-group", grp.getgrgid(os.getgid()).gr_name]  # fmt: skip
        public = f"http://{_HOST}:{self.port}/v3"
        extra = {
            "fernet_setup": owner,
            "credential_setup": owner,
            "bootstrap": [
                "--bootstrap-username", "admin",
                "--bootstrap-project-name", "admin",
                "--bootstrap-role-name", "admin",
                "--bootstrap-service-name", "keystone",
                "--bootstrap-region-id", REGION,
                "--bootstrap-public-url", public,
                "--bootstrap-internal-url", public,
                "--bootstrap-admin-url", public,
            ],
        }  # fmt: skip
        # The password goes through the environment, not argv (visible in ps).
        env = {**os.environ, "OS_BOOTSTRAP_PASSWORD": self.admin_password}
        running: list[tuple[str, Path, subprocess.Popen[bytes]]] = []
        try:
            for step in steps:
                cmd = [*manage, *step, *extra.get(step[0], [])]
                log = self._path(f"keystone-manage-{step[0]}.log")
                with open(log, "ab") as out:
                    out.write(("$ " + " ".join(cmd) + "\n").encode())
                    out.flush()
                    popen = subprocess.Popen(
                        cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir, env=env
                    )
                running.append((step[0], log, popen))
            for name, log, popen in running:
                code = popen.wait(timeout=self.startup_timeout)
                if code != 0:
                    raise ServerStartError(
                        f"keystone-manage {name} failed with exit code {code}\n"
                        f"--- {log} ---\n{_tail(log)}"
                    )
        finally:
            for _, _, popen in running:
                if popen.poll() is None:
                    popen.kill()
                    popen.wait()

    def _spawn(self) -> None:
        assert self.env is not None
        proc = _Process(
            "keystone",
            [str(self.env.gunicorn), "--config", str(self._path("gunicorn.conf.py")),
             "zaqarkit_keystone_wsgi:application"],
            self._path("keystone.log"),
            self._path(""),
        )  # fmt: skip
        self._proc = proc
        proc.start()

    def _wait_ready(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.05
        while True:
            code = proc.exited()
            if code is not None:
                raise ServerStartError(
                    f"Keystone exited with code {code} during startup\n"
                    f"--- {proc.log} ---\n{_tail(proc.log)}"
                )
            try:
                if _http(f"http://{_HOST}:{self.port}", "GET", "/v3", timeout=5.0).status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"Keystone not ready after {self.startup_timeout:.0f} s\n"
                    f"--- {proc.log} ---\n{_tail(proc.log)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _issue_token(self, user: KeystoneUser) -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": user.username,
                            "domain": {"id": user.domain_id},
                            "password": user.password,
                        }
                    },
                },
                "scope": {"project": {"id": user.project_id}}
                if user.project_id
                else {"project": {"name": user.project_name, "domain": {"id": user.domain_id}}},
            }
        }
        r = _http(self.auth_url, "POST", "/auth/tokens", body=body)
        if r.status != 201:
            raise RuntimeError(f"Keystone refused a token for {user.username}: {r.status}")
        return r.headers["x-subject-token"]

    def _api(self, method: str, path: str, body: Any, token: str) -> Any:
        r = _http(self.auth_url, method, path, body=body, headers={"X-Auth-Token": token})
        if r.status not in (200, 201, 204):
            raise ServerStartError(
                f"Keystone {method} /v3{path} failed: {r.status} {r.body[:500]!r}"
            )
        return r.json() if r.body else None

    def _bootstrap_identities(self) -> None:
        admin = KeystoneUser("admin", self.admin_password, "", "admin", "", self.auth_url)
        token = self._issue_token(admin)
        projects = self._api("GET", "/projects?name=admin", None, token)["projects"]
        users = self._api("GET", "/users?name=admin", None, token)["users"]
        self._admin = KeystoneUser(
            "admin", self.admin_password, users[0]["id"], "admin", projects[0]["id"], self.auth_url
        )
        demo_password = "demo-" + uuid.uuid4().hex[:12]
        project = self._api(
            "POST", "/projects", {"project": {"name": "demo", "domain_id": "default"}}, token
        )["project"]
        user = self._api(
            "POST",
            "/users",
            {"user": {"name": "demo", "password": demo_password, "domain_id": "default",
                      "default_project_id": project["id"]}},
            token,
        )["user"]  # fmt: skip
        role = self._api("GET", "/roles?name=member", None, token)["roles"][0]
        self._api(
            "PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{role['id']}", None, token
        )
        self._demo = KeystoneUser(
            "demo", demo_password, user["id"], "demo", project["id"], self.auth_url
        )

    def _add_service(self, name: str, type_: str, url: str) -> None:
        token = self.token(self.admin)
        body = {"service": {"name": name, "type": type_}}
        service = self._api("POST", "/services", body, token)["service"]
        for interface in ("public", "internal", "admin"):
            self._api(
                "POST",
                "/endpoints",
                {"endpoint": {"service_id": service["id"], "interface": interface,
                              "url": url, "region_id": REGION}},
                token,
            )  # fmt: skip


class KeystoneZaqarServer(ZaqarServer):
    """A :class:`ZaqarServer` with ``auth_strategy = keystone`` against ``keystone``.

    On start it also publishes itself in Keystone's catalog (``messaging`` and
    ``messaging-websocket``). :meth:`admin_headers` carries an admin token, so
    :meth:`request` keeps working.

    Example::

        with KeystoneServer() as ks, KeystoneZaqarServer(keystone=ks) as zaqar:
            r = zaqar.request("GET", "/v2/queues", headers=zaqar.admin_headers())
            assert r.status == 200
    """

    def __init__(self, *, keystone: KeystoneServer, **kwargs: Any) -> None:
        extra: dict[str, dict[str, str]] = keystone.zaqar_config()
        for section, options in (kwargs.pop("extra_config", None) or {}).items():
            extra.setdefault(section, {}).update(options)
        super().__init__(extra_config=extra, **kwargs)
        self.keystone = keystone

    def start(self) -> KeystoneZaqarServer:
        """Start Zaqar, then publish it in the Keystone catalog."""
        if self.running:
            return self
        super().start()
        try:
            self.keystone.register_zaqar(self.url, self.ws_url if self.websocket else None)
        except BaseException:
            self.stop()
            raise
        return self

    def admin_headers(self, project: str = "harness") -> dict[str, str]:
        """Headers with an admin token (``project`` is ignored: the token decides)."""
        return {
            "Client-ID": self.client_id,
            "X-Auth-Token": self.keystone.token(self.keystone.admin),
        }
