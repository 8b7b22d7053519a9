"""Checks for lab 07, break it: a checker of your own, trusted only once it has been seen to fail; pass^k's arithmetic.

`counter_exact(records)` is judged the way the lab says every checker must be: on histories of
agentlab's own board (100 seeds, every fault on) it raises no false alarm, and on histories of a board
whose agents increment by a blind read-then-write it flags exactly the runs that lost an update. The
histories reach it as data: the records of `History.as_json()`.
"""

from __future__ import annotations

import math
from typing import Any

from agentlab.grading.testkit import Answers, call, close, graded, number
from agentlab.sim.board import BOARD_FAULTS, BoardParts, simulate_board
from agentlab.sim.components import learner_increment
from agentlab.sim.history import History

SEEDS = 100
FAULTS = frozenset(BOARD_FAULTS)


def _blind(key: str, replies: list[dict[str, Any]]) -> dict[str, Any]:
    """An increment that reads, then writes one more than it read whatever happened in between."""
    if not replies:
        return {"op": "read"}
    if replies[-1]["op"] == "read":
        return {"op": "write", "value": (replies[-1]["value"] or 0) + 1, "expected": None}
    return {"op": "done"}


BLIND = BoardParts(incr=learner_increment(_blind))


def _lost(history: History) -> bool:
    """The reference: does the counter's final value fall outside [acknowledged, acknowledged + unknown]?"""
    final = next((r.data["value"] for r in reversed(history.of("log")) if r.subject == "counter"), 0)
    ended = [r for r in history if r.kind in ("ok", "info") and r.data.get("op") == "incr"]
    ok = sum(r.kind == "ok" for r in ended)
    return not ok <= final <= ok + sum(r.kind == "info" for r in ended)


def _verdict(answers: Answers, history: History) -> list[Any]:
    got = answers.counter_exact(history.as_json()["records"])
    assert isinstance(got, list) and all(isinstance(m, str) for m in got), (
        f"counter_exact(...) returned {got!r}: a checker returns a list of messages (str), empty when the promise holds"
    )
    return got


@graded("checker")
def test_no_false_alarm_on_agentlabs_board(answers: Answers) -> None:
    for seed in range(SEEDS):
        history = simulate_board(seed, FAULTS)
        got = _verdict(answers, history)
        assert got == [], (
            f"on seed {seed} of agentlab's own board (every fault on) counter_exact flagged {got[0]!r}, but no "
            "increment was lost there: a checker that cries wolf is not trusted "
            f"(replay: simulate_board({seed}, FAULTS))"
        )


@graded("checker")
def test_it_catches_exactly_the_runs_that_lost_an_update(answers: Answers) -> None:
    caught = 0
    for seed in range(SEEDS // 2):  # the blind counter loses an update within a few seeds
        history = simulate_board(seed, FAULTS, parts=BLIND)
        flagged, lost = bool(_verdict(answers, history)), _lost(history)
        where = f"simulate_board({seed}, FAULTS, parts=BLIND)"
        assert not (lost and not flagged), f"{where} lost an update, and counter_exact returned []"
        assert not (flagged and not lost), f"{where} lost no update, yet counter_exact flagged it (a false alarm)"
        caught += flagged
    assert caught, "the blind counter never lost an update: this check cannot judge your checker"


def _seeds(answers: Answers, rate: float, confidence: float) -> float:
    return number(answers.seeds_needed(rate, confidence), call("seeds_needed", rate, confidence))


@graded("seeds")
def test_seeds_needed_to_see_a_rare_bug(answers: Answers) -> None:
    for rate, confidence in ((1 / 200, 0.99), (0.2, 0.95), (0.01, 0.5), (0.5, 0.75)):
        got = _seeds(answers, rate, confidence)
        need = math.ceil(math.log(1 - confidence) / math.log(1 - rate))
        assert close(got, need), (
            f"{call('seeds_needed', rate, confidence)} returned {got:g}, expected {need}: the fewest whole seeds "
            f"k for which a bug striking each seed independently with probability {rate:g} shows up at least once "
            f"with probability at least {confidence:g}"
        )


@graded("seeds")
def test_a_bug_on_every_seed_needs_one(answers: Answers) -> None:
    got = _seeds(answers, 1.0, 0.99)
    shown = call("seeds_needed", 1.0, 0.99)
    assert close(got, 1.0), f"{shown} returned {got:g}: a bug on every seed shows on the first"
