"""The sans-I/O WebSocket connection machine, in memory: no sockets, no clock."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zaqarkit.core.api import ApiV2
from zaqarkit.core.wsconn import (
    TRANSITIONS,
    Abort,
    Answer,
    CancelConnect,
    CloseSocket,
    Connect,
    Failed,
    Gap,
    LocalProtocolError,
    Output,
    Ping,
    Push,
    RefreshToken,
    Send,
    Sleep,
    State,
    StreamEnded,
    WsConnection,
    backoff_delay,
)
from zaqarkit.errors import ConnectError, ProtocolError, ReadError, TimeoutError, TransportError

api = ApiV2()
HEADERS = (("Client-ID", "c"), ("X-Project-ID", "p"))


def frame(send: Send) -> dict[str, Any]:
    assert isinstance(send.data, str)
    result: dict[str, Any] = json.loads(send.data)
    return result


def reply_to(send: Send, status: int, body: Any = None) -> str:
    sent = frame(send)
    return json.dumps(
        {
            "request": {"action": sent["action"], "headers": sent["headers"]},
            "headers": {"status": status},
            "body": body,
        }
    )


def note(queue: str, body: Any) -> str:
    return json.dumps(
        {"body": body, "ttl": 60, "queue_name": queue, "Message_Type": "Notification"}
    )


class Rig:
    """A machine and what it asked for, with the answers of a fake server."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("default_headers", HEADERS)
        self.m = WsConnection(**options)
        self.now = 0.0
        self.log: list[Output] = []

    def drain(self) -> list[Output]:
        out = self.m.drain()
        self.log.extend(out)
        return out

    def of(self, kind: type, outs: list[Output] | None = None) -> list[Any]:
        return [o for o in (self.drain() if outs is None else outs) if isinstance(o, kind)]

    def open(self) -> list[Output]:
        """Answer the pending Connect; returns what connecting produced."""
        connects = [o for o in self.log if isinstance(o, Connect)]
        assert self.m.connected(connects[-1].attempt, now=self.now)
        return self.drain()

    def answer(self, send: Send, status: int = 201, body: Any = None) -> list[Output]:
        self.m.receive(reply_to(send, status, body), now=self.now)
        return self.drain()

    def attempt(self) -> int:
        return [o for o in self.log if isinstance(o, Connect)][-1].attempt


def sub_body(n: int) -> dict[str, str]:
    return {"subscription_id": f"sub-{n}"}


def open_rig(**options: Any) -> Rig:
    rig = Rig(**options)
    rig.m.request(api.queue_list().request, now=0.0)
    rig.drain()
    outs = rig.open()
    rig.answer(rig.of(Send, outs)[0], 200, {"queues": []})
    return rig


# -- connecting and bootstrap -------------------------------------------------------


def test_first_request_connects_and_waits_for_the_socket() -> None:
    rig = Rig()
    ticket = rig.m.request(api.queue_create("q").request, now=0.0)
    assert [type(o) for o in rig.drain()] == [Connect]
    assert rig.m.state is State.CONNECTING
    sends = rig.of(Send, rig.open())
    assert [s.ticket for s in sends] == [ticket]
    assert frame(sends[0])["action"] == "queue_create"
    assert rig.of(Answer, rig.answer(sends[0], 201)) == [Answer(ticket, rig.log[-1].response)]


def test_no_authenticate_frame_without_a_token() -> None:
    rig = Rig()
    rig.m.request(api.queue_get("q").request, now=0.0)
    rig.drain()
    actions = [frame(s)["action"] for s in rig.of(Send, rig.open())]
    assert actions == ["queue_get"]


def test_authenticate_first_and_requests_wait_for_its_reply() -> None:
    rig = Rig(auth_token="tok", project_id="p")
    ticket = rig.m.request(api.queue_get("q").request, now=0.0)
    rig.drain()
    sends = rig.of(Send, rig.open())
    assert [frame(s)["action"] for s in sends] == ["authenticate"]
    assert frame(sends[0])["headers"]["X-Auth-Token"] == "tok"
    assert rig.m.state is State.BOOTSTRAP
    after = rig.of(Send, rig.answer(sends[0], 200, {}))
    assert [s.ticket for s in after] == [ticket]
    assert rig.m.state is State.OPEN


