"""Real local Zaqar servers for tests, demos and benchmarks.

One call gives a running Zaqar (its own redis, the HTTP API served by
gunicorn, and the WebSocket transport) on free loopback ports::

    from zaqarkit.testing import ZaqarServer

    with ZaqarServer() as srv:
        srv.url        # "http://127.0.0.1:<port>"  (no auth, admin_mode on)
        srv.ws_url     # "ws://127.0.0.1:<port>"
        srv.redis_url  # "redis://127.0.0.1:<port>"

    with ZaqarServer(pooled=True) as srv:   # SQLite pool catalog, pool "pool1"
        srv.pool_names                       # ("pool1",)

The server is installed on first use into a cached virtualenv outside your
environment (``$ZAQARKIT_CACHE_DIR``, else ``~/.cache/zaqarkit/servers``) and
reused afterwards. Only the standard library is imported here.

A Keystone-protected Zaqar::

    from zaqarkit.testing import KeystoneServer, KeystoneZaqarServer

    with KeystoneServer() as ks, KeystoneZaqarServer(keystone=ks) as srv:
        ks.demo.options()   # auth_opts options for the non-admin user "demo"
        srv.url             # also in ks's catalog as service type "messaging"

For pytest, enable the plugin with
``pytest_plugins = ["zaqarkit.testing.pytest_plugin"]`` to get the
``zaqar_server``, ``zaqar_pooled_server``, ``project_id``, ``keystone_server``
and ``zaqar_keystone_server`` fixtures.
"""

from __future__ import annotations

from ._keystone import (
    KEYSTONE,
    KeystoneServer,
    KeystoneUser,
    KeystoneZaqarServer,
    ensure_keystone_env,
)
from ._probe import HttpResult
from ._processes import cache_root
from ._provision import (
    CURRENT,
    LEGACY,
    RELEASES,
    Release,
    ServerEnv,
    ensure_server_env,
    server_python,
)
from ._servers import ServerStartError, ZaqarServer

__all__ = [
    "CURRENT",
    "KEYSTONE",
    "LEGACY",
    "RELEASES",
    "HttpResult",
    "KeystoneServer",
    "KeystoneUser",
    "KeystoneZaqarServer",
    "Release",
    "ServerEnv",
    "ServerStartError",
    "ZaqarServer",
    "cache_root",
    "ensure_keystone_env",
    "ensure_server_env",
    "server_python",
]
