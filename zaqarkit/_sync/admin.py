# This file is generated from zaqarkit/_async/admin.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""The admin and webhook resources: Subscription, Pool, Flavor,
and the pools and flavors a client declared but has not created yet.
Generated to ``zaqarkit/_sync/admin.py``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from zaqarkit.core import models
from zaqarkit.core.validate import name as validate_name
from zaqarkit.errors import ValidationError

if TYPE_CHECKING:
    from zaqarkit._sync.engine import Engine

__all__ = ["Flavor", "Pool", "Subscription", "AdminDeclarations"]


class AdminDeclarations:
    """The pools and flavors declared on one client with ``auto_create`` and
    not created yet, so that a flavor naming a pool, or a listing, creates
    what was declared before it."""

    def __init__(self) -> None:
        self._handles: dict[tuple[str, str], _Declared[Any]] = {}

    def add(self, handle: _Declared[Any]) -> None:
        """Remember ``handle`` if it is still to be created."""
        if handle._auto_create:
            self._handles[(handle.kind, handle.name)] = handle

    def discard(self, handle: _Declared[Any]) -> None:
        """Forget ``handle``: it is being created."""
        self._handles.pop((handle.kind, handle.name), None)

    def create(self, pools: Iterable[str] | None = None) -> None:
        """Create every declared handle, or only the declared pools named in ``pools``."""
        wanted = None if pools is None else set(pools)
        for (kind, name), handle in list(self._handles.items()):
            if wanted is None or (kind == "pool" and name in wanted):
                handle.ensure_exists()


def _changes(changes: Mapping[str, Any] | None, **given: Any) -> dict[str, Any]:
    """What an update sets: each keyword given, else its value in ``changes``
    (python-zaqarclient passes one dict), whose keys must be among them."""
    fields = dict(changes or {})
    unknown = set(fields) - set(given)
    if unknown:
        raise ValidationError("changes", f"has unknown keys {sorted(unknown)}")
    return {name: value if value is not None else fields.get(name) for name, value in given.items()}