def test_rejected_authentication_fails_the_first_attempt() -> None:
    rig = Rig(auth_token="bad", project_id="p")
    ticket = rig.m.request(api.queue_get("q").request, now=0.0)
    rig.drain()
    auth = rig.of(Send, rig.open())[0]
    outs = rig.answer(auth, 401, {"error": "Authentication failed."})
    assert rig.of(Abort, outs)
    failed = rig.of(Failed, outs)
    assert [f.ticket for f in failed] == [ticket]
    assert failed[0].error.status == 401
    assert rig.m.state is State.IDLE


def test_first_attempt_failure_fails_its_callers_and_does_not_retry() -> None:
    rig = Rig()
    post = rig.m.request(api.message_post("q", [{"body": 1}]).request, now=0.0)
    rig.drain()
    rig.m.connect_failed(rig.attempt(), "refused", now=0.1)
    outs = rig.drain()
    assert not rig.of(Sleep, outs)
    assert not rig.of(Connect, outs)
    (failed,) = rig.of(Failed, outs)
    assert failed.ticket == post
    assert isinstance(failed.error, ConnectError)
    assert failed.error.sent is False
    assert failed.error.retryable is True
    assert rig.m.state is State.IDLE
    rig.m.request(api.queue_get("q").request, now=1.0)
    assert rig.of(Connect)  # the next request tries again


def test_stale_connect_results_are_ignored() -> None:
    rig = Rig()
    ticket = rig.m.request(api.queue_get("q").request, now=0.0)
    rig.drain()
    assert rig.m.timed_out(ticket, now=5.0) is not None
    assert rig.of(CancelConnect)
    assert rig.m.connected(1, now=6.0) is False
    assert rig.m.state is State.IDLE


def test_illegal_input_raises_local_protocol_error() -> None:
    rig = Rig()
    rig.m.request(api.queue_get("q").request, now=0.0)
    with pytest.raises(LocalProtocolError):
        rig.m.lost(rig.attempt() if rig.drain() else 1, 1006, now=0.1)  # not connected yet


# -- every row of the transitions table -------------------------------------------------


def _in(state: State, **options: Any) -> Rig:
    """A rig whose machine is in ``state`` (with a token: BOOTSTRAP is reachable)."""
    options.setdefault("auth_token", "t")
    options.setdefault("project_id", "p")
    rig = Rig(**options)
    if state is State.CLOSED:
        rig.m.close(now=0.0)
        return rig
    if state is State.IDLE:
        return rig
    rig.m.request(api.queue_get("q").request, now=0.0)
    rig.drain()
    if state is State.CONNECTING:
        return rig
    auth = rig.of(Send, rig.open())[0]
    if state is State.BOOTSTRAP:
        return rig
    rig.answer(auth, 200, {})
    if state is State.OPEN:
        return rig
    rig.m.lost(rig.attempt(), 1006, now=1.0)
    rig.drain()
    assert state is State.BACKOFF
    return rig


def _reconnecting(state: State) -> Rig:
    """A rig in ``state`` on a reconnect attempt (not the first)."""
    rig = _in(State.BACKOFF)
    rig.m.timer_fired(now=100.0)
    rig.drain()
    if state is State.BOOTSTRAP:
        rig.open()
    assert rig.m.state is state
    return rig


def _auth_answer(rig: Rig, status: int) -> None:
    auth = [o for o in rig.log if isinstance(o, Send) and frame(o)["action"] == "authenticate"]
    rig.answer(auth[-1], status, {})


#: For each (state, event) row: inputs that make the machine take it.
ROWS: dict[tuple[State, str], Any] = {
    (State.IDLE, "connect"): lambda r: r.m.request(api.queue_get("q").request, now=1.0),
    (State.BACKOFF, "connect"): lambda r: r.m.timer_fired(now=100.0),
    (State.CONNECTING, "connected"): lambda r: r.open(),
    (State.CONNECTING, "connected_bootstrap"): lambda r: r.open(),
    (State.CONNECTING, "first_attempt_failed"): lambda r: r.m.connect_failed(
        r.attempt(), "refused", now=1.0
    ),
    (State.CONNECTING, "reconnect_failed"): lambda r: r.m.connect_failed(
        r.attempt(), "refused", now=101.0
    ),
    (State.CONNECTING, "cancel_connect"): lambda r: r.m.timed_out(1, now=5.0),
    (State.BOOTSTRAP, "bootstrapped"): lambda r: _auth_answer(r, 200),
    (State.BOOTSTRAP, "first_attempt_failed"): lambda r: _auth_answer(r, 401),
    (State.BOOTSTRAP, "reconnect_failed"): lambda r: r.m.lost(r.attempt(), 1006, now=101.0),
    (State.OPEN, "lost_reconnect"): lambda r: r.m.lost(r.attempt(), 1006, now=1.0),
    (State.OPEN, "lost_idle"): lambda r: r.m.lost(r.attempt(), 1006, now=1.0),
    **{
        (state, "close"): (lambda r: r.m.close(now=9.0))
        for state in State
        if state is not State.CLOSED
    },
}


