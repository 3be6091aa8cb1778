"""The consumer's decisions, in memory: claim sizes, leases, releases, backoff."""

from __future__ import annotations

import random

import pytest

from zaqarkit.core.consumer import (
    Ack,
    Backoff,
    ConsumerSettings,
    ConsumerState,
    Release,
    ack_batches,
)
from zaqarkit.core.validate import Limits
from zaqarkit.errors import ValidationError


def _state(**settings: object) -> ConsumerState:
    return ConsumerState(ConsumerSettings(**settings), random=random.Random(7).random)  # type: ignore[arg-type]


def test_claims_only_when_there_is_room() -> None:
    state = _state(batch=10, max_in_flight=15)
    assert state.claim_limit() == 10
    state.claimed("c1", [f"m{i}" for i in range(10)], now=0.0)
    assert state.claim_limit() == 5  # max_in_flight - in flight
    state.claimed("c2", [f"n{i}" for i in range(5)], now=0.0)
    assert state.claim_limit() == 0
    assert state.handed_out("c1", "m0")
    assert state.settle("c1", "m0", ok=True) == [Ack("c1", "m0")]
    assert state.claim_limit() == 0  # still claimed on the server until deleted
    state.acks_sent(1)
    assert state.claim_limit() == 1
    state.stop()
    assert state.claim_limit() == 0


def test_an_empty_claim_is_no_lease() -> None:
    state = _state()
    assert state.claimed(None, [], now=0.0) is None
    assert state.in_flight == 0


def test_nack_releases_the_claim_once_nothing_handed_out_is_outstanding() -> None:
    state = _state()
    state.claimed("c1", ["a", "b", "c"], now=0.0)
    assert state.handed_out("c1", "a")
    assert state.handed_out("c1", "b")
    assert state.settle("c1", "a", ok=False) == []  # "b" is still being handled
    # "c" was never handed out: it goes back with the release.
    assert state.settle("c1", "b", ok=True) == [Ack("c1", "b"), Release("c1", ("a", "c"))]
    assert state.in_flight == 1  # "b", until its delete is sent
    state.acks_sent(1)
    assert state.in_flight == 0
    assert not state.handed_out("c1", "c")  # released: no longer ours to give
    assert state.leases == {}


def test_all_acked_claim_is_deleted_and_settling_twice_does_nothing() -> None:
    state = _state()
    state.claimed("c1", ["a", "b"], now=0.0)
    for mid in ("a", "b"):
        state.handed_out("c1", mid)
    assert state.settle("c1", "a", ok=True) == [Ack("c1", "a")]
    assert state.settle("c1", "a", ok=True) == []  # never acknowledged twice
    # The claim is deleted once settled (an expired one breaks Zaqar's stats).
    assert state.settle("c1", "b", ok=True) == [Ack("c1", "b"), Release("c1", ())]
    assert state.leases == {}
    assert state.settle("c1", "b", ok=False) == []


def test_an_all_acked_claim_may_be_left_to_expire() -> None:
    state = _state(delete_claims=False)
    state.claimed("c1", ["a"], now=0.0)
    state.handed_out("c1", "a")
    assert state.settle("c1", "a", ok=True) == [Ack("c1", "a")]
    assert state.leases == {}


def test_lease_schedule_renews_at_the_interval_until_settled() -> None:
    state = _state(ttl=60, renew_every=20.0)
    lease = state.claimed("c1", ["a"], now=100.0)
    assert lease is not None
    assert state.next_renewal(100.0) == 20.0
    assert state.renewals_due(119.9) == []
    assert state.renewals_due(120.0) == [lease]
    assert state.renewals_due(121.0) == []  # one renewal in flight at a time
    state.renewed(lease, sent_at=120.0)
    assert lease.renewals == 1
    assert state.next_renewal(125.0) == 15.0
    assert state.renewals_due(140.0) == [lease]
    state.renewed(lease, sent_at=140.0)
    state.handed_out("c1", "a")
    state.settle("c1", "a", ok=True)
    assert state.renewals_due(1_000.0) == []  # stopped with the last message
    assert state.next_renewal(1_000.0) is None


