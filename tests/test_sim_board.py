"""The blackboard simulator: replayable, its checkers right on hand-written histories, and each seen
failing on a broken client — while agentlab's board passes them all under every fault."""

from __future__ import annotations

from typing import Any

from agentlab.sim.board_checkers import durable, fenced, linearizable
from agentlab.sim.history import History

# -- the checkers on tiny hand-written histories --------------------------------------------------------


def _history(*events: tuple[str, str, str, dict[str, Any]]) -> History:
    """(kind, op id, op, data) on the key "counter", in real-time order."""
    history = History()
    for t, (kind, op_id, op, data) in enumerate(events):
        history.add(t, kind, "counter", id=op_id, op=op, **data)
    return history


def test_two_overlapping_increments_that_both_saw_zero_are_not_linearizable() -> None:
    lost = _history(
        ("invoke", "a", "incr", {}),
        ("invoke", "b", "incr", {}),
        ("ok", "a", "incr", {"version": 1, "value": 1}),
        ("ok", "b", "incr", {"version": 2, "value": 1}),  # b wrote 0 + 1 over a's 1
    )
    assert linearizable(lost) and "counter" in linearizable(lost)[0]
    counted = _history(
        ("invoke", "a", "incr", {}),
        ("invoke", "b", "incr", {}),
        ("ok", "b", "incr", {"version": 1, "value": 1}),  # b took effect first, though a was invoked first
        ("ok", "a", "incr", {"version": 2, "value": 2}),
        ("invoke", "r", "read", {}),
        ("ok", "r", "read", {"version": 2, "value": 2}),
    )
    assert linearizable(counted) == []


def test_real_time_order_is_respected_and_an_indeterminate_op_may_have_happened() -> None:
    stale_read = _history(
        ("invoke", "a", "incr", {}),
        ("ok", "a", "incr", {"version": 1, "value": 1}),
        ("invoke", "r", "read", {}),
        ("ok", "r", "read", {"version": 0, "value": None}),  # read after the increment ended, saw before it
    )
    assert linearizable(stale_read)
    lost_in_a_crash = _history(
        ("invoke", "a", "incr", {}),
        ("info", "a", "incr", {"sent": True}),
        ("invoke", "r", "read", {}),
        ("ok", "r", "read", {"version": 1, "value": 1}),
        ("invoke", "s", "read", {}),
        ("ok", "s", "read", {"version": 1, "value": 1}),
    )
    assert linearizable(lost_in_a_crash) == []
    never_sent = _history(
        ("invoke", "a", "incr", {}),
        ("info", "a", "incr", {}),  # the crash came before its write was sent: it cannot have happened
        ("invoke", "r", "read", {}),
        ("ok", "r", "read", {"version": 1, "value": 1}),
    )
    assert linearizable(never_sent)


def test_a_refused_compare_and_set_must_have_met_a_moved_version() -> None:
    refused_for_nothing = _history(
        ("invoke", "a", "cas", {}),
        ("fail", "a", "cas", {"expected": 0, "value": "a", "reason": "stale"}),
    )
    assert linearizable(refused_for_nothing)
    assert linearizable(_history(("invoke", "a", "cas", {}), ("fail", "a", "cas", {"expected": 3}))) == []


def test_fenced_and_durable_on_hand_written_logs() -> None:
    history = History()
    for seq, token in enumerate([1, 2, 1], start=1):
        history.add(0, "log", "lease", seq=seq, version=seq, value={"token": token}, writer=f"w{seq}")
    assert fenced(history) == ["lease: w3's write with token 1 was accepted (seq 3) after one with token 2"]
    history.add(0, "ok", "lease", id="x", op="write", version=4, value={"token": 3})
    assert durable(history) == ["x's acknowledged write of lease v4 is not in the log"]
