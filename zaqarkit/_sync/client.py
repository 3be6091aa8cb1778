# This file is generated from zaqarkit/_async/client.py by scripts/unasync.py.
# Do not edit it by hand: change the async source and run `nox -s generate`.
"""Client and its resources: build with the core, send, parse.

This file is the source of truth for both facades: ``scripts/unasync.py``
generates ``zaqarkit/_sync/client.py`` from it. A line ending in
``# async-only`` is dropped from the sync code; ``# sync-only: <code>`` becomes
``<code>`` there.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

import httpx

from zaqarkit import _calls
from zaqarkit._network import NetworkOptions, PoolLimits
from zaqarkit._settings import resolve
from zaqarkit.auth import Auth, KeystoneAuth, SignedURLAuth
from zaqarkit.core import flows, models
from zaqarkit.core.api import metadata_patch
from zaqarkit.core.api_v1 import queue_replace_metadata_call
from zaqarkit.core.auth import with_credentials
from zaqarkit.core.bodies import BodyCodec, codec_for
from zaqarkit.core.consumer import ConsumerSettings
from zaqarkit.core.context import Context
from zaqarkit.core.flows import Flow
from zaqarkit.core.models import Page
from zaqarkit.core.operations import Operation
from zaqarkit.core.paginate import Pagination, by_id
from zaqarkit.core.parse import typed_claim, typed_message, typed_messages, typed_page
from zaqarkit.core.producer import DEFAULT_MAX_COUNT, Packer, packer_for
from zaqarkit.core.retry import (
    DEFAULT_RETRIES,
    Outcome,
    RetryArg,
    RetryPolicy,
    Send,
    Sleep,
    Step,
    call_flow,
    settles,
)
from zaqarkit.core.timeouts import Timeout, TimeoutArg
from zaqarkit.core.urls import normalize_endpoint, split_ref
from zaqarkit.core.validate import Limits
from zaqarkit.core.validate import integer as validate_integer
from zaqarkit.core.validate import message_ttl as validate_message_ttl
from zaqarkit.core.validate import name as validate_name
from zaqarkit.core.wire import Call, LastCall, Request, Response
from zaqarkit.core.ws import ws_action, ws_supports
from zaqarkit.errors import (
    ServerError,
    TransportError,
    UnsupportedOperation,
    ValidationError,
    ZaqarError,
)
from zaqarkit.transports import HttpxTransport, Transport, deadline
from zaqarkit.transports.base import Closing

if TYPE_CHECKING:
    # websockets is an optional dependency: the stream type is for annotations.
    from zaqarkit._sync.consumer import Consumer, ConsumerStats, Handler, Poison
    from zaqarkit._sync.producer import Producer
    from zaqarkit.transports.websocket import PushStream

__all__ = [
    "Claim",
    "Client",
    "Flavor",
    "Message",
    "Pool",
    "Queue",
    "Subscription",
]

T = TypeVar("T")
#: A message body's type (``body_type=``); ``Any`` without one.
B = TypeVar("B")

#: ping() answers "is it up now?": retrying would only delay the answer.
_NO_RETRIES = RetryPolicy(attempts=1)
#: The first attempt of every call, sent before any retry flow exists.
_FIRST_SEND = Send(1)


class Client(Closing):
    """A Zaqar client. Every call that does I/O is a coroutine; listings are
    iterators that walk all pages lazily. Runs on asyncio and trio.

    ``url`` is the endpoint (a path prefix such as ``/messaging`` is kept),
    ``version`` the API version, ``conf`` python-zaqarclient's configuration
    dict. Keyword arguments override ``conf``: ``project_id`` (else
    ``OS_PROJECT_ID``), ``client_id`` (a UUID; one per client, it drives
    ``echo``), ``roles`` (sent as ``X-Roles`` for admin calls on a no-auth
    server), ``transport`` (any :class:`~zaqarkit.transports.Transport`),
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
    ``otel`` extra) emits one span per operation.

    Authentication (see :mod:`zaqarkit.auth`): ``conf['auth_opts']['backend']``
    picks ``noauth`` (the default), ``keystone`` or ``signed-url``;
    ``session`` (a keystoneauth1 Session) implies Keystone, and ``auth`` takes
    any :class:`zaqarkit.auth.Auth`. With Keystone and ``url=None`` the
    endpoint comes from the service catalog (type ``messaging``); that lookup
    happens once, in the constructor, and blocks (the async client's
    ``discover()`` runs it in a worker thread). A request rejected with 401
    renews the token once and is resent once.

    Example::

        with Client("http://127.0.0.1:8888", project_id="demo") as cli:
            queue = cli.queue("orders")
            queue.post([{"body": {"id": 1}, "ttl": 300}])
            for message in queue.messages(echo=True):
                print(message.body)
    """

    def __init__(
        self,
        url: str | None = None,
        version: int | float | str = 2,
        conf: Mapping[str, Any] | None = None,
        session: Any = None,
        *,
        transport: Transport | None = None,
        project_id: str | None = None,
        client_id: str | None = None,
        roles: Iterable[str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutArg = 30.0,
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
        # Imported here: at the top, its generated twin would sort differently.
        from zaqarkit._sync.observer import Observer

        self._observer = Observer(event_hooks, tracing)
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
        self._timeout = Timeout.of(timeout)
        self._retries = RetryPolicy.of(retries)
        self._api = settings.api
        self._context = settings.context
        self._auth: Auth = settings.auth
        self._network = network
        self._owns_transport = transport is None
        self._transport: Transport = transport or self._default_transport(
            timeout, codec, has_http_url=http_url is not None
        )
        # Operations Zaqar does not serve over WebSocket go to this HTTP
        # endpoint instead, when one is given.
        self._fallback: tuple[Transport, Context] | None = None
        if http_url is not None:
            self._fallback = (
                HttpxTransport(
                    timeout=timeout,
                    insecure=settings.insecure,
                    cacert=settings.cacert,
                    **network.http_options(),
                ),
                replace(self._context, endpoint=normalize_endpoint(http_url, ("http", "https"))),
            )
        # Zaqar serves some operations over HTTP only (core.ws.ws_supports).
        self._websocket = settings.scheme in ("ws", "wss")
        self._closed = False
        # Over WebSocket, what Zaqar has no action for is refused before any I/O.
        self._ws_only = self._websocket and self._fallback is None
        self._declared: dict[tuple[str, str], Pool | Flavor] = {}

    def _default_transport(
        self, timeout: TimeoutArg, codec: str, *, has_http_url: bool
    ) -> Transport:
        settings = self._settings
        if settings.scheme in ("ws", "wss"):
            # Imported here: websockets is an optional dependency.
            try:
                from zaqarkit.transports.websocket import WebSocketTransport
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
            return WebSocketTransport(
                settings.endpoint,
                timeout=per_call.total or per_call.read,
                codec=codec,
                token_refresh=self._ws_credentials if keystone else None,
            )
        return HttpxTransport(
            timeout=timeout,
            insecure=settings.insecure,
            cacert=settings.cacert,
            **self._network.http_options(),
        )

    def _ws_credentials(self) -> tuple[str, str, Any]:
        # Zaqar's WebSocket wants an `authenticate` frame, not per-frame tokens;
        # with the expiry the transport re-authenticates before it comes.
        assert isinstance(self._auth, KeystoneAuth)
        credentials = self._auth.credentials()
        project = credentials.project_id or self._settings.project_id
        return credentials.token, project, credentials.expires_at

    @classmethod
    def discover(
        cls,
        version: int | float | str = 2,
        conf: Mapping[str, Any] | None = None,
        session: Any = None,
        **kwargs: Any,
    ) -> Client:
        """A client for the service catalog's endpoint, like ``Client(None, ...)``;
        the async client runs the Keystone authentication and catalog lookup
        in a worker thread, so they never block its event loop.

        Example::

            with Client.discover(session=keystone_session) as cli:
                print(cli.api_url)   # the catalog's messaging endpoint
        """
        return cls(None, version, conf, session, **kwargs)

    @classmethod
    def from_signed_url(
        cls,
        url: str,
        signed: models.SignedURL | Mapping[str, Any],
        **kwargs: Any,
    ) -> Client:
        """A client that needs no credentials: it sends the pre-signed headers
        of ``signed`` (``queue.signed_url()``'s result, or the share JSON).

        Only what was signed works (e.g. posting and listing the messages of
        one queue); use ``queue(name, auto_create=False)``, since creating the
        queue is not covered. A 404 says the signature may have expired or may
        not cover the request. ``kwargs`` go to the constructor.

        Example::

            signed = owner.queue("jobs").signed_url(methods=["GET", "POST"])
            with Client.from_signed_url(owner.api_url, signed) as guest:
                guest.queue("jobs", auto_create=False).post([{"body": 1}])
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

    def _send(self, call: Call[T], retries: RetryPolicy | None = None) -> T:
        if self._closed:
            raise TransportError("the client is closed", sent=False)
        transport, context = self._transport, self._context
        if self._fallback is not None and not ws_supports(call.request.operation):
            transport, context = self._fallback
        elif self._ws_only:
            ws_action(call.request.operation)  # refused before any I/O
        request = context.prepare(call.request)
        if self._observer.tracer is not None:
            # One span for the whole operation, its retries included (_observe).
            return self._observer.traced(
                self._deliver, call, request, transport, retries or self._retries
            )
        return self._deliver(call, request, transport, retries or self._retries)

    def _deliver(
        self, call: Call[T], request: Request, transport: Transport, policy: RetryPolicy
    ) -> T:
        total = self._timeout.total
        start = _calls.clock()
        # Every decision (re-authenticate on 401, retry, how long to wait) is
        # the core's call flow; this loop only executes its steps. The first
        # attempt is sent before any flow exists: an answer that settles the
        # call (core.retry.settles) never needs one, others start it.
        flow: Generator[Step, Any, Response] | None = None
        step: Step = _FIRST_SEND
        reply: Any = None
        used: tuple[tuple[str, str], ...] = ()
        with deadline.scope(total):
            while True:
                if isinstance(step, Send):
                    used = self._auth.headers()
                    try:
                        # Hooks and a DEBUG line per request sent (_observe).
                        result: Any = self._observer.send(
                            transport, with_credentials(request, used)
                        )
                    except TransportError as exc:
                        result = exc
                    if flow is None:
                        if settles(result, policy):
                            response = result
                            break
                        flow = call_flow(
                            policy,
                            str(request.operation),
                            now=start,
                            rand=_calls.jitter,
                            total=total,
                            unsafe=_calls.unsafe_requested(),
                            first=Outcome(result, _calls.clock()),
                        )
                    else:
                        reply = Outcome(result, _calls.clock())
                elif isinstance(step, Sleep):
                    _calls.log_retry(step, policy)
                    _calls.sleep(step.seconds)
                    reply = _calls.clock()
                else:
                    reply = self._auth.invalidate(used)
                assert flow is not None  # only the flow yields steps after the first
                try:
                    step = flow.send(reply)
                except StopIteration as done:
                    response = done.value
                    break
        return self._auth.parse(call, request, response)

    def retry_unsafe(self) -> AbstractContextManager[None]:
        """A ``with`` block inside which calls are retried even when they may
        already have been executed: a message post or claim whose reply was
        lost is sent again, and may be stored or claimed twice. Outside it
        only what is safe is retried (``err.retryable``; 429 and 503 answers).
        Scoped to the current thread or task. The client-wide equivalent is
        ``retries=RetryPolicy(retry_unsafe=True)``.

        Example::

            with cli.retry_unsafe():
                queue.post({"body": "at least once"})
        """
        return _calls.retry_unsafe()

    def _check(self, *calls: Call[Any] | Operation) -> None:
        """Raise UnsupportedOperation, before anything is sent, for a call (or
        operation) this client's transport cannot carry; API versions refuse
        at build time already."""
        if self._ws_only:
            for call in calls:
                ws_action(call if isinstance(call, Operation) else call.request.operation)

    def _iterate(self, first: Call[Page[T]]) -> Iterator[T]:
        pages = Pagination(first)
        while (call := pages.next_call()) is not None:
            for item in pages.accept(self._send(call)):
                yield item

    def _run(self, flow: Flow[T]) -> T:
        """Drive a core flow (:mod:`zaqarkit.core.flows`): send what it yields."""
        call = next(flow)
        while True:
            try:
                call = flow.send(self._send(call))
            except StopIteration as done:
                return cast(T, done.value)

    def transport(self) -> Transport:
        """The transport this client sends through."""
        return self._transport

    def close(self) -> None:
        """Close the transport if this client created it. Idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_transport:
                self._transport.close()
            if self._fallback is not None:
                self._fallback[0].close()

    # -- server -------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the server and its storage answer; False when they do not
        (a 5xx, or no connection: refused, timed out, broken).

        A closed client raises :class:`~zaqarkit.TransportError` instead, as
        any other call does: that is a bug in the caller, not a server that is
        down.

        v1 has no ``/ping``: its public ``GET /v1/health`` (204 or 503) is the
        same check, and the v1 builders send that instead.

        Example::

            if not cli.ping():
                raise SystemExit("Zaqar is down")
        """
        if self._closed:
            raise TransportError("the client is closed", sent=False)
        try:
            return self._send(self._api.ping(), _NO_RETRIES)
        except (TransportError, ServerError):
            return False

    def health(self) -> models.Health:
        """Detailed health (admin: needs ``roles=['admin']`` without Keystone).

        On v1 ``/health`` is public and has no body (204 or 503), so the result
        is only ``Health({"storage_reachable": True})`` or ``{... False}``; v1.1
        and v2 return the server's detailed document (``storage_reachable``,
        ``operation_status``, per-pool entries when pooled).

        Example::

            health = cli.health()
            assert health.storage_reachable
        """
        return self._send(self._api.health())

    def homedoc(self) -> models.HomeDocument:
        """The JSON-Home document listing the server's resources."""
        return self._send(self._api.home_document())

    def follow(self, ref: str) -> Any:
        """GET an href from a response (``links``, ``Location``) and return its JSON.

        Relative hrefs resolve against the endpoint including its path prefix;
        an absolute URL on another origin is refused (credentials would leak).
        """
        path, query = split_ref(ref, self._settings.endpoint)
        return self._send(self._api.follow(path, query))

    # -- queues ---------------------------------------------------------------------

    def queue(
        self,
        name: str,
        auto_create: bool = True,
        force_create: bool = False,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> Queue:
        """A queue handle. No I/O: with ``auto_create`` the queue is created on
        first use (with ``metadata``, if given). ``force_create`` creates it now
        in the sync client and before anything else in the async one. A client
        built with :meth:`from_signed_url` never auto-creates: a signature does
        not cover creating queues.
        """
        if isinstance(self._auth, SignedURLAuth):
            # A pre-signed URL never covers creating the queue (Zaqar answers 404).
            auto_create = False
        queue = Queue(self, name, auto_create=auto_create or force_create, metadata=metadata)
        if force_create:
            queue.ensure_exists(force_create=True)
        return queue

    def queues(
        self,
        *,
        limit: int | None = None,
        detailed: bool | None = None,
        **filters: Any,
    ) -> Iterator[Queue]:
        """Every queue of the project, page by page (``limit`` is the page size)."""
        first = self._api.queue_list(limit=limit, detailed=detailed, **filters)
        for item in self._iterate(first):
            yield Queue(self, item.name, auto_create=False, listed=item)

    def queue_count(self) -> int:
        """How many queues the project has.

        One request where the server counts (HTTP v2, ``with_count=true``).
        API v1/v1.1 have no such flag, Zaqar's WebSocket ``queue_list`` ignores
        it and the SQL catalog answers ``"count": true``: then the listing is
        paged through and counted here.

        Example::

            total = client.queue_count()
        """
        return self._run(flows.queue_count(self._api))

    # -- subscriptions ------------------------------------------------------------------

    def subscription(
        self,
        queue_name: str,
        subscriber: str | None = None,
        ttl: int = 3600,
        options: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        auto_create: bool = True,
    ) -> Subscription:
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
            id = self._send(
                self._api.subscription_create(queue_name, subscriber, ttl=ttl, options=options)
            )
        record = self._send(self._api.subscription_get(queue_name, id))
        return Subscription(self, queue_name, record)

    def subscriptions(
        self,
        queue_name: str,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> Iterator[Subscription]:
        """Every subscription of a queue, page by page. ``detailed`` is
        accepted for python-zaqarclient and changes nothing: Zaqar always lists
        every field of a subscription."""
        first = self._api.subscription_list(queue_name, limit=limit, marker=marker)
        for item in self._iterate(first):
            yield Subscription(self, queue_name, item)

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
    ) -> Pool:
        """A pool handle (admin). No I/O here: with ``auto_create`` and a ``uri``
        and ``weight`` the pool is created lazily, on the first of: using the
        handle, creating a flavor whose ``pool_list`` names it, or listing
        pools or flavors. So declaring a pool and then a flavor on it works in
        that order, and a listing right after shows both.

        Example::

            pool = cli.pool("fast", weight=10, uri="redis://127.0.0.1:6379")
            flavor = cli.flavor("gold", pool_list=["fast"])
            flavor.ensure_exists()   # creates "fast", then "gold"
        """
        pool = Pool(
            self,
            name,
            weight=weight,
            uri=uri,
            flavor=flavor,
            options=options,
            auto_create=auto_create,
        )
        self._declare(pool)
        return pool

    def pools(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> Iterator[Pool]:
        """Every registered pool (admin). Pools declared with :meth:`pool` and
        not yet created are created first, so the listing shows them."""
        self._create_declared()
        first = self._api.pool_list(limit=limit, marker=marker, detailed=detailed)
        for item in self._iterate(first):
            yield Pool.from_record(self, item)

    def flavor(
        self,
        name: str,
        pool_list: Iterable[str] | None = None,
        auto_create: bool = True,
        *,
        pool: str | None = None,
    ) -> Flavor:
        """A flavor handle (admin). No I/O here: with ``auto_create`` and a
        ``pool_list`` the flavor is created lazily, on first use of the handle
        or on the next pool or flavor listing; pools declared with :meth:`pool`
        that it names are created before it.

        ``pool=`` is python-zaqarclient's pool group. API v1.1 sends it as is;
        v2 no longer has pool groups, so there it becomes ``pool_list=[pool]``
        with a DeprecationWarning.
        """
        if pool is not None:
            if not self._api.flavor_pool_groups:
                warnings.warn(
                    "flavor(pool=...) names a pool group, which Zaqar v2 removed; "
                    "use pool_list=[...] instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
            pool_list = [pool, *(pool_list or ())]
        flavor = Flavor(self, name, pool_list=pool_list, auto_create=auto_create)
        self._declare(flavor)
        return flavor

    def _declare(self, handle: Pool | Flavor) -> None:
        # Declared-but-uncreated admin resources, so that a flavor naming a
        # pool, or a listing, creates what was declared before it.
        if handle._auto_create:
            self._declared[(handle.kind, handle.name)] = handle

    def _create_declared(self, pools: Iterable[str] | None = None) -> None:
        wanted = None if pools is None else set(pools)
        for (kind, name), handle in list(self._declared.items()):
            if wanted is None or (kind == "pool" and name in wanted):
                handle.ensure_exists()

    def flavors(
        self,
        *,
        limit: int | None = None,
        marker: str | None = None,
        detailed: bool | None = None,
    ) -> Iterator[Flavor]:
        """Every flavor. Pools and flavors declared with :meth:`pool` and
        :meth:`flavor` and not yet created are created first."""
        self._create_declared()
        first = self._api.flavor_list(limit=limit, marker=marker, detailed=detailed)
        for item in self._iterate(first):
            yield Flavor.from_record(self, item)


class Queue:
    """A queue. Obtain it with :meth:`Client.queue`."""

    def __init__(
        self,
        client: Client,
        name: str,
        *,
        auto_create: bool = True,
        metadata: Mapping[str, Any] | None = None,
        listed: models.Queue | None = None,
    ) -> None:
        self._client = client
        self._api = client._api
        self.name = validate_name(name)
        self._auto_create = auto_create
        self._create_metadata = dict(metadata) if metadata is not None else None
        self._listed = listed
        self.href = listed.href if listed is not None else None
        # The calls consumers and polling loops repeat, built once for
        # arguments that repeat (the Api and its limits are inputs too).
        self._listing: LastCall[Page[models.Message[Any]]] = LastCall()
        self._popping: LastCall[tuple[models.Message[Any], ...]] = LastCall()
        self._claiming: LastCall[models.Claim[Any]] = LastCall()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Queue):
            return NotImplemented
        return self.name == other.name and self._client is other._client

    def __hash__(self) -> int:
        return hash(self.name)

    def _ready(self, *calls: Call[Any] | Operation) -> None:
        """Create the queue on first use, unless one of ``calls`` (what the
        caller is about to send) cannot be sent at all: that refusal comes
        first, so nothing reaches the server."""
        self._client._check(*calls)
        if self._auto_create:
            self._client._check(self._api.queue_create(self.name, self._create_metadata))
            self.ensure_exists()

    def ensure_exists(self, force_create: bool = False) -> None:
        """Create the queue unless this handle already did (``force_create``
        sends the PUT regardless). Zaqar leaves an existing queue's metadata alone."""
        if self._auto_create or force_create:
            self._auto_create = False
            self._client._send(self._api.queue_create(self.name, self._create_metadata))

    def exists(self) -> bool:
        """Whether the queue exists: ``HEAD`` on v1, the queue listing otherwise.

        v1.1 and v2 have no HEAD on queues, and their ``GET /queues/{name}``
        answers 200 (empty or default metadata) even for a queue that was never
        created, so only the listing can tell.

        Example::

            if not queue.exists():
                queue.ensure_exists()
        """
        return self._client._run(flows.queue_exists(self._api, self.name))

    def metadata(
        self,
        new_meta: Mapping[str, Any] | None = None,
        force_reload: bool = False,
        *,
        keep_reserved: bool = True,
    ) -> dict[str, Any]:
        """The queue's metadata; with ``new_meta``, replace the user keys with it
        (reserved ``_`` keys are only changed when given) and return the result.

        Every call reads the server (nothing is cached), so python-zaqarclient's
        ``force_reload`` is accepted and has nothing to do. ``keep_reserved=False``
        replaces the whole document as python-zaqarclient does: reserved keys
        missing from ``new_meta`` go back to the server's defaults.

        v2 sends a JSON patch computed from the current metadata; v1 replaces
        the whole ``/metadata`` document with one PUT (v1 has no ``_`` keys);
        v1.1 can only read metadata, so setting it raises UnsupportedOperation
        before anything is sent (pass ``metadata=`` to :meth:`Client.queue`
        to set it when the queue is created).

        Example::

            queue.metadata({"owner": "billing"})
            assert (queue.metadata())["owner"] == "billing"
        """
        replace = None
        if new_meta is not None:
            replace = queue_replace_metadata_call(self._api, self.name, new_meta)
        get = self._api.queue_get(self.name)
        if replace is not None:
            self._ready(replace)
        else:
            self._ready(get, *(() if new_meta is None else (Operation.QUEUE_UPDATE,)))
        if replace is not None:
            return self._client._send(replace)
        current = self._client._send(get)
        if new_meta is None:
            return current
        operations = metadata_patch(current, new_meta, keep_reserved=keep_reserved)
        if not operations:
            return current
        return self._client._send(self._api.queue_update(self.name, operations))

    def stats(self) -> models.Stats:
        """Message counts (claimed, free, total) and the oldest and newest message."""
        call = self._api.queue_stats(self.name)
        self._ready(call)
        return self._client._send(call)

    def delete(self) -> None:
        """Delete the queue and its messages (no error if it does not exist)."""
        self._auto_create = False
        self._client._send(self._api.queue_delete(self.name))

    def purge(self, resource_types: Iterable[str] | None = None) -> None:
        """Delete the queue's messages and/or subscriptions, keeping the queue."""
        call = self._api.queue_purge(self.name, resource_types)
        self._ready(call)
        self._client._send(call)

    def post(self, messages: Any) -> list[str]:
        """Post one message dict or a list of them; returns the new ids in order.

        Example::

            ids = queue.post([{"body": {"event": "paid"}, "ttl": 300}])
        """
        # Posting creates the queue on the server (v1.1, v2): no separate PUT is
        # needed unless the queue is to get metadata.
        if self._api.post_creates_queue and self._create_metadata is None:
            self._auto_create = False
        call = self._api.message_post(self.name, messages)
        self._ready(call)
        ids = self._client._send(call)
        return list(ids)

    @overload
    def message(self, message_id: str, *, body_type: None = None) -> Message[Any]: ...
    @overload
    def message(self, message_id: str, *, body_type: type[B]) -> Message[B]: ...

    def message(self, message_id: str, *, body_type: Any = None) -> Message[Any]:
        """One message by id (NotFound if it does not exist).

        With ``body_type`` (a ``msgspec.Struct``, dataclass, ``TypedDict``,
        plain type such as ``dict[str, int]``, or pydantic model) the body is
        decoded into it; a body that does not decode raises
        :class:`zaqarkit.BodyDecodeError` naming the message id and the field.

        Example::

            message = queue.message(message_id, body_type=Order)
            print(message.body.sku)
        """
        call: Call[Any] = self._api.message_get(self.name, message_id)
        if body_type is not None:
            call = typed_message(call, codec_for(body_type))
        self._ready(call)
        record = self._client._send(call)
        return Message(self, record)

    @overload
    def messages(
        self,
        *ids: str,
        echo: bool | None = None,
        include_claimed: bool | None = None,
        include_delayed: bool | None = None,
        limit: int | None = None,
        marker: str | None = None,
        body_type: None = None,
    ) -> Iterator[Message[Any]]: ...
    @overload
    def messages(
        self,
        *ids: str,
        echo: bool | None = None,
        include_claimed: bool | None = None,
        include_delayed: bool | None = None,
        limit: int | None = None,
        marker: str | None = None,
        body_type: type[B],
    ) -> Iterator[Message[B]]: ...

    def messages(
        self,
        *ids: str,
        echo: bool | None = None,
        include_claimed: bool | None = None,
        include_delayed: bool | None = None,
        limit: int | None = None,
        marker: str | None = None,
        body_type: Any = None,
    ) -> Iterator[Message[Any]]:
        """The given messages, or every message of the queue page by page
        (``limit`` is the page size, ``marker`` where to start: a previous
        page's ``next`` marker). Missing ids are skipped.

        With ``body_type`` every body is decoded into it, straight from the
        answer's bytes; a body that does not decode raises
        :class:`zaqarkit.BodyDecodeError` naming the message id and the field
        (leave ``body_type`` out to read bodies as plain JSON).

        Example::

            for message in queue.messages(echo=True, body_type=Order):
                print(message.body.sku)
        """
        codec = None if body_type is None else codec_for(body_type)
        if ids:
            many: Call[Any] = self._api.message_get_many(self.name, ids)
            if codec is not None:
                many = typed_messages(many, codec)
            self._ready(many)
            found = self._client._send(many)
            for record in found:
                yield Message(self, record)
            return
        api = self._api
        args = (api, api.limits, limit, marker, echo, include_claimed, include_delayed, codec)
        first = self._listing.get(args)
        if first is None:
            first = api.message_list(
                self.name,
                limit=limit,
                marker=marker,
                echo=echo,
                include_claimed=include_claimed,
                include_delayed=include_delayed,
            )
            first = self._listing.put(args, first if codec is None else typed_page(first, codec))
        self._ready(first)
        # The client's _iterate loop, inlined: one (async) generator less
        # to step through per message.
        pages = Pagination(first, key=by_id)
        while (call := pages.next_call()) is not None:
            for record in pages.accept(self._client._send(call)):
                yield Message(self, record)

    def delete_messages(self, *ids: str, claim_ids: Iterable[str] | None = None) -> None:
        """Delete up to 20 messages by id in one request."""
        self._client._send(self._api.message_delete_many(self.name, ids, claim_ids=claim_ids))

    @overload
    def pop(self, count: int = 1, *, body_type: None = None) -> list[Message[Any]]: ...
    @overload
    def pop(self, count: int = 1, *, body_type: type[B]) -> list[Message[B]]: ...

    def pop(self, count: int = 1, *, body_type: Any = None) -> list[Message[Any]]:
        """Claim and delete up to ``count`` messages in one request.

        With ``body_type`` the bodies are decoded into it. A body that does
        not decode raises :class:`zaqarkit.BodyDecodeError` (its ``record`` is
        the message, body as plain JSON): the pop has deleted the messages
        already, so that error is the only copy left of them.

        Example::

            for message in queue.pop(5, body_type=Order):
                print(message.body.sku)
        """
        api = self._api
        codec = None if body_type is None else codec_for(body_type)
        args = (api, api.limits, count, codec)
        call = self._popping.get(args)
        if call is None:
            call = api.message_pop(self.name, count)
            call = self._popping.put(args, call if codec is None else typed_messages(call, codec))
        self._ready(call)
        records = self._client._send(call)
        return [Message(self, record) for record in records]

    @overload
    def claim(
        self,
        id: str | None = None,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
        *,
        body_type: None = None,
    ) -> Claim[Any]: ...
    @overload
    def claim(
        self,
        id: str | None = None,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
        *,
        body_type: type[B],
    ) -> Claim[B]: ...

    def claim(
        self,
        id: str | None = None,
        ttl: int | None = None,
        grace: int | None = None,
        limit: int | None = None,
        *,
        body_type: Any = None,
    ) -> Claim[Any]:
        """Claim up to ``limit`` messages for ``ttl`` seconds, or fetch claim ``id``.

        A claim that found nothing has ``id`` None and no messages. With
        ``body_type`` the bodies are decoded into it; when one does not
        decode, a new claim is released first (its messages are free again,
        and Zaqar counts the claim towards ``max_claim_count``), then
        :class:`zaqarkit.BodyDecodeError` is raised naming the message id and
        the field. :meth:`consumer` instead hands out the good ones and treats
        the others as poison.

        Example::

            claim = queue.claim(ttl=60, limit=10, body_type=Order)
            for message in claim:
                print(message.body.sku)
                message.delete()
        """
        codec = None if body_type is None else codec_for(body_type)
        if id is not None:
            get: Call[Any] = self._api.claim_get(self.name, id)
            if codec is not None:
                get = typed_claim(get, codec)
            self._ready(get)
            record = self._client._send(get)
            if record.rejected:
                raise record.rejected[0]
            return Claim(self, record, codec)
        record = self._claim_record(ttl, grace, limit, codec)
        if record.rejected:
            # If the release fails the claim expires after ttl: the decode
            # error is what to report.
            with contextlib.suppress(ZaqarError):
                Claim(self, record).delete()
            raise record.rejected[0]
        return Claim(self, record, codec)

    def _claim_record(
        self, ttl: int | None, grace: int | None, limit: int | None, codec: BodyCodec[Any] | None
    ) -> models.Claim[Any]:
        """A new claim as the core parsed it (with a codec: ``rejected`` holds
        the messages whose body did not decode; the consumer's path)."""
        api = self._api
        args = (api, api.limits, ttl, grace, limit, codec)
        create = self._claiming.get(args)
        if create is None:
            create = api.claim_create(self.name, ttl=ttl, grace=grace, limit=limit)
            create = self._claiming.put(
                args, create if codec is None else typed_claim(create, codec)
            )
        self._ready(create)
        return self._client._send(create)

    def signed_url(
        self,
        paths: Iterable[str] | None = None,
        ttl_seconds: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> models.SignedURL:
        """A pre-signed URL granting ``methods`` on ``paths`` (messages,
        subscriptions, claims) for ``ttl_seconds`` (server default: one day)."""
        expires = None
        if ttl_seconds is not None:
            if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds < 1:
                raise ValidationError("ttl_seconds", f"must be a positive int, got {ttl_seconds!r}")
            expires = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=ttl_seconds)
        call = self._api.queue_share(self.name, paths=paths, methods=methods, expires=expires)
        self._ready(call)
        return self._client._send(call)

    def subscriptions(
        self,
        detailed: bool | None = None,
        marker: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Subscription]:
        """Every subscription of this queue (``detailed`` is accepted for
        python-zaqarclient: listed subscriptions always carry every field)."""
        for subscription in self._client.subscriptions(
            self.name, detailed=detailed, marker=marker, limit=limit
        ):
            yield subscription

    @overload
    def subscribe(
        self,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        *,
        body_type: None = None,
    ) -> AbstractContextManager[PushStream[Any]]: ...
    @overload
    def subscribe(
        self,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        *,
        body_type: type[B],
    ) -> AbstractContextManager[PushStream[B]]: ...

    @contextmanager
    def subscribe(
        self,
        ttl: int | None = None,
        options: Mapping[str, Any] | None = None,
        *,
        body_type: Any = None,
    ) -> Iterator[PushStream[Any]]:
        """Stream this queue's new messages as Zaqar pushes them (WebSocket only).

        Yields an iterator of :class:`zaqarkit.core.ws.Notification` (``body``,
        ``ttl``, ``queue_name``); leaving the block deletes the subscription.
        After a dropped connection the transport reconnects and re-subscribes,
        and the iterator yields a :class:`zaqarkit.core.wsconn.PushGap` (as it
        does when its bounded buffer dropped notifications): ``note.gap``.
        With ``body_type``, bodies are decoded into it; a push whose body does
        not decode is logged (WARNING) and yields a ``PushGap`` saying why
        (the message itself stays in the queue: a push is only a copy).

        Example::

            with queue.subscribe(ttl=600, body_type=Order) as notifications:
                for note in notifications:
                    if not note.gap:
                        print(note.body.sku)
        """
        codec = None if body_type is None else codec_for(body_type)
        subscribe = getattr(self._client._transport, "subscribe", None)
        if subscribe is None:
            raise UnsupportedOperation(
                "subscribe() streams push notifications over WebSocket; the HTTP transport "
                "cannot receive them. Use a ws:// URL, or create a webhook with "
                "client.subscription(queue, subscriber='http://...')."
            )
        headers = self._client._context.headers + self._client._auth.headers()
        stream: PushStream[Any] = subscribe(
            self.name,
            ttl=ttl,
            options=options,
            headers=headers,
            **({} if codec is None else {"codec": codec}),
        )
        try:
            yield stream
        finally:
            stream.close()

    # -- consuming and producing (issue 12) ----------------------------------------------

    def _packer(self, max_count: int, max_bytes: int | None) -> Packer:
        websocket = self._client._settings.scheme in ("ws", "wss")
        return packer_for(
            self._api.limits, websocket=websocket, max_count=max_count, max_bytes=max_bytes
        )

    def _post_item(self, item: Any, index: int) -> dict[str, Any]:
        # The builder's own validation (v1 also wants a ttl), renamed to the
        # message's position in the whole input rather than in its batch.
        try:
            return self._api._message_items([item])[0]
        except ValidationError as error:
            field = error.field.replace("messages[0]", f"messages[{index}]", 1)
            raise ValidationError(field, error.rule) from None

    def post_many(
        self,
        messages: Iterable[Any],
        *,
        max_count: int = DEFAULT_MAX_COUNT,
        max_bytes: int | None = None,
    ) -> list[str]:
        """Post any number of messages, packed into as few requests as the
        server's limits allow; returns every id in input order.

        Each request holds at most ``max_count`` messages and at most
        ``max_messages_post_size`` bytes (the client's ``limits``, or
        ``max_bytes``), measured the way the server measures it (JSON over
        HTTP, the decoded list's repr over WebSocket). A list or tuple is
        checked whole before anything is sent; a message that could never fit
        raises :class:`ValidationError` naming ``messages[<index>]``. From a
        lazy iterable, batches are sent as they fill: an error then carries
        ``posted_ids``, the ids of the messages already posted (input order).

        Example::

            ids = queue.post_many({"body": n, "ttl": 300} for n in range(1000))
            assert len(ids) == 1000
        """
        packer = self._packer(max_count, max_bytes)
        posted: list[str] = []
        if isinstance(messages, (list, tuple)):
            # One validation pass for the whole list: its field names
            # (messages[i]) are already positions in the input.
            items = self._api._message_items(messages) if messages else []
            sizes = [packer.cost(item, i) for i, item in enumerate(items)]
            pairs: Iterable[tuple[dict[str, Any], int | None]] = zip(items, sizes, strict=True)
        else:
            pairs = self._lazy_items(messages)
        try:
            for index, (item, size) in enumerate(pairs):
                closed = packer.add(item, index, size)
                if closed is not None:
                    posted += self.post(closed.items)
            last = packer.flush()
            if last is not None:
                posted += self.post(last.items)
        except Exception as error:
            error.posted_ids = posted  # type: ignore[attr-defined]
            raise
        return posted

    def _lazy_items(self, messages: Iterable[Any]) -> Iterator[tuple[dict[str, Any], None]]:
        for index, item in enumerate(messages):
            yield self._post_item(item, index), None

    def producer(
        self,
        *,
        linger: float = 0.0,
        max_count: int = DEFAULT_MAX_COUNT,
        max_bytes: int | None = None,
        max_pending: int = 4,
    ) -> Producer:
        """A batching producer (see :class:`zaqarkit.Producer`): ``send()``
        buffers, full batches are posted in the background in order, ``flush()``
        returns the ids posted since the last flush in input order.

        Example::

            with queue.producer(linger=0.05) as producer:
                for n in range(1000):
                    producer.send({"body": n, "ttl": 300})
                ids = producer.flush()
        """
        from zaqarkit._sync.producer import Producer

        return Producer(
            self, linger=linger, max_count=max_count, max_bytes=max_bytes, max_pending=max_pending
        )

    @overload
    def consumer(
        self,
        *,
        batch: int | None = None,
        max_in_flight: int | None = None,
        ttl: int = 60,
        grace: int = 60,
        renew_every: float | None = None,
        poll_initial: float = 0.1,
        poll_max: float = 5.0,
        push: bool | None = None,
        push_poll: float = 5.0,
        drain_timeout: float = 10.0,
        ack_linger: float = 0.02,
        delete_claims: bool = True,
        seed: int | None = None,
        body_type: None = None,
        on_poison: Poison = "auto",
    ) -> Consumer[Any]: ...
    @overload
    def consumer(
        self,
        *,
        batch: int | None = None,
        max_in_flight: int | None = None,
        ttl: int = 60,
        grace: int = 60,
        renew_every: float | None = None,
        poll_initial: float = 0.1,
        poll_max: float = 5.0,
        push: bool | None = None,
        push_poll: float = 5.0,
        drain_timeout: float = 10.0,
        ack_linger: float = 0.02,
        delete_claims: bool = True,
        seed: int | None = None,
        body_type: type[B],
        on_poison: Poison = "auto",
    ) -> Consumer[B]: ...

    def consumer(
        self,
        *,
        batch: int | None = None,
        max_in_flight: int | None = None,
        ttl: int = 60,
        grace: int = 60,
        renew_every: float | None = None,
        poll_initial: float = 0.1,
        poll_max: float = 5.0,
        push: bool | None = None,
        push_poll: float = 5.0,
        drain_timeout: float = 10.0,
        ack_linger: float = 0.02,
        delete_claims: bool = True,
        seed: int | None = None,
        body_type: Any = None,
        on_poison: Poison = "auto",
    ) -> Consumer[Any]:
        """An at-least-once consumer (:class:`zaqarkit.Consumer`): a
        context manager to iterate for :class:`~zaqarkit.Delivery` objects.

        It claims ``batch`` messages at a time (default: the server's per-claim
        limit, 20 on a stock Zaqar, or 10 if smaller) for ``ttl`` seconds (60 at
        least, Zaqar's floor), keeps at most ``max_in_flight`` (default
        ``2 * batch``) unsettled, renews a claim every ``renew_every`` seconds
        (default ``ttl / 3``) while any of its messages is outstanding, and
        batches acks into delete-many. When the queue is empty it waits:
        woken by push notifications over WebSocket (``push=None`` picks them
        when the transport can; ``push_poll`` is the fallback poll), or
        polling from ``poll_initial`` up to ``poll_max`` seconds with jitter
        (seeded by ``seed``). On exit it stops claiming, waits up to
        ``drain_timeout`` for handed-out deliveries, and releases the rest.
        A claim whose messages were all acknowledged is deleted
        (``delete_claims``): Zaqar 23's redis store answers 503 to queue stats
        while an expired claim lingers in its index.

        With ``body_type`` each delivery's body is decoded into it (straight
        from the claim's bytes); a message whose body does not decode is
        never handed out, and ``on_poison`` decides what becomes of it (see
        :class:`zaqarkit.Consumer`): by default it moves to the queue's
        dead-letter queue if one is set, else it is released with a WARNING.

        Example::

            with queue.consumer(max_in_flight=20, body_type=Order) as consumer:
                for delivery in consumer:
                    handle(delivery.body)  # an Order
                    delivery.ack()
        """
        from zaqarkit._sync.consumer import Consumer

        if batch is None:
            batch = min(10, self._api.limits.max_messages_per_claim_or_pop)
        settings = ConsumerSettings(
            batch=batch,
            max_in_flight=max_in_flight if max_in_flight is not None else 2 * batch,
            ttl=ttl,
            grace=grace,
            renew_every=renew_every,
            poll_initial=poll_initial,
            poll_max=max(poll_max, poll_initial),
            push_poll=push_poll,
            drain_timeout=drain_timeout,
            ack_linger=ack_linger,
            delete_claims=delete_claims,
            ack_batch=self._api.limits.max_messages_per_page,
        )
        codec = None if body_type is None else codec_for(body_type)
        return Consumer(self, settings, push=push, seed=seed, codec=codec, on_poison=on_poison)

    @overload
    def consume(
        self,
        handler: Handler[Any],
        *,
        concurrency: int = 4,
        max_messages: int | None = None,
        body_type: None = None,
        **options: Any,
    ) -> ConsumerStats: ...
    @overload
    def consume(
        self,
        handler: Handler[B],
        *,
        concurrency: int = 4,
        max_messages: int | None = None,
        body_type: type[B],
        **options: Any,
    ) -> ConsumerStats: ...

    def consume(
        self,
        handler: Handler[Any],
        *,
        concurrency: int = 4,
        max_messages: int | None = None,
        body_type: Any = None,
        **options: Any,
    ) -> ConsumerStats:
        """Run ``handler(delivery)`` on every message until stopped, with
        ``concurrency`` handlers at a time (tasks here; worker threads in the
        sync client, where SIGINT and SIGTERM stop it gracefully).

        A handler that returns acknowledges its delivery, one that raises
        releases it (a nack), unless it settled the delivery itself. It stops
        on ``delivery.consumer.stop()``, after ``max_messages`` deliveries, or
        when cancelled; in-flight handlers get ``drain_timeout`` to finish, and
        what is left is released. ``options`` go to :meth:`consumer`
        (``on_poison`` among them). With ``body_type`` the handler receives
        deliveries whose body is decoded into it; poison messages never reach
        it (see :meth:`consumer`). Returns the consumer's counters.

        Example::

            def handler(delivery: Delivery[Order]) -> None:
                print(delivery.body.sku)

            queue.consume(handler, concurrency=8, body_type=Order)
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("concurrency", f"must be an int >= 1, got {concurrency!r}")
        if max_messages is not None and (
            isinstance(max_messages, bool) or not isinstance(max_messages, int) or max_messages < 1
        ):
            raise ValidationError("max_messages", f"must be an int >= 1, got {max_messages!r}")
        with self.consumer(body_type=body_type, **options) as consumer:
            return consumer.run(handler, concurrency=concurrency, max_messages=max_messages)

    def set_dead_letter(
        self,
        queue: str | Queue,
        max_claim_count: int,
        messages_ttl: int | None = None,
    ) -> dict[str, Any]:
        """Move a message claimed more than ``max_claim_count`` times to the
        dead-letter queue ``queue`` (created here if needed), with
        ``messages_ttl`` as its new ttl (default: it keeps its own).

        Zaqar counts claims per message and moves the message on the claim
        after the ``max_claim_count``-th (queue metadata ``_max_claim_count``,
        ``_dead_letter_queue``, ``_dead_letter_queue_messages_ttl``; zaqar's
        ``storage/redis/claims.py`` ``create``): a message whose handler
        fails every time is delivered ``max_claim_count`` times, then parked.
        Both queues must live in the same pool. On Zaqar 23 with redis the
        parked message is read from the dead-letter queue by id
        (``dlq.message(id)``); that queue's listings and stats do not show it.
        Returns the new metadata.

        Example::

            queue.set_dead_letter("orders.dlq", max_claim_count=3)
        """
        target = queue if isinstance(queue, Queue) else self._client.queue(queue)
        if target.name == self.name:
            raise ValidationError("queue", "a queue cannot be its own dead-letter queue")
        max_claim_count = validate_integer(max_claim_count, "max_claim_count", 1, None)
        changes: dict[str, Any] = {
            "_dead_letter_queue": target.name,
            "_max_claim_count": max_claim_count,
        }
        if messages_ttl is not None:
            changes["_dead_letter_queue_messages_ttl"] = validate_message_ttl(
                messages_ttl, self._api.limits, "messages_ttl"
            )
        target.ensure_exists(force_create=True)
        self._ready()
        # Only "add" operations: a patch that names only these keys leaves
        # the queue's other metadata alone.
        operations = metadata_patch({}, changes)
        return self._client._send(self._api.queue_update(self.name, operations))

    def dead_letter(self) -> dict[str, Any]:
        """The queue's dead-letter settings (``queue``, ``max_claim_count``,
        ``messages_ttl``); empty when none is set."""
        meta = self.metadata()
        if "_dead_letter_queue" not in meta:
            return {}
        return {
            "queue": meta["_dead_letter_queue"],
            "max_claim_count": meta.get("_max_claim_count"),
            "messages_ttl": meta.get("_dead_letter_queue_messages_ttl"),
        }


class Message(Generic[B]):
    """A message: ``id``, ``body``, ``ttl``, ``age``, ``href``, ``claim_id``,
    ``claim_count``, ``checksum``. ``body`` is a ``B`` when the message was
    read with ``body_type=B``, the decoded JSON otherwise."""

    __slots__ = ("_queue", "_record")

    def __init__(self, queue: Queue, record: models.Message[B]) -> None:
        self._queue = queue
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def body(self) -> B:
        return self._record.body

    @property
    def ttl(self) -> int:
        return self._record.ttl

    @property
    def age(self) -> int:
        return self._record.age

    @property
    def href(self) -> str | None:
        return self._record.href

    @property
    def claim_id(self) -> str | None:
        return self._record.claim_id

    @property
    def claim_count(self) -> int | None:
        return self._record.claim_count

    @property
    def checksum(self) -> str | None:
        return self._record.checksum

    @property
    def queue(self) -> Queue:
        return self._queue

    @property
    def record(self) -> models.Message[B]:
        """The parsed message as an immutable core model."""
        return self._record

    def __repr__(self) -> str:
        claimed = f" claim_id={self.claim_id!r}" if self.claim_id else ""
        return f"<{type(self).__name__} {self.id!r} queue={self._queue.name!r}{claimed}>"

    def delete(self) -> None:
        """Delete the message, with its claim id when it is claimed."""
        queue, record = self._queue, self._record
        queue._client._send(
            queue._api.message_delete(queue.name, record.id, claim_id=record.claim_id)
        )


class Claim(Generic[B]):
    """A claim on messages. Iterate it for its messages."""

    def __init__(
        self, queue: Queue, record: models.Claim[B], codec: BodyCodec[B] | None = None
    ) -> None:
        self._queue = queue
        self._record = record
        self._codec = codec

    @property
    def id(self) -> str | None:
        return self._record.id

    @property
    def ttl(self) -> int | None:
        return self._record.ttl

    @property
    def grace(self) -> int | None:
        return self._record.grace

    @property
    def age(self) -> int | None:
        return self._record.age

    @property
    def messages(self) -> list[Message[B]]:
        return [Message(self._queue, record) for record in self._record.messages]

    def __iter__(self) -> Iterator[Message[B]]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self._record.messages)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.id!r} queue={self._queue.name!r} messages={len(self)}>"
        )

    def _require_id(self) -> str:
        if self.id is None:
            raise ValidationError("claim", "claimed nothing, so there is no claim to act on")
        return str(self.id)

    def reload(self) -> None:
        """Fetch the claim's current ttl, age and messages."""
        get: Call[Any] = self._queue._api.claim_get(self._queue.name, self._require_id())
        if self._codec is not None:
            get = typed_claim(get, self._codec)
        record = self._queue._client._send(get)
        self._record = models.Claim(
            record.id,
            record.ttl,
            record.age,
            self._record.grace,
            record.href,
            record.messages,
            record.rejected,
        )

    def update(self, ttl: int | None = None, grace: int | None = None) -> None:
        """Renew the claim. Zaqar resets an omitted field to the server default,
        so the claim's current values are sent for whatever is not given."""
        ttl = ttl if ttl is not None else self.ttl
        grace = grace if grace is not None else self.grace
        self._queue._client._send(
            self._queue._api.claim_update(
                self._queue.name, self._require_id(), ttl=ttl, grace=grace
            )
        )
        self._record = models.Claim(
            self._record.id,
            ttl,
            0,
            grace,
            self._record.href,
            self._record.messages,
            self._record.rejected,
        )

    def delete(self) -> None:
        """Release the claim: its messages become available to others."""
        if self.id is None:
            return
        self._queue._client._send(
            self._queue._api.claim_delete(self._queue.name, self._require_id())
        )


class Subscription:
    """A subscription: ``id``, ``queue_name``, ``subscriber``, ``ttl``,
    ``options``, ``age``, ``confirmed``."""

    def __init__(self, client: Client, queue_name: str, record: models.Subscription) -> None:
        self._client = client
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
        self._record = self._client._send(
            self._client._api.subscription_get(self.queue_name, self.id)
        )

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
        fields = dict(changes or {})
        unknown = set(fields) - {"subscriber", "ttl", "options"}
        if unknown:
            raise ValidationError("changes", f"has unknown keys {sorted(unknown)}")
        self._client._send(
            self._client._api.subscription_update(
                self.queue_name,
                self.id,
                subscriber=subscriber if subscriber is not None else fields.get("subscriber"),
                ttl=ttl if ttl is not None else fields.get("ttl"),
                options=options if options is not None else fields.get("options"),
            )
        )
        self.reload()

    def confirm(self, confirmed: bool = True) -> None:
        """Confirm (or with False, unconfirm) the subscription."""
        self._client._send(
            self._client._api.subscription_confirm(self.queue_name, self.id, confirmed)
        )

    def delete(self) -> None:
        self._client._send(self._client._api.subscription_delete(self.queue_name, self.id))


class Pool:
    """A storage pool (admin): ``name``, ``uri``, ``weight``, ``flavor``, ``options``."""

    kind = "pool"

    def __init__(
        self,
        client: Client,
        name: str,
        *,
        weight: int | None = None,
        uri: str | None = None,
        flavor: str | None = None,
        options: Mapping[str, Any] | None = None,
        auto_create: bool = True,
    ) -> None:
        self._client = client
        self.name = validate_name(name, "pool name")
        self.weight = weight
        self.uri = uri
        self.flavor = flavor
        self.options = dict(options) if options is not None else None
        self._auto_create = auto_create and uri is not None and weight is not None

    @classmethod
    def from_record(cls, client: Client, record: models.Pool) -> Pool:
        pool = cls(client, record.name, auto_create=False)
        pool._load(record)
        return pool

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
        if self._auto_create:
            self._auto_create = False
            self._client._declared.pop((self.kind, self.name), None)
            self._client._send(
                self._client._api.pool_create(
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
        self._load(self._client._send(self._client._api.pool_get(self.name, detailed=True)))
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
        fields = dict(changes or {})
        unknown = set(fields) - {"uri", "weight", "flavor", "options"}
        if unknown:
            raise ValidationError("changes", f"has unknown keys {sorted(unknown)}")
        call = self._client._api.pool_update(
            self.name,
            uri=uri if uri is not None else fields.get("uri"),
            weight=weight if weight is not None else fields.get("weight"),
            flavor=flavor if flavor is not None else fields.get("flavor"),
            options=options if options is not None else fields.get("options"),
        )
        self._load(self._client._send(call))

    def delete(self) -> None:
        self.ensure_exists()
        self._client._send(self._client._api.pool_delete(self.name))


class Flavor:
    """A flavor (admin): ``name``, ``pool_list``, ``capabilities``."""

    kind = "flavor"

    def __init__(
        self,
        client: Client,
        name: str,
        *,
        pool_list: Iterable[str] | None = None,
        auto_create: bool = True,
    ) -> None:
        self._client = client
        self.name = validate_name(name, "flavor name")
        self.pool_list: list[str] = list(pool_list or ())
        self.capabilities: list[str] = []
        self._auto_create = auto_create and bool(self.pool_list)

    @classmethod
    def from_record(cls, client: Client, record: models.Flavor) -> Flavor:
        flavor = cls(client, record.name, auto_create=False)
        flavor._load(record)
        return flavor

    def _load(self, record: models.Flavor) -> None:
        self.pool_list = list(record.pool_list) or self.pool_list
        self.capabilities = list(record.capabilities)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} pool_list={self.pool_list!r}>"

    def ensure_exists(self) -> None:
        """Create the flavor (once per handle) if it was given a pool list;
        pools declared on the same client that it names are created first."""
        if self._auto_create:
            self._auto_create = False
            self._client._declared.pop((self.kind, self.name), None)
            self._client._create_declared(self.pool_list)
            self._client._send(self._client._api.flavor_create(self.name, self.pool_list))

    def get(self) -> Flavor:
        self.ensure_exists()
        self._load(self._client._send(self._client._api.flavor_get(self.name)))
        return self

    def update(
        self, changes: Mapping[str, Any] | None = None, *, pool_list: Iterable[str] | None = None
    ) -> None:
        """Replace the flavor's pool list."""
        self.ensure_exists()
        pools = pool_list if pool_list is not None else (changes or {}).get("pool_list")
        if pools is None:
            raise ValidationError("pool_list", "is required to update a flavor")
        self._load(self._client._send(self._client._api.flavor_update(self.name, pools)))

    def delete(self) -> None:
        self.ensure_exists()
        self._client._send(self._client._api.flavor_delete(self.name))
