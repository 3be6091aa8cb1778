"""python-zaqarclient's v2 ``Client``, over :class:`zaqarkit.Client`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate
from zaqarkit.compat.zaqarclient.queues.v2 import flavor as flavor_api
from zaqarkit.compat.zaqarclient.queues.v2 import iterator, queues
from zaqarkit.compat.zaqarclient.queues.v2 import pool as pool_api
from zaqarkit.compat.zaqarclient.queues.v2 import subscription as subscription_api
from zaqarkit.transports.base import Closing


class Client(Closing):
    """python-zaqarclient's high-level client.

    ``url``, ``version``, ``conf`` and ``session`` mean what they mean in
    python-zaqarclient (``conf``: ``client_uuid`` and ``auth_opts``); any other
    keyword goes to :class:`zaqarkit.Client` (``roles=``, ``http_url=``,
    ``timeout=``, ``transport=``, ...). A ``ws://`` URL uses zaqarkit's
    WebSocket transport, where python-zaqarclient's high-level objects do not
    work at all. Two differences: without ``auth_opts`` the backend is
    ``noauth`` (python-zaqarclient defaults to Keystone and fails without an
    ``auth_url``), and the client holds connections: ``close()`` it, or use it
    as a context manager.

    ``zaqarkit`` is the underlying typed client, for code migrating piece by piece.

    Example::

        from zaqarkit.compat.zaqarclient.queues import client

        cli = client.Client("http://127.0.0.1:8888", version=2, conf={
            "auth_opts": {"backend": "noauth", "options": {"os_project_id": "demo"}}})
        queue = cli.queue("orders")
        queue.post({"body": "hi", "ttl": 60})
        cli.close()
    """

    queues_module = queues

    def __init__(
        self,
        url: str | None = None,
        version: int | float | str = 2,
        conf: Mapping[str, Any] | None = None,
        session: Any = None,
        **options: Any,
    ) -> None:
        self.conf: Mapping[str, Any] = conf or {}
        self.zaqarkit: zaqarkit.Client = zaqarkit.Client(url, version, conf, session, **options)
        """The zaqarkit client every call goes through."""
        self.api_url = self.zaqarkit.api_url
        self.api_version = version
        self.auth_opts: Mapping[str, Any] = self.conf.get("auth_opts", {})
        self.client_uuid = self.zaqarkit.client_id
        self.session = session

    def __repr__(self) -> str:
        return f"<compat Client {self.api_url} v{self.api_version}>"

    def close(self) -> None:
        """Close the connections (zaqarkit keeps them open between calls)."""
        self.zaqarkit.close()

    def transport(self) -> Any:
        """The zaqarkit transport requests go through."""
        return self.zaqarkit.transport()

    @translate
    def follow(self, ref: str) -> Any:
        """GET an href from a response and return its JSON."""
        return self.zaqarkit.follow(ref)

    def queue(self, ref: Any, **kwargs: Any) -> queues.Queue:
        """A :class:`~.queues.Queue` (``auto_create``, ``force_create``, ``metadata``, ``href``)."""
        return queues.Queue(self, ref, **kwargs)

    @translate
    def queues(self, **params: Any) -> tuple[iterator._Iterator[queues.Queue], int | None]:
        """``(iterator of queues, count)``; ``count`` only with ``with_count=True``.

        Other ``params`` go to the listing (``limit``, ``marker``, ``detailed``,
        ``name``); every page is walked.
        """
        with_count = bool(params.pop("with_count", False))
        count = self.zaqarkit.queue_count() if with_count else None
        listed = self.zaqarkit.queues(**params)

        def create(zk_queue: zaqarkit.Queue) -> queues.Queue:
            record = zk_queue._listed  # the listing's own entry (href, detailed metadata)
            metadata = record.metadata if record is not None else None
            return queues.Queue(
                self, zk_queue.name, href=zk_queue.href, metadata=metadata, auto_create=False
            )

        return iterator._Iterator(listed, create), count

    def pool(self, ref: str, **kwargs: Any) -> pool_api.Pool:
        """A :class:`~.pool_api.Pool`, created now unless ``auto_create=False``."""
        return pool_api.Pool(self, ref, **kwargs)

    def pools(self, **params: Any) -> iterator._Iterator[pool_api.Pool]:
        """Every pool (``limit``, ``marker``, ``detailed``)."""

        def create(zk_pool: zaqarkit.Pool) -> pool_api.Pool:
            return pool_api.Pool(
                self,
                zk_pool.name,
                weight=zk_pool.weight,
                uri=zk_pool.uri,
                flavor=zk_pool.flavor,
                auto_create=False,
                options=zk_pool.options,
            )

        return iterator._Iterator(self.zaqarkit.pools(**params), create)

    def flavor(self, ref: str, **kwargs: Any) -> flavor_api.Flavor:
        """A :class:`~.flavor_api.Flavor`, created now unless ``auto_create=False``."""
        return flavor_api.Flavor(self, ref, **kwargs)

    def flavors(self, **params: Any) -> iterator._Iterator[flavor_api.Flavor]:
        """Every flavor (``limit``, ``marker``, ``detailed``)."""

        def create(zk_flavor: zaqarkit.Flavor) -> flavor_api.Flavor:
            return flavor_api.Flavor(
                self,
                zk_flavor.name,
                pool_list=zk_flavor.pool_list,
                auto_create=False,
                capabilities=zk_flavor.capabilities,
            )

        return iterator._Iterator(self.zaqarkit.flavors(**params), create)

    def subscription(self, queue_name: str, **kwargs: Any) -> subscription_api.Subscription:
        """A :class:`~.subscription_api.Subscription` (created or read now)."""
        return subscription_api.Subscription(self, queue_name, **kwargs)

    def subscriptions(
        self, queue_name: str, **params: Any
    ) -> iterator._Iterator[subscription_api.Subscription]:
        """Every subscription of a queue (``limit``, ``marker``, ``detailed``)."""
        listed = self.zaqarkit.subscriptions(queue_name, **params)
        return iterator._Iterator(
            listed, lambda handle: subscription_api.Subscription.from_zaqarkit(self, handle)
        )

    def ping(self) -> bool:
        """True when the server answers (never raises)."""
        return self.zaqarkit.ping()

    @translate
    def health(self) -> dict[str, Any]:
        """The server's detailed health document (admin)."""
        return dict(self.zaqarkit.health().data)

    @translate
    def homedoc(self) -> dict[str, Any]:
        """The server's JSON-Home document."""
        return {"resources": dict(self.zaqarkit.homedoc().resources)}
