"""Small helpers the verb modules share: a client for the running command,
JSON arguments, and records as plain dicts for :mod:`zaqarkit.cli._output`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from zaqarkit.cli._options import connection
from zaqarkit.errors import ValidationError

if TYPE_CHECKING:
    from zaqarkit import Client


def client(*, websocket: bool | None = None, **overrides: Any) -> Client:
    """A Client for the running command's connection options (``overrides``
    are Client arguments that win over them).

    Example::

        with client() as c:
            c.ping()
    """
    return connection().client(websocket=websocket, **overrides)


def json_option(value: str | None, field: str) -> Any:
    """Parse a JSON argument (``--metadata '{"a": 1}'``); a ValidationError
    naming ``field`` when it is not JSON.

    >>> json_option('{"a": 1}', "metadata")
    {'a': 1}
    """
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ValidationError(field, f"is not valid JSON: {exc}") from None


def json_object(value: str | None, field: str) -> dict[str, Any] | None:
    """Like :func:`json_option`, but the JSON must be an object.

    >>> json_object(None, "options") is None
    True
    """
    data = json_option(value, field)
    if data is not None and not isinstance(data, dict):
        raise ValidationError(field, f"must be a JSON object, got {type(data).__name__}")
    return data


def echo_json_line(data: Any) -> None:
    """One compact JSON document per line (streams: tail, consume, pop)."""
    click.echo(json.dumps(data, separators=(",", ":"), sort_keys=True))
