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
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["bounded", "current", "expired", "scope"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "zaqarkit_deadline", default=None
)


def current() -> float | None:
    """The deadline in progress (a ``time.monotonic()`` reading), or None."""
    return _DEADLINE.get()


@contextmanager
def scope(seconds: float | None) -> Iterator[float | None]:
    """Bound everything inside to ``seconds`` from now (None: no new bound).

    Nested scopes never extend an outer deadline.
    """
    outer = _DEADLINE.get()
    if seconds is None:
        yield outer
        return
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(deadline, outer)
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


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
