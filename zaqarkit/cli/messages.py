"""``zaqarkit message post|list`` (as ``openstack messaging message ...``), plus
get, delete and pop; ``post`` also reads JSON lines from a file or stdin."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from zaqarkit import Message
from zaqarkit.cli._common import client, json_option, take
from zaqarkit.cli._options import connection
from zaqarkit.cli._output import Columns, Output, output_options
from zaqarkit.core import models, validate
from zaqarkit.core.producer import packer_for
from zaqarkit.core.validate import DEFAULT_LIMITS
from zaqarkit.errors import ValidationError

__all__ = ["message", "read_json_lines"]

COLUMNS = Columns(
    {
        "ID": "id",
        "Body": "body",
        "TTL": "ttl",
        "Age": "age",
        "Claim ID": "claim_id",
        "Checksum": "checksum",
    }
)
#: Inputs at least this long get a progress bar (on a terminal).
PROGRESS_THRESHOLD = 200


def read_json_lines(
    stream: IO[str],
    *,
    bodies: bool = False,
    ttl: int | None = None,
    delay: int | None = None,
    websocket: bool = False,
) -> list[dict[str, Any]]:
    """Every message of a JSON lines input, validated before anything is sent.

    Each non-blank line is a message object (``{"body": ..., "ttl": ...}``),
    or with ``bodies`` the body itself; ``ttl``/``delay`` fill in what a line
    leaves out. A bad line raises a ValidationError naming it (``line 7``):
    malformed JSON, a bad field (``line 7: ttl``), or a message too large to
    post even alone (measured as the server measures it, over HTTP or
    ``websocket``).

    >>> import io
    >>> read_json_lines(io.StringIO('{"body": 1}\\n\\n{"body": 2, "ttl": 120}\\n'), ttl=60)
    [{'body': 1, 'ttl': 60}, {'body': 2, 'ttl': 120}]
    >>> read_json_lines(io.StringIO('{"body": 1}\\n{oops\\n'))
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: line 2: is not valid JSON: Expecting property name \
enclosed in double quotes (char 2)
    """
    messages: list[dict[str, Any]] = []
    packer = packer_for(DEFAULT_LIMITS, websocket=websocket)
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        field = f"line {number}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            reason = str(exc).split(": line ", 1)[0]
            column = getattr(exc, "colno", None)
            raise ValidationError(field, f"is not valid JSON: {reason} (char {column})") from None
        item: Any = {"body": data} if bodies else data
        if isinstance(item, dict):
            if ttl is not None:
                item.setdefault("ttl", ttl)
            if delay is not None:
                item.setdefault("delay", delay)
        message = _checked(item, field)
        # post_many checks sizes too, but only as a lazy input reaches each
        # message: checked here, nothing is sent when any line is too large.
        try:
            packer.cost(message, number)
        except ValidationError as exc:
            raise ValidationError(field, exc.rule) from None
        messages.append(message)
    if not messages:
        raise ValidationError("messages", "the input holds no message")
    return messages


def _checked(item: Any, where: str) -> dict[str, Any]:
    # The core's own message rules, one message at a time, so that the error
    # names the input line rather than an index into a batch.
    try:
        return validate.messages([item], DEFAULT_LIMITS)[0]
    except ValidationError as exc:
        field = exc.field.replace("messages[0]", "").lstrip(".")
        raise ValidationError(f"{where}: {field}" if field else where, exc.rule) from None


def _post_lines(q: Any, items: list[dict[str, Any]], api_version: str) -> list[str]:
    """``q.post_many(items)``, with a progress bar on stderr for large inputs
    on a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    # A list is checked whole by post_many before anything is sent. The bar
    # needs a lazy input, checked as it goes: only on v2, whose rules
    # read_json_lines already applied to every line (v1 and v1.1 add theirs).
    if len(items) < PROGRESS_THRESHOLD or not console.is_terminal or api_version != "2":
        ids: list[str] = q.post_many(items)
        return ids

    with Progress(
        TextColumn("posting"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("post", total=len(items))

        def advancing() -> Iterator[dict[str, Any]]:
            for item in items:
                yield item
                bar.advance(task)

        ids = q.post_many(advancing())
    return ids


@click.group()
def message() -> None:
    """Messages: post, list, get, delete, pop."""


@message.command()
@click.argument("queue_name")
@click.argument("messages", required=False)
@click.option(
    "--file",
    "-i",
    "source",
    type=click.File("r"),
    help="Read JSON lines from this file ('-' for stdin, the default without MESSAGES).",
)
@click.option("--bodies", is_flag=True, help="Each JSON line is a body, not a message object.")
@click.option("--ttl", type=int, help="TTL for messages that have none.")
@click.option("--delay", type=int, help="Delay for messages that have none.")
@click.option("--client-id", help="Client-ID to post with (a UUID).")
@output_options
def post(
    out: Output,
    queue_name: str,
    messages: str | None,
    source: IO[str] | None,
    bodies: bool,
    ttl: int | None,
    delay: int | None,
    client_id: str | None,
) -> None:
    """Post MESSAGES (a JSON list of {"body": ..., "ttl": ...}) or JSON lines
    from --file or stdin, batched under the server's limits; prints the ids.

    Nothing is sent when any line is malformed: the error names the line.
    """
    validate.name(queue_name)
    if messages is not None:
        if source is not None:
            raise click.UsageError("give MESSAGES or --file, not both")
        data = json_option(messages, "messages")
        listed = data if isinstance(data, list) else [data]
        for m in listed:
            if isinstance(m, dict):
                if ttl is not None:
                    m.setdefault("ttl", ttl)
                if delay is not None:
                    m.setdefault("delay", delay)
        items = [_checked(m, f"messages[{i}]") for i, m in enumerate(listed)]
    else:
        websocket = (connection().endpoint() or "").startswith(("ws://", "wss://"))
        items = read_json_lines(
            source or sys.stdin, bodies=bodies, ttl=ttl, delay=delay, websocket=websocket
        )
    overrides: dict[str, Any] = {"client_id": client_id} if client_id else {}
    with client(**overrides) as c:
        q = c.queue(queue_name)
        if messages is not None:
            ids = q.post(items)  # one request, as openstack's message post
        else:
            ids = _post_lines(q, items, connection().api_version)
    out.listing(["ID"], [{"ID": i} for i in ids])


@message.command("list")
@click.argument("queue_name")
@click.option("--message-ids", "--message_ids", "message_ids", help="Comma list of ids.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option("--echo", is_flag=True, help="Include messages this client posted.")
@click.option("--include-claimed", "--include_claimed", "include_claimed", is_flag=True)
@click.option("--include-delayed", "--include_delayed", "include_delayed", is_flag=True)
@click.option("--client-id", help="Client-ID to list as (a UUID).")
@output_options
def list_(
    out: Output,
    queue_name: str,
    message_ids: str | None,
    limit: int | None,
    echo: bool,
    include_claimed: bool,
    include_delayed: bool,
    client_id: str | None,
) -> None:
    """List messages (oldest first)."""
    ids = [part.strip() for part in (message_ids or "").split(",") if part.strip()]
    overrides: dict[str, Any] = {"client_id": client_id} if client_id else {}
    with client(**overrides) as c:
        found = c.queue(queue_name, auto_create=False).messages(
            *ids,
            echo=echo or None,
            include_claimed=include_claimed or None,
            include_delayed=include_delayed or None,
            limit=limit,
        )
        rows = COLUMNS.rows(take(found, limit))
    out.listing(COLUMNS.names, rows)


@message.command()
@click.argument("queue_name")
@click.argument("message_id")
@output_options
def get(out: Output, queue_name: str, message_id: str) -> None:
    """Show one message."""
    with client() as c:
        out.show(COLUMNS.row(c.queue(queue_name, auto_create=False).message(message_id)))


@message.command()
@click.argument("queue_name")
@click.argument("message_ids", nargs=-1, required=True)
@click.option("--claim-id", "--claim_id", "claim_id", help="The claim holding the message.")
def delete(queue_name: str, message_ids: tuple[str, ...], claim_id: str | None) -> None:
    """Delete messages by id (claimed ones need --claim-id)."""
    with client() as c:
        q = c.queue(queue_name, auto_create=False)
        if len(message_ids) == 1:
            record = models.Message(message_ids[0], None, 0, 0, claim_id=claim_id)
            Message(q, record).delete()
        else:
            q.delete_messages(*message_ids, claim_ids=[claim_id] if claim_id else None)


@message.command()
@click.argument("queue_name")
@click.option("--count", type=int, default=1, show_default=True, help="How many to pop.")
@output_options
def pop(out: Output, queue_name: str, count: int) -> None:
    """Claim and delete up to COUNT messages in one request, and show them."""
    with client() as c:
        popped = c.queue(queue_name, auto_create=False).pop(count)
    out.listing(COLUMNS.names, COLUMNS.rows(popped))
