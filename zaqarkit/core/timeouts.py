"""Timeouts: one budget for the whole call, and one per phase, the httpx way.

A :class:`Timeout` is plain data. ``total`` bounds a whole client call
(connect, send, receive, re-authentication, retries and the sleeps between
them); ``connect``, ``read``, ``write`` and ``pool`` bound each phase, as in
httpx. A bare float ``t`` means ``Timeout(t)``: every phase *and* the whole
call get ``t`` seconds, so a server that drips its answer one byte at a time
cannot keep a ``timeout=2`` call alive past about 2 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from zaqarkit.core.validate import number

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "TimeoutArg"]

_UNSET: Any = object()


@dataclass(frozen=True, slots=True, init=False)
class Timeout:
    """Seconds allowed for a call (``total``) and for each of its phases.

    ``Timeout(5)`` gives 5 s to every phase and to the whole call;
    keyword arguments override single fields; ``None`` means no limit.

    >>> Timeout(5)
    Timeout(total=5.0, connect=5.0, read=5.0, write=5.0, pool=5.0)
    >>> Timeout(10, connect=2).connect, Timeout(10, connect=2).total
    (2.0, 10.0)
    >>> Timeout(total=3).read is None
    True
    >>> Timeout.of(2.5) == Timeout(2.5), Timeout.of(None) == Timeout(None)
    (True, True)
    """

    total: float | None
    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def __init__(
        self,
        default: float | None = None,
        *,
        total: float | None = _UNSET,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        pool: float | None = _UNSET,
    ) -> None:
        base = _seconds("timeout", default)
        for name, value in (
            ("total", total),
            ("connect", connect),
            ("read", read),
            ("write", write),
            ("pool", pool),
        ):
            object.__setattr__(self, name, base if value is _UNSET else _seconds(name, value))

    @classmethod
    def of(cls, value: TimeoutArg) -> Timeout:
        """Accept a Timeout, a number of seconds or None (no limit)."""
        if isinstance(value, Timeout):
            return value
        return cls(value)

    def as_dict(self) -> dict[str, float | None]:
        """The per-phase values, in the shape httpcore's ``timeout`` extension wants."""
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}


def _seconds(name: str, value: Any) -> float | None:
    if value is None:
        return None
    return number(value, f"timeout.{name}" if name != "timeout" else name, 0, above=True)


#: What ``timeout=`` accepts everywhere.
TimeoutArg: TypeAlias = float | Timeout | None

#: Zaqar answers quickly and has no long-polling over HTTP: 30 s only trips
#: on a dead or overloaded server.
DEFAULT_TIMEOUT = Timeout(30.0)
