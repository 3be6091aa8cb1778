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

For pytest, enable the plugin with
``pytest_plugins = ["zaqarkit.testing.pytest_plugin"]`` to get the
``zaqar_server``, ``zaqar_pooled_server`` and ``project_id`` fixtures.
"""

from __future__ import annotations

from ._provision import (
    CURRENT,
    LEGACY,
    RELEASES,
    Release,
    ServerEnv,
    cache_root,
    ensure_server_env,
)
from ._servers import HttpResult, ServerStartError, ZaqarServer

__all__ = [
    "CURRENT",
    "LEGACY",
    "RELEASES",
    "HttpResult",
    "Release",
    "ServerEnv",
    "ServerStartError",
    "ZaqarServer",
    "cache_root",
    "ensure_server_env",
]
