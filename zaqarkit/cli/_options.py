"""Connection and configuration options shared by every command line verb.

``connection_options`` adds the OpenStack-style options (each with its ``OS_*``
environment default) to a click command or group; :func:`connection` returns
what they resolved to, and :meth:`ConnectionOptions.client` builds a
:class:`zaqarkit.Client` (or :meth:`~ConnectionOptions.async_client` an
:class:`zaqarkit.AsyncClient`) from them::

    import click
    from zaqarkit.cli._options import connection, connection_options

    @click.command()
    @connection_options
    def ping() -> None:
        with connection().client() as client:
            click.echo(client.ping())

The root ``zaqarkit`` group carries these options; a subcommand that also uses
the decorator (``zaqarkit bench --url ...``) overrides the group's values with
the ones given on its own command line.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from zaqarkit.core.timeouts import DEFAULT_TIMEOUT
from zaqarkit.errors import ValidationError

if TYPE_CHECKING:
    from zaqarkit import AsyncClient, Client

__all__ = ["ConnectionOptions", "connection", "connection_options"]

F = TypeVar("F", bound=Callable[..., Any])

_META_KEY = "zaqarkit.connection"

logger = logging.getLogger("zaqarkit.cli")


@dataclass(frozen=True)
class ConnectionOptions:
    """What the connection options resolved to (None: not given).

    Example::

        conn = ConnectionOptions(url="http://127.0.0.1:8888", project_id="demo")
        with conn.client() as client:
            client.ping()
    """

    url: str | None = None
    ws_url: str | None = None
    project_id: str | None = None
    auth_url: str | None = None
    username: str | None = None
    user_id: str | None = None
    password: str | None = None
    project_name: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    token: str | None = None
    region_name: str | None = None
    interface: str | None = None
    cloud: str | None = None
    api_version: str = "2"
    insecure: bool = False
    cacert: str | None = None
    signed_url: str | None = None
    roles: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT.total

    # -- what it means --------------------------------------------------------

    def keystone_options(self) -> dict[str, str]:
        """python-zaqarclient's Keystone option names for the given credentials
        (empty when none were given)."""
        names = {
            "os_auth_url": self.auth_url,
            "os_username": self.username,
            "os_user_id": self.user_id,
            "os_password": self.password,
            "os_project_name": self.project_name,
            "os_user_domain_name": self.user_domain_name,
            "os_user_domain_id": self.user_domain_id,
            "os_project_domain_name": self.project_domain_name,
            "os_project_domain_id": self.project_domain_id,
            "os_auth_token": self.token,
        }
        options = {name: value for name, value in names.items() if value}
        if not options:
            return {}
        if self.project_id:
            options["os_project_id"] = self.project_id
        if self.region_name:
            options["os_region_name"] = self.region_name
        if self.interface:
            options["os_interface"] = self.interface
        return options

    def endpoint(self, *, websocket: bool | None = None) -> str | None:
        """The URL to talk to: the WebSocket one when ``websocket`` is True (or
        when it is None and only ``--ws-url`` or a ws:// ``--os-url`` was given),
        else the HTTP one; None means "from the service catalog"."""
        if websocket is None:
            return self.url or self.ws_url
        if websocket:
            if self.ws_url:
                return self.ws_url
            if self.url and self.url.startswith(("ws://", "wss://")):
                return self.url
            raise ValidationError("ws_url", "is required here: pass --ws-url ws://HOST:PORT")
        if self.url and not self.url.startswith(("ws://", "wss://")):
            return self.url
        if self.url or self.ws_url:
            raise ValidationError("os_url", "an http(s):// URL is required here: pass --os-url")
        return None

    def client_kwargs(self, *, websocket: bool | None = None) -> dict[str, Any]:
        """Keyword arguments for ``Client(**kwargs)`` / ``AsyncClient(**kwargs)``.

        Raises ValidationError for contradictory or missing options.

        >>> ConnectionOptions(url="http://h:8888", project_id="p", roles="admin").client_kwargs()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'url': 'http://h:8888', 'version': '2', 'timeout': 30.0, 'insecure': False,
         'cacert': None, 'project_id': 'p', 'roles': ['admin']}
        """
        url = self.endpoint(websocket=websocket)
        kwargs: dict[str, Any] = {
            "url": url,
            "version": self.api_version,
            "timeout": self.timeout,
            "insecure": self.insecure,
            "cacert": self.cacert,
        }
        websocket_url = url is not None and url.startswith(("ws://", "wss://"))
        if websocket_url and self.url and not self.url.startswith(("ws://", "wss://")):
            # Operations Zaqar does not serve over WebSocket go to HTTP.
            kwargs["http_url"] = self.url
        if self.signed_url:
            from zaqarkit.auth import SignedURLAuth

            kwargs["auth"] = SignedURLAuth(_read_signed_url(self.signed_url))
            if self.project_id:
                kwargs["project_id"] = self.project_id
            return self._require_url(kwargs)
        if self.cloud:
            kwargs.update(_cloud_kwargs(self.cloud, self))
            return kwargs
        keystone = self.keystone_options()
        if keystone:
            kwargs["conf"] = {"auth_opts": {"backend": "keystone", "options": keystone}}
            return kwargs
        if self.project_id:
            kwargs["project_id"] = self.project_id
        if self.roles is not None:
            kwargs["roles"] = [role.strip() for role in self.roles.split(",") if role.strip()]
        return self._require_url(kwargs)

    @staticmethod
    def _require_url(kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs["url"] is None:
            raise ValidationError(
                "os_url",
                "no endpoint: pass --os-url (or set OS_URL), or Keystone options "
                "(--os-auth-url, ...) or --os-cloud to find it in the service catalog",
            )
        return kwargs

    def client(self, *, websocket: bool | None = None, **overrides: Any) -> Client:
        """A :class:`zaqarkit.Client` for these options (``overrides`` win).

        Example::

            with connection().client(websocket=True) as client:   # --ws-url
                ...
        """
        from zaqarkit import Client

        kwargs = {**self.client_kwargs(websocket=websocket), **overrides}
        self._log(kwargs)
        return Client(**kwargs)

    def async_client(self, *, websocket: bool | None = None, **overrides: Any) -> AsyncClient:
        """An :class:`zaqarkit.AsyncClient` for these options (``overrides`` win).

        Example::

            async with connection().async_client() as client:
                await client.ping()
        """
        from zaqarkit import AsyncClient

        kwargs = {**self.client_kwargs(websocket=websocket), **overrides}
        self._log(kwargs)
        return AsyncClient(**kwargs)

    @staticmethod
    def _log(kwargs: Mapping[str, Any]) -> None:
        # Names only the endpoint and how it authenticates: never credentials.
        if "auth" in kwargs:
            how = "a signed URL"
        elif "session" in kwargs:
            how = "a clouds.yaml session"
        elif "conf" in kwargs:
            how = "Keystone"
        else:
            how = f"no auth, project {kwargs.get('project_id')!r}"
        logger.debug(
            "client for %s (API v%s, %s)",
            kwargs["url"] or "the service catalog",
            kwargs["version"],
            how,
        )


def _read_signed_url(value: str) -> Mapping[str, Any]:
    """``--signed-url``: the share JSON itself, or a file holding it (``-`` is not
    accepted: stdin is for message input)."""
    text = value.strip()
    if not text.startswith("{"):
        path = Path(value).expanduser()
        try:
            text = path.read_text()
        except OSError as exc:
            raise ValidationError(
                "signed_url", f"is neither JSON nor a readable file: {exc.strerror}: {value}"
            ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError("signed_url", f"is not valid JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValidationError("signed_url", "must be a JSON object (queue signed url -f json)")
    return data


def _cloud_kwargs(cloud: str, conn: ConnectionOptions) -> dict[str, Any]:
    """Client arguments for ``--os-cloud``: clouds.yaml read by openstacksdk's
    config loader (its own search path, ``OS_CLIENT_CONFIG_FILE``, secure.yaml),
    which also builds the keystoneauth1 session."""
    try:
        from openstack import config as os_config
    except ImportError:
        raise ValidationError(
            "os_cloud", "reading clouds.yaml needs openstacksdk: pip install 'zaqarkit[clouds]'"
        ) from None
    try:
        with warnings.catch_warnings():
            # openstacksdk warns about its own optional metrics backends.
            warnings.simplefilter("ignore")
            region = os_config.OpenStackConfig().get_one(
                cloud=cloud, region_name=conn.region_name or None
            )
            session = region.get_session()
    except Exception as exc:  # openstacksdk raises its own and keystoneauth1's errors
        raise ValidationError("os_cloud", f"cannot load cloud {cloud!r}: {exc}") from None
    kwargs: dict[str, Any] = {"session": session}
    project_id = conn.project_id or region.config.get("auth", {}).get("project_id")
    if project_id:
        kwargs["project_id"] = project_id
    conf: dict[str, Any] = {"options": {}}
    if region.region_name:
        conf["options"]["os_region_name"] = region.region_name
    interface = conn.interface or region.config.get("interface")
    if interface:
        conf["options"]["os_interface"] = interface
    if conf["options"]:
        kwargs["conf"] = {"auth_opts": {"backend": "keystone", **conf}}
    return kwargs


# -- the click side --------------------------------------------------------------

_OPTIONS: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    (
        "url",
        ("--os-url", "--url"),
        {
            "envvar": "OS_URL",
            "help": "Zaqar endpoint, e.g. http://127.0.0.1:8888 (or a ws:// one).",
        },
    ),
    (
        "ws_url",
        ("--ws-url",),
        {"envvar": "OS_WS_URL", "help": "Zaqar's WebSocket endpoint, e.g. ws://127.0.0.1:9000."},
    ),
    (
        "project_id",
        ("--os-project-id",),
        {"envvar": "OS_PROJECT_ID", "help": "Project (X-Project-ID) on a no-auth server."},
    ),
    ("auth_url", ("--os-auth-url",), {"envvar": "OS_AUTH_URL", "help": "Keystone URL."}),
    ("username", ("--os-username",), {"envvar": "OS_USERNAME"}),
    ("user_id", ("--os-user-id",), {"envvar": "OS_USER_ID"}),
    ("password", ("--os-password",), {"envvar": "OS_PASSWORD"}),
    ("project_name", ("--os-project-name",), {"envvar": "OS_PROJECT_NAME"}),
    ("user_domain_name", ("--os-user-domain-name",), {"envvar": "OS_USER_DOMAIN_NAME"}),
    ("user_domain_id", ("--os-user-domain-id",), {"envvar": "OS_USER_DOMAIN_ID"}),
    ("project_domain_name", ("--os-project-domain-name",), {"envvar": "OS_PROJECT_DOMAIN_NAME"}),
    ("project_domain_id", ("--os-project-domain-id",), {"envvar": "OS_PROJECT_DOMAIN_ID"}),
    ("token", ("--os-token",), {"envvar": "OS_TOKEN", "help": "An existing Keystone token."}),
    ("region_name", ("--os-region-name",), {"envvar": "OS_REGION_NAME"}),
    ("interface", ("--os-interface",), {"envvar": "OS_INTERFACE"}),
    (
        "cloud",
        ("--os-cloud",),
        {"envvar": "OS_CLOUD", "help": "A cloud from clouds.yaml (needs zaqarkit[clouds])."},
    ),
    (
        "api_version",
        ("--api-version", "--os-messaging-api-version"),
        {
            "envvar": "OS_MESSAGING_API_VERSION",
            "default": "2",
            "type": click.Choice(["1", "1.1", "2"]),
            "show_default": True,
        },
    ),
    (
        "insecure",
        ("--insecure",),
        {
            "envvar": "OS_INSECURE",
            "is_flag": True,
            "default": False,
            "help": "Do not verify TLS certificates.",
        },
    ),
    ("cacert", ("--os-cacert",), {"envvar": "OS_CACERT", "help": "CA bundle for TLS."}),
    (
        "signed_url",
        ("--signed-url",),
        {
            "envvar": "ZAQARKIT_SIGNED_URL",
            "help": "Act through a pre-signed URL: its JSON (queue signed url -f json) or a file.",
        },
    ),
    (
        "roles",
        ("--roles",),
        {"envvar": "ZAQARKIT_ROLES", "help": "X-Roles on a no-auth server, e.g. admin."},
    ),
    (
        "timeout",
        ("--timeout",),
        {
            "envvar": "ZAQARKIT_TIMEOUT",
            "type": float,
            "default": DEFAULT_TIMEOUT.total,
            "show_default": True,
            "help": "Seconds per request.",
        },
    ),
)
_NAMES = tuple(name for name, _, _ in _OPTIONS)


def connection_options(f: F) -> F:
    """Add the connection options to a click command or group.

    The command does not receive them as arguments: call :func:`connection`
    inside it. Values given on this command's own command line win over those
    of an enclosing group that has the options too.

    Example::

        @click.command()
        @connection_options
        def bench() -> None:
            client = connection().client()
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        given = {name: kwargs.pop(name) for name in _NAMES}
        previous: ConnectionOptions | None = ctx.meta.get(_META_KEY)
        if previous is not None:
            # Only what this command's own command line says overrides the group.
            given = {
                name: value
                if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
                else getattr(previous, name)
                for name, value in given.items()
            }
        ctx.meta[_META_KEY] = ConnectionOptions(**given)
        return f(*args, **kwargs)

    for name, decls, attrs in reversed(_OPTIONS):
        wrapper = click.option(*decls, name, **attrs)(wrapper)
    return wrapper  # type: ignore[return-value]


def connection(ctx: click.Context | None = None) -> ConnectionOptions:
    """The connection options in force for the running command (the defaults
    from the environment when no command declared them).

    Example::

        client = connection().client()
    """
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is not None:
        found: ConnectionOptions | None = ctx.meta.get(_META_KEY)
        if found is not None:
            return found
    return from_environment()


def from_environment(environ: Mapping[str, str] | None = None) -> ConnectionOptions:
    """ConnectionOptions from the ``OS_*`` (and ``ZAQARKIT_*``) variables alone.

    >>> from_environment({"OS_URL": "http://h:8888", "OS_PROJECT_ID": "p"}).url
    'http://h:8888'
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, _, attrs in _OPTIONS:
        raw = env.get(attrs["envvar"])
        if raw is None or raw == "":
            continue
        field_type = {f.name: f.type for f in dataclasses.fields(ConnectionOptions)}[name]
        if field_type == "bool":
            values[name] = raw.lower() in ("1", "true", "yes", "on")
        elif field_type == "float":
            values[name] = float(raw)
        else:
            values[name] = raw
    return ConnectionOptions(**values)