def test_default_renewal_is_a_third_of_the_ttl() -> None:
    assert ConsumerSettings(ttl=90).renew_interval == 30.0


def test_failed_renewal_is_reported_on_the_lease() -> None:
    state = _state(ttl=60, renew_every=20.0)
    lease = state.claimed("c1", ["a"], now=0.0)
    assert lease is not None
    [due] = state.renewals_due(20.0)
    state.renewal_failed(due, "timed out", gone=False)
    assert not lease.lost  # retried at the next tick
    [due] = state.renewals_due(21.0)
    state.renewal_failed(due, "404 claim not found", gone=True)
    assert lease.lost
    assert lease.error == "404 claim not found"
    assert state.renewals_due(30.0) == []


def test_a_lease_past_its_ttl_is_lost() -> None:
    state = _state(ttl=60, renew_every=20.0)
    lease = state.claimed("c1", ["a"], now=0.0)
    assert lease is not None
    [due] = state.renewals_due(20.0)
    state.renewal_failed(due, "connect error", gone=False)
    assert state.renewals_due(61.0) == []
    assert lease.lost
    assert lease.error is not None
    assert "expired" in lease.error


def test_stop_releases_claims_with_nothing_handed_out_then_the_rest() -> None:
    state = _state()
    state.claimed("idle", ["x", "y"], now=0.0)
    state.claimed("busy", ["a", "b"], now=0.0)
    state.handed_out("busy", "a")
    assert state.stop() == [Release("idle", ("x", "y"))]
    assert state.outstanding == 1
    # The handler of "a" finishes within the drain: "b" goes back with the release.
    assert state.settle("busy", "a", ok=True) == [Ack("busy", "a"), Release("busy", ("b",))]
    assert state.release_all() == []


def test_release_all_after_the_drain_takes_unfinished_handlers_too() -> None:
    state = _state()
    state.claimed("c1", ["a", "b"], now=0.0)
    state.handed_out("c1", "a")
    state.stop()
    assert state.release_all() == [Release("c1", ("a", "b"))]
    assert state.settle("c1", "a", ok=True) == []  # too late: released, not acked
    assert state.in_flight == 0


def test_backoff_doubles_to_the_ceiling_with_seeded_jitter() -> None:
    plain = Backoff(0.1, 2.0, 2.0, 0.0, random.Random(1).random)
    assert [round(plain.next(), 3) for _ in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    jittered = [Backoff(0.1, 2.0, 2.0, 0.5, random.Random(42).random) for _ in range(2)]
    first = [jittered[0].next() for _ in range(20)]
    assert first == [jittered[1].next() for _ in range(20)]  # same seed, same schedule
    bounds = [min(0.1 * 2**k, 2.0) for k in range(20)]
    assert all(b * 0.5 <= d <= b for d, b in zip(first, bounds, strict=True))
    assert len(set(first[-10:])) == 10  # jitter spreads waits at the ceiling
    plain.reset()
    assert plain.next() == 0.1


def test_idle_wait_is_the_push_poll_when_pushes_wake_the_consumer() -> None:
    state = _state(push_poll=7.0)
    state.push = True
    assert state.idle_wait() == 7.0
    state.push = False
    assert state.idle_wait() <= 0.1


def test_a_push_rechecks_briefly_before_the_long_wait() -> None:
    state = _state(push_poll=30.0, poll_initial=0.1, jitter=0.0)
    state.push = True
    assert state.idle_wait() == 30.0
    state.pushed()  # the pushed message may not be stored yet when claimed
    assert [state.idle_wait() for _ in range(4)] == [0.1, 0.2, 0.4, 30.0]


def test_claimed_messages_reset_the_backoff() -> None:
    state = _state(poll_initial=0.1, poll_max=5.0, jitter=0.0)
    waits = [state.idle_wait() for _ in range(4)]
    assert waits == [0.1, 0.2, 0.4, 0.8]
    state.claimed("c", ["a"], now=0.0)
    assert state.idle_wait() == 0.1


def test_ack_batches_fit_delete_many() -> None:
    acks = [Ack("c", str(i)) for i in range(41)]
    assert [len(b) for b in ack_batches(acks, 20)] == [20, 20, 1]
    assert ack_batches([], 20) == []


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"batch": 0}, "batch"),
        ({"batch": 21}, "batch"),
        ({"ttl": 30}, "ttl"),
        ({"grace": 59}, "grace"),
        ({"renew_every": 60.0}, "renew_every"),
        ({"poll_initial": 0}, "poll_initial"),
        ({"poll_initial": 9, "poll_max": 1}, "poll_initial"),
        ({"jitter": 1.0}, "jitter"),
        ({"max_in_flight": True}, "max_in_flight"),
    ],
)
def test_bad_settings_name_their_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ConsumerSettings(**settings).check(Limits())  # type: ignore[arg-type]
    assert caught.value.field == field