def _start(state: State, event: str) -> Rig:
    if event == "reconnect_failed":
        return _reconnecting(state)
    if event == "connected":
        return _in(state, auth_token=None, project_id=None)
    if event == "lost_idle":
        return _in(state, reconnect=False)
    return _in(state)


def test_every_row_of_the_table_has_a_scenario() -> None:
    rows = {(state, event) for state, events in TRANSITIONS.items() for event in events}
    assert rows == set(ROWS)


@pytest.mark.parametrize(("state", "event"), sorted(ROWS, key=lambda row: (row[0].value, row[1])))
def test_each_row_of_the_transitions_table(state: State, event: str) -> None:
    rig = _start(state, event)
    assert rig.m.state is state
    ROWS[state, event](rig)
    rig.drain()
    assert rig.m.state is TRANSITIONS[state][event]


def test_an_event_absent_from_the_table_is_a_local_protocol_error() -> None:
    rig = _in(State.CONNECTING)
    with pytest.raises(
        LocalProtocolError, match="lost_reconnect is not allowed in state CONNECTING"
    ):
        rig.m.lost(rig.attempt(), 1006, now=0.1)


# -- timeouts ------------------------------------------------------------------------


def test_timeout_says_whether_the_request_was_written() -> None:
    rig = open_rig()
    post = rig.m.request(api.message_post("q", [{"body": 1}]).request, now=1.0)
    rig.drain()
    error = rig.m.timed_out(post, now=31.0)
    assert isinstance(error, TimeoutError)
    assert error.sent is True
    assert not error.retryable
    rig2 = Rig()
    queued = rig2.m.request(api.message_post("q", [{"body": 1}]).request, now=0.0)
    error2 = rig2.m.timed_out(queued, now=30.0)
    assert isinstance(error2, TimeoutError)
    assert error2.sent is False
    assert error2.retryable


def test_connect_attempt_is_cancelled_with_its_last_caller_only() -> None:
    rig = Rig()
    first = rig.m.request(api.queue_get("a").request, now=0.0)
    second = rig.m.request(api.queue_get("b").request, now=0.5)
    rig.drain()
    rig.m.timed_out(first, now=1.0)
    assert not rig.of(CancelConnect)  # another caller still waits on it
    rig.m.timed_out(second, now=1.5)
    assert rig.of(CancelConnect) == [CancelConnect(1)]


def test_answered_ticket_times_out_as_none() -> None:
    rig = open_rig()
    ticket = rig.m.request(api.queue_get("q").request, now=1.0)
    rig.answer(rig.of(Send)[0], 200, {})
    assert rig.m.timed_out(ticket, now=2.0) is None


def test_malformed_reply_fails_its_request_at_once() -> None:
    rig = open_rig()
    ticket = rig.m.request(api.queue_get("q").request, now=1.0)
    send = rig.of(Send)[0]
    bad = json.dumps({"request": {"headers": frame(send)["headers"]}, "headers": {}})
    rig.m.receive(bad, now=1.1)
    (failed,) = rig.of(Failed)
    assert failed.ticket == ticket
    assert isinstance(failed.error, ProtocolError)
    rig.m.request(api.queue_get("q").request, now=2.0)
    rig.drain()
    rig.m.receive("{not json", now=2.1)
    (failed,) = rig.of(Failed)
    assert isinstance(failed.error, ProtocolError)


def test_write_failure_is_not_sent_and_a_partial_frame_aborts() -> None:
    rig = open_rig()
    ticket = rig.m.request(api.message_post("q", [{"body": 1}]).request, now=1.0)
    rig.drain()
    rig.m.write_failed(ticket, "timed out", partial=True, timeout=True, now=3.0)
    outs = rig.drain()
    assert rig.of(Abort, outs)
    (failed,) = rig.of(Failed, outs)
    assert isinstance(failed.error, TimeoutError)
    assert failed.error.sent is False


