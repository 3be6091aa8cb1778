"""Transports: the I/O half of zaqarkit.

Importing this package pulls in httpx only; the WebSocket transport (and with
it ``websockets``) lives in its own module and is imported on demand.
"""

from __future__ import annotations

from zaqarkit.transports.base import AsyncPushTransport, AsyncTransport, PushTransport, Transport
from zaqarkit.transports.http import AsyncHttpxTransport, HttpxTransport
from zaqarkit.transports.mock import MockTransport

__all__ = [
    "AsyncHttpxTransport",
    "AsyncPushTransport",
    "AsyncTransport",
    "HttpxTransport",
    "MockTransport",
    "PushTransport",
    "Transport",
]