# -- poison messages held, and messages Zaqar claims twice (issue 27) ----------------


def test_a_held_poison_waits_for_its_claim_and_never_sends_siblings_back() -> None:
    state = _state(batch=3, max_in_flight=6)
    state.claimed("c1", ["p", "a", "b"], now=0.0)
    assert state.handed_out("c1", "p")
    assert state.settle("c1", "p", ok=False, hold=True) == []  # a, b still buffered
    assert state.handed_out("c1", "a")
    assert state.settle("c1", "a", ok=True) == [Ack("c1", "a")]
    assert state.handed_out("c1", "b")
    assert state.settle("c1", "b", ok=True) == [Ack("c1", "b"), Release("c1", ("p",))]
    state.acks_sent(2, ["a", "b"])
    assert state.in_flight == 0


def test_a_handled_message_claimed_again_stays_with_its_handler() -> None:
    state = _state(batch=3, max_in_flight=6)
    old = state.claimed("c1", ["a", "b"], now=0.0)
    assert old is not None
    assert state.handed_out("c1", "a")
    new = state.claimed("c2", ["a", "b", "c"], now=1.0)
    assert new is not None
    skip, actions = state.adopt(new)
    assert skip == {"a"}  # outstanding: not handed out twice
    assert actions == []
    assert "b" in new.buffered  # handed out from c2 now
    assert "b" not in old.buffered
    # Nothing of c1 is left: done, and no Release (a Zaqar claim delete
    # would release "a" and "b", c2's now).
    assert old.robbed
    assert old.done
    assert actions == []
    assert state.in_flight == 3
    assert state.settle("c2", "a", ok=True) == [Ack("c2", "a")]  # the new claim id


def test_a_robbed_claim_is_neither_deleted_nor_released() -> None:
    state = _state(batch=2, max_in_flight=4)
    state.claimed("c1", ["a", "b"], now=0.0)
    assert state.handed_out("c1", "a")
    new = state.claimed("c2", ["b"], now=1.0)
    assert new is not None
    state.adopt(new)
    # c1's last message settles: a Zaqar claim delete would release "b" (now c2's).
    assert state.settle("c1", "a", ok=True) == [Ack("c1", "a")]
    assert "c1" not in state.leases
    assert state.stop() == [Release("c2", ("b",))]  # c2 is ours alone: released


def test_an_acknowledged_message_claimed_again_is_acknowledged_with_the_new_claim() -> None:
    state = _state(batch=2, max_in_flight=4)
    state.claimed("c1", ["a"], now=0.0)
    state.handed_out("c1", "a")
    state.settle("c1", "a", ok=True)
    state.acks_sent(1, [])  # refused: another claim holds it
    new = state.claimed("c2", ["a", "b"], now=1.0)
    assert new is not None
    skip, actions = state.adopt(new)
    assert skip == {"a"}
    assert actions == [Ack("c2", "a")]
    assert new.message_ids == ("b",)


