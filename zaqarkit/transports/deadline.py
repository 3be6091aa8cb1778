"""The deadline of the call in progress, shared by the clients and the transports.

A client opens a :func:`scope` around each call (all its attempts, the
re-authentication and the sleeps between retries); a transport asks
:func:`bounded` for what is left of it before each blocking step, so the
call's ``Timeout.total`` holds however the time is spent (a server that
drips its answer one byte at a time included). The value lives in a
:class:`contextvars.ContextVar`: a thread, an asyncio task or a trio task
each see their own call's deadline.

>>> with scope(5.0):
...     0 < bounded(30.0) <= 5.0
True
>>> bounded(30.0) is None or bounded(30.0) == 30.0   # no call in progress
True
"""

from __future__ import annotations

import contextvars
import time

__all__ = ["bounded", "current", "expired", "scope"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "zaqarkit_deadline", default=None
)


def current() -> float | None:
    """The deadline in progress (a ``time.monotonic()`` reading), or None."""
    return _DEADLINE.get()


class scope:  # lower case: used as a function, ``with scope(seconds):``
    """Bound everything inside to ``seconds`` from now (None: no new bound).

    Nested scopes never extend an outer deadline. A class rather than a
    ``@contextmanager`` generator: every call of every client enters one,
    and the generator machinery cost more than the deadline itself.
    """

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: contextvars.Token[float | None] | None = None

    def __enter__(self) -> float | None:
        outer = _DEADLINE.get()
        if self._seconds is None:
            return outer
        deadline = time.monotonic() + self._seconds
        if outer is not None and outer < deadline:
            deadline = outer
        self._token = _DEADLINE.set(deadline)
        return deadline

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _DEADLINE.reset(self._token)
            self._token = None


def bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of the current deadline (>= 0)."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = max(0.0, deadline - time.monotonic())
    return left if timeout is None else min(timeout, left)


def expired() -> bool:
    """Whether the current deadline has passed."""
    deadline = _DEADLINE.get()
    return deadline is not None and time.monotonic() >= deadline
