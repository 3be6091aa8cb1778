"""Output as the OpenStack client prints it: ``-f table|json|yaml|value`` and ``-c COLUMN``.

A "show" result is one mapping (a table of Field/Value rows); a "list"
result is a sequence of rows with the same columns. The table is the default
on a terminal, JSON otherwise (a pipe or a file), so scripts get something
they can parse.
"""

from __future__ import annotations

import functools
import json
import operator
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

__all__ = ["Columns", "Output", "output_options", "render_value", "to_jsonable"]

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "yaml", "value")


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for a value (tuples become lists, other objects str).

    >>> to_jsonable({"a": (1, 2), "b": None})
    {'a': [1, 2], 'b': None}
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return str(value)


def render_value(value: Any) -> str:
    """A cell: strings as they are, everything else as compact JSON.

    >>> render_value({"a": 1}), render_value("x"), render_value(None)
    ('{"a": 1}', 'x', '')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), sort_keys=True)


class Columns:
    """A result's columns in order, each read from a record by attribute name
    or by a function: one place names them for both shows and listings.

    >>> from types import SimpleNamespace
    >>> columns = Columns({"Name": "name", "Tags": lambda r: sorted(r.tags)})
    >>> columns.names, columns.row(SimpleNamespace(name="q", tags={"b", "a"}))
    (['Name', 'Tags'], {'Name': 'q', 'Tags': ['a', 'b']})
    """

    def __init__(self, readers: Mapping[str, str | Callable[[Any], Any]]) -> None:
        self.names = list(readers)
        self._readers = [
            (name, operator.attrgetter(read) if isinstance(read, str) else read)
            for name, read in readers.items()
        ]

    def row(self, record: Any) -> dict[str, Any]:
        return {name: read(record) for name, read in self._readers}

    def rows(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        return [self.row(record) for record in records]


class Output:
    """Where a command's result goes, in the format the user chose.

    Example::

        Output("json", ()).show({"name": "orders", "count": 3})
    """

    def __init__(self, fmt: str | None, columns: Sequence[str]) -> None:
        if fmt is None:
            fmt = "table" if sys.stdout.isatty() else "json"
        self.format = fmt
        self.columns = tuple(columns)

    def _select(self, available: Sequence[str]) -> list[str]:
        if not self.columns:
            return list(available)
        unknown = [c for c in self.columns if c not in available]
        if unknown:
            raise click.UsageError(
                f"-c {unknown[0]}: no such column (choose from {', '.join(available)})"
            )
        return list(self.columns)

    def show(self, record: Mapping[str, Any]) -> None:
        """Print one record."""
        names = self._select(list(record))
        data = {name: to_jsonable(record[name]) for name in names}
        if self.format == "json":
            click.echo(json.dumps(data, indent=2, sort_keys=False))
        elif self.format == "yaml":
            click.echo(_yaml(data), nl=False)
        elif self.format == "value":
            for name in names:
                click.echo(render_value(data[name]))
        else:
            self._table(["Field", "Value"], [[name, render_value(data[name])] for name in names])

    def listing(self, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        """Print rows; ``columns`` name them in order (also when there are none)."""
        names = self._select(columns)
        data = [{name: to_jsonable(row.get(name)) for name in names} for row in rows]
        if self.format == "json":
            click.echo(json.dumps(data, indent=2))
        elif self.format == "yaml":
            click.echo(_yaml(data), nl=False)
        elif self.format == "value":
            for row in data:
                click.echo(" ".join(render_value(row[name]) for name in names))
        else:
            self._table(names, [[render_value(row[name]) for name in names] for row in data])

    def _table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from rich import box
        from rich.console import Console
        from rich.table import Table

        table = Table(box=box.ASCII, show_lines=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        # Markup off: message bodies may hold [brackets].
        # Off a terminal nothing is wrapped: rows stay one line each for grep.
        width = None if sys.stdout.isatty() else 100_000
        Console(file=sys.stdout, width=width, highlight=False, markup=False, soft_wrap=False).print(
            table
        )


def _yaml(data: Any) -> str:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise click.UsageError("-f yaml needs PyYAML: pip install 'zaqarkit[cli]'") from None
    text: str = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    return text


def output_options(f: F) -> F:
    """Add ``-f/--format`` and ``-c/--column`` (repeatable); the command
    receives ``out: Output``.

    Example::

        @click.command()
        @output_options
        def show(out: Output) -> None:
            out.show({"name": "orders"})
    """

    @click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format (table on a terminal, json otherwise).",
    )
    @click.option(
        "-c",
        "--column",
        "columns",
        multiple=True,
        metavar="COLUMN",
        help="Show only this column (repeatable).",
    )
    @functools.wraps(f)
    def wrapper(*args: Any, fmt: str | None, columns: tuple[str, ...], **kwargs: Any) -> Any:
        return f(*args, out=Output(fmt, columns), **kwargs)

    return wrapper  # type: ignore[return-value]
