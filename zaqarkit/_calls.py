"""What both facades need to drive :func:`zaqarkit.core.retry.call_flow`:
the clock, the jitter source, the retry log and the per-call opt-in to
unsafe retries. Shared rather than generated, so the sync and async
clients see one ``retry_unsafe()`` scope.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from zaqarkit.core.retry import RetryPolicy, SleepBeforeRetry

__all__ = ["clock", "jitter", "log_retry", "retry_unsafe", "sleep", "unsafe_requested"]

logger = logging.getLogger("zaqarkit.retry")

#: The clock the call flow reads; the deadline of :mod:`zaqarkit.transports.deadline`
#: uses the same one.
clock = time.monotonic
#: How the sync client waits between attempts.
sleep = time.sleep

_random = random.Random()
jitter = _random.random

_UNSAFE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zaqarkit_retry_unsafe", default=False
)


@contextmanager
def retry_unsafe() -> Iterator[None]:
    """Inside this block, calls are retried even when they may already have
    been executed (a message post whose reply was lost is then sent again
    and may be stored twice). Scoped to the current thread or task.

    >>> with retry_unsafe():
    ...     unsafe_requested()
    True
    >>> unsafe_requested()
    False
    """
    token = _UNSAFE.set(True)
    try:
        yield
    finally:
        _UNSAFE.reset(token)


def unsafe_requested() -> bool:
    """Whether the caller is inside :func:`retry_unsafe`."""
    return _UNSAFE.get()


def log_retry(step: SleepBeforeRetry, policy: RetryPolicy) -> None:
    """One WARNING per retry on ``zaqarkit.retry``: operation, attempt, reason,
    delay. The fields are also on the record (``operation``, ``attempt``,
    ``reason``, ``delay``) for handlers and tests; nothing secret is logged."""
    logger.warning(
        "retrying %s in %.2f s: attempt %d of %d failed (%s)",
        step.operation,
        step.seconds,
        step.attempt,
        policy.attempts,
        step.reason,
        extra={
            "operation": step.operation,
            "attempt": step.attempt,
            "reason": step.reason,
            "delay": step.seconds,
        },
    )