# -- drops, reconnects, backoff ------------------------------------------------------


def test_in_flight_requests_fail_exactly_once_marked_sent() -> None:
    rig = open_rig()
    post = rig.m.request(api.message_post("q", [{"body": 1}]).request, now=1.0)
    get = rig.m.request(api.queue_get("q").request, now=1.0)
    rig.drain()
    rig.m.lost(rig.attempt(), 1006, now=2.0)
    outs = rig.drain()
    failed = {f.ticket: f.error for f in rig.of(Failed, outs)}
    assert set(failed) == {post, get}
    assert all(isinstance(e, ReadError) and e.sent for e in failed.values())
    assert failed[post].retryable is False
    assert failed[get].retryable is True
    assert rig.m.timed_out(post, now=3.0) is None  # never a second outcome
    rig.m.lost(rig.attempt(), 1006, now=3.0)
    assert not rig.of(Failed)


def test_backoff_schedule_with_seeded_jitter() -> None:
    rng = random.Random(42)
    rig = Rig(backoff=(0.2, 1.0), jitter=rng.random)
    open_rig_steps(rig)
    rig.m.lost(rig.attempt(), 1006, now=10.0)
    expected_rng = random.Random(42)
    wakes = []
    now = 10.0
    for n in range(6):
        (sleep,) = rig.of(Sleep)
        assert sleep.until == pytest.approx(now + backoff_delay(n, 0.2, 1.0, expected_rng.random()))
        wakes.append(sleep.until - now)
        now = sleep.until
        rig.m.timer_fired(now=now - 0.01)  # early: nothing happens yet
        assert not rig.of(Connect, [o for o in rig.drain() if not isinstance(o, Sleep)])
        rig.m.timer_fired(now=now)
        rig.drain()
        rig.m.connect_failed(rig.attempt(), "refused", now=now)
    assert wakes[0] < 0.2
    assert max(wakes) <= 1.0
    assert wakes[-1] >= 0.5
    # A successful reconnect starts the schedule over.
    (sleep,) = rig.of(Sleep)
    rig.m.timer_fired(now=sleep.until)
    rig.drain()
    rig.open()
    rig.m.lost(rig.attempt(), 1006, now=100.0)
    (sleep,) = rig.of(Sleep)
    assert sleep.until - 100.0 <= 0.2


def open_rig_steps(rig: Rig) -> None:
    rig.m.request(api.queue_list().request, now=0.0)
    rig.drain()
    outs = rig.open()
    rig.answer(rig.of(Send, outs)[0], 200, {"queues": []})


def subscribed(rig: Rig, queue: str, n: int) -> int:
    stream, ticket = rig.m.subscribe(queue, now=rig.now)
    (send,) = rig.of(Send)
    assert send.ticket == ticket
    rig.answer(send, 201, sub_body(n))
    assert rig.m.subscription_id(stream) == f"sub-{n}"
    return stream


def test_reconnect_restores_every_live_subscription_and_reports_a_gap() -> None:
    rig = open_rig()
    a = subscribed(rig, "a", 1)
    b = subscribed(rig, "b", 2)
    rig.m.lost(rig.attempt(), 1001, now=5.0)
    rig.drain()
    assert rig.m.subscription_id(a) is None
    rig.m.timer_fired(now=10.0)
    assert rig.of(Connect)
    restores = rig.of(Send, rig.open())
    assert sorted(frame(s)["body"]["queue_name"] for s in restores) == ["a", "b"]
    assert all(frame(s)["action"] == "subscription_create" for s in restores)
    assert rig.m.state is State.BOOTSTRAP
    outs = []
    for n, send in enumerate(restores, start=10):
        outs += rig.answer(send, 201, sub_body(n))
    assert rig.m.state is State.OPEN
    gaps = rig.of(Gap, outs)
    assert sorted(g.streams for g in gaps) == [(a,), (b,)]
    assert {rig.m.subscription_id(a), rig.m.subscription_id(b)} == {"sub-10", "sub-11"}
    rig.m.receive(note("a", {"x": 1}), now=11.0)
    (push,) = rig.of(Push)
    assert push.streams == (a,)
    assert push.notification.body == {"x": 1}


