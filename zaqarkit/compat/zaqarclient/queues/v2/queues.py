"""python-zaqarclient's ``Queue``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import zaqarkit
from zaqarkit.compat.zaqarclient._adapt import translate
from zaqarkit.compat.zaqarclient.queues.v2 import claim as claim_api
from zaqarkit.compat.zaqarclient.queues.v2 import iterator
from zaqarkit.compat.zaqarclient.queues.v2 import message as message_api
from zaqarkit.core import models

if TYPE_CHECKING:
    from zaqarkit.compat.zaqarclient.queues.v2.client import Client
    from zaqarkit.compat.zaqarclient.queues.v2.subscription import Subscription


def _stat(stat: models.MessageStat | None) -> dict[str, Any] | None:
    if stat is None:
        return None
    out: dict[str, Any] = {"age": stat.age, "created": stat.created}
    if stat.href is not None:
        out["href"] = stat.href
    if stat.id is not None:
        out["id"] = stat.id
    return out


class Queue:
    """A queue, as ``client.queue(name)`` returns it.

    Creation timing is python-zaqarclient's: nothing is sent unless
    ``force_create`` (then the queue is created now); Zaqar creates a queue
    when a message is first posted to it. ``name`` may be any value whose
    ``str()`` is a valid queue name (python-zaqarclient's tests use ``1``).

    Example::

        queue = cli.queue("orders", force_create=True)
        queue.post([{"body": {"id": 1}, "ttl": 300}])
        print(queue.stats["messages"]["free"])
    """

    message_module = message_api

    def __init__(
        self,
        client: Client,
        name: Any,
        href: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        auto_create: bool = True,
        force_create: bool = False,
    ) -> None:
        self.client = client
        self._name = name
        self._metadata: Any = dict(metadata) if metadata is not None else None
        self._href = href
        self.zaqarkit: zaqarkit.Queue = client.zaqarkit.queue(str(name), auto_create=False)
        """The zaqarkit queue this adapter sends through (typed results)."""
        if auto_create or force_create:
            self.ensure_exists(force_create=force_create)

    def __repr__(self) -> str:
        return f"<Queue {self._name!r}>"

    @property
    def name(self) -> Any:
        return self._name

    @property
    def href(self) -> str | None:
        return self._href

    @property
    def metadata_dict(self) -> dict[str, Any]:
        """The metadata as a new dict (cached like :meth:`metadata`)."""
        return dict(self.metadata())

    @translate
    def exists(self) -> bool:
        """Whether the queue exists on the server (python-zaqarclient's answers
        True for every queue: Zaqar has no HEAD on v2 queues)."""
        return self.zaqarkit.exists()

    @translate
    def ensure_exists(self, force_create: bool = False) -> None:
        """Create the queue, only when ``force_create`` (as python-zaqarclient)."""
        if force_create:
            self.zaqarkit.ensure_exists(force_create=True)

    @translate
    def metadata(
        self, new_meta: Mapping[str, Any] | None = None, force_reload: bool = False
    ) -> Any:
        """The metadata, cached after the first read unless ``force_reload``.

        With ``new_meta`` the whole document is replaced (python-zaqarclient's
        semantics): keys left out are removed, and reserved ``_`` keys left out
        go back to the server's defaults. zaqarkit's own ``Queue.metadata``
        keeps reserved keys unless told otherwise.
        """
        if new_meta is None and self._metadata and not force_reload:
            return self._metadata
        if new_meta is None:
            self._metadata = self.zaqarkit.metadata()
        else:
            self._metadata = self.zaqarkit.metadata(new_meta, keep_reserved=False)
        return self._metadata

    @property
    @translate
    def stats(self) -> dict[str, Any]:
        """The server's stats document: ``{"messages": {"claimed", "free",
        "total", "oldest", "newest"}}`` (oldest/newest only when there are
        messages)."""
        stats = self.zaqarkit.stats()
        counts: dict[str, Any] = {
            "claimed": stats.claimed,
            "free": stats.free,
            "total": stats.total,
            **stats.extra,
        }
        for key, stat in (("oldest", stats.oldest), ("newest", stats.newest)):
            if stat is not None:
                counts[key] = _stat(stat)
        return {"messages": counts}

    @translate
    def delete(self) -> None:
        self.zaqarkit.delete()

    @translate
    def post(self, messages: Any) -> dict[str, list[str]]:
        """Post one message dict or a list of them; returns
        ``{"resources": [href, ...]}`` like Zaqar's HTTP answer (also over
        WebSocket, whose answer carries only the ids)."""
        ids = self.zaqarkit.post(messages)
        return {"resources": [f"/v2/queues/{self.zaqarkit.name}/messages/{i}" for i in ids]}

    @translate
    def message(self, message_id: str) -> message_api.Message:
        return self.message_module.Message.from_zaqarkit(self, self.zaqarkit.message(message_id))

    def messages(self, *messages: str, **params: Any) -> iterator._Iterator[message_api.Message]:
        """The given messages by id, or the queue's messages (every page);
        ``params``: ``echo``, ``include_claimed``, ``include_delayed``,
        ``limit`` (page size), ``marker``."""
        source = self.zaqarkit.messages(*messages, **({} if messages else params))
        return iterator._Iterator(source, lambda m: message_api.Message.from_zaqarkit(self, m))

    @translate
    def delete_messages(self, *messages: str) -> None:
        self.zaqarkit.delete_messages(*dict.fromkeys(messages))

    @translate
    def pop(self, count: int = 1) -> iterator._Iterator[message_api.Message]:
        popped = self.zaqarkit.pop(count)
        return iterator._Iterator(popped, lambda m: message_api.Message.from_zaqarkit(self, m))

    @translate
    def signed_url(
        self,
        paths: Iterable[str] | None = None,
        ttl_seconds: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """The server's share document: ``signature``, ``expires``, ``paths``,
        ``methods``, ``project``."""
        signed = self.zaqarkit.signed_url(paths=paths, ttl_seconds=ttl_seconds, methods=methods)
        return {
            "signature": signed.signature,
            "expires": signed.expires,
            "paths": list(signed.paths),
            "methods": list(signed.methods),
            "project": signed.project,
        }

    def subscriptions(
        self, detailed: bool = False, marker: str | None = None, limit: int = 20
    ) -> iterator._Iterator[Subscription]:
        return self.client.subscriptions(
            queue_name=str(self._name), detailed=detailed, marker=marker, limit=limit
        )

    @translate
    def purge(self, resource_types: Iterable[str] | None = None) -> None:
        self.zaqarkit.purge(resource_types)

    def claim(
        self,
        id: str | None = None,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
    ) -> claim_api.Claim:
        """Claim messages now, or (with ``id``) fetch an existing claim."""
        return claim_api.Claim(self, id=id, ttl=ttl, grace=grace, limit=limit)


def create_object(parent: Client) -> Any:
    """python-zaqarclient's factory: a function from a listed queue dict to a Queue."""
    return lambda args: Queue(
        parent,
        args["name"],
        href=args.get("href"),
        metadata=args.get("metadata"),
        auto_create=False,
    )
