"""Turning constructor arguments into one resolved configuration.

Shared by :class:`zaqarkit.Client` and :class:`zaqarkit.AsyncClient`, so the
two facades cannot drift. Accepts python-zaqarclient's ``conf`` dict::

    {"client_uuid": "...",
     "auth_opts": {"backend": "noauth", "options": {"os_project_id": "p", "roles": ["admin"]}}}

and the equivalent keyword arguments, which win over ``conf``. The auth
backend is ``auth_opts['backend']`` (``noauth``, ``keystone``, ``signed-url``),
or implied by ``session=`` (a keystoneauth1 Session) or ``auth=`` (a
:class:`zaqarkit.auth.Auth`); see :mod:`zaqarkit.auth`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zaqarkit.auth import Auth, KeystoneAuth, NoAuth, SignedURLAuth
from zaqarkit.core import validate
from zaqarkit.core.api import ApiV2
from zaqarkit.core.api_v1 import api_for
from zaqarkit.core.context import Context
from zaqarkit.core.operations import ApiVersion
from zaqarkit.core.urls import is_websocket, normalize_endpoint, websocket_url
from zaqarkit.core.validate import DEFAULT_LIMITS, Limits
from zaqarkit.errors import ValidationError

__all__ = ["Settings", "resolve"]

USER_AGENT = "zaqarkit/0.1.0"
_BACKENDS = ("noauth", "keystone", "signed-url")
#: Any of these in the options means "authenticate with these", not with OS_*.
_KEYSTONE_CREDENTIALS = ("auth_url", "auth_token", "username", "user_id", "password")


@dataclass(frozen=True, slots=True)
class Settings:
    endpoint: str
    version: ApiVersion
    client_id: str
    project_id: str
    roles: tuple[str, ...]
    api: ApiV2
    context: Context
    #: The auth backend; its headers are added per request (Keystone) or are
    #: already part of ``context`` (no-auth, signed URL).
    auth: Auth = field(default_factory=NoAuth)
    #: TLS settings from the auth options, merged with the client's arguments.
    insecure: bool = False
    cacert: str | None = None

    @property
    def scheme(self) -> str:
        return self.endpoint.split(":", 1)[0]

    @property
    def websocket(self) -> bool:
        """Whether the endpoint is a WebSocket one."""
        return is_websocket(self.endpoint)


def _option(options: Mapping[str, Any], name: str) -> Any:
    # python-zaqarclient accepts every option with and without the os_ prefix.
    value = options.get("os_" + name)
    return options.get(name) if value is None else value


def _select_auth(
    backend: str | None,
    options: Mapping[str, Any],
    session: Any,
    auth: Auth | None,
    *,
    insecure: bool,
    cacert: str | None,
) -> Auth | None:
    """The auth object for these arguments; None for the no-auth backend."""
    if auth is not None:
        if not isinstance(auth, Auth):
            raise ValidationError("auth", f"must be a zaqarkit.auth.Auth, got {type(auth)!r}")
        if session is not None:
            raise ValidationError("session", "pass either session= or auth=, not both")
        if backend is not None and backend != auth.backend:
            raise ValidationError(
                "conf['auth_opts']['backend']",
                f"is {backend!r} but auth= is a {auth.backend!r} backend",
            )
        if isinstance(auth, SignedURLAuth):
            _refuse_keystone_options(options, "a signed URL (from_signed_url() / auth=)")
        return auth
    if session is not None:
        if backend == "signed-url":
            raise ValidationError(
                "session",
                "a keystoneauth1 session= cannot be combined with "
                "conf['auth_opts']['backend'] = 'signed-url'; use one or the other",
            )
        if backend not in (None, "keystone"):
            raise ValidationError(
                "session", f"a keystoneauth1 session needs the 'keystone' backend, not {backend!r}"
            )
        return KeystoneAuth(
            session,
            project_id=_option(options, "project_id"),
            service_type=_option(options, "service_type") or "messaging",
            interface=_option(options, "interface")
            or _option(options, "endpoint_type")
            or os.environ.get("OS_INTERFACE")
            or "public",
            region_name=_option(options, "region_name") or os.environ.get("OS_REGION_NAME"),
        )
    if backend == "keystone":
        if any(_option(options, name) for name in _KEYSTONE_CREDENTIALS):
            return KeystoneAuth.from_options(options, insecure=insecure, cacert=cacert)
        return KeystoneAuth.from_env()
    if backend == "signed-url":
        _refuse_keystone_options(options, "conf['auth_opts']['backend'] = 'signed-url'")
        return SignedURLAuth(options)
    return None


def _refuse_keystone_options(options: Mapping[str, Any], signed: str) -> None:
    # A signed URL authenticates by itself: Keystone credentials next to it
    # would be silently ignored, so say which two options conflict.
    given = [name for name in _KEYSTONE_CREDENTIALS if _option(options, name)]
    if given:
        raise ValidationError(
            f"conf['auth_opts']['options']['os_{given[0]}']",
            f"is a Keystone option and cannot be combined with {signed}; use one or the other",
        )


def resolve(
    url: str | None,
    version: Any,
    conf: Mapping[str, Any] | None,
    session: Any,
    *,
    project_id: str | None = None,
    client_id: str | None = None,
    roles: Iterable[str] | None = None,
    headers: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    auth: Auth | None = None,
    insecure: bool = False,
    cacert: str | None = None,
) -> Settings:
    """Validate everything a client needs before it sends anything.

    >>> s = resolve("http://h:8888/", 2, {"auth_opts": {"backend": "noauth",
    ...     "options": {"os_project_id": "p", "roles": ["admin"]}}}, None)
    >>> s.endpoint, s.project_id, s.roles
    ('http://h:8888', 'p', ('admin',))
    """
    # 1, "1", 1.1, "1.1", 2, "2" ...; v1 and v1.1 get their own builders (api_for).
    api_version = ApiVersion.parse(version)
    conf = dict(conf or {})
    if not isinstance(conf, dict):
        raise ValidationError("conf", f"must be a dict, got {type(conf).__name__}")
    auth_opts = conf.get("auth_opts") or {}
    if not isinstance(auth_opts, Mapping):
        raise ValidationError("conf['auth_opts']", "must be a dict")
    backend = auth_opts.get("backend")
    if backend is not None and backend not in _BACKENDS:
        raise ValidationError(
            "conf['auth_opts']['backend']",
            f"must be one of {', '.join(_BACKENDS)}, got {backend!r}",
        )
    options = auth_opts.get("options") or {}
    if not isinstance(options, Mapping):
        raise ValidationError("conf['auth_opts']['options']", "must be a dict")
    # TLS: either the client's arguments or the auth options can turn
    # verification off or name a CA bundle; it stays on otherwise.
    insecure = bool(insecure) or str(_option(options, "insecure")).lower() in ("true", "1")
    cacert = cacert or _option(options, "cacert")
    chosen = _select_auth(backend, options, session, auth, insecure=insecure, cacert=cacert)

    if url is None:
        if chosen is None:
            raise ValidationError(
                "url", "is required (service catalog discovery needs the keystone backend)"
            )
        # Blocking: authenticates and reads the catalog once, at construction.
        url = chosen.discover_endpoint()
        if getattr(chosen, "service_type", None) == "messaging-websocket":
            url = websocket_url(url)
    endpoint = normalize_endpoint(url)

    if chosen is None:
        project = project_id or _option(options, "project_id") or os.environ.get("OS_PROJECT_ID")
        if not project:
            raise ValidationError(
                "project_id",
                "no project given: pass project_id=..., set conf['auth_opts']['options']"
                "['os_project_id'] or the OS_PROJECT_ID environment variable",
            )
        project = validate.project_id(project)
    elif isinstance(chosen, SignedURLAuth):
        project = validate.project_id(chosen.signed.project)
        if project_id is not None and project_id != project:
            raise ValidationError(
                "project_id", "must match the project the URL was signed for (or be omitted)"
            )
    else:
        # Keystone: the token decides the project; it is sent per request.
        project = project_id or chosen.project_id or ""
        if project:
            project = validate.project_id(project)

    client = client_id or conf.get("client_uuid") or str(uuid.uuid4())
    client = validate.client_id(client)

    role_list = roles if roles is not None else options.get("roles")
    if chosen is not None:
        # X-Roles is a no-auth convention: Keystone's middleware sets it from
        # the token, and a signed URL has no roles.
        role_list = ()
    elif role_list is None:
        # The no-auth analogue of OS_PROJECT_ID, so that admin examples written
        # for python-zaqarclient run unchanged against a no-auth test server.
        role_list = os.environ.get("ZAQARKIT_ROLES", "")
    if isinstance(role_list, str):
        role_list = [part.strip() for part in role_list.split(",") if part.strip()]
    role_names = tuple(validate.header_value("roles", role) for role in role_list)

    pairs: list[tuple[str, str]] = [
        ("Accept", "application/json"),
        ("User-Agent", USER_AGENT),
        ("Client-ID", client),
    ]
    if chosen is None:
        pairs.append(("X-Project-ID", project))
    else:
        pairs.extend(chosen.static_headers())
    if role_names:
        # Without Keystone, Zaqar takes roles from this header: admin calls need it.
        pairs.append(("X-Roles", ",".join(role_names)))
    for name, value in (headers or {}).items():
        pairs.append((validate.header_name(name), validate.header_value(name, value)))

    api = api_for(api_version, limits or DEFAULT_LIMITS)
    return Settings(
        endpoint=endpoint,
        version=api_version,
        client_id=client,
        project_id=project,
        roles=role_names,
        api=api,
        context=Context(endpoint, tuple(pairs)),
        auth=chosen or NoAuth(project),
        insecure=insecure,
        cacert=cacert,
    )
