"""python-zaqarclient's ``zaqarclient.transport.http``.

``HttpTransport(options)`` is zaqarkit's HTTP transport under
python-zaqarclient's name and constructor (``options`` is the ``conf`` dict;
``insecure`` and ``cacert`` are read from its auth options). Pass it to
``Client(..., transport=...)`` to share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zaqarkit.transports import HttpxTransport

__all__ = ["HttpTransport"]


class HttpTransport(HttpxTransport):
    """zaqarkit's :class:`~zaqarkit.transports.HttpxTransport`, built from a conf dict."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        auth = dict((options or {}).get("auth_opts", {}).get("options", {}))
        insecure = bool(auth.get("insecure", auth.get("os_insecure", False)))
        cacert = auth.get("cacert", auth.get("os_cacert"))
        super().__init__(insecure=insecure, cacert=cacert)
        self.options = options or {}
