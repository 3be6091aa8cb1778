"""python-zaqarclient's ``Flavor`` (admin)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate, update_mirrored

if TYPE_CHECKING:
    from zaqarkit.compat.zaqarclient.queues.v2.client import Client


class Flavor:
    """A flavor, created when constructed (``auto_create=True``), as in
    python-zaqarclient.

    Example::

        cli.pool("fast", weight=10, uri="redis://127.0.0.1:6379")
        flavor = cli.flavor("gold", pool_list=["fast"])
        print(flavor.get()["pool_list"])
    """

    def __init__(
        self,
        client: Client,
        name: str,
        pool_list: Iterable[str] | None = None,
        auto_create: bool = True,
        **kwargs: Any,
    ) -> None:
        self.client = client
        self.name = name
        pool = kwargs.get("pool")
        if pool is not None:
            # python-zaqarclient's documented (but long ignored) pool group.
            warnings.warn(
                "Flavor(pool=...) names a pool group, which Zaqar v2 removed; "
                "use pool_list=[...] instead",
                DeprecationWarning,
                stacklevel=3,
            )
            pool_list = [pool, *(pool_list or ())]
        self.pool_list = list(pool_list) if pool_list is not None else None
        self.capabilities: Any = kwargs.get("capabilities", {})
        self.zaqarkit: zaqarkit.Flavor = client.zaqarkit.flavor(
            name, self.pool_list, auto_create=False
        )
        """The zaqarkit flavor this adapter sends through."""
        if auto_create:
            self.ensure_exists()

    def __repr__(self) -> str:
        return f"<Flavor {self.name!r} pool_list={self.pool_list!r}>"

    @translate
    def ensure_exists(self) -> None:
        """Create (or replace) the flavor with this object's pool list."""
        if not self.pool_list:
            raise zaqarkit.ValidationError("pool_list", "a flavor needs at least one pool")
        self.zaqarkit = self.client.zaqarkit.flavor(self.name, self.pool_list)
        self.zaqarkit.ensure_exists()

    @translate
    def update(self, flavor_data: Mapping[str, Any]) -> None:
        """Change the ``pool_list``."""
        update_mirrored(self, self.zaqarkit, flavor_data)

    @translate
    def delete(self) -> None:
        self.zaqarkit.delete()

    @translate
    def get(self) -> dict[str, Any]:
        """The server's flavor document: ``name``, ``pool_list``,
        ``capabilities``, ``href``."""
        return _document(self.zaqarkit.get())


def _document(flavor: zaqarkit.Flavor) -> dict[str, Any]:
    return {
        "name": flavor.name,
        "pool_list": list(flavor.pool_list),
        "capabilities": list(flavor.capabilities),
        "href": f"/v2/flavors/{flavor.name}",
    }


def create_object(parent: Client) -> Any:
    """python-zaqarclient's factory: a function from a listed flavor dict to a Flavor."""
    return lambda kwargs: Flavor(parent, kwargs.pop("name"), auto_create=False, **kwargs)