class Subscription:
    """A subscription: ``id``, ``queue_name``, ``subscriber``, ``ttl``,
    ``options``, ``age``, ``confirmed``."""

    def __init__(self, engine: Engine, queue_name: str, record: models.Subscription) -> None:
        self._engine = engine
        self.queue_name = queue_name
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def subscriber(self) -> str:
        return self._record.subscriber

    @property
    def ttl(self) -> int:
        return self._record.ttl

    @property
    def options(self) -> Mapping[str, Any]:
        return self._record.options

    @property
    def age(self) -> int | None:
        return self._record.age

    @property
    def confirmed(self) -> bool | None:
        return self._record.confirmed

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.id!r} queue={self.queue_name!r} "
            f"subscriber={self.subscriber!r}>"
        )

    def reload(self) -> None:
        engine = self._engine
        self._record = engine.send(engine.api.subscription_get(self.queue_name, self.id))

    def update(
        self,
        changes: Mapping[str, Any] | None = None,
        *,
        subscriber: str | None = None,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Change subscriber, ttl and/or options (also accepts one dict of them,
        as python-zaqarclient does), then reload."""
        fields = _changes(changes, subscriber=subscriber, ttl=ttl, options=options)
        self._engine.send(
            self._engine.api.subscription_update(self.queue_name, self.id, **fields)
        )
        self.reload()

    def confirm(self, confirmed: bool = True) -> None:
        """Confirm (or with False, unconfirm) the subscription."""
        self._engine.send(
            self._engine.api.subscription_confirm(self.queue_name, self.id, confirmed)
        )

    def delete(self) -> None:
        self._engine.send(self._engine.api.subscription_delete(self.queue_name, self.id))


_Record = TypeVar("_Record", models.Pool, models.Flavor)


class _Declared(Generic[_Record]):
    """What a pool and a flavor handle share: a name on one client, the
    resource created at most once per handle (declared with the client's
    :class:`AdminDeclarations` until then), or a handle made from a listed
    record without a round trip."""

    kind: ClassVar[str]

    def __init__(
        self, engine: Engine, declared: AdminDeclarations, name: str, *, auto_create: bool
    ) -> None:
        self._engine = engine
        self._declared = declared
        self.name = validate_name(name, f"{self.kind} name")
        self._auto_create = auto_create

    @classmethod
    def from_record(cls, engine: Engine, declared: AdminDeclarations, record: _Record) -> Self:
        handle = cls(engine, declared, record.name, auto_create=False)
        handle._load(record)
        return handle

    def _load(self, record: _Record) -> None:
        raise NotImplementedError

    def _creating(self) -> bool:
        """Whether this handle creates its resource now: true once, when it
        was made to create one (``auto_create`` and what creation needs)."""
        if not self._auto_create:
            return False
        self._auto_create = False
        self._declared.discard(self)
        return True

    def ensure_exists(self) -> None:
        raise NotImplementedError


class Pool(_Declared[models.Pool]):
    """A storage pool (admin): ``name``, ``uri``, ``weight``, ``flavor``, ``options``."""

    kind = "pool"

    def __init__(
        self,
        engine: Engine,
        declared: AdminDeclarations,
        name: str,
        *,
        weight: int | None = None,
        uri: str | None = None,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
        auto_create: bool = True,
    ) -> None:
        creatable = uri is not None and weight is not None
        super().__init__(engine, declared, name, auto_create=auto_create and creatable)
        self.weight = weight
        self.uri = uri
        self.flavor = flavor
        self.options = dict(options) if options is not None else None

    def _load(self, record: models.Pool) -> None:
        # v1 and v1.1 answer an update without a body: keep what we know.
        self.weight = record.weight if record.weight is not None else self.weight
        self.uri = record.uri if record.uri is not None else self.uri
        self.flavor = record.flavor if record.flavor is not None else self.flavor
        self.options = dict(record.options) if record.options is not None else self.options

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} weight={self.weight!r}>"

    def ensure_exists(self) -> None:
        """Create the pool (once per handle) if it was given a uri and weight."""
        if self._creating():
            self._engine.send(
                self._engine.api.pool_create(
                    self.name,
                    str(self.uri),
                    int(self.weight or 0),
                    flavor=self.flavor,
                    options=self.options,
                )
            )

    def get(self) -> Pool:
        """Fetch the pool's current attributes (options included)."""
        self.ensure_exists()
        engine = self._engine
        self._load(engine.send(engine.api.pool_get(self.name, detailed=True)))
        return self

    def update(
        self,
        changes: Mapping[str, Any] | None = None,
        *,
        uri: str | None = None,
        weight: int | None = None,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Change uri, weight, flavor and/or options (or one dict of them)."""
        self.ensure_exists()
        fields = _changes(changes, uri=uri, weight=weight, flavor=flavor, options=options)
        call = self._engine.api.pool_update(self.name, **fields)
        self._load(self._engine.send(call))

    def delete(self) -> None:
        self.ensure_exists()
        self._engine.send(self._engine.api.pool_delete(self.name))


class Flavor(_Declared[models.Flavor]):
    """A flavor (admin): ``name``, ``pool_list``, ``capabilities``."""

    kind = "flavor"

    def __init__(
        self,
        engine: Engine,
        declared: AdminDeclarations,
        name: str,
        *,
        pool_list: Iterable[str] | None = None,
        auto_create: bool = True,
    ) -> None:
        pools = list(pool_list or ())
        super().__init__(engine, declared, name, auto_create=auto_create and bool(pools))
        self.pool_list: list[str] = pools
        self.capabilities: list[str] = []

    def _load(self, record: models.Flavor) -> None:
        self.pool_list = list(record.pool_list) or self.pool_list
        self.capabilities = list(record.capabilities)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} pool_list={self.pool_list!r}>"

    def ensure_exists(self) -> None:
        """Create the flavor (once per handle) if it was given a pool list;
        pools declared on the same client that it names are created first."""
        if self._creating():
            self._declared.create(self.pool_list)
            self._engine.send(self._engine.api.flavor_create(self.name, self.pool_list))

    def get(self) -> Flavor:
        self.ensure_exists()
        self._load(self._engine.send(self._engine.api.flavor_get(self.name)))
        return self

    def update(
        self, changes: Mapping[str, Any] | None = None, *, pool_list: Iterable[str] | None = None
    ) -> None:
        """Replace the flavor's pool list."""
        self.ensure_exists()
        pools = pool_list if pool_list is not None else (changes or {}).get("pool_list")
        if pools is None:
            raise ValidationError("pool_list", "is required to update a flavor")
        self._load(self._engine.send(self._engine.api.flavor_update(self.name, pools)))

    def delete(self) -> None:
        self.ensure_exists()
        self._engine.send(self._engine.api.flavor_delete(self.name))
