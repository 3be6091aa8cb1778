"""Every entry point of the project: `nox -s tests`, `lint`, `typing`, `docs`, `demo`,
`smoke`, `conformance`, `generate`.

Sessions run on the interpreter nox itself runs on (any of Python 3.11, 3.12, 3.13),
except `smoke`, which runs on each of the other supported versions (see `OTHER_PYTHONS`).
Real Zaqar, Redis and friends are provisioned by `zaqarkit.testing` into their own
cached virtualenvs under ~/.cache/zaqarkit, never into these sessions.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typing", "docs", "tests"]
nox.options.reuse_existing_virtualenvs = True

# One list: pyproject.toml's [dependency-groups] test.
TEST_DEPS = nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), "test")
LINT_DEPS = ["ruff>=0.6"]
DOCS_DEPS = [
    "mkdocs>=1.6,<2",
    "mkdocs-material>=9.5",
    "mkdocstrings[python]>=0.26",
    "mkdocs-click>=0.9",
]


#: The supported Pythons besides the default one CI runs the whole suite on.
OTHER_PYTHONS = ["3.12", "3.13"]
#: The real-server slice `smoke` runs: HTTP and WebSocket, sync, asyncio and trio, the
#: consumer, and the harness (Zaqar 23 provisioned on this Python, the legacy Zaqar
#: on one it runs on). The whole suite runs these and the rest on the default Python.
SMOKE_TESTS = [
    "tests/unit",
    "tests/integration/test_harness.py",
    "tests/integration/_async/test_client.py",
    "tests/integration/_async/test_consumer.py",
    "tests/integration/_sync/test_websocket.py",
]


def _find_pyenv_pythons() -> None:
    """nox looks for `pythonX.Y` on PATH. Where one of OTHER_PYTHONS is not there (or only
    as a pyenv shim, which fails unless `pyenv global` names that version) but pyenv has it
    installed ($PYENV_ROOT or ~/.pyenv), link it into .nox/pythons and put that folder
    first on this nox process's PATH: no shims, no `pyenv global`, nothing changed
    outside this checkout."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    links = Path(__file__).parent / ".nox" / "pythons"
    for version in OTHER_PYTHONS:
        found = shutil.which(f"python{version}")
        if found is not None and Path(found).parent != pyenv / "shims":
            continue
        installed = sorted((pyenv / "versions").glob(f"{version}.*"), reverse=True)
        if installed:
            links.mkdir(parents=True, exist_ok=True)
            # Made aside and renamed into place: CI runs two nox processes at once.
            link = links / f"python{version}"
            fresh = links / f".python{version}.{os.getpid()}"
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(installed[0] / "bin" / f"python{version}")
            fresh.replace(link)
    if links.is_dir():
        os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])


_find_pyenv_pythons()


@nox.session(python=False, name="tests-here", default=False)
def tests_here(session: nox.Session) -> None:
    """Run the suite in the current environment (no virtualenv), for quick iterations."""
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, unit and integration against real servers, with branch coverage."""
    session.install("-e", ".[all,bench]", *TEST_DEPS)
    if any(not arg.startswith("-") for arg in session.posargs):
        # `nox -s tests -- tests/unit/test_x.py -x`: just those tests, no coverage gate.
        session.run("python", "-m", "pytest", *session.posargs)
        return
    session.run(
        "coverage",
        "run",
        "-m",
        "pytest",
        "--doctest-modules",
        "zaqarkit",
        "tests",
        *session.posargs,
    )
    # Subprocesses (zaqarkit bench's role processes, Locust) write their own data files.
    session.run("coverage", "combine", "-q")
    session.run("coverage", "report", "--skip-covered", "--show-missing", "--fail-under=80")


@nox.session(python=OTHER_PYTHONS, default=False)
def smoke(session: nox.Session) -> None:
    """The unit tests, a real-server slice of the integration tests and the demo on
    Python 3.12 and 3.13 (`nox -s smoke`, or `nox -s smoke-3.13` for one)."""
    session.install("-e", ".[all,bench]", *TEST_DEPS)
    session.run("python", "-m", "pytest", *SMOKE_TESTS, *session.posargs)
    session.run("python", "examples/demo.py")


@nox.session(default=False)
def conformance(session: nox.Session) -> None:
    """The Autobahn|Testsuite fuzzing server's client cases against each WebSocket backend
    and websockets' own client (scripts/conformance.py). The fuzzing server runs on Python
    2.7, found on PATH or under pyenv; the README's commands never need it."""
    session.install("-e", ".[websockets,trio]")
    session.run("python", "scripts/conformance.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format), core purity, sync generation and the version matrix."""
    session.install(*LINT_DEPS)
    tree = ("zaqarkit", "tests", "scripts", "benchmarks", "noxfile.py", "examples")
    session.run("ruff", "check", *tree)
    session.run("ruff", "format", "--check", *tree)
    session.run("python", "scripts/check_core_purity.py")
    session.run("python", "scripts/unasync.py", "--check")
    session.install("-e", ".")  # the version matrix reads the route tables
    session.run("python", "scripts/version_matrix.py", "--check")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[all,bench,plot]", "mypy>=1.10", "pytest>=8")
    session.run("mypy", "--strict", "-p", "zaqarkit")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (docs/, mkdocs.yml) with no warnings allowed.
    Its code blocks are run by the tests session (tests/integration/test_docs_examples.py)."""
    session.install("-e", ".[cli]", *DOCS_DEPS)  # the CLI reference imports the click group
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(session.create_tmp() + "/site"),
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate the sync facade (zaqarkit/_sync) from the async one."""
    session.run("python", "scripts/unasync.py", external=True)


@nox.session
def demo(session: nox.Session) -> None:
    """Start a real local Zaqar and run the demo against it, sync and async."""
    session.install("-e", ".[all]")
    session.run("python", "examples/demo.py", *session.posargs)


BENCH_DEPS = ["python-zaqarclient==4.7.0", "tqdm>=4.60"]


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """The benchmark suite (`benchmarks/README.md`) on the `zaqarkit.bench` engine: all tiers,
    into a new benchmarks/runs/<time>/ folder. Pass options after `--`, e.g.
    `nox -s bench -- --quick`, or `-- --update-results` to rewrite benchmarks/RESULTS.md."""
    session.install("-e", ".[all,bench,plot]", *BENCH_DEPS)
    session.run("python", "-m", "benchmarks", *session.posargs)
