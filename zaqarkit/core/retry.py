"""The retry and re-authentication flow of one call, as a pure generator.

The facades drive :func:`call_flow` with a short loop; the flow decides,
they execute. It yields three kinds of step:

- :class:`SendAttempt`: send the request (with fresh credentials) and send back a
  :class:`Outcome` (the response or the :class:`~zaqarkit.errors.TransportError`,
  and the clock reading afterwards);
- :class:`Reauthenticate`: the credentials were rejected (401); forget them
  and send back whether new ones can be had (``auth.invalidate(...)``);
- :class:`SleepBeforeRetry`: wait, log the retry, and send back the clock reading.

and returns the final :class:`~zaqarkit.core.wire.Response` (which the
caller parses: an error status becomes an ApiError) or raises the final
TransportError. Time and randomness are inputs (the clock readings sent in,
and ``rand``), so tests are deterministic.

What is retried: a TransportError that is resendable (nothing was
sent, or the operation is idempotent); 429 and 503 answers, which say that
the server did not act (honouring ``Retry-After`` up to a cap); 502 and 504
only for idempotent operations, since a gateway may have forwarded the
request. ``RetryPolicy(retry_unsafe=True)`` (or the ``unsafe`` argument,
per call) also resends what may already have been executed: a message post
whose reply was lost may then be stored twice.

>>> policy = RetryPolicy(attempts=3, backoff=1.0, jitter=0.0)
>>> flow = call_flow(policy, "queue_get", now=0.0, rand=lambda: 0.5)
>>> next(flow)
SendAttempt(attempt=1)
>>> flow.send(Outcome(Response(503, {"retry-after": "2"}), now=0.1))
SleepBeforeRetry(seconds=2.0, attempt=1, reason='503', operation='queue_get')
>>> flow.send(2.1)
SendAttempt(attempt=2)
>>> try:
...     flow.send(Outcome(Response(200, {}, b"{}"), now=2.2))
... except StopIteration as done:
...     print(done.value.status)
200
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from zaqarkit.core.backoff import exponential
from zaqarkit.core.operations import is_idempotent, resendable
from zaqarkit.core.parse import retry_after
from zaqarkit.core.validate import integer, number
from zaqarkit.core.wire import Response
from zaqarkit.errors import RETRYABLE_STATUSES, TransportError, ValidationError

__all__ = [
    "DEFAULT_RETRIES",
    "Outcome",
    "Reauthenticate",
    "RetryArg",
    "RetryPolicy",
    "SendAttempt",
    "SleepBeforeRetry",
    "Step",
    "call_flow",
]

#: Statuses that mean "not done, try later" whatever the operation: Zaqar
#: answers 503 when its storage is down, 429 when rate limited, both before
#: acting on the request.
_REFUSED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries a failed call.

    ``attempts`` counts the first try (1 disables retries). Delays grow from
    ``backoff`` by ``multiplier`` up to ``max_backoff``, with jitter: with
    ``jitter=1.0`` ("full jitter") each delay is drawn between 0 and that
    value; with ``0.0`` it is exact. A ``Retry-After`` of at most
    ``max_retry_after`` seconds is honoured (the delay is at least that); a
    longer one ends the retries and the error carries it. ``retry_unsafe``
    also resends calls that may already have been executed (see the module).
    The call's total timeout bounds retries and sleeps too.

    >>> RetryPolicy().attempts
    3
    >>> RetryPolicy.of(0).attempts, RetryPolicy.of(None).attempts, RetryPolicy.of(5).attempts
    (1, 1, 6)
    >>> RetryPolicy(attempts=0)
    Traceback (most recent call last):
    ...
    zaqarkit.errors.ValidationError: retries.attempts: must be at least 1, got 0
    """

    attempts: int = 3
    backoff: float = 0.5
    multiplier: float = 2.0
    max_backoff: float = 8.0
    jitter: float = 1.0
    max_retry_after: float = 30.0
    retry_unsafe: bool = False
    statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def __post_init__(self) -> None:
        integer(self.attempts, "retries.attempts", 1)
        for name in ("backoff", "multiplier", "max_backoff", "max_retry_after"):
            number(getattr(self, name), f"retries.{name}", 0)
        number(self.jitter, "retries.jitter", 0, 1)

    @classmethod
    def of(cls, value: RetryArg) -> RetryPolicy:
        """Accept a policy, a number of retries (``0`` turns retrying off) or None (off)."""
        if isinstance(value, RetryPolicy):
            return value
        if value is None:
            return cls(attempts=1)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                "retries", f"must be a RetryPolicy, an integer or None, got {value!r}"
            )
        return cls(attempts=integer(value, "retries", 0) + 1)

    def delay(self, retry: int, rand: float) -> float:
        """Backoff before retry number ``retry`` (1-based), given ``rand`` in [0, 1).

        >>> p = RetryPolicy(backoff=0.5, multiplier=2, max_backoff=3, jitter=0)
        >>> [p.delay(n, 0.9) for n in (1, 2, 3, 4)]
        [0.5, 1.0, 2.0, 3.0]
        >>> RetryPolicy(backoff=1, jitter=1).delay(1, 0.25)
        0.25
        """
        return exponential(
            retry - 1,
            self.backoff,
            self.max_backoff,
            factor=self.multiplier,
            jitter=self.jitter,
            rand=rand,
        )