def test_a_deleted_message_in_a_claim_answer_is_not_handed_out() -> None:
    state = _state(batch=2, max_in_flight=4)
    state.claimed("c1", ["a"], now=0.0)
    state.handed_out("c1", "a")
    state.settle("c1", "a", ok=True)
    state.acks_sent(1, ["a"])
    new = state.claimed("c2", ["a"], now=1.0)  # the claim raced the delete
    assert new is not None
    skip, actions = state.adopt(new)
    assert skip == {"a"}
    assert actions == [Release("c2", ())]  # nothing of its own: deleted
    assert state.in_flight == 0


def test_the_stall_window_skips_time_spent_without_room() -> None:
    state = _state(batch=2, max_in_flight=2, stall_after=10)
    assert not state.stall_suspected(0.0)  # the window starts
    state.claimed("c1", ["a", "b"], now=1.0)  # full: slow handlers are not a stall
    assert not state.stall_suspected(50.0)
    state.handed_out("c1", "a")
    state.handed_out("c1", "b")
    state.settle("c1", "a", ok=True)
    state.settle("c1", "b", ok=True)
    state.acks_sent(2, ["a", "b"])  # room again from 50.0 on
    assert not state.stall_suspected(59.0)
    assert state.stall_suspected(60.0)
    assert not state.stall_checked(60.0, available=False)  # an idle queue
    assert not state.stalled
    assert not state.stall_suspected(65.0)  # the stats are read at most every stall_after


def test_no_watchdog_without_stall_after_or_while_stopping() -> None:
    off = _state(stall_after=None)
    assert not off.stall_suspected(0.0)
    assert not off.stall_suspected(10_000.0)
    stopping = _state(stall_after=1)
    stopping.stall_suspected(0.0)
    stopping.stop()
    assert not stopping.stall_suspected(100.0)


@pytest.mark.parametrize("bad", [0, -1, True, "60"])
def test_stall_after_is_checked(bad: object) -> None:
    with pytest.raises(ValidationError, match="stall_after"):
        ConsumerSettings(stall_after=bad).check(Limits())  # type: ignore[arg-type]


def test_a_lost_lease_counts_once() -> None:
    state = _state(batch=1, ttl=60)
    lease = state.claimed("c1", ["a"], now=0.0)
    assert lease is not None
    state.renewal_failed(lease, "gone", gone=True)
    state.lost(lease, "still gone")
    assert state.renewals_due(1_000.0) == []
    assert state.lease_losses == 1


def test_redelivered_names_every_message_the_consumer_already_had() -> None:
    state = _state(batch=5, max_in_flight=10)
    state.claimed("c1", ["held", "acked", "gone"], now=0.0)
    for mid in ("held", "acked", "gone"):
        state.handed_out("c1", mid)
    state.settle("c1", "acked", ok=True)  # delete not answered yet
    state.settle("c1", "gone", ok=True)
    state.acks_sent(1, ["gone"])  # deleted
    new = state.claimed("c2", ["held", "acked", "gone", "fresh"], now=1.0)
    assert new is not None
    state.adopt(new)
    assert sorted(new.redelivered) == ["acked", "gone", "held"]


def test_push_retry_backs_off_until_a_subscription_is_live() -> None:
    state = _state()
    waits = [state.push_retry_wait() for _ in range(12)]
    assert waits[0] <= 0.2
    assert max(waits) <= 30.0
    assert waits[-1] >= 15.0  # equal jitter: at least half the ceiling
    assert state.push_changed(True)
    assert state.push
    assert state.push_retry_wait() <= 0.2  # started afresh after a live one
    assert not state.push
