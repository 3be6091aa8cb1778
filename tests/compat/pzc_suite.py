"""Run python-zaqarclient 4.7.0's own functional v2 suite against a server.

Nothing of python-zaqarclient lives in this repository: :func:`prepare`
downloads its released source distribution with pip (cached under
``~/.cache/zaqarkit/pzc``), unpacks it into a temporary directory and applies
the recorded patch ``pzc-4.7.0-stale-data.patch`` (stale test data only).
:func:`run` then runs ``tests/functional/queues/v2`` in a subprocess:

- ``target="compat"``: ``zaqarclient`` is resolved to
  :mod:`zaqarkit.compat.zaqarclient` (every compat module is registered in
  ``sys.modules`` under python-zaqarclient's name before the tests import
  anything; only ``zaqarclient.tests``, pzc's shared test bodies, comes from
  the sdist), and the run fails if any other ``zaqarclient`` module was loaded
  from python-zaqarclient's code;
- ``target="pzc"``: python-zaqarclient itself (installed as a test dependency).

Run by hand against a running server::

    python -m tests.compat.pzc_suite http://127.0.0.1:8888 compat
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VERSION = "4.7.0"
HERE = Path(__file__).resolve().parent
PATCH = HERE / f"pzc-{VERSION}-stale-data.patch"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zaqarkit" / "pzc"
SUITE = "tests/functional/queues/v2"


def sdist() -> Path:
    """The released sdist, downloaded once into the cache."""
    name = f"python_zaqarclient-{VERSION}.tar.gz"
    path = CACHE / name
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                f"python-zaqarclient=={VERSION}",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                str(CACHE),
                "--quiet",
            ],
            check=True,
        )
    return path


def prepare(workdir: Path) -> Path:
    """Unpack the sdist into ``workdir`` and apply the stale-data patch; returns
    the source tree."""
    with tarfile.open(sdist()) as archive:
        # The "data" filter (no absolute paths, links out, devices) where this
        # Python has it (3.11.4+).
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(workdir, **safe)
    tree = workdir / f"python_zaqarclient-{VERSION}"
    subprocess.run(
        ["git", "apply", "--verbose", str(PATCH)], cwd=tree, check=True, capture_output=True
    )
    (tree / "pytest.ini").write_text("[pytest]\n")
    return tree


def run(
    url: str,
    target: str,
    tree: Path,
    env: dict[str, str] | None = None,
    select: Sequence[str] = (SUITE,),
) -> dict[str, Any]:
    """Run the suite in a subprocess; returns ``{"passed": [...], "failed":
    {test: reason}, "skipped": [...], "foreign": [...]}``.

    ``select`` is what pytest collects, relative to the tree (the whole v2
    suite by default; a module, or the suite with ``--ignore=...``)."""
    out = tree / f"result-{target}.json"
    environ = {
        **os.environ,
        "ZAQARCLIENT_TEST_FUNCTIONAL": "1",
        "ZAQAR_ENDPOINT": url,
        **(env or {}),
    }
    subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", target, str(tree), str(out), *select],
        cwd=tree,
        env=environ,
        check=False,
        timeout=900,
    )
    return dict(json.loads(out.read_text()))


# -- the child process ---------------------------------------------------------------


def _alias_compat(tree: Path) -> None:
    import importlib
    import importlib.util
    import pkgutil

    import zaqarkit.compat.zaqarclient as compat

    names = [compat.__name__] + [
        info.name for info in pkgutil.walk_packages(compat.__path__, compat.__name__ + ".")
    ]
    for name in names:
        sys.modules[name.removeprefix("zaqarkit.compat.")] = importlib.import_module(name)
    # python-zaqarclient's shared test bodies live inside its package.
    spec = importlib.util.spec_from_file_location(
        "zaqarclient.tests",
        tree / "zaqarclient" / "tests" / "__init__.py",
        submodule_search_locations=[str(tree / "zaqarclient" / "tests")],
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["zaqarclient.tests"] = module
    spec.loader.exec_module(module)


def _child(target: str, tree: Path, out: Path, select: Sequence[str]) -> int:
    import pytest

    if target == "compat":
        _alias_compat(tree)
    result: dict[str, Any] = {"passed": [], "failed": {}, "skipped": []}

    class Collect:
        def pytest_runtest_logreport(self, report: Any) -> None:
            name = report.nodeid.split("::", 1)[-1]
            if report.failed:
                result["failed"].setdefault(name, str(report.longrepr).splitlines()[-1])
            elif report.when == "call" and report.passed:
                result["passed"].append(name)
            elif report.skipped:
                result["skipped"].append(name)

    code = pytest.main(
        [
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tree),
            "-c",
            str(tree / "pytest.ini"),
            *(select or [SUITE]),
        ],
        plugins=[Collect()],
    )
    compat_root = str(Path(__file__).resolve().parents[2] / "zaqarkit" / "compat")
    result["foreign"] = sorted(
        name
        for name, module in list(sys.modules.items())
        if (name == "zaqarclient" or name.startswith("zaqarclient."))
        and not name.startswith("zaqarclient.tests")
        and target == "compat"
        and not str(getattr(module, "__file__", "") or "").startswith(compat_root)
    )
    out.write_text(json.dumps(result, indent=1))
    return int(code)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(argv[1], Path(argv[2]), Path(argv[3]), argv[4:])
    url, target = argv[0], argv[1]
    workdir = Path(tempfile.mkdtemp(prefix="pzc-suite-"))
    try:
        result = run(url, target, prepare(workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=1))
    print(f"{target}: {len(result['passed'])} passed, {len(result['failed'])} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
