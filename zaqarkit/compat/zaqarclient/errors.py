"""python-zaqarclient's ``zaqarclient.errors``.

``ZaqarError`` *is* zaqarkit's root error, so ``except errors.ZaqarError``
catches everything either API raises.

>>> from zaqarkit.compat.zaqarclient import errors
>>> import zaqarkit
>>> errors.ZaqarError is zaqarkit.ZaqarError
True
>>> issubclass(errors.InvalidOperation, zaqarkit.UnsupportedOperation)
True
"""

from __future__ import annotations

from zaqarkit.errors import UnsupportedOperation, ZaqarError

__all__ = ["DriverLoadFailure", "InvalidOperation", "UnsupportedVersion", "ZaqarError"]


class DriverLoadFailure(ZaqarError):
    """A transport driver could not be loaded (kept for ``except`` clauses:
    zaqarkit has no plugin drivers, so nothing raises it)."""

    def __init__(self, driver: str, ex: BaseException) -> None:
        super().__init__(f'Failed to load transport driver "{driver}": {ex}')
        self.driver = driver
        self.ex = ex


class InvalidOperation(UnsupportedOperation):
    """The operation is not available: zaqarkit's ``UnsupportedOperation``
    (e.g. an admin call over WebSocket without ``http_url=``) under
    python-zaqarclient's name."""


class UnsupportedVersion(ZaqarError):
    """The requested API version is not supported."""
