"""The retry flow (core.retry.call_flow) with a fake clock and seeded jitter,
and both facades driving it through MockTransport."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zaqarkit import (
    AsyncClient,
    Client,
    ConnectError,
    ReadError,
    RetryPolicy,
    ServiceUnavailable,
    Timeout,
    TimeoutError,
    TooManyRequests,
    Unauthorized,
    ValidationError,
)
from zaqarkit.core.retry import Outcome, Reauthenticate, SendAttempt, SleepBeforeRetry, call_flow
from zaqarkit.core.wire import Request, Response
from zaqarkit.transports import MockTransport

POLICY = RetryPolicy(attempts=4, backoff=1.0, multiplier=2.0, max_backoff=5.0, jitter=1.0)


def _drive(
    flow: Any,
    answers: Iterator[Response | Exception],
    start: float = 0.0,
    reauth: bool = True,
) -> tuple[list[Any], Any]:
    """Run ``flow`` against a fake clock: each send takes 0.1 s, sleeps take
    exactly their length. Returns the steps and the final response (or the
    raised error)."""
    now = start
    steps: list[Any] = []
    reply: Any = None
    while True:
        try:
            step = flow.send(reply)
        except StopIteration as done:
            return steps, done.value
        except Exception as exc:  # the flow raised the final TransportError
            return steps, exc
        steps.append(step)
        if isinstance(step, SendAttempt):
            now += 0.1
            reply = Outcome(next(answers), now)  # type: ignore[arg-type]
        elif isinstance(step, SleepBeforeRetry):
            now += step.seconds
            reply = now
        else:
            reply = reauth


def _seeded() -> Callable[[], float]:
    return random.Random(42).random


def test_backoff_grows_with_seeded_full_jitter() -> None:
    answers = iter([Response(503)] * 3 + [Response(204)])
    steps, final = _drive(call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()), answers)
    sleeps = [s.seconds for s in steps if isinstance(s, SleepBeforeRetry)]
    expected = random.Random(42)
    assert sleeps == [1.0 * expected.random(), 2.0 * expected.random(), 4.0 * expected.random()]
    assert [s.attempt for s in steps if isinstance(s, SendAttempt)] == [1, 2, 3, 4]
    assert final.status == 204


def test_gives_up_after_the_attempts_with_the_last_answer() -> None:
    answers = iter([Response(503)] * 10)
    steps, final = _drive(call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()), answers)
    assert sum(isinstance(s, SendAttempt) for s in steps) == 4
    assert final.status == 503


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=3, backoff=0.1, jitter=0.0, max_retry_after=10)
    answers = iter([Response(429, {"retry-after": "3"}), Response(200, {}, b"{}")])
    steps, final = _drive(call_flow(policy, "message_post", now=0.0, rand=_seeded()), answers)
    assert [s.seconds for s in steps if isinstance(s, SleepBeforeRetry)] == [3.0]
    assert final.status == 200
    # A Retry-After beyond the cap ends the retries at once; the error will carry it.
    answers = iter([Response(503, {"retry-after": "60"})])
    steps, final = _drive(call_flow(policy, "queue_get", now=0.0, rand=_seeded()), answers)
    assert not any(isinstance(s, SleepBeforeRetry) for s in steps)
    assert final.status == 503


def test_no_sleep_past_the_deadline() -> None:
    policy = RetryPolicy(attempts=10, backoff=1.0, multiplier=2.0, jitter=0.0, max_backoff=60)
    answers = iter([Response(503)] * 10)
    steps, final = _drive(
        call_flow(policy, "queue_get", now=100.0, rand=_seeded(), total=5.0), answers, 100.0
    )
    # sends at 100.1, sleep 1 -> 101.2, sleep 2 -> 103.3; a 4 s sleep would end past 105.
    assert [s.seconds for s in steps if isinstance(s, SleepBeforeRetry)] == [1.0, 2.0]
    assert final.status == 503


def test_unsafe_transport_failures_are_not_retried() -> None:
    lost = ReadError("reply lost", sent=True, operation="message_post")
    steps, final = _drive(
        call_flow(POLICY, "message_post", now=0.0, rand=_seeded()), iter([lost, Response(201)])
    )
    assert final is lost
    assert steps == [SendAttempt(1)]
    # ... unless the caller opts in.
    steps, final = _drive(
        call_flow(POLICY, "message_post", now=0.0, rand=_seeded(), unsafe=True),
        iter([lost, Response(201)]),
    )
    assert final.status == 201
    assert len(steps) == 3


def test_safe_transport_failures_are_retried() -> None:
    refused = ConnectError("refused", operation="message_post")
    lost_read = ReadError("reply lost", sent=True, operation="message_get")
    for error, op in ((refused, "message_post"), (lost_read, "message_get")):
        steps, final = _drive(
            call_flow(POLICY, op, now=0.0, rand=_seeded()), iter([error, Response(200)])
        )
        assert final.status == 200
        assert [type(s) for s in steps] == [SendAttempt, SleepBeforeRetry, SendAttempt]
        assert steps[1].reason == type(error).__name__


def test_gateway_errors_retried_for_idempotent_operations_only() -> None:
    for status in (502, 504):
        _, final = _drive(
            call_flow(POLICY, "message_post", now=0.0, rand=_seeded()),
            iter([Response(status), Response(201)]),
        )
        assert final.status == status
        _, final = _drive(
            call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()),
            iter([Response(status), Response(200)]),
        )
        assert final.status == 200


def test_other_statuses_are_final() -> None:
    for status in (400, 404, 409, 500):
        steps, final = _drive(
            call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()), iter([Response(status)])
        )
        assert final.status == status
        assert steps == [SendAttempt(1)]


def test_one_reauthentication_per_call() -> None:
    steps, final = _drive(
        call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()),
        iter([Response(401), Response(401)]),
    )
    assert steps == [SendAttempt(1), Reauthenticate(), SendAttempt(1)]
    assert final.status == 401
    # An auth that cannot renew its credentials (no-auth, signed URL): no resend.
    steps, final = _drive(
        call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()), iter([Response(401)]), reauth=False
    )
    assert steps == [SendAttempt(1), Reauthenticate()]
    assert final.status == 401


def test_reauthentication_then_retry() -> None:
    steps, final = _drive(
        call_flow(POLICY, "queue_get", now=0.0, rand=_seeded()),
        iter([Response(401), Response(503), Response(200)]),
    )
    assert [type(s) for s in steps] == [
        SendAttempt,
        Reauthenticate,
        SendAttempt,
        SleepBeforeRetry,
        SendAttempt,
    ]
    assert final.status == 200


def test_disabled_policy_sends_once() -> None:
    for off in (RetryPolicy.of(0), RetryPolicy.of(None), RetryPolicy(attempts=1)):
        steps, final = _drive(
            call_flow(off, "queue_get", now=0.0, rand=_seeded()), iter([Response(503)])
        )
        assert steps == [SendAttempt(1)]
        assert final.status == 503


@pytest.mark.parametrize(
    ("policy", "answer", "ends"),
    [
        (POLICY, Response(200), True),
        (POLICY, Response(404), True),
        (POLICY, Response(401), False),
        (POLICY, Response(503), False),
        (POLICY, ConnectError("refused"), False),
        # The policy's statuses decide: a policy that retries 500 goes on after one.
        (RetryPolicy(statuses=frozenset({500})), Response(500), False),
        (RetryPolicy(statuses=frozenset()), Response(503), True),
    ],
)
def test_the_first_attempt_goes_through_the_flow_and_a_final_answer_ends_it(
    policy: RetryPolicy, answer: Any, ends: bool
) -> None:
    """Every attempt, the first included, is decided by the flow: a final
    first answer ends the call after one SendAttempt, anything else goes on."""
    steps, final = _drive(
        call_flow(policy, "queue_get", now=0.0, rand=_seeded()),
        iter([answer, Response(204), Response(204)]),
        reauth=True,
    )
    assert steps[0] == SendAttempt(1)
    if ends:
        assert steps == [SendAttempt(1)]
        assert final is answer
    else:
        assert len(steps) > 1
        assert final.status == 204


@pytest.mark.parametrize(
    "bad",
    [
        {"attempts": 0},
        {"attempts": 1.5},
        {"backoff": -1},
        {"jitter": 2},
        {"multiplier": "2"},
        {"max_retry_after": float("inf")},
    ],
)
def test_policy_validation(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(**bad)


def test_retries_argument_validation() -> None:
    for bad in (-1, "3", True, 2.5):
        with pytest.raises(ValidationError, match="retries"):
            Client(
                "http://zaqar.test",
                project_id="p",
                retries=bad,  # type: ignore[arg-type]
                transport=MockTransport(lambda r: Response(204)),
            )


# -- through the facades --------------------------------------------------------------


FAST = RetryPolicy(attempts=3, backoff=0.01, jitter=0.0)


def _storm(*answers: Response | Exception) -> tuple[MockTransport, list[Request]]:
    """A MockTransport answering ``answers`` in order (exceptions are raised)."""
    pending = list(answers)

    def handler(request: Request) -> Response:
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    mock = MockTransport(handler)
    return mock, mock.requests


def _stats() -> Response:
    body = {"messages": {"claimed": 0, "free": 0, "total": 0}}
    return Response(200, {"content-type": "application/json"}, json.dumps(body).encode())


def _retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [r.delay for r in caplog.records if r.name == "zaqarkit.retry"]  # type: ignore[attr-defined]


def test_sync_client_rides_out_a_503_storm(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "zaqarkit.retry")
    mock, requests = _storm(Response(503, {"retry-after": "0.05"}), Response(429), _stats())
    with Client("http://zaqar.test", project_id="p", transport=mock, retries=FAST) as cli:
        cli.queue("q", auto_create=False).stats()
    assert len(requests) == 3
    assert _retry_delays(caplog) == [0.05, 0.02]
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert (record.operation, record.attempt, record.reason) == (  # type: ignore[attr-defined]
        "queue_get_stats",
        1,
        "503",
    )
    assert "queue_get_stats" in record.getMessage()
    assert "503" in record.getMessage()


def test_sync_client_raises_the_last_answer_with_retry_after() -> None:
    mock, requests = _storm(*[Response(503, {"retry-after": "0.01"})] * 3)
    with (
        Client("http://zaqar.test", project_id="p", transport=mock, retries=FAST) as cli,
        pytest.raises(ServiceUnavailable) as info,
    ):
        cli.queue("q", auto_create=False).stats()
    assert len(requests) == 3
    assert info.value.retry_after == 0.01
    assert info.value.retryable


def test_sync_post_with_lost_reply_is_not_resent(caplog: pytest.LogCaptureFixture) -> None:
    lost = ReadError("reply lost", sent=True, operation="message_post")
    mock, requests = _storm(lost, Response(201))
    with (
        Client("http://zaqar.test", project_id="p", transport=mock, retries=FAST) as cli,
        pytest.raises(ReadError),
    ):
        cli.queue("q", auto_create=False).post({"body": 1})
    assert len(requests) == 1
    assert _retry_delays(caplog) == []


def test_retry_unsafe_scope_resends_a_post() -> None:
    created = Response(
        201, {"content-type": "application/json"}, b'{"resources": ["/v2/queues/q/messages/m1"]}'
    )
    lost = ReadError("reply lost", sent=True, operation="message_post")
    mock, requests = _storm(lost, created, lost, created)
    with Client("http://zaqar.test", project_id="p", transport=mock, retries=FAST) as cli:
        with cli.retry_unsafe():
            assert cli.queue("q", auto_create=False).post({"body": 1}) == ["m1"]
        assert len(requests) == 2
        # Outside the block the default applies again.
        with pytest.raises(ReadError):
            cli.queue("q", auto_create=False).post({"body": 1})
        assert len(requests) == 3


def test_retries_zero_turns_retrying_off() -> None:
    mock, requests = _storm(Response(503), _stats())
    with (
        Client("http://zaqar.test", project_id="p", transport=mock, retries=0) as cli,
        pytest.raises(ServiceUnavailable),
    ):
        cli.queue("q", auto_create=False).stats()
    assert len(requests) == 1


def test_default_policy_retries() -> None:
    timeout = ConnectError("refused")
    mock, requests = _storm(timeout, _stats())
    with Client("http://zaqar.test", project_id="p", transport=mock) as cli:
        cli.queue("q", auto_create=False).stats()
    assert len(requests) == 2


def test_ping_is_not_retried() -> None:
    mock, requests = _storm(Response(503), Response(204))
    with Client("http://zaqar.test", project_id="p", transport=mock, retries=FAST) as cli:
        assert cli.ping() is False
    assert len(requests) == 1


def test_timeout_total_bounds_retries(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "zaqarkit.retry")
    slow = RetryPolicy(attempts=5, backoff=10.0, jitter=0.0)
    mock, requests = _storm(*[Response(503)] * 5)
    with (
        Client(
            "http://zaqar.test", project_id="p", transport=mock, retries=slow, timeout=Timeout(1.0)
        ) as cli,
        pytest.raises(ServiceUnavailable),
    ):
        cli.queue("q", auto_create=False).stats()
    # A 10 s sleep would end past the 1 s budget: given up at once.
    assert len(requests) == 1
    assert _retry_delays(caplog) == []


def test_unauthorized_without_renewable_credentials_is_raised() -> None:
    mock, requests = _storm(Response(401), Response(401))
    with (
        Client("http://zaqar.test", project_id="p", transport=mock, retries=FAST) as cli,
        pytest.raises(Unauthorized),
    ):
        cli.queue("q", auto_create=False).stats()
    assert len(requests) == 1


@pytest.mark.anyio
async def test_async_client_rides_out_a_429_storm(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "zaqarkit.retry")
    mock, requests = _storm(
        Response(429, {"retry-after": "0.03"}),
        TimeoutError("slow", sent=True, operation="queue_get_stats"),
        _stats(),
    )
    async with AsyncClient(
        "http://zaqar.test", project_id="p", transport=mock, retries=FAST
    ) as cli:
        await cli.queue("q", auto_create=False).stats()
    assert len(requests) == 3
    assert _retry_delays(caplog) == [0.03, 0.02]


@pytest.mark.anyio
async def test_async_client_gives_up_with_the_error() -> None:
    mock, requests = _storm(*[Response(429, {"retry-after": "0.01"})] * 3)
    async with AsyncClient(
        "http://zaqar.test", project_id="p", transport=mock, retries=FAST
    ) as cli:
        with pytest.raises(TooManyRequests) as info:
            await cli.queue("q", auto_create=False).stats()
    assert len(requests) == 3
    assert info.value.retry_after == 0.01


@pytest.mark.anyio
async def test_async_retry_unsafe_scope() -> None:
    created = Response(
        201, {"content-type": "application/json"}, b'{"resources": ["/v2/queues/q/messages/m1"]}'
    )
    mock, requests = _storm(ReadError("lost", sent=True, operation="message_post"), created)
    async with AsyncClient(
        "http://zaqar.test", project_id="p", transport=mock, retries=FAST
    ) as cli:
        with cli.retry_unsafe():
            assert await cli.queue("q", auto_create=False).post({"body": 1}) == ["m1"]
    assert len(requests) == 2
