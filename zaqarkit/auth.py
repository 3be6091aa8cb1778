"""Authentication backends: ``noauth``, ``keystone`` and ``signed-url``.

A client holds one :class:`Auth`. Per request it asks for credential headers
(``headers()`` in the sync client, ``await async_headers()`` in the async one);
on a 401 it calls ``invalidate()`` once and retries once. The pure decisions
live in :mod:`zaqarkit.core.auth`.

Pick a backend with ``conf`` (python-zaqarclient's format) or arguments::

    from zaqarkit import Client
    from zaqarkit.auth import KeystoneAuth

    Client(url, conf={"auth_opts": {"backend": "keystone", "options": {
        "os_auth_url": "https://keystone/v3", "os_username": "demo",
        "os_password": "...", "os_project_name": "demo",
        "os_user_domain_id": "default", "os_project_domain_id": "default"}}})
    Client(url, session=keystoneauth_session)           # a keystoneauth1 Session
    Client(None, session=keystoneauth_session)          # url from the catalog
    Client(url, auth=KeystoneAuth.from_env())           # OS_* variables
    Client.from_signed_url(url, queue.signed_url())     # pre-signed access

keystoneauth1 (the ``keystone`` extra) is imported only when Keystone is
used. It is synchronous: :class:`KeystoneAuth` caches the token and fetches
it in a thread of its own, one fetch at a time however many threads or tasks
wait for it. Each caller waits only until its call's deadline (the client's
``timeout``): a Keystone that stops answering fails the call with
:class:`~zaqarkit.TimeoutError`, and the fetch is abandoned to finish in the
background (its token is kept if it comes; its error is dropped).

Tokens, passwords and signatures never appear in ``repr``, in log records
written by zaqarkit, or in the messages of the errors it raises.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import anyio
import anyio.to_thread

from zaqarkit.core.auth import signed_url_not_found
from zaqarkit.core.models import SignedURL
from zaqarkit.core.wire import Call, Headers, Request, Response
from zaqarkit.errors import (
    ConnectError,
    NotFound,
    TimeoutError,
    TransportError,
    Unauthorized,
    ValidationError,
    ZaqarError,
    error_for_status,
)
from zaqarkit.transports import deadline

if TYPE_CHECKING:
    from keystoneauth1.session import Session as _KsSession

__all__ = [
    "Auth",
    "Credentials",
    "KeystoneAuth",
    "KeystoneSession",
    "NoAuth",
    "SignedURLAuth",
    "option",
    "signed_url_from",
]

T = TypeVar("T")

log = logging.getLogger("zaqarkit.auth")

#: Renew a cached token this long before it expires. keystoneauth1 renews
#: 120 s early as well, so asking it for a token inside this window gets a new one.
_EXPIRY_MARGIN = _dt.timedelta(seconds=120)

#: python-zaqarclient's Keystone option names (each also with an ``os_`` prefix).
_CREDENTIAL_OPTIONS = ("auth_url", "auth_token", "username", "user_id", "password")


def option(options: Mapping[str, Any], name: str) -> Any:
    """An option given as ``os_<name>`` or ``<name>`` (python-zaqarclient accepts both).

    >>> option({"os_username": "a"}, "username"), option({"username": "b"}, "username")
    ('a', 'b')
    """
    value = options.get("os_" + name)
    return options.get(name) if value is None else value


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@runtime_checkable
class KeystoneSession(Protocol):
    """What zaqarkit uses of a :class:`keystoneauth1.session.Session`.

    Anything with these methods works, e.g. a test double.
    """

    def get_auth_headers(self) -> Mapping[str, str] | None: ...

    def get_project_id(self) -> str | None: ...

    def get_endpoint(self, **kwargs: Any) -> str | None: ...

    def invalidate(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """A token and the project it is scoped to; ``expires_at`` is UTC, if known.

    The token stays out of ``repr``. :meth:`headers` is exactly what the
    WebSocket ``authenticate`` action needs.

    >>> c = Credentials("gAAAA-secret", "p1")
    >>> c
    Credentials(token='***', project_id='p1', expires_at=None)
    >>> c.headers()
    (('X-Auth-Token', 'gAAAA-secret'), ('X-Project-ID', 'p1'))
    """

    token: str
    project_id: str | None = None
    expires_at: _dt.datetime | None = None

    def __repr__(self) -> str:
        return (
            f"Credentials(token='***', project_id={self.project_id!r}, "
            f"expires_at={self.expires_at!r})"
        )

    def headers(self) -> Headers:
        pairs: Headers = (("X-Auth-Token", self.token),)
        if self.project_id:
            pairs += (("X-Project-ID", self.project_id),)
        return pairs


class Auth:
    """Base backend: no per-request credentials (``noauth``).

    Subclasses override what they need. ``static_headers`` are added once to
    every request at client construction; ``headers``/``async_headers`` are
    asked for before each request; ``invalidate`` is told which headers a 401
    rejected and returns whether a retry may succeed; ``parse`` may enrich
    errors.
    """

    backend: ClassVar[str] = "noauth"

    #: The project requests are made in, when known without I/O.
    project_id: str | None = None

    def static_headers(self) -> Headers:
        return ()

    def headers(self) -> Headers:
        return ()

    async def async_headers(self) -> Headers:
        return ()

    def invalidate(self, used: Headers) -> bool:
        return False

    def discover_endpoint(self) -> str:
        """The Zaqar endpoint from the service catalog (blocking I/O)."""
        raise ValidationError(
            "url",
            f"is required with the {self.backend!r} auth backend "
            "(only Keystone has a service catalog to discover it from)",
        )

    def parse(self, call: Call[T], request: Request, response: Response) -> T:
        return call.parse(response)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} project_id={self.project_id!r}>"


class NoAuth(Auth):
    """No authentication: the client sends ``X-Project-ID`` (and ``X-Roles``) itself.

    >>> NoAuth("demo")
    <NoAuth project_id='demo'>
    """

    def __init__(self, project_id: str | None = None) -> None:
        self.project_id = project_id


def signed_url_from(signed: SignedURL | Mapping[str, Any]) -> SignedURL:
    """A :class:`SignedURL` from the share result or from ``signed-url`` options.

    Accepts ``queue.signed_url()``'s result, the raw JSON of
    ``POST /v2/queues/{q}/share``, or python-zaqarclient's option names
    (``os_project_id``/``project_id``, lists or comma-joined strings).

    >>> s = signed_url_from({"signature": "ab", "expires": "2030-01-01T00:00:00",
    ...     "paths": "/v2/queues/q/messages", "methods": ["GET", "POST"], "project": "p"})
    >>> s.methods, s.project
    (('GET', 'POST'), 'p')
    """
    if isinstance(signed, SignedURL):
        return signed
    if not isinstance(signed, Mapping):
        raise ValidationError("signed", f"must be a SignedURL or a dict, got {type(signed)!r}")
    project = signed.get("project") or option(signed, "project_id")
    fields = {
        "signature": signed.get("signature"),
        "expires": signed.get("expires"),
        "paths": signed.get("paths"),
        "methods": signed.get("methods"),
        "project": project,
    }
    missing = sorted(name for name, value in fields.items() if not value)
    if missing:
        raise ValidationError("signed-url options", f"missing {', '.join(missing)}")

    def as_tuple(value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(item).strip() for item in items if str(item).strip())

    return SignedURL(
        project=str(project),
        paths=as_tuple(fields["paths"]),
        methods=tuple(m.upper() for m in as_tuple(fields["methods"])),
        expires=str(fields["expires"]),
        signature=str(fields["signature"]),
    )


class SignedURLAuth(Auth):
    """Pre-signed access: the share result's fields become ``URL-*`` headers
    plus ``X-Project-ID``. A 404 is reported as a possibly expired signature.

    >>> a = SignedURLAuth({"signature": "s3cr3t", "expires": "2030-01-01T00:00:00",
    ...     "paths": ["/v2/queues/q/messages"], "methods": ["GET"], "project": "p"})
    >>> "s3cr3t" in repr(a), dict(a.static_headers())["URL-Methods"]
    (False, 'GET')
    """

    backend: ClassVar[str] = "signed-url"

    def __init__(self, signed: SignedURL | Mapping[str, Any]) -> None:
        self.signed = signed_url_from(signed)
        self.project_id = self.signed.project

    def static_headers(self) -> Headers:
        return tuple(self.signed.headers().items())

    def parse(self, call: Call[T], request: Request, response: Response) -> T:
        try:
            return call.parse(response)
        except NotFound as exc:
            raise signed_url_not_found(exc, request, self.signed) from exc

    def __repr__(self) -> str:
        return f"<SignedURLAuth {self.signed!r}>"


class KeystoneAuth(Auth):
    """Keystone tokens from a keystoneauth1 session, cached and renewed.

    ``session`` is a :class:`keystoneauth1.session.Session` with an auth
    plugin (or anything matching :class:`KeystoneSession`). Catalog discovery
    looks up ``service_type`` at ``interface`` in ``region_name``. The token's
    own project is sent as ``X-Project-ID``; ``project_id`` is used only when
    the session cannot tell (a bare token).

    Example::

        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        plugin = v3.Password(auth_url="https://keystone/v3", username="demo",
                             password="...", project_name="demo",
                             user_domain_id="default", project_domain_id="default")
        auth = KeystoneAuth(session.Session(auth=plugin))
        auth.credentials()          # Credentials(token='***', project_id='...', ...)
        await auth.async_credentials()   # same, fetched in a worker thread

    :meth:`credentials` / :meth:`async_credentials` are also what a WebSocket
    transport needs for its ``authenticate`` frame.
    """

    backend: ClassVar[str] = "keystone"

    def __init__(
        self,
        session: KeystoneSession | _KsSession,
        *,
        project_id: str | None = None,
        service_type: str = "messaging",
        interface: str = "public",
        region_name: str | None = None,
    ) -> None:
        if not isinstance(session, KeystoneSession):
            raise ValidationError(
                "session", f"must be a keystoneauth1 Session, got {type(session).__name__}"
            )
        self.session: KeystoneSession = session
        self.project_id = project_id
        self.service_type = service_type
        self.interface = interface
        self.region_name = region_name
        self._cached: Credentials | None = None
        # The fetch in flight, shared by every caller that needs a token.
        self._fetch: _TokenFetch | None = None
        # Bumped by invalidate(): a fetch that started before it may carry
        # the rejected token, and must not be cached.
        self._generation = 0
        # Guards the cache and the bookkeeping above; never held during I/O.
        self._state_lock = threading.Lock()
        self._invalidated: str | None = None
        self._invalidated_renewable = False
        #: How many times a token was fetched from the session (for tests and metrics).
        self.fetch_count = 0

    # -- construction from options or the environment ------------------------

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        *,
        insecure: bool = False,
        cacert: str | None = None,
    ) -> KeystoneAuth:
        """Build a session from python-zaqarclient's Keystone options.

        Names are accepted with and without ``os_``: ``auth_url``,
        ``username``/``user_id``, ``password``, ``project_name``/``project_id``,
        ``user_domain_id``/``user_domain_name``,
        ``project_domain_id``/``project_domain_name``, ``auth_token``,
        ``region_name``, ``interface``, ``service_type``, ``cacert``, ``insecure``.
        With ``auth_token`` and no password, that token is used: validated and
        scoped through ``auth_url`` when given, else sent as is.

        >>> a = KeystoneAuth.from_options({"os_auth_url": "http://ks/v3", "os_username": "u",
        ...     "os_password": "hunter2", "os_project_name": "p", "os_user_domain_id": "default",
        ...     "os_project_domain_id": "default", "region_name": "RegionOne"})
        >>> a.region_name, "hunter2" in repr(a)
        ('RegionOne', False)
        """
        loading, ks_session, token_endpoint = _keystoneauth()

        def get(name: str) -> Any:
            return option(options, name)

        insecure = insecure or _flag(get("insecure"))
        cacert = cacert or get("cacert")
        token, password = get("auth_token"), get("password")
        scope = {
            name: get(name)
            for name in ("project_id", "project_name", "project_domain_id", "project_domain_name")
        }
        plugin: Any
        with _translating("reading the Keystone options"):
            if token and not password:
                if get("auth_url"):
                    plugin = loading.get_plugin_loader("token").load_from_options(
                        **_present(auth_url=get("auth_url"), token=token, **scope)
                    )
                else:
                    # A bare token: nothing to renew it with, nor a catalog.
                    plugin = token_endpoint.Token(None, token)
            else:
                plugin = loading.get_plugin_loader("password").load_from_options(
                    **_present(
                        auth_url=get("auth_url"),
                        username=get("username"),
                        user_id=get("user_id"),
                        password=password,
                        user_domain_id=get("user_domain_id"),
                        user_domain_name=get("user_domain_name"),
                        **scope,
                    )
                )
        verify: bool | str = False if insecure else (cacert or True)
        return cls(
            ks_session.Session(auth=plugin, verify=verify),
            project_id=get("project_id"),
            service_type=get("service_type") or "messaging",
            interface=get("interface") or get("endpoint_type") or "public",
            region_name=get("region_name"),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeystoneAuth:
        """Build a session from the standard ``OS_*`` variables, with keystoneauth1's
        own loaders (``OS_AUTH_TYPE``, ``OS_AUTH_URL``, ``OS_USERNAME``,
        ``OS_PASSWORD``, ``OS_PROJECT_NAME``, ``OS_*_DOMAIN_*``, ``OS_TOKEN``,
        ``OS_CACERT``, ``OS_INSECURE``...), plus ``OS_REGION_NAME`` and
        ``OS_INTERFACE`` for catalog discovery.

        Example::

            # export OS_AUTH_URL=https://keystone/v3 OS_USERNAME=demo OS_PASSWORD=...
            Client(auth=KeystoneAuth.from_env())   # endpoint from the catalog
        """
        env = dict(os.environ if environ is None else environ)
        if not env.get("OS_AUTH_URL") and not env.get("OS_AUTH_TYPE"):
            raise ValidationError(
                "auth_opts",
                "no Keystone credentials: pass session=..., conf['auth_opts']['options'] "
                "(os_auth_url, os_username, os_password, os_project_name, ...) or set "
                "the OS_* environment variables (OS_AUTH_URL, ...)",
            )
        loading, _, _ = _keystoneauth()
        parser = argparse.ArgumentParser(add_help=False)
        with _translating("reading the OS_* environment"), _environ(env):
            # The loaders take their defaults from os.environ when registering.
            loading.register_session_argparse_arguments(parser)
            loading.register_auth_argparse_arguments(parser, [], default="password")
            namespace, _ = parser.parse_known_args([])
            plugin = loading.load_auth_from_argparse_arguments(namespace)
            session = loading.load_session_from_argparse_arguments(namespace, auth=plugin)
        return cls(
            session,
            project_id=env.get("OS_PROJECT_ID") or None,
            interface=env.get("OS_INTERFACE") or env.get("OS_ENDPOINT_TYPE") or "public",
            region_name=env.get("OS_REGION_NAME") or None,
        )

    # -- credentials -----------------------------------------------------------

    def credentials(self) -> Credentials:
        """The current credentials, authenticating first if needed (blocking).

        Inside a client call, waits for Keystone no longer than the call's
        deadline, then raises :class:`~zaqarkit.TimeoutError`.
        """
        fetch = self._cached_or_fetch()
        if isinstance(fetch, Credentials):
            return fetch
        if not fetch.done.wait(deadline.bounded(None)):
            raise fetch.abandon()
        return fetch.outcome()

    async def async_credentials(self) -> Credentials:
        """The current credentials; a fetch runs in a thread of its own, and
        concurrent callers wait for the same fetch (single flight), each no
        longer than its call's deadline (then :class:`~zaqarkit.TimeoutError`)."""
        fetch = self._cached_or_fetch()
        if isinstance(fetch, Credentials):
            return fetch
        if not fetch.done.is_set():
            left = deadline.bounded(None)
            # The waiting thread ends by the deadline at the latest; a task
            # cancelled meanwhile leaves it behind (it only waits and holds
            # nothing), and so does one whose deadline passed before a worker
            # thread was free to wait.
            with anyio.move_on_after(left):
                await anyio.to_thread.run_sync(fetch.done.wait, left, abandon_on_cancel=True)
            if not fetch.done.is_set():
                raise fetch.abandon()
        return fetch.outcome()

    def headers(self) -> Headers:
        return self.credentials().headers()

    async def async_headers(self) -> Headers:
        return (await self.async_credentials()).headers()

    def invalidate(self, used: Headers) -> bool:
        """Forget the token that ``used`` carried; True if a new one can be fetched.

        When several requests fail with the same token, the session is
        invalidated once and every caller retries with the renewed token.
        """
        token = next((v for k, v in used if k.lower() == "x-auth-token"), None)
        with self._state_lock:
            current = self._cached
            if current is not None and current.token != token:
                return True  # already renewed by someone else
            if token is not None and token == self._invalidated:
                return self._invalidated_renewable
            self._cached = None
            self._generation += 1
            self._invalidated = token
            # Plugin state only, no I/O: keystoneauth1 re-authenticates on the
            # next request for a token.
            with _translating("invalidating the Keystone token"):
                self._invalidated_renewable = bool(self.session.invalidate())
            log.info(
                "Keystone token rejected (401) for project %s; %s",
                self.project_id,
                "renewing it" if self._invalidated_renewable else "it cannot be renewed",
            )
            return self._invalidated_renewable

    def discover_endpoint(self) -> str:
        """The ``messaging`` endpoint from the service catalog (authenticates; blocking)."""
        where = f"service type {self.service_type!r}, interface {self.interface!r}" + (
            f", region {self.region_name!r}" if self.region_name else ""
        )
        with _translating(f"looking up {where} in the Keystone catalog"):
            url = self.session.get_endpoint(
                service_type=self.service_type,
                interface=self.interface,
                region_name=self.region_name,
            )
        if not url:
            raise ValidationError("url", f"no endpoint for {where} in the Keystone catalog")
        if self.project_id is None:
            self.project_id = self.credentials().project_id
        return url

    def __repr__(self) -> str:
        state = "authenticated" if self._cached is not None else "not authenticated"
        return (
            f"<KeystoneAuth {state} project_id={self.project_id!r} "
            f"interface={self.interface!r} region_name={self.region_name!r}>"
        )

    # -- internals ------------------------------------------------------------------

    def _fresh(self) -> Credentials | None:
        cached = self._cached
        if cached is None:
            return None
        expires = cached.expires_at
        if expires is not None and _dt.datetime.now(_dt.UTC) + _EXPIRY_MARGIN >= expires:
            return None
        return cached

    def _cached_or_fetch(self) -> Credentials | _TokenFetch:
        """Fresh cached credentials, else the fetch to wait for: the one in
        flight (single flight) unless a caller gave up on it or the token was
        invalidated since it started; then a new one (Keystone may be back,
        and the old fetch finishes in the background)."""
        cached = self._fresh()
        if cached is not None:
            return cached
        with self._state_lock:
            cached = self._fresh()
            if cached is not None:
                return cached
            fetch = self._fetch
            if (
                fetch is None
                or fetch.done.is_set()
                or fetch.abandoned
                or fetch.generation != self._generation
            ):
                fetch = self._fetch = _TokenFetch(self._fetch_credentials, self._generation)
                fetch.start()
            return fetch

    def _fetch_credentials(self, generation: int) -> Credentials:
        """Ask the session for a token (blocking; runs in the fetch's thread)."""
        with _translating("authenticating with Keystone"):
            headers = self.session.get_auth_headers() or {}
            project = self.session.get_project_id()
        token = next((v for k, v in headers.items() if k.lower() == "x-auth-token"), None)
        if not token:
            raise Unauthorized(
                401,
                "Keystone authentication failed",
                "the Keystone session gave no token (does it have an auth plugin?)",
            )
        creds = Credentials(token, project or self.project_id, _expiry(self.session))
        with self._state_lock:
            self.fetch_count += 1
            if generation == self._generation:
                self._cached = creds
            if self.project_id is None:
                self.project_id = creds.project_id
        log.info(
            "fetched a Keystone token for project %s (expires %s)",
            creds.project_id,
            creds.expires_at.isoformat() if creds.expires_at else "unknown",
        )
        return creds


