"""python-zaqarclient's ``Subscription``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate, update_mirrored
from zaqarkit.core import models

if TYPE_CHECKING:
    from zaqarkit.compat.zaqarclient.queues.v2.client import Client


class Subscription:
    """A subscription: ``id``, ``queue_name``, ``subscriber``, ``ttl``,
    ``options``, ``age``, ``confirmed``.

    With ``auto_create`` (the default) it is created now when a
    ``subscriber`` and no ``id`` is given, then read back; with an ``id`` it is
    read. ``ttl`` defaults to python-zaqarclient's 60 seconds (zaqarkit's
    ``Client.subscription`` uses Zaqar's 3600).

    Example::

        sub = Subscription(cli, "orders", subscriber="http://example.test/hook", ttl=3600)
        sub.update({"ttl": 7200})
        sub.delete()
    """

    def __init__(
        self,
        client: Client,
        queue_name: str,
        subscriber: str | None = None,
        ttl: int = 60,
        id: str | None = None,
        auto_create: bool = True,
        **kwargs: Any,
    ) -> None:
        self.client = client
        self.id = id
        self.queue_name = queue_name
        self.subscriber = subscriber
        self.ttl = ttl
        self.options: dict[str, Any] = dict(kwargs.get("options") or {})
        self.age: int | None = kwargs.get("age")
        self.confirmed: bool | None = kwargs.get("confirmed")
        self._handle: zaqarkit.Subscription | None = None
        if auto_create:
            self.ensure_exists()

    @classmethod
    def from_zaqarkit(cls, client: Client, handle: zaqarkit.Subscription) -> Subscription:
        sub = cls(client, handle.queue_name, auto_create=False)
        sub._load(handle)
        return sub

    def _load(self, handle: zaqarkit.Subscription) -> None:
        self._handle = handle
        self.id = handle.id
        self.subscriber = handle.subscriber
        self.ttl = handle.ttl
        self.options = dict(handle.options)
        self.age = handle.age
        self.confirmed = handle.confirmed

    def _zaqarkit(self) -> zaqarkit.Subscription:
        if self._handle is None:
            if self.id is None:
                raise zaqarkit.ValidationError("id", "this subscription was never created")
            # A handle for a known id, without a round trip (python-zaqarclient's
            # auto_create=False); its fields are whatever this object holds.
            record = models.Subscription(
                self.id,
                self.subscriber or "",
                self.ttl,
                self.age,
                self.queue_name,
                self.options,
                self.confirmed,
            )
            self._handle = zaqarkit.Subscription(
                self.client.zaqarkit._engine, self.queue_name, record
            )
        return self._handle

    def __repr__(self) -> str:
        return f"<Subscription id:{self.id} subscriber:{self.subscriber}>"

    @translate
    def ensure_exists(self) -> None:
        """Create the subscription (when it has a subscriber and no id), then
        read it back (when it has an id)."""
        zk = self.client.zaqarkit
        if not self.id and self.subscriber:
            self._load(zk.subscription(self.queue_name, self.subscriber, self.ttl, self.options))
        elif self.id:
            self._load(zk.subscription(self.queue_name, id=self.id))

    @translate
    def update(self, subscription_data: Mapping[str, Any]) -> None:
        """Change ``subscriber``, ``ttl`` and/or ``options``."""
        update_mirrored(self, self._zaqarkit(), subscription_data)

    @translate
    def delete(self) -> None:
        self._zaqarkit().delete()


def create_object(parent: Client) -> Any:
    """python-zaqarclient's factory: a function from a listed subscription dict."""
    return lambda kwargs: Subscription(
        parent,
        kwargs.pop("source"),
        subscriber=kwargs.pop("subscriber"),
        ttl=kwargs.pop("ttl"),
        id=kwargs.pop("id"),
        auto_create=False,
        **kwargs,
    )