RetryArg: TypeAlias = "RetryPolicy | int | None"

#: The clients' default: two retries, delays of up to 0.5 s and 1 s.
DEFAULT_RETRIES = RetryPolicy()


@dataclass(frozen=True, slots=True)
class SendAttempt:
    """SendAttempt the request now (``attempt`` counts from 1; a resend after
    re-authentication keeps its number)."""

    attempt: int


@dataclass(frozen=True, slots=True)
class Reauthenticate:
    """The server rejected the credentials: invalidate them and answer whether
    fresh ones can be obtained."""


@dataclass(frozen=True, slots=True)
class SleepBeforeRetry:
    """Wait ``seconds`` before the next attempt (log it: this is a retry)."""

    seconds: float
    attempt: int
    reason: str
    operation: str


Step: TypeAlias = "SendAttempt | Reauthenticate | SleepBeforeRetry"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a :class:`SendAttempt` produced, and the clock reading after it."""

    result: Response | TransportError
    now: float


def call_flow(
    policy: RetryPolicy,
    operation: str,
    *,
    now: float,
    rand: Callable[[], float],
    total: float | None = None,
    unsafe: bool = False,
) -> Generator[Step, Any, Response]:
    """Decide one call's sends, re-authentication and retries (see the module).

    ``now`` is the clock when the call starts and ``total`` its budget in
    seconds (None: unbounded); no sleep is started that would end past
    ``now + total``. ``rand()`` returns a float in [0, 1) for the jitter.
    ``unsafe`` (or ``policy.retry_unsafe``) also retries what may have been
    executed already. Every attempt, the first included, goes through the
    same decision; an answer that ends the call (neither a 401 nor a status
    ``policy`` retries: the common case) costs one test.

    >>> flow = call_flow(RetryPolicy(jitter=0.0), "queue_get", now=0.0, rand=lambda: 0.5)
    >>> next(flow)
    SendAttempt(attempt=1)
    >>> flow.send(Outcome(Response(503), now=0.1))
    SleepBeforeRetry(seconds=0.5, attempt=1, reason='503', operation='queue_get')
    """
    statuses = policy.statuses
    reauthenticated = False
    attempt = 1
    # Worked out on the first answer that does not end the call.
    idempotent: bool | None = None
    while True:
        outcome: Outcome = yield SendAttempt(attempt)
        result = outcome.result
        if isinstance(result, Response):
            status = result.status
            if status != 401 and status not in statuses:
                return result
            if status == 401 and not reauthenticated:
                reauthenticated = True
                if (yield Reauthenticate()):
                    continue
                return result
            if status not in statuses:
                return result  # a 401 again, after re-authenticating
            if idempotent is None:
                idempotent = is_idempotent(operation) or unsafe or policy.retry_unsafe
            if status not in _REFUSED_STATUSES and not idempotent:
                return result  # a gateway error: the server may have acted
            reason = str(status)
            wait = retry_after(result) if status in _REFUSED_STATUSES else None
        else:
            if not (resendable(operation, result.sent) or unsafe or policy.retry_unsafe):
                raise result
            reason = type(result).__name__
            wait = None
        if attempt >= policy.attempts or (wait is not None and wait > policy.max_retry_after):
            return _give_up(result)
        delay = policy.delay(attempt, rand())
        if wait is not None:
            delay = max(delay, wait)
        if total is not None and outcome.now + delay >= now + total:
            return _give_up(result)
        yield SleepBeforeRetry(delay, attempt, reason, operation)
        attempt += 1


def _give_up(result: Response | TransportError) -> Response:
    if isinstance(result, TransportError):
        raise result
    return result