def test_a_subscription_that_cannot_be_restored_ends_its_streams() -> None:
    rig = open_rig()
    a = subscribed(rig, "a", 1)
    rig.m.lost(rig.attempt(), 1006, now=5.0)
    rig.drain()
    rig.m.timer_fired(now=10.0)
    rig.drain()
    (restore,) = rig.of(Send, rig.open())
    outs = rig.answer(restore, 404, {"error": "gone"})
    (ended,) = rig.of(StreamEnded, outs)
    assert ended.streams == (a,)
    assert isinstance(ended.error, TransportError)
    assert rig.m.state is State.OPEN


def test_reauthenticates_with_a_new_token_after_close_4003() -> None:
    rig = Rig(auth_token="old", project_id="p", refresh=True)
    rig.m.request(api.queue_list().request, now=0.0)
    rig.drain()
    auth = rig.of(Send, rig.open())[0]
    rig.answer(auth, 200, {})
    rig.drain()
    rig.m.lost(rig.attempt(), 4003, now=5.0)
    rig.drain()
    rig.m.timer_fired(now=10.0)
    rig.drain()
    outs = rig.open()
    assert rig.of(RefreshToken, outs)
    assert not rig.of(Send, outs)
    rig.m.token(("new", "p2"), now=10.1)
    (auth,) = rig.of(Send)
    assert frame(auth)["headers"]["X-Auth-Token"] == "new"
    assert frame(auth)["headers"]["X-Project-ID"] == "p2"


def test_an_ordinary_drop_keeps_the_token() -> None:
    rig = Rig(auth_token="old", project_id="p", refresh=True)
    rig.m.request(api.queue_list().request, now=0.0)
    rig.drain()
    rig.answer(rig.of(Send, rig.open())[0], 200, {})
    rig.drain()
    rig.m.lost(rig.attempt(), 1006, now=5.0)
    rig.drain()
    rig.m.timer_fired(now=10.0)
    rig.drain()
    outs = rig.open()
    assert not rig.of(RefreshToken, outs)
    assert frame(rig.of(Send, outs)[0])["headers"]["X-Auth-Token"] == "old"


def test_reauthenticates_before_the_token_expires() -> None:
    rig = Rig(refresh=True, project_id="p", ping_interval=None)
    rig.m.request(api.queue_list().request, now=0.0)
    rig.drain()
    assert rig.of(RefreshToken, rig.open())
    rig.m.token("t1", now=0.0, expires_at=100.0)
    rig.answer(rig.of(Send)[0], 200, {})
    sleeps = rig.of(Sleep, rig.log)
    assert sleeps[-1].until == 70.0
    rig.m.timer_fired(now=70.0)
    assert rig.of(RefreshToken)
    rig.m.token("t2", now=70.5)
    (auth,) = rig.of(Send)
    assert frame(auth)["action"] == "authenticate"
    assert frame(auth)["headers"]["X-Auth-Token"] == "t2"
    assert rig.m.state is State.OPEN  # requests keep flowing meanwhile


def test_keepalive_pings_a_quiet_line_and_drops_a_silent_peer() -> None:
    rig = open_rig(ping_interval=20.0, ping_timeout=10.0)
    assert rig.of(Sleep, rig.log)[-1].until == 20.0
    rig.m.timer_fired(now=20.0)
    outs = rig.drain()
    assert rig.of(Ping, outs)
    assert rig.of(Sleep, outs) == [Sleep(30.0)]
    rig.m.timer_fired(now=30.0)
    assert rig.of(Abort)


def test_keepalive_any_frame_proves_the_peer_alive() -> None:
    rig = open_rig(ping_interval=20.0, ping_timeout=10.0)
    rig.m.timer_fired(now=20.0)
    rig.drain()
    rig.m.receive(note("x", 1), now=25.0)
    rig.m.timer_fired(now=30.0)
    outs = rig.drain()
    assert not rig.of(Abort, outs)
    assert not rig.of(Ping, outs)
    assert rig.of(Sleep, outs) == [Sleep(45.0)]


def test_reconnect_false_ends_streams_and_reconnects_lazily() -> None:
    rig = open_rig(reconnect=False)
    a = subscribed(rig, "a", 1)
    rig.m.lost(rig.attempt(), 1006, now=5.0)
    outs = rig.drain()
    assert not rig.of(Sleep, outs)
    (ended,) = rig.of(StreamEnded, outs)
    assert ended.streams == (a,)
    assert isinstance(ended.error, ReadError)
    assert rig.m.state is State.IDLE
    rig.m.request(api.queue_get("q").request, now=6.0)
    assert rig.of(Connect)