class _TokenFetch:
    """One token fetch in a daemon thread of its own; callers wait on ``done``.

    Its outcome (credentials or the exception) is kept here and handed to
    every caller that waited long enough; nobody else sees it, so an
    abandoned fetch that fails later raises nowhere.
    """

    def __init__(self, fetch: Callable[[int], Credentials], generation: int) -> None:
        self.done = threading.Event()
        self.abandoned = False
        self._fetch = fetch
        #: The owner's generation when the fetch started (see KeystoneAuth.invalidate).
        self.generation = generation
        self._result: Credentials | None = None
        self._error: BaseException | None = None
        self._started = time.monotonic()

    def start(self) -> None:
        threading.Thread(target=self._run, name="zaqarkit-keystone-fetch", daemon=True).start()

    def _run(self) -> None:
        try:
            self._result = self._fetch(self.generation)
        except BaseException as exc:  # handed to the waiters, never to the thread's hook
            self._error = exc
        finally:
            self.done.set()

    def outcome(self) -> Credentials:
        """The credentials, or the fetch's error raised (call once ``done``)."""
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def abandon(self) -> TimeoutError:
        """Give up on this fetch (the caller's deadline passed): later callers
        start a fresh one. Returns the error to raise."""
        self.abandoned = True
        waited = time.monotonic() - self._started
        return TimeoutError(
            f"Keystone did not answer within the call's timeout (a token fetch "
            f"started {waited:.1f} s ago is still waiting)",
            sent=False,
        )


