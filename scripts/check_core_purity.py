#!/usr/bin/env python3
"""Check that the sans-I/O core does no I/O: an AST scan, no imports executed.

Scans every module under ``zaqarkit/core/`` and ``zaqarkit/errors.py`` (or the
files and directories given on the command line) for:

* ``import X`` / ``from X import ...`` of a banned module (I/O libraries,
  event loops, threads, ``time``), including dynamic ``__import__("X")`` and
  ``importlib.import_module("X")`` with a literal name;
* clock reads: ``datetime.now``, ``datetime.utcnow``, ``date.today``,
  ``time.time`` and friends, also through aliases (``import datetime as _dt``,
  ``from datetime import datetime``).

Prints ``file:line:col: message`` for each finding and exits 1 if there is
any, 0 otherwise. Run by ``nox -s lint``; ``tests/unit/test_core_purity.py``
proves that it can fail.

Usage: python scripts/check_core_purity.py [PATH ...]
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

BANNED_MODULES = frozenset(
    {
        "httpx",
        "websockets",
        "anyio",
        "trio",
        "sniffio",
        "asyncio",
        "socket",
        "select",
        "selectors",
        "ssl",
        "threading",
        "time",
    }
)

#: Fully-resolved names that read a clock or sleep.
BANNED_NAMES = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.sleep",
        "time.localtime",
        "time.gmtime",
        "time.ctime",
        "time.strftime",
    }
)

#: Unresolved spellings that are suspicious whatever they are bound to.
BANNED_TAILS = frozenset(
    {
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("date", "today"),
        ("time", "time"),
        ("time", "sleep"),
        ("time", "monotonic"),
    }
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = (ROOT / "zaqarkit" / "core", ROOT / "zaqarkit" / "errors.py")


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None when the root is not a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []
        #: Local name -> fully-qualified name it is bound to by an import.
        self.aliases: dict[str, str] = {}

    def _report(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 0)
        col = getattr(node, "col_offset", 0) + 1
        self.problems.append(f"{self.path}:{line}:{col}: {message}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _top(alias.name) in BANNED_MODULES:
                self._report(node, f"imports banned module {alias.name!r}")
            local = alias.asname or _top(alias.name)
            self.aliases[local] = alias.name if alias.asname else _top(alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            if _top(node.module) in BANNED_MODULES:
                self._report(node, f"imports from banned module {node.module!r}")
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in BANNED_NAMES:
                    self._report(node, f"imports clock function {full!r}")
                self.aliases[alias.asname or alias.name] = full
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        dynamic = name in (["__import__"], ["importlib", "import_module"])
        first = node.args[0] if dynamic and node.args else None
        if (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and _top(first.value) in BANNED_MODULES
        ):
            self._report(node, f"dynamically imports banned module {first.value!r}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = _dotted(node)
        if parts is not None:
            root = self.aliases.get(parts[0], parts[0])
            resolved = ".".join([root, *parts[1:]])
            if resolved in BANNED_NAMES or tuple(parts[-2:]) in BANNED_TAILS:
                self._report(node, f"reads a clock or sleeps: {'.'.join(parts)!r}")
                return  # one report per expression, not one per prefix
        self.generic_visit(node)


def check_source(source: str, path: str) -> list[str]:
    """Problems found in one module's source, as ``file:line:col: message``."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return [f"{path}:{exc.lineno or 0}:{exc.offset or 0}: cannot parse: {exc.msg}"]
    checker = _Checker(path)
    checker.visit(tree)
    return checker.problems


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.py"))
        else:
            yield path


def check_paths(paths: Iterable[Path]) -> list[str]:
    problems: list[str] = []
    for path in _files(paths):
        if not path.exists():
            problems.append(f"{path}:0:0: no such file")
            continue
        problems.extend(check_source(path.read_text(encoding="utf-8"), str(path)))
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(arg) for arg in args] if args else list(DEFAULT_PATHS)
    problems = check_paths(paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"core purity: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