def test_close_mid_flight_fails_everything_once() -> None:
    rig = open_rig()
    a = subscribed(rig, "a", 1)
    sent = rig.m.request(api.message_post("q", [{"body": 1}]).request, now=1.0)
    rig.drain()
    rig.m.close(now=2.0)
    outs = rig.drain()
    failed = rig.of(Failed, outs)
    assert [f.ticket for f in failed] == [sent]
    assert type(failed[0].error) is TransportError
    assert failed[0].error.sent is True
    assert rig.of(StreamEnded, outs) == [StreamEnded((a,), None)]
    assert rig.of(CloseSocket, outs)
    with pytest.raises(TransportError):
        rig.m.request(api.queue_get("q").request, now=3.0)
    rig.m.lost(rig.attempt(), 1000, now=3.0)
    assert rig.drain() == []


def test_two_streams_share_one_server_subscription() -> None:
    rig = open_rig()
    first = subscribed(rig, "q", 1)
    second, ticket = rig.m.subscribe("q", now=1.0)
    assert ticket is None
    assert not rig.of(Send)
    assert rig.m.subscription_id(second) == "sub-1"
    rig.m.receive(note("q", "hi"), now=2.0)
    assert rig.of(Push)[0].streams == (first, second)
    rig.m.unsubscribe(first, now=3.0)
    outs = rig.drain()
    assert rig.of(StreamEnded, outs) == [StreamEnded((first,), None)]
    assert not rig.of(Send, outs)  # the other stream still needs it
    rig.m.unsubscribe(second, now=4.0)
    (delete,) = rig.of(Send)
    assert frame(delete)["action"] == "subscription_delete"
    assert frame(delete)["body"]["subscription_id"] == "sub-1"


# -- Hypothesis: every request gets exactly one outcome, no push after its stream ended ----

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "request",
                "post",
                "reply",
                "bad",
                "lost",
                "timer",
                "connected",
                "failed",
                "timeout",
                "subscribe",
                "notify",
                "write_failed",
                "unsubscribe",
            ]
        ),
        st.integers(0, 10),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ACTIONS, st.booleans(), st.booleans())
def test_random_interleavings_answer_every_request_exactly_once(
    actions: list[tuple[str, int]], reconnect: bool, token: bool
) -> None:
    # Drops, timeouts and write failures mid-request included: every ticket
    # gets exactly one outcome, and a stream gets no push or gap once it
    # ended (StreamEnded) or was unsubscribed.
    m = WsConnection(
        default_headers=HEADERS,
        reconnect=reconnect,
        jitter=random.Random(0).random,
        auth_token="t" if token else None,
        project_id="p",
    )
    outcomes: dict[int, int] = {}
    issued: list[int] = []
    written: list[Send] = []
    attempt = 0
    now = 0.0
    streams: list[int] = []
    ended: set[int] = set()

    def take() -> None:
        nonlocal attempt
        for out in m.drain():
            if isinstance(out, (Push, Gap)):
                assert not ended & set(out.streams), (out, ended)
            elif isinstance(out, StreamEnded):
                ended.update(out.streams)
            if isinstance(out, (Answer, Failed)):
                outcomes[out.ticket] = outcomes.get(out.ticket, 0) + 1
            elif isinstance(out, Send):
                written.append(out)
            elif isinstance(out, Connect):
                attempt = out.attempt

    for action, n in actions:
        now += 0.5 + n
        if action == "request":
            issued.append(m.request(api.queue_get("q").request, now=now))
        elif action == "post":
            issued.append(m.request(api.message_post("q", [{"body": n}]).request, now=now))
        elif action == "subscribe":
            stream, ticket = m.subscribe(f"q{n % 3}", now=now)
            streams.append(stream)
            if ticket is not None:
                issued.append(ticket)
        elif action == "unsubscribe" and streams:
            stream = streams.pop(n % len(streams))
            m.unsubscribe(stream, now=now)
            ended.add(stream)
        elif action in ("reply", "bad") and written:
            send = written.pop(n % len(written))
            body = sub_body(n) if frame(send)["action"] == "subscription_create" else {}
            data = reply_to(send, 201 if action == "reply" else 200, body)
            m.receive(data if action == "reply" else data.replace('"status"', '"s"'), now=now)
        elif action == "notify":
            m.receive(note(f"q{n % 3}", n), now=now)
        elif action == "lost" and m.state in (State.OPEN, State.BOOTSTRAP):
            written.clear()
            m.lost(attempt, 4003 if n == 3 else 1006, now=now)
        elif action == "timer":
            m.timer_fired(now=now)
        elif action == "connected" and m.state is State.CONNECTING:
            m.connected(attempt, now=now)
        elif action == "failed" and m.state is State.CONNECTING:
            m.connect_failed(attempt, "refused", now=now)
        elif action == "timeout" and issued:
            ticket = issued[n % len(issued)]
            if m.timed_out(ticket, now=now) is not None:
                outcomes[ticket] = outcomes.get(ticket, 0) + 1
        elif action == "write_failed" and written:
            send = written.pop(n % len(written))
            if send.ticket is not None:
                m.write_failed(send.ticket, "broken", partial=n % 2 == 0, now=now)
        take()
    m.close(now=now + 1)
    take()
    assert all(count == 1 for count in outcomes.values()), outcomes
    assert set(outcomes) == set(issued)
    assert m.pending == 0


