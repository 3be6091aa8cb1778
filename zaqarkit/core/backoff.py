"""The one exponential backoff of the client: retries, idle consumers and
WebSocket reconnects all wait by it. Pure: the caller passes the random draw.

>>> [round(exponential(n, 0.5, 3.0, jitter=0.0, rand=0.7), 2) for n in range(5)]
[0.5, 1.0, 2.0, 3.0, 3.0]
"""

from __future__ import annotations

__all__ = ["exponential"]


def exponential(
    attempt: int,
    initial: float,
    maximum: float,
    *,
    factor: float = 2.0,
    jitter: float,
    rand: float,
) -> float:
    """Seconds to wait before attempt ``attempt`` (0 first).

    The ceiling is ``initial * factor**attempt``, capped at ``maximum``. The
    top ``jitter`` fraction of it is random (``rand`` in [0, 1)): ``1.0`` is
    "full jitter" (anywhere from 0 to the ceiling), ``0.5`` "equal jitter"
    (at least half), ``0.0`` none. Jitter keeps clients that failed together
    (a server restart drops them all) from coming back in lockstep, and the
    wait never exceeds ``maximum``.

    >>> exponential(1, 0.2, 1.0, jitter=0.5, rand=0.5)
    0.30000000000000004
    >>> exponential(10, 0.2, 1.0, jitter=1.0, rand=0.25)
    0.25
    """
    # min() first: a large attempt would overflow factor**attempt.
    ceiling = maximum if attempt >= 64 else min(maximum, initial * factor**attempt)
    return ceiling * (1 - jitter) + ceiling * jitter * rand
