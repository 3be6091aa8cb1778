"""AsyncClient: construction, transport choice, and the client-level calls.

This file is the source of truth for both facades: ``scripts/unasync.py``
generates ``zaqarkit/_sync/client.py`` from it. A line ending in
``# async-only`` is dropped from the sync code; ``# sync-only: <code>`` becomes
``<code>`` there. Every call goes through the engine
(:mod:`zaqarkit._async.engine`); the resources are in
:mod:`zaqarkit._async.queues`, :mod:`zaqarkit._async.messages` and
:mod:`zaqarkit._async.admin`.
"""

from __future__ import annotations

import functools  # async-only
import warnings
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, aclosing
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio  # async-only
import httpx

from zaqarkit import _calls
from zaqarkit._network import NetworkOptions, PoolLimits
from zaqarkit._settings import resolve
from zaqarkit.auth import Auth, KeystoneAuth, SignedURLAuth
from zaqarkit.core import flows, models
from zaqarkit.core.context import Context
from zaqarkit.core.retry import DEFAULT_RETRIES, RetryArg, RetryPolicy
from zaqarkit.core.timeouts import DEFAULT_TIMEOUT, Timeout, TimeoutArg
from zaqarkit.core.urls import HTTP_SCHEMES, normalize_endpoint, split_ref
from zaqarkit.core.validate import Limits
from zaqarkit.errors import ServerError, TransportError, UnsupportedOperation, ValidationError
from zaqarkit.transports import AsyncHttpxTransport, AsyncTransport
from zaqarkit.transports.base import AsyncClosing

from .admin import AdminDeclarations, AsyncFlavor, AsyncPool, AsyncSubscription
from .engine import AsyncEngine
from .messages import AsyncClaim, AsyncMessage
from .observer import AsyncObserver
from .queues import AsyncQueue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = [
    "AsyncClaim",
    "AsyncClient",
    "AsyncFlavor",
    "AsyncMessage",
    "AsyncPool",
    "AsyncQueue",
    "AsyncSubscription",
]

#: ping() answers "is it up now?": retrying would only delay the answer.
_NO_RETRIES = RetryPolicy(attempts=1)