# -- listings and metadata: partial over WebSocket, said once ---------------------------


@pytest.fixture(autouse=True)
def _fresh_process_hints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test as in a fresh process: the incompleteness hints are given
    once per process, and earlier tests (doctests, clients) gave some."""
    from zaqarkit.core import wsconn

    monkeypatch.setattr(wsconn, "_HINTED", set())


def test_full_message_page_warns_once_that_the_listing_may_go_on() -> None:
    rig = open_rig()
    warnings = []
    for limit, count in ((5, 2), (2, 2), (2, 2)):
        rig.m.request(api.message_list("q", limit=limit).request, now=1.0)
        (send,) = rig.of(Send)
        outs = rig.answer(send, 200, {"messages": [{"id": str(i)} for i in range(count)]})
        assert rig.of(Answer, outs)
        warnings += [o for o in outs if getattr(o, "level", 0) == 30]
    assert len(warnings) == 1  # a short page is complete; a full one is said once
    assert "http_url" in warnings[0].message


def test_queue_metadata_over_websocket_warns_once_per_process() -> None:
    from zaqarkit.core import wsconn

    warned = []
    for _ in range(2):  # two clients (a benchmark makes hundreds), two requests each
        rig = open_rig()
        for _ in range(2):
            rig.m.request(api.queue_get("q").request, now=1.0)
            rig.answer(rig.of(Send)[0], 200, {"color": "red"})
        warned += [o for o in rig.log if getattr(o, "level", 0) == 30]
    assert len(warned) == 1
    assert "_default_message_ttl" in warned[0].message
    assert warned[0].logger == wsconn.INCOMPLETE_LOGGER == "zaqarkit.websocket.incomplete"


def test_a_token_expiry_from_token_refresh_reaches_the_machine_clock() -> None:
    import datetime as dt
    import time

    from zaqarkit.transports._wsdriver import token_input

    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=100)
    token, expiry = token_input(("t", "p", soon))
    assert token == ("t", "p")
    assert abs(expiry["expires_at"] - (time.monotonic() + 100)) < 5
    assert token_input(("t", "p", None)) == (("t", "p"), {})
    assert token_input("t") == ("t", {})


def test_log_lines_for_connect_reconnect_reauth_and_drops() -> None:
    from zaqarkit.core.wsconn import INFO, WARNING, Log

    rig = Rig(auth_token="t", project_id="p", refresh=True)
    rig.m.request(api.queue_list().request, now=0.0)
    rig.drain()
    rig.answer(rig.of(Send, rig.open())[0], 200, {})
    rig.m.lost(rig.attempt(), 4003, now=1.0)
    rig.drain()
    rig.m.timer_fired(now=5.0)
    rig.drain()
    rig.open()
    rig.m.token("t2", now=5.1)
    rig.drain()
    lines = [(o.level, o.message) for o in rig.log if isinstance(o, Log)]
    assert (INFO, "WebSocket connected, authenticating") in lines
    assert (WARNING, "WebSocket connection dropped (code 4003)") in lines
    assert (INFO, "WebSocket reconnected, authenticating") in lines
    assert (INFO, "WebSocket authenticating with a new token") in lines