def _expiry(session: Any) -> _dt.datetime | None:
    # keystoneauth1 identity plugins keep the token's AccessInfo in auth_ref;
    # other plugins (a bare token) have no expiry to report.
    expires = getattr(getattr(getattr(session, "auth", None), "auth_ref", None), "expires", None)
    if isinstance(expires, _dt.datetime):
        return expires if expires.tzinfo else expires.replace(tzinfo=_dt.UTC)
    return None


def _present(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v not in (None, "")}


def _keystoneauth() -> tuple[Any, Any, Any]:
    try:
        from keystoneauth1 import loading, session, token_endpoint
    except ImportError:  # pragma: no cover - depends on the environment
        raise ValidationError(
            "auth_opts",
            "the keystone backend needs keystoneauth1: pip install 'zaqarkit[keystone]'",
        ) from None
    return loading, session, token_endpoint


@contextlib.contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    # keystoneauth1's argparse loaders read os.environ directly.
    if env == os.environ:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _translating(doing: str) -> Iterator[None]:
    """Turn keystoneauth1's exceptions into zaqarkit's.

    Their text is quoted as is: keystoneauth1 builds it from URLs, statuses
    and Keystone's own error messages, never from the password or token it
    sends (those travel in request bodies and headers). Nothing is searched
    for and replaced afterwards, so no text is ever altered.
    """
    try:
        yield
    except ZaqarError:
        raise
    except Exception as exc:
        if not type(exc).__module__.startswith("keystoneauth1"):
            raise
        raise _translate(exc, doing) from exc


def _translate(exc: Exception, doing: str) -> ZaqarError:
    from keystoneauth1 import exceptions as ka

    detail = str(exc) or type(exc).__name__
    if isinstance(exc, ka.Unauthorized):
        return Unauthorized(401, "Keystone authentication failed", f"{detail} (while {doing})")
    if isinstance(exc, ka.HttpError):
        status = int(getattr(exc, "http_status", 0) or 500)
        return error_for_status(status)(status, "Keystone error", f"{detail} (while {doing})")
    if isinstance(exc, (ka.ConnectTimeout, ka.RequestTimeout)):
        return TimeoutError(f"Keystone timed out while {doing}: {detail}")
    if isinstance(exc, (ka.ConnectFailure, ka.SSLError, ka.DiscoveryFailure)):
        return ConnectError(f"cannot reach Keystone while {doing}: {detail}")
    if isinstance(exc, ka.CatalogException):
        return ValidationError("url", f"{detail} (while {doing}); pass the Zaqar url explicitly")
    if isinstance(exc, (ka.AuthPluginException, ka.OptionError)):
        return ValidationError("auth_opts", f"{detail} (while {doing})")
    return TransportError(f"Keystone failed while {doing}: {detail}")
