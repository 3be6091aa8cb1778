"""``zaqarkit pool ...`` and ``zaqarkit flavor ...`` (admin; as ``openstack
messaging pool|flavor create|show|update|delete|list``)."""

from __future__ import annotations

import click

from zaqarkit.cli._common import client, json_object, json_option, take
from zaqarkit.cli._output import Columns, Output, output_options
from zaqarkit.errors import ValidationError

__all__ = ["flavor", "pool"]

POOL_COLUMNS = Columns(
    {"Name": "name", "Weight": "weight", "URI": "uri", "Flavor": "flavor", "Options": "options"}
)
FLAVOR_COLUMNS = Columns(
    {
        "Name": "name",
        "Pool list": lambda f: list(f.pool_list),
        "Capabilities": lambda f: list(f.capabilities),
    }
)


def _pool_list(value: str | None) -> list[str] | None:
    """``--pool_list``: a JSON list (openstack's form) or a comma list.

    >>> _pool_list('["a", "b"]'), _pool_list("a,b")
    (['a', 'b'], ['a', 'b'])
    """
    if value is None:
        return None
    text = value.strip()
    if text.startswith("["):
        names = json_option(text, "pool_list")
        if not isinstance(names, list):
            raise ValidationError("pool_list", "must be a JSON list of pool names")
        return [str(name) for name in names]
    return [part.strip() for part in text.split(",") if part.strip()]


# -- pools ------------------------------------------------------------------------


@click.group()
def pool() -> None:
    """Storage pools (admin)."""


@pool.command()
@click.argument("pool_name")
@click.argument("pool_uri")
@click.argument("pool_weight", type=int)
@click.option(
    "--flavor",
    "--pool_group",
    "--pool-group",
    "flavor",
    help="Flavor (v2) or pool group (v1.1) of the pool.",
)
@click.option("--pool_options", "--pool-options", "options", help="Options, a JSON object.")
@output_options
def create(
    out: Output,
    pool_name: str,
    pool_uri: str,
    pool_weight: int,
    flavor: str | None,
    options: str | None,
) -> None:
    """Register a pool: a storage URI with a weight."""
    opts = json_object(options, "pool_options")
    with client() as c:
        created = c.pool(pool_name, pool_weight, pool_uri, flavor, options=opts)
        created.ensure_exists()
        out.show(POOL_COLUMNS.row(created.get()))


@pool.command("show")
@click.argument("pool_name")
@output_options
def pool_show(out: Output, pool_name: str) -> None:
    """Show a pool."""
    with client() as c:
        out.show(POOL_COLUMNS.row(c.pool(pool_name, auto_create=False).get()))


@pool.command("update")
@click.argument("pool_name")
@click.option("--pool_uri", "--pool-uri", "uri", help="New storage URI.")
@click.option("--pool_weight", "--pool-weight", "weight", type=int, help="New weight.")
@click.option("--flavor", "--pool_group", "--pool-group", "flavor", help="New flavor.")
@click.option("--pool_options", "--pool-options", "options", help="New options (JSON).")
@output_options
def pool_update(
    out: Output,
    pool_name: str,
    uri: str | None,
    weight: int | None,
    flavor: str | None,
    options: str | None,
) -> None:
    """Change a pool's URI, weight, flavor or options."""
    opts = json_object(options, "pool_options")
    with client() as c:
        found = c.pool(pool_name, auto_create=False)
        found.update(uri=uri, weight=weight, flavor=flavor, options=opts)
        out.show(POOL_COLUMNS.row(found.get()))


@pool.command("delete")
@click.argument("pool_name")
def pool_delete(pool_name: str) -> None:
    """Unregister a pool."""
    with client() as c:
        c.pool(pool_name, auto_create=False).delete()


@pool.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option("--detailed", is_flag=True, help="Include options.")
@output_options
def pool_list(out: Output, limit: int | None, detailed: bool) -> None:
    """List pools."""
    with client() as c:
        found = c.pools(limit=limit, detailed=detailed or None)
        rows = POOL_COLUMNS.rows(take(found, limit))
    out.listing(POOL_COLUMNS.names if detailed else POOL_COLUMNS.names[:4], rows)


# -- flavors ----------------------------------------------------------------------


@click.group()
def flavor() -> None:
    """Flavors: named sets of pools (admin to change)."""


@flavor.command("create")
@click.argument("flavor_name")
@click.option(
    "--pool_list",
    "--pool-list",
    "pool_list",
    help='Pools of the flavor: a JSON list (["pool1"]) or a comma list.',
)
@click.option("--pool_group", "--pool-group", "pool_group", help="The pool group (API v1.1).")
@output_options
def flavor_create(
    out: Output, flavor_name: str, pool_list: str | None, pool_group: str | None
) -> None:
    """Create a flavor."""
    pools = _pool_list(pool_list)
    if not pools and pool_group is None:
        raise ValidationError("pool_list", "is required to create a flavor")
    with client() as c:
        created = c.flavor(flavor_name, pools, pool=pool_group)
        created.ensure_exists()
        out.show(FLAVOR_COLUMNS.row(created.get()))


@flavor.command("show")
@click.argument("flavor_name")
@output_options
def flavor_show(out: Output, flavor_name: str) -> None:
    """Show a flavor."""
    with client() as c:
        out.show(FLAVOR_COLUMNS.row(c.flavor(flavor_name, auto_create=False).get()))


@flavor.command("update")
@click.argument("flavor_name")
@click.option(
    "--pool_list",
    "--pool-list",
    "pool_list",
    required=True,
    help="The new pools: a JSON list or a comma list.",
)
@output_options
def flavor_update(out: Output, flavor_name: str, pool_list: str) -> None:
    """Replace a flavor's pool list."""
    with client() as c:
        found = c.flavor(flavor_name, auto_create=False)
        found.update(pool_list=_pool_list(pool_list))
        out.show(FLAVOR_COLUMNS.row(found.get()))


@flavor.command("delete")
@click.argument("flavor_name")
def flavor_delete(flavor_name: str) -> None:
    """Delete a flavor."""
    with client() as c:
        c.flavor(flavor_name, auto_create=False).delete()


@flavor.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option("--detailed", is_flag=True, help="Include capabilities.")
@output_options
def flavor_list(out: Output, limit: int | None, detailed: bool) -> None:
    """List flavors."""
    with client() as c:
        found = c.flavors(limit=limit, detailed=detailed or None)
        rows = FLAVOR_COLUMNS.rows(take(found, limit))
    out.listing(FLAVOR_COLUMNS.names if detailed else FLAVOR_COLUMNS.names[:2], rows)
