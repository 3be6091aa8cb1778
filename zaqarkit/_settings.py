"""Turning constructor arguments into one resolved configuration.

Shared by :class:`zaqarkit.Client` and :class:`zaqarkit.AsyncClient`, so the
two facades cannot drift. Accepts python-zaqarclient's ``conf`` dict::

    {"client_uuid": "...",
     "auth_opts": {"backend": "noauth", "options": {"os_project_id": "p", "roles": ["admin"]}}}

and the equivalent keyword arguments, which win over ``conf``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from zaqarkit.core import validate
from zaqarkit.core.api import ApiV2
from zaqarkit.core.context import Context
from zaqarkit.core.operations import ApiVersion
from zaqarkit.core.urls import normalize_endpoint
from zaqarkit.core.validate import DEFAULT_LIMITS, Limits
from zaqarkit.errors import UnsupportedOperation, ValidationError

__all__ = ["Settings", "resolve"]

USER_AGENT = "zaqarkit/0.1.0"
_BACKENDS = ("noauth", "keystone", "signed-url")


@dataclass(frozen=True, slots=True)
class Settings:
    endpoint: str
    version: ApiVersion
    client_id: str
    project_id: str
    roles: tuple[str, ...]
    api: ApiV2
    context: Context

    @property
    def scheme(self) -> str:
        return self.endpoint.split(":", 1)[0]


def _option(options: Mapping[str, Any], name: str) -> Any:
    # python-zaqarclient accepts every option with and without the os_ prefix.
    value = options.get("os_" + name)
    return options.get(name) if value is None else value


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
) -> Settings:
    """Validate everything a client needs before it sends anything.

    >>> s = resolve("http://h:8888/", 2, {"auth_opts": {"backend": "noauth",
    ...     "options": {"os_project_id": "p", "roles": ["admin"]}}}, None)
    >>> s.endpoint, s.project_id, s.roles
    ('http://h:8888', 'p', ('admin',))
    """
    api_version = ApiVersion.parse(version)
    if api_version is not ApiVersion.V2:
        raise UnsupportedOperation(
            f"Zaqar API v{api_version.value} is not supported yet; use version=2"
        )
    conf = dict(conf or {})
    if not isinstance(conf, dict):
        raise ValidationError("conf", f"must be a dict, got {type(conf).__name__}")
    auth_opts = conf.get("auth_opts") or {}
    if not isinstance(auth_opts, Mapping):
        raise ValidationError("conf['auth_opts']", "must be a dict")
    backend = auth_opts.get("backend", "noauth")
    if backend not in _BACKENDS:
        raise ValidationError(
            "conf['auth_opts']['backend']",
            f"must be one of {', '.join(_BACKENDS)}, got {backend!r}",
        )
    if backend != "noauth" or session is not None:
        raise UnsupportedOperation(
            f"the {'keystone' if session is not None else backend!r} auth backend is not "
            "implemented yet; use the 'noauth' backend"
        )
    options = auth_opts.get("options") or {}
    if not isinstance(options, Mapping):
        raise ValidationError("conf['auth_opts']['options']", "must be a dict")

    if url is None:
        raise ValidationError("url", "is required (service catalog discovery needs Keystone)")
    endpoint = normalize_endpoint(url)

    project = project_id or _option(options, "project_id") or os.environ.get("OS_PROJECT_ID")
    if not project:
        raise ValidationError(
            "project_id",
            "no project given: pass project_id=..., set conf['auth_opts']['options']"
            "['os_project_id'] or the OS_PROJECT_ID environment variable",
        )
    project = validate.project_id(project)

    client = client_id or conf.get("client_uuid") or str(uuid.uuid4())
    client = validate.client_id(client)

    role_list = roles if roles is not None else options.get("roles")
    if role_list is None:
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
        ("X-Project-ID", project),
    ]
    if role_names:
        # Without Keystone, Zaqar takes roles from this header: admin calls need it.
        pairs.append(("X-Roles", ",".join(role_names)))
    for name, value in (headers or {}).items():
        pairs.append((validate.header_value("headers", name), validate.header_value(name, value)))

    api = ApiV2(limits or DEFAULT_LIMITS)
    return Settings(
        endpoint=endpoint,
        version=api_version,
        client_id=client,
        project_id=project,
        roles=role_names,
        api=api,
        context=Context(endpoint, tuple(pairs)),
    )
