"""The sans-I/O core imports no I/O library, event loop or clock.

Two independent checks: the modules a fresh interpreter actually loads when it
imports every module of ``zaqarkit.core`` (against a baseline interpreter that
imports nothing), and the AST checker ``scripts/check_core_purity.py`` that
``nox -s lint`` runs, including proof that it fails on an impure core.
"""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "scripts" / "check_core_purity.py"
# One list, owned by the lint checker, for both checks.
BANNED = tuple(sorted(runpy.run_path(str(CHECKER))["BANNED_MODULES"]))

# The parent package ``zaqarkit`` is replaced by a bare module so that only the
# core (and zaqarkit.errors, which it uses) is measured: the package's own
# __init__ imports the client facade, which rightly imports httpx.
_IMPORT_CORE = """
import importlib, json, pkgutil, sys, types
package = types.ModuleType("zaqarkit")
package.__path__ = [sys.argv[1]]
sys.modules["zaqarkit"] = package
import zaqarkit.core, zaqarkit.errors
names = [m.name for m in pkgutil.walk_packages(zaqarkit.core.__path__, "zaqarkit.core.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": sorted(sys.modules), "core": sorted(names)}))
"""

_BASELINE = "import json, sys; print(json.dumps({'modules': sorted(sys.modules)}))"


def _run(code: str, *args: str) -> dict[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, list[str]] = json.loads(proc.stdout)
    return result


def _banned(modules: list[str]) -> set[str]:
    return {m for m in modules if m.split(".", 1)[0] in BANNED}


def test_importing_the_core_loads_no_banned_module() -> None:
    baseline = _banned(_run(_BASELINE)["modules"])
    loaded = _run(_IMPORT_CORE, str(ROOT / "zaqarkit"))
    assert _banned(loaded["modules"]) - baseline == set()
    # The walk really imported the whole core, not just the package.
    assert {"zaqarkit.core.api", "zaqarkit.core.parse", "zaqarkit.core.paginate"} <= set(
        loaded["core"]
    )
    assert set(loaded["core"]) <= set(loaded["modules"])


def test_the_import_check_detects_a_banned_import(tmp_path: Path) -> None:
    package = tmp_path / "zaqarkit"
    shutil.copytree(ROOT / "zaqarkit" / "core", package / "core")
    shutil.copy(ROOT / "zaqarkit" / "errors.py", package / "errors.py")
    wire = package / "core" / "wire.py"
    wire.write_text(wire.read_text() + "import json as _j\n")
    # sanity for the harness itself: json is not banned, so still clean
    assert (
        _banned(_run(_IMPORT_CORE, str(package))["modules"]) - _banned(_run(_BASELINE)["modules"])
        == set()
    )
    wire.write_text(wire.read_text() + "import selectors\n")
    loaded = _run(_IMPORT_CORE, str(package))
    assert "selectors" in _banned(loaded["modules"]) - _banned(_run(_BASELINE)["modules"])


def _checker(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_checker_passes_on_the_real_core() -> None:
    proc = _checker()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def _copy_core(tmp_path: Path) -> Path:
    target = tmp_path / "zaqarkit"
    shutil.copytree(ROOT / "zaqarkit" / "core", target / "core")
    shutil.copy(ROOT / "zaqarkit" / "errors.py", target / "errors.py")
    return target


def test_checker_fails_when_httpx_is_injected_into_a_core_module(tmp_path: Path) -> None:
    target = _copy_core(tmp_path)
    assert _checker(target / "core", target / "errors.py").returncode == 0
    parse = target / "core" / "parse.py"
    lines = parse.read_text().splitlines(keepends=True)
    lines.insert(10, "import httpx\n")
    parse.write_text("".join(lines))

    proc = _checker(target / "core", target / "errors.py")

    assert proc.returncode == 1
    assert proc.stdout == f"{parse}:11:1: imports banned module 'httpx'\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import time\n", "imports banned module 'time'"),
        ("import asyncio.events as ev\n", "imports banned module 'asyncio.events'"),
        ("import socket, json\n", "imports banned module 'socket'"),
        ("from threading import Lock\n", "imports from banned module 'threading'"),
        ("from ssl import create_default_context\n", "imports from banned module 'ssl'"),
        ("from trio import lowlevel\n", "imports from banned module 'trio'"),
        ("from websockets.sync import client\n", "imports from banned module 'websockets.sync'"),
        ("import anyio\n", "imports banned module 'anyio'"),
        ("import sniffio\n", "imports banned module 'sniffio'"),
        ("import select\n", "imports banned module 'select'"),
        ("import selectors\n", "imports banned module 'selectors'"),
        ("x = __import__('httpx')\n", "dynamically imports banned module 'httpx'"),
        (
            "import importlib\nx = importlib.import_module('ssl')\n",
            "dynamically imports banned module 'ssl'",
        ),
        (
            "import datetime\nx = datetime.datetime.now()\n",
            "reads a clock or sleeps: 'datetime.datetime.now'",
        ),
        (
            "import datetime as _dt\nx = _dt.datetime.utcnow()\n",
            "reads a clock or sleeps: '_dt.datetime.utcnow'",
        ),
        (
            "from datetime import datetime as D\nx = D.now\n",
            "reads a clock or sleeps: 'D.now'",
        ),
        ("from datetime import date\nx = date.today()\n", "reads a clock or sleeps: 'date.today'"),
        ("x = time.time()\n", "reads a clock or sleeps: 'time.time'"),
        ("x = datetime.now()\n", "reads a clock or sleeps: 'datetime.now'"),
    ],
)
def test_checker_reports_each_kind_of_impurity(tmp_path: Path, source: str, message: str) -> None:
    module = tmp_path / "mod.py"
    module.write_text(source)
    proc = _checker(module)
    assert proc.returncode == 1
    assert f"{module}:" in proc.stdout
    assert message in proc.stdout
    assert "core purity: " in proc.stderr


@pytest.mark.parametrize(
    "source",
    [
        "import datetime as _dt\nx = _dt.datetime.strptime('2030', '%Y')\n",
        "from datetime import timezone\nx = timezone.utc\n",
        "import json, re, uuid\n",
        "from . import sibling\n",
        "from zaqarkit.core import wire\n",
        "x = __import__(name)\n",
        "x = (lambda: 1)().real\n",
    ],
)
def test_checker_accepts_pure_code(tmp_path: Path, source: str) -> None:
    module = tmp_path / "mod.py"
    module.write_text(source)
    proc = _checker(module)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_checker_reports_unparsable_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    missing = tmp_path / "missing.py"
    proc = _checker(broken, missing)
    assert proc.returncode == 1
    assert f"{broken}:1:" in proc.stdout
    assert "cannot parse" in proc.stdout
    assert f"{missing}:0:0: no such file" in proc.stdout
