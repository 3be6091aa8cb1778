"""``zaqarkit ping``, ``health`` and ``homedoc``: the server itself."""

from __future__ import annotations

import click

from zaqarkit.cli._common import client
from zaqarkit.cli._output import Output, output_options

__all__ = ["health", "homedoc", "ping"]


@click.command()
@output_options
def ping(out: Output) -> None:
    """Check that the server and its storage answer (exit 1 when they do not).

    openstack messaging ping
    """
    with client() as c:
        alive = c.ping()
        out.show({"pingable": alive})
    if not alive:
        raise SystemExit(1)


@click.command()
@output_options
def health(out: Output) -> None:
    """Detailed health (admin: --roles admin on a no-auth server).

    openstack messaging health
    """
    with client() as c:
        out.show(dict(c.health().data))


@click.command()
@output_options
def homedoc(out: Output) -> None:
    """The JSON-Home document: the server's resources by relation.

    openstack messaging homedoc
    """
    with client() as c:
        resources = c.homedoc().resources
    out.listing(
        ["relation", "href"],
        [
            {"relation": name, "href": value.get("href") or value.get("href-template")}
            for name, value in resources.items()
        ],
    )
