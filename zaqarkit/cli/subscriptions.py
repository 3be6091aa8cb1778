"""``zaqarkit subscription create|update|delete|show|list`` (as ``openstack
messaging subscription ...``), plus ``confirm``."""

from __future__ import annotations

import click

from zaqarkit.cli._common import client, json_object, take
from zaqarkit.cli._output import Columns, Output, output_options

__all__ = ["subscription"]

COLUMNS = Columns(
    {
        "ID": "id",
        "Subscriber": "subscriber",
        "TTL": "ttl",
        "Options": lambda s: dict(s.options),
        "Age": "age",
        "Confirmed": "confirmed",
    }
)


@click.group()
def subscription() -> None:
    """Subscriptions: notify a webhook or mailto: address of new messages."""


@subscription.command()
@click.argument("queue_name")
@click.argument("subscriber")
@click.argument("ttl", type=int)
@click.option("--options", help="Subscription options, as a JSON object.")
@output_options
def create(out: Output, queue_name: str, subscriber: str, ttl: int, options: str | None) -> None:
    """Subscribe SUBSCRIBER (http(s):// or mailto:) to a queue for TTL seconds."""
    opts = json_object(options, "options")
    with client() as c:
        out.show(COLUMNS.row(c.subscription(queue_name, subscriber, ttl=ttl, options=opts)))


@subscription.command()
@click.argument("queue_name")
@click.argument("subscription_id")
@click.option("--subscriber", help="New subscriber.")
@click.option("--ttl", type=int, help="New TTL in seconds.")
@click.option("--options", help="New options, as a JSON object.")
@output_options
def update(
    out: Output,
    queue_name: str,
    subscription_id: str,
    subscriber: str | None,
    ttl: int | None,
    options: str | None,
) -> None:
    """Change a subscription's subscriber, TTL or options."""
    opts = json_object(options, "options")
    with client() as c:
        found = c.subscription(queue_name, id=subscription_id)
        found.update(subscriber=subscriber, ttl=ttl, options=opts)
        out.show(COLUMNS.row(found))


@subscription.command()
@click.argument("queue_name")
@click.argument("subscription_id")
def delete(queue_name: str, subscription_id: str) -> None:
    """Delete a subscription."""
    with client() as c:
        c.subscription(queue_name, id=subscription_id).delete()


@subscription.command()
@click.argument("queue_name")
@click.argument("subscription_id")
@output_options
def show(out: Output, queue_name: str, subscription_id: str) -> None:
    """Show a subscription."""
    with client() as c:
        out.show(COLUMNS.row(c.subscription(queue_name, id=subscription_id)))


@subscription.command("list")
@click.argument("queue_name")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@output_options
def list_(out: Output, queue_name: str, limit: int | None) -> None:
    """List a queue's subscriptions."""
    with client() as c:
        found = c.subscriptions(queue_name, limit=limit)
        rows = COLUMNS.rows(take(found, limit))
    out.listing(COLUMNS.names, rows)


@subscription.command()
@click.argument("queue_name")
@click.argument("subscription_id")
@click.option("--unconfirm", is_flag=True, help="Unconfirm instead.")
def confirm(queue_name: str, subscription_id: str, unconfirm: bool) -> None:
    """Confirm a subscription (what its confirmation link does)."""
    with client() as c:
        c.subscription(queue_name, id=subscription_id).confirm(not unconfirm)
