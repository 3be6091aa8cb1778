"""``zaqarkit claim create|query|renew|release`` (as ``openstack messaging claim ...``)."""

from __future__ import annotations

import click

from zaqarkit.cli._common import client
from zaqarkit.cli._output import Columns, Output, output_options

__all__ = ["CLAIMED_COLUMNS", "claim"]

#: Claimed messages, in openstack's columns.
CLAIMED_COLUMNS = Columns(
    {"Message ID": "id", "Body": "body", "TTL": "ttl", "Age": "age", "Claim ID": "claim_id"}
)


@click.group()
def claim() -> None:
    """Claims: take messages for a while, renew, release."""


@claim.command()
@click.argument("queue_name")
@click.option("--ttl", type=int, help="Seconds the claim lasts (server default 60).")
@click.option("--grace", type=int, help="Seconds added to the messages' lifetime.")
@click.option("--limit", type=int, help="Claim at most this many messages (default 10).")
@output_options
def create(
    out: Output, queue_name: str, ttl: int | None, grace: int | None, limit: int | None
) -> None:
    """Claim messages; their rows carry the claim id."""
    with client() as c:
        taken = c.queue(queue_name, auto_create=False).claim(ttl=ttl, grace=grace, limit=limit)
        out.listing(CLAIMED_COLUMNS.names, CLAIMED_COLUMNS.rows(taken))


@claim.command()
@click.argument("queue_name")
@click.argument("claim_id")
@output_options
def query(out: Output, queue_name: str, claim_id: str) -> None:
    """Show a claim's messages."""
    with client() as c:
        found = c.queue(queue_name, auto_create=False).claim(id=claim_id)
        out.listing(CLAIMED_COLUMNS.names, CLAIMED_COLUMNS.rows(found))


@claim.command()
@click.argument("queue_name")
@click.argument("claim_id")
@click.option("--ttl", type=int, help="New claim TTL (default: the current one).")
@click.option("--grace", type=int, help="New grace (default: the current one).")
@output_options
def renew(out: Output, queue_name: str, claim_id: str, ttl: int | None, grace: int | None) -> None:
    """Renew a claim, then show its messages."""
    with client() as c:
        held = c.queue(queue_name, auto_create=False).claim(id=claim_id)
        held.update(ttl=ttl, grace=grace)
        held.reload()
        out.listing(CLAIMED_COLUMNS.names, CLAIMED_COLUMNS.rows(held))


@claim.command()
@click.argument("queue_name")
@click.argument("claim_id")
def release(queue_name: str, claim_id: str) -> None:
    """Release a claim: its messages become available again."""
    with client() as c:
        c.queue(queue_name, auto_create=False).claim(id=claim_id).delete()
