"""The blackboard simulator: replayable, its checkers right on hand-written histories, and each seen
failing on a broken client — while agentlab's board passes them all under every fault."""

from __future__ import annotations

from typing import Any

import pytest

from agentlab.memory.server import MemoryServer
from agentlab.sim.board import BOARD_FAULTS, BoardParts, explore_board, simulate_board
from agentlab.sim.board_checkers import BOARD_CHECKERS, durable, fenced, linearizable
from agentlab.sim.board_clients import Call, Lease, Steps, answered
from agentlab.sim.history import History

ALL = frozenset(BOARD_FAULTS)


def test_a_seed_replays_to_the_identical_history() -> None:
    first, again = simulate_board(7, ALL), simulate_board(7, ALL)
    assert first.digest() == again.digest() and len(first.of("invoke")) == 18
    assert simulate_board(8, ALL).digest() != first.digest()


def test_the_nemesis_strikes_as_the_module_says() -> None:
    histories = [simulate_board(seed, ALL) for seed in range(60)]
    records = [r for h in histories for r in h]
    faults = {r.data["fault"] for r in records if r.kind == "fault"}
    assert faults == set(BOARD_FAULTS)
    # a paused holder wakes and writes with its old token: the store refuses it
    assert any(r.kind == "fail" and r.data["reason"] == "fenced" for r in records)
    # an op lost in a crash is indeterminate: some landed on the board, some did not
    landed = [
        any(x.kind == "log" and x.data["writer"] == r.data["id"] for x in h)
        for h in histories
        for r in h.of("info")
        if r.data.get("sent")
    ]
    assert True in landed and False in landed
    # a write delivered twice lands once: the second delivery is recognised by its write_id, or refused
    again = [r for r in records if r.kind == "redelivered"]
    assert again and all(r.data["replayed"] or not r.data["ok"] for r in again)


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


# -- agentlab's board passes; each checker seen failing on a broken client ------------------------------


def read_then_write(key: str, op_id: str, note: dict[str, Any]) -> Steps:
    """An increment without compare-and-set: read the value, write value + 1 whatever happened since."""
    current = yield Call("get", (key,))
    note["sent"] = True
    value = (current.value if current else 0) + 1
    return answered((yield Call("write", (key, value), {"write_id": op_id, "writer": op_id})))


def unfenced_write(key: str, op_id: str, note: dict[str, Any]) -> Steps:
    """A lease holder that takes its token but writes without it: the store cannot refuse a stale holder."""
    while not (yield Lease("acquire")):
        pass
    fence = yield Call("issue_token", (key,))
    note.update(value={"by": op_id, "token": fence.token}, token=fence.token, sent=True)
    return answered((yield Call("write", (key, note["value"]), {"write_id": op_id, "writer": op_id})))


def amnesiac_server(path: str) -> MemoryServer:
    """A memory server whose restart opens an empty board (the file is not where the last one kept it)."""
    return MemoryServer(":memory:")


BROKEN = {
    "linearizable": (BoardParts(incr=read_then_write), frozenset(), "counter:"),
    "fenced": (BoardParts(write=unfenced_write), frozenset({"pause"}), "lease/report:"),
    "durable": (BoardParts(server=amnesiac_server), frozenset({"server_crash"}), "is not in the log"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_checker_catches_its_broken_client_within_5_seeds(name: str) -> None:
    parts, faults, says = BROKEN[name]
    check = BOARD_CHECKERS[name]
    found = next((messages for seed in range(5) if (messages := check(simulate_board(seed, faults, parts=parts)))), [])
    assert found, f"{name} never failed on its broken client in 5 seeds"
    assert says in found[0]


def test_agentlab_board_keeps_every_promise_on_500_seeds_under_every_fault() -> None:
    report = explore_board(range(500), ALL)
    print(report.table())
    assert report.violations == [], report.violations[0]
    assert report.passed == dict.fromkeys(BOARD_CHECKERS, 500)
