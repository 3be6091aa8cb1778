"""python-zaqarclient's ``Pool`` (admin)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate, update_mirrored

if TYPE_CHECKING:
    from zaqarkit.compat.zaqarclient.queues.v2.client import Client


class Pool:
    """A storage pool, created when constructed (``auto_create=True``), as in
    python-zaqarclient: so a flavor constructed next can name it.

    Example::

        pool = cli.pool("fast", weight=10, uri="redis://127.0.0.1:6379")
        print(pool.get()["weight"])
        pool.delete()
    """

    def __init__(
        self,
        client: Client,
        name: str,
        weight: int | None = None,
        uri: str | None = None,
        flavor: str | None = None,
        auto_create: bool = True,
        **kwargs: Any,
    ) -> None:
        self.client = client
        self.uri = uri
        self.name = name
        self.weight = weight
        self.flavor = flavor
        self.options: dict[str, Any] = dict(kwargs.get("options") or {})
        self.zaqarkit: zaqarkit.Pool = client.zaqarkit.pool(
            name, weight, uri, flavor, auto_create=False, options=self.options or None
        )
        """The zaqarkit pool this adapter sends through."""
        if auto_create:
            self.ensure_exists()

    def __repr__(self) -> str:
        return f"<Pool {self.name!r} weight={self.weight!r}>"

    @translate
    def ensure_exists(self) -> None:
        """Create (or replace) the pool with this object's uri, weight, flavor
        and options."""
        if self.uri is None or self.weight is None:
            raise zaqarkit.ValidationError("uri", "a pool needs a uri and a weight to be created")
        self.zaqarkit = self.client.zaqarkit.pool(
            self.name, self.weight, self.uri, self.flavor, options=self.options or None
        )
        self.zaqarkit.ensure_exists()

    @translate
    def update(self, pool_data: Mapping[str, Any]) -> None:
        """Change ``uri``, ``weight``, ``flavor`` and/or ``options``."""
        update_mirrored(self, self.zaqarkit, pool_data)

    @translate
    def delete(self) -> None:
        self.zaqarkit.delete()

    @translate
    def get(self) -> dict[str, Any]:
        """The server's pool document: ``name``, ``uri``, ``weight``,
        ``flavor``, ``options``, ``href``."""
        pool = self.zaqarkit.get()
        return _document(pool)


def _document(pool: zaqarkit.Pool) -> dict[str, Any]:
    return {
        "name": pool.name,
        "uri": pool.uri,
        "weight": pool.weight,
        "flavor": pool.flavor,
        "options": dict(pool.options or {}),
        "href": f"/v2/pools/{pool.name}",
    }


def create_object(parent: Client) -> Any:
    """python-zaqarclient's factory: a function from a listed pool dict to a Pool."""
    return lambda kwargs: Pool(parent, kwargs.pop("name"), auto_create=False, **kwargs)