class AsyncClient(AsyncClosing):
    """A Zaqar client. Every call that does I/O is a coroutine; listings are
    async iterators that walk all pages lazily. Runs on asyncio and trio.

    ``url`` is the endpoint (a path prefix such as ``/messaging`` is kept),
    ``version`` the API version, ``conf`` python-zaqarclient's configuration
    dict. Keyword arguments override ``conf``: ``project_id`` (else
    ``OS_PROJECT_ID``), ``client_id`` (a UUID; one per client, it drives
    ``echo``), ``roles`` (sent as ``X-Roles`` for admin calls on a no-auth
    server), ``transport`` (any :class:`~zaqarkit.transports.AsyncTransport`),
    ``timeout`` (seconds or a :class:`zaqarkit.Timeout`; it bounds each call
    as a whole, retries included), ``retries`` (a :class:`zaqarkit.RetryPolicy`,
    a number of retries, or ``0``/``None`` for none; see :meth:`retry_unsafe`),
    ``insecure``, ``cacert``, ``limits`` (the server's limits, used to validate
    input before sending).

    Network options (HTTP; see the network options guide, docs/guides/network.md): ``trust_env``
    (default True: ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``
    are honoured, as by httpx), ``proxy`` (a proxy URL for every request),
    ``cert`` (a client certificate: a PEM file with its key, or a
    ``(cert, key)`` pair), ``pool_limits`` (a :class:`zaqarkit.PoolLimits` or
    ``httpx.Limits``; default :data:`zaqarkit.PoolLimits.DEFAULT`), ``http2``
    (needs the ``h2`` extra).

    Observability (see :mod:`zaqarkit._observe`): ``event_hooks``, as httpx's:
    ``{"request": [fn, ...], "response": [fn, ...]}``, called for every
    request on HTTP and WebSocket alike with a
    :class:`zaqarkit.RequestEvent` / :class:`zaqarkit.ResponseEvent`
    (plain functions or coroutine functions); ``tracing`` (True for the
    global OpenTelemetry tracer provider, or a ``TracerProvider``; needs the
    ``otel`` extra) emits one span per operation; ``metrics`` (True for the
    global MeterProvider, or a ``MeterProvider``; ``otel`` extra) records
    OpenTelemetry metrics after the messaging conventions (see
    :class:`zaqarkit._observe.Metrics`).

    Authentication (see :mod:`zaqarkit.auth`): ``conf['auth_opts']['backend']``
    picks ``noauth`` (the default), ``keystone`` or ``signed-url``;
    ``session`` (a keystoneauth1 Session) implies Keystone, and ``auth`` takes
    any :class:`zaqarkit.auth.Auth`. With Keystone and ``url=None`` the
    endpoint comes from the service catalog (type ``messaging``); that lookup
    happens once, in the constructor, and blocks (the async client's
    ``discover()`` runs it in a worker thread). A request rejected with 401
    renews the token once and is resent once.

    Example::

        async with AsyncClient("http://127.0.0.1:8888", project_id="demo") as cli:
            queue = cli.queue("orders")
            await queue.post([{"body": {"id": 1}, "ttl": 300}])
            async for message in queue.messages(echo=True):
                print(message.body)
    """

    def __init__(
        self,
        url: str | None = None,
        version: int | float | str = 2,
        conf: Mapping[str, Any] | None = None,
        session: Any = None,
        *,
        transport: AsyncTransport | None = None,
        project_id: str | None = None,
        client_id: str | None = None,
        roles: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutArg = DEFAULT_TIMEOUT,
        retries: RetryArg = DEFAULT_RETRIES,
        insecure: bool = False,
        cacert: str | None = None,
        limits: Limits | None = None,
        auth: Auth | None = None,
        http_url: str | None = None,
        codec: str = "json",
        trust_env: bool = True,
        proxy: str | None = None,
        cert: str | tuple[str, str] | None = None,
        pool_limits: PoolLimits | httpx.Limits | None = None,
        http2: bool = False,
        event_hooks: Mapping[str, Iterable[Callable[..., Any]]] | None = None,
        tracing: Any = False,
        metrics: Any = False,
    ) -> None:
        network = NetworkOptions.resolve(
            url,
            transport=transport,
            limits=limits,
            codec=codec,
            trust_env=trust_env,
            proxy=proxy,
            cert=cert,
            pool_limits=pool_limits,
            http2=http2,
        )
        observer = AsyncObserver(event_hooks, tracing, metrics)
        settings = resolve(
            url,
            version,
            conf,
            session,
            project_id=project_id,
            client_id=client_id,
            roles=roles,
            headers=headers,
            limits=limits,
            auth=auth,
            insecure=insecure,
            cacert=cacert,
        )
        self._settings = settings
        self._auth: Auth = settings.auth
        self._network = network
        per_call = Timeout.of(timeout)
        policy = RetryPolicy.of(retries)
        self._owns_transport = transport is None
        # Operations Zaqar does not serve over WebSocket go to this HTTP
        # endpoint instead, when one is given.
        fallback: tuple[AsyncTransport, Context] | None = None
        if http_url is not None:
            fallback = (
                AsyncHttpxTransport(
                    timeout=timeout,
                    insecure=settings.insecure,
                    cacert=settings.cacert,
                    **network.http_options(),
                ),
                replace(settings.context, endpoint=normalize_endpoint(http_url, HTTP_SCHEMES)),
            )
        self._engine = AsyncEngine(
            settings.api,
            transport or self._default_transport(timeout, codec, has_http_url=http_url is not None),
            settings.context,
            settings.auth,
            observer,
            timeout=per_call,
            retries=policy,
            # Zaqar serves some operations over HTTP only (core.operations.ws_supports).
            websocket=settings.websocket,
            fallback=fallback,
            remake=None
            if transport is not None
            else lambda: self._default_transport(timeout, codec, has_http_url=http_url is not None),
        )
        self._declared = AdminDeclarations()

    def _default_transport(
        self, timeout: TimeoutArg, codec: str, *, has_http_url: bool
    ) -> AsyncTransport:
        settings = self._settings
        if settings.websocket:
            # Imported here: websockets is an optional dependency.
            try:
                from zaqarkit.transports.websocket import AsyncWebSocketTransport
            except ImportError as exc:
                raise UnsupportedOperation(
                    f"{settings.scheme}:// URLs need the WebSocket extra: "
                    "pip install 'zaqarkit[websockets]'"
                ) from exc

            self._network.check_websocket(has_http_url)
            keystone = isinstance(settings.auth, KeystoneAuth)
            # The WebSocket transport bounds each request by one number: the
            # call's total budget (the per-phase values are HTTP's).
            per_call = Timeout.of(timeout)
            return AsyncWebSocketTransport(
                settings.endpoint,
                timeout=per_call.total or per_call.read,
                codec=codec,
                token_refresh=self._ws_credentials if keystone else None,
            )
        return AsyncHttpxTransport(
            timeout=timeout,
            insecure=settings.insecure,
            cacert=settings.cacert,
            **self._network.http_options(),
        )

    async def _ws_credentials(self) -> tuple[str, str, Any]:
        # Zaqar's WebSocket wants an `authenticate` frame, not per-frame tokens;
        # with the expiry the transport re-authenticates before it comes.
        assert isinstance(self._auth, KeystoneAuth)
        credentials = await self._auth.async_credentials()
        project = credentials.project_id or self._settings.project_id
        return credentials.token, project, credentials.expires_at

    @classmethod
    async def discover(
        cls,
        version: int | float | str = 2,
        conf: Mapping[str, Any] | None = None,
        session: Any = None,
        **kwargs: Any,
    ) -> AsyncClient:
        """A client for the service catalog's endpoint, like ``AsyncClient(None, ...)``;
        the async client runs the Keystone authentication and catalog lookup
        in a worker thread, so they never block its event loop.

        Example::

            async with await AsyncClient.discover(session=keystone_session) as cli:
                print(cli.api_url)   # the catalog's messaging endpoint
        """
        build = functools.partial(cls, None, version, conf, session, **kwargs)  # async-only
        return await anyio.to_thread.run_sync(build)  # async-only
        # sync-only: return cls(None, version, conf, session, **kwargs)

    @classmethod
    def from_signed_url(
        cls,
        url: str,
        signed: models.SignedURL | Mapping[str, Any],
        **kwargs: Any,
    ) -> AsyncClient:
        """A client that needs no credentials: it sends the pre-signed headers
        of ``signed`` (``queue.signed_url()``'s result, or the share JSON).

        Only what was signed works (e.g. posting and listing the messages of
        one queue); use ``queue(name, auto_create=False)``, since creating the
        queue is not covered. A 404 says the signature may have expired or may
        not cover the request. ``kwargs`` go to the constructor.

        Example::

            signed = await owner.queue("jobs").signed_url(methods=["GET", "POST"])
            async with AsyncClient.from_signed_url(owner.api_url, signed) as guest:
                await guest.queue("jobs", auto_create=False).post([{"body": 1}])
        """
        return cls(url, auth=SignedURLAuth(signed), **kwargs)

    # -- plumbing ---------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The endpoint, normalised (no trailing slash or version segment)."""
        return self._settings.endpoint

    @property
    def api_version(self) -> str:
        return self._settings.version.value

    @property
    def client_id(self) -> str:
        """The Client-ID sent with every request (messages you post are
        hidden from your own listings unless ``echo=True``)."""
        return self._settings.client_id

    @property
    def client_uuid(self) -> str:
        """python-zaqarclient's name for :attr:`client_id`."""
        return self._settings.client_id

    @property
    def project_id(self) -> str:
        """The project requests act on; with Keystone and no explicit project,
        the token's project (known after the first request)."""
        return self._settings.project_id or self._auth.project_id or ""

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self._settings.endpoint} v{self.api_version} "
            f"project={self.project_id!r}>"
        )

    def retry_unsafe(self) -> AbstractContextManager[None]:
        """A ``with`` block inside which calls are retried even when they may
        already have been executed: a message post or claim whose reply was
        lost is sent again, and may be stored or claimed twice. Outside it
        only what is safe is retried (``err.retryable``; 429 and 503 answers).
        Scoped to the current thread or task. The client-wide equivalent is
        ``retries=RetryPolicy(retry_unsafe=True)``.

        Example::

            with cli.retry_unsafe():
                await queue.post({"body": "at least once"})
        """
        return _calls.retry_unsafe()

    def transport(self) -> AsyncTransport:
        """The transport this client sends through."""
        return self._engine.transport

    async def reconnect(self) -> None:
        """Replace this client's transport by a new one (new connections) and
        close the old one: for a connection that stopped working without
        failing (the consumer's stall watchdog calls it). Requests in flight
        on the old connections fail with TransportError; WebSocket push
        streams end (a consumer subscribes again). A transport passed as
        ``transport=`` is the caller's: UnsupportedOperation.

        Example::

            await cli.reconnect()   # the next request opens a new connection
        """
        await self._engine.reconnect()

    async def aclose(self) -> None:
        """Close the transport if this client created it. Idempotent."""
        engine = self._engine
        if not engine.closed:
            await engine.aclose()
            if self._owns_transport:
                await engine.transport.aclose()
            if engine.fallback is not None:
                await engine.fallback[0].aclose()

    # -- server -------------------------------------------------------------------

    async def ping(self) -> bool:
        """True when the server and its storage answer; False when they do not
        (a 5xx, or no connection: refused, timed out, broken).

        A closed client raises :class:`~zaqarkit.TransportError` instead, as
        any other call does: that is a bug in the caller, not a server that is
        down.

        v1 has no ``/ping``: its public ``GET /v1/health`` (204 or 503) is the
        same check, and the v1 builders send that instead.

        Example::

            if not await cli.ping():
                raise SystemExit("Zaqar is down")
        """
        engine = self._engine
        if engine.closed:
            raise TransportError("the client is closed", sent=False)
        try:
            return await engine.send(engine.api.ping(), _NO_RETRIES)
        except (TransportError, ServerError):
            return False

    async def health(self) -> models.Health:
        """Detailed health (admin: needs ``roles=['admin']`` without Keystone).

        On v1 ``/health`` is public and has no body (204 or 503), so the result
        is only ``Health({"storage_reachable": True})`` or ``{... False}``; v1.1
        and v2 return the server's detailed document (``storage_reachable``,
        ``operation_status``, per-pool entries when pooled).

        Example::

            health = await cli.health()
            assert health.storage_reachable
        """
        return await self._engine.send(self._engine.api.health())

    async def homedoc(self) -> models.HomeDocument:
        """The JSON-Home document listing the server's resources."""
        return await self._engine.send(self._engine.api.home_document())

    async def follow(self, ref: str) -> Any:
        """GET an href from a response (``links``, ``Location``) and return its JSON.

        Relative hrefs resolve against the endpoint including its path prefix;
        an absolute URL on another origin is refused (credentials would leak).
        """
        path, query = split_ref(ref, self._settings.endpoint)
        return await self._engine.send(self._engine.api.follow(path, query))

    # -- queues ---------------------------------------------------------------------

    def queue(
        self,
        name: str,
        auto_create: bool = True,
        force_create: bool = False,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> AsyncQueue:
        """A queue handle. No I/O: with ``auto_create`` the queue is created on
        first use (with ``metadata``, if given). ``force_create`` creates it now
        in the sync client and before anything else in the async one. A client
        built with :meth:`from_signed_url` never auto-creates: a signature does
        not cover creating queues.
        """
        if isinstance(self._auth, SignedURLAuth):
            # A pre-signed URL never covers creating the queue (Zaqar answers 404).
            auto_create = False
        queue = AsyncQueue(
            self._engine, name, auto_create=auto_create or force_create, metadata=metadata
        )
        # sync-only: if force_create:
        # sync-only:     queue.ensure_exists(force_create=True)
        return queue

    async def queues(
        self,
        *,
        limit: int | None = None,
        detailed: bool | None = None,
        **filters: Any,
    ) -> AsyncIterator[AsyncQueue]:
        """Every queue of the project, page by page (``limit`` is the page size)."""
        first = self._engine.api.queue_list(limit=limit, detailed=detailed, **filters)
        async with aclosing(self._engine.iterate(first)) as listed:
            async for item in listed:
                yield AsyncQueue(self._engine, item.name, auto_create=False, listed=item)

    async def queue_count(self) -> int:
        """How many queues the project has.

        One request where the server counts (HTTP v2, ``with_count=true``).
        API v1/v1.1 have no such flag, Zaqar's WebSocket ``queue_list`` ignores
        it and the SQL catalog answers ``"count": true``: then the listing is
        paged through and counted here.

        Example::

            total = await client.queue_count()
        """
        return await self._engine.run(flows.queue_count(self._engine.api))

    # -- subscriptions ------------------------------------------------------------------

    async def subscription(
        self,
        queue_name: str,
        subscriber: str | None = None,
        ttl: int = 3600,
        options: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        auto_create: bool = True,
    ) -> AsyncSubscription:
        """Fetch subscription ``id``, or create one for ``subscriber`` and fetch it.

        The default ``ttl`` is Zaqar's own (3600 s), not python-zaqarclient's 60.
        ``auto_create=False`` (python-zaqarclient's spelling of "only fetch")
        needs an ``id``.
        """
        if id is None and not auto_create:
            raise ValidationError("id", "is required with auto_create=False")
        if id is None:
            if subscriber is None:
                raise ValidationError("subscriber", "is required to create a subscription")
            id = await self._engine.send(
                self._engine.api.subscription_create(
                    queue_name, subscriber, ttl=ttl, options=options
                )
            )
        record = await self._engine.send(self._engine.api.subscription_get(queue_name, id))
        return AsyncSubscription(self._engine, queue_name, record)

    async def subscriptions(
        self,
        queue_name: str,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> AsyncIterator[AsyncSubscription]:
        """Every subscription of a queue, page by page. ``detailed`` is
        accepted for python-zaqarclient and changes nothing: Zaqar always lists
        every field of a subscription."""
        first = self._engine.api.subscription_list(queue_name, limit=limit, marker=marker)
        async with aclosing(self._engine.iterate(first)) as listed:
            async for item in listed:
                yield AsyncSubscription(self._engine, queue_name, item)

    # -- pools and flavors (admin) ----------------------------------------------------------

    def pool(
        self,
        name: str,
        weight: int | None = None,
        uri: str | None = None,
        flavor: str | None = None,
        auto_create: bool = True,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> AsyncPool:
        """A pool handle (admin). No I/O here: with ``auto_create`` and a ``uri``
        and ``weight`` the pool is created lazily, on the first of: using the
        handle, creating a flavor whose ``pool_list`` names it, or listing
        pools or flavors. So declaring a pool and then a flavor on it works in
        that order, and a listing right after shows both.

        Example::

            pool = cli.pool("fast", weight=10, uri="redis://127.0.0.1:6379")
            flavor = cli.flavor("gold", pool_list=["fast"])
            await flavor.ensure_exists()   # creates "fast", then "gold"
        """
        pool = AsyncPool(
            self._engine,
            self._declared,
            name,
            weight=weight,
            uri=uri,
            flavor=flavor,
            options=options,
            auto_create=auto_create,
        )
        self._declared.add(pool)
        return pool

    async def pools(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> AsyncIterator[AsyncPool]:
        """Every registered pool (admin). Pools declared with :meth:`pool` and
        not yet created are created first, so the listing shows them."""
        await self._declared.create()
        first = self._engine.api.pool_list(limit=limit, marker=marker, detailed=detailed)
        async with aclosing(self._engine.iterate(first)) as listed:
            async for item in listed:
                yield AsyncPool.from_record(self._engine, self._declared, item)

    def flavor(
        self,
        name: str,
        pool_list: Iterable[str] | None = None,
        auto_create: bool = True,
        *,
        pool: str | None = None,
    ) -> AsyncFlavor:
        """A flavor handle (admin). No I/O here: with ``auto_create`` and a
        ``pool_list`` the flavor is created lazily, on first use of the handle
        or on the next pool or flavor listing; pools declared with :meth:`pool`
        that it names are created before it.

        ``pool=`` is python-zaqarclient's pool group. API v1.1 sends it as is;
        v2 no longer has pool groups, so there it becomes ``pool_list=[pool]``
        with a DeprecationWarning.
        """
        if pool is not None:
            if not self._engine.api.flavor_pool_groups:
                warnings.warn(
                    "flavor(pool=...) names a pool group, which Zaqar v2 removed; "
                    "use pool_list=[...] instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
            pool_list = [pool, *(pool_list or ())]
        flavor = AsyncFlavor(
            self._engine, self._declared, name, pool_list=pool_list, auto_create=auto_create
        )
        self._declared.add(flavor)
        return flavor

    async def flavors(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> AsyncIterator[AsyncFlavor]:
        """Every flavor. Pools and flavors declared with :meth:`pool` and
        :meth:`flavor` and not yet created are created first."""
        await self._declared.create()
        first = self._engine.api.flavor_list(limit=limit, marker=marker, detailed=detailed)
        async with aclosing(self._engine.iterate(first)) as listed:
            async for item in listed:
                yield AsyncFlavor.from_record(self._engine, self._declared, item)
