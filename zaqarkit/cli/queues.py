"""``zaqarkit queue ...``: list, create, delete, stats, set/get metadata, purge,
signed url (as ``openstack messaging queue ...``), plus exists and count."""

from __future__ import annotations

from typing import Any

import click

from zaqarkit.cli._common import client, json_object, take
from zaqarkit.cli._output import Output, output_options
from zaqarkit.errors import ValidationError

__all__ = ["queue"]


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


@click.group()
def queue() -> None:
    """Queues: list, create, delete, stats, metadata, purge, signed URLs."""


@queue.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many queues.")
@click.option("--marker", help="Start after this queue name.")
@click.option("--detailed", is_flag=True, help="Include metadata and href.")
@output_options
def list_(out: Output, limit: int | None, marker: str | None, detailed: bool) -> None:
    """List queues."""
    with client() as c:
        extra: dict[str, Any] = {"marker": marker} if marker else {}
        listed = c.queues(limit=limit, detailed=detailed or None, **extra)
        queues = take(listed, limit)
        if detailed:
            # The listed record (metadata) that a Queue from queues() keeps.
            rows = [
                {
                    "Name": q.name,
                    "Metadata": q._listed.metadata if q._listed else None,
                    "Href": q.href,
                }
                for q in queues
            ]
            out.listing(["Name", "Metadata", "Href"], rows)
        else:
            out.listing(["Name"], [{"Name": q.name} for q in queues])


@queue.command()
@click.argument("queue_name")
@click.option("--metadata", help="Metadata for the new queue, as a JSON object.")
@output_options
def create(out: Output, queue_name: str, metadata: str | None) -> None:
    """Create a queue (no error if it exists)."""
    meta = json_object(metadata, "metadata")
    with client() as c:
        q = c.queue(queue_name, auto_create=False, metadata=meta)
        q.ensure_exists(force_create=True)
    out.show({"Name": q.name})


@queue.command()
@click.argument("queue_name")
def delete(queue_name: str) -> None:
    """Delete a queue and its messages."""
    with client() as c:
        c.queue(queue_name, auto_create=False).delete()


@queue.command()
@click.argument("queue_name")
@output_options
def stats(out: Output, queue_name: str) -> None:
    """Message counts: claimed, free, total; the oldest and newest message."""
    with client() as c:
        s = c.queue(queue_name, auto_create=False).stats()
    record: dict[str, Any] = {"claimed": s.claimed, "free": s.free, "total": s.total}
    for name, stat in (("oldest", s.oldest), ("newest", s.newest)):
        if stat is not None:
            record[name] = {"age": stat.age, "created": stat.created, "href": stat.href}
    out.show(record)


@queue.group("set")
def set_() -> None:
    """Set a queue property (metadata)."""


@set_.command("metadata")
@click.argument("queue_name")
@click.argument("queue_metadata")
def set_metadata(queue_name: str, queue_metadata: str) -> None:
    """Replace a queue's metadata with QUEUE_METADATA (a JSON object)."""
    meta = json_object(queue_metadata, "queue_metadata")
    if meta is None:  # pragma: no cover - click requires the argument
        raise ValidationError("queue_metadata", "is required")
    with client() as c:
        c.queue(queue_name, auto_create=False).metadata(meta)


@queue.group("get")
def get_() -> None:
    """Get a queue property (metadata)."""


@get_.command("metadata")
@click.argument("queue_name")
@output_options
def get_metadata(out: Output, queue_name: str) -> None:
    """Show a queue's metadata."""
    with client() as c:
        meta = c.queue(queue_name, auto_create=False).metadata()
    out.show(meta)


@queue.command()
@click.argument("queue_name")
@click.option(
    "--resource_types",
    "--resource-types",
    "resource_types",
    type=click.Choice(["messages", "subscriptions"]),
    multiple=True,
    help="What to purge (repeatable; default both).",
)
def purge(queue_name: str, resource_types: tuple[str, ...]) -> None:
    """Delete a queue's messages and/or subscriptions, keeping the queue."""
    with client() as c:
        c.queue(queue_name, auto_create=False).purge(list(resource_types) or None)


@queue.group("signed")
def signed() -> None:
    """Pre-signed URLs."""


@signed.command("url")
@click.argument("queue_name")
@click.option("--paths", help="Comma list of messages, subscriptions, claims (default messages).")
@click.option(
    "--ttl-seconds",
    "--ttl_seconds",
    "ttl_seconds",
    type=int,
    help="Lifetime in seconds (server default: one day).",
)
@click.option("--methods", help="Comma list of HTTP methods, e.g. GET,POST (default GET).")
@output_options
def signed_url(
    out: Output, queue_name: str, paths: str | None, ttl_seconds: int | None, methods: str | None
) -> None:
    """Create a pre-signed URL for a queue. Its JSON (-f json) is what
    ``zaqarkit --signed-url`` takes."""
    with client() as c:
        s = c.queue(queue_name, auto_create=False).signed_url(
            paths=_csv(paths), ttl_seconds=ttl_seconds, methods=_csv(methods)
        )
    out.show(
        {
            "paths": list(s.paths),
            "methods": list(s.methods),
            "expires": s.expires,
            "signature": s.signature,
            "project": s.project,
        }
    )


@queue.command()
@click.argument("queue_name")
@output_options
def exists(out: Output, queue_name: str) -> None:
    """Whether a queue exists (exit 1 when it does not)."""
    with client() as c:
        found = c.queue(queue_name, auto_create=False).exists()
    out.show({"exists": found})
    if not found:
        raise SystemExit(1)


@queue.command()
@output_options
def count(out: Output) -> None:
    """How many queues the project has."""
    with client() as c:
        out.show({"count": c.queue_count()})
