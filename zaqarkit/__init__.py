"""zaqarkit: a client for OpenStack Zaqar over HTTP and WebSocket, sync and async."""

from zaqarkit.errors import *  # noqa: F403
from zaqarkit.errors import __all__ as _error_names

__version__ = "0.1.0"

__all__ = ["__version__", *_error_names]
