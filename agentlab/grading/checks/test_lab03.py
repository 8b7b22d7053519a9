"""Checks for lab 03's tasks (labs/03_supervisor_fanout.ipynb): one per section, each on its own inputs.

ready → imbalance → critical_path → workers → ceiling → hedge → lanes → retry → goals, in the lab's order.
Latencies here are multiples of 1/64 where sums are compared, so every correct way of adding gets the same float.
"""

from __future__ import annotations

import math

import pytest

from agentlab.grading.testkit import Answers, call, close, graded, number

COURSE = [0.131, 0.088, 0.213, 0.068, 0.184, 0.141, 0.064, 0.177]
"""Code 40.6.2's eight latencies (random.seed(7))."""


def _ids(value: object, what: str) -> set[str]:
    assert isinstance(value, set | frozenset | list | tuple), f"{what} returned {value!r}, expected a set of ids"
    return {str(v) for v in value}


# -- 1. the plan as a graph --------------------------------------------------------------------------


@graded("ready")
@pytest.mark.parametrize(
    ("deps", "done", "expected"),
    [
        ({"A": [], "B": [], "C": [], "D": []}, set(), {"A", "B", "C", "D"}),
        ({"a": [], "b": ["a"], "c": ["b"]}, set(), {"a"}),
        ({"a": [], "b": ["a"], "c": ["b"]}, {"a"}, {"b"}),
        ({"a": [], "b": [], "combine": ["a", "b"]}, {"a"}, {"b"}),
        ({"a": [], "b": [], "combine": ["a", "b"]}, {"a", "b"}, {"combine"}),
        ({"a": [], "b": ["a"]}, {"a", "b"}, set()),
    ],
)
def test_ready_sub_tasks(answers: Answers, deps: dict[str, list[str]], done: set[str], expected: set[str]) -> None:
    shown = call("ready", deps, done)
    got = _ids(answers.ready(deps, set(done)), shown)
    assert got == expected, (
        f"{shown} returned {sorted(got)}, expected {sorted(expected)}: a sub-task can start once everything "
        "it waits for has finished, and a finished one is not started again"
    )


# -- 2. Code 40.6.2: imbalance -----------------------------------------------------------------------


@graded("imbalance")
@pytest.mark.parametrize(
    ("latencies", "expected"),
    [(COURSE, 1 - sum(COURSE) / (8 * 0.213)), ([0.25] * 8, 0.0), ([0.5, 1.0], 0.25), ([2.0], 0.0)],
)
def test_idle_share(answers: Answers, latencies: list[float], expected: float) -> None:
    got = number(answers.idle_share(list(latencies)), call("idle_share", latencies))
    assert close(got, expected, rel=1e-9, abs_tol=1e-12), (
        f"{call('idle_share', latencies)} returned {got:.4g}, expected {expected:.4g}: each sub-task has its own "
        "worker, and the round lasts as long as its slowest one; count the worker-seconds spent waiting"
    )


# -- 3. the critical path ----------------------------------------------------------------------------


@graded("critical_path")
@pytest.mark.parametrize(
    ("latency", "deps", "expected"),
    [
        ({f"tool_{i}": s for i, s in enumerate(COURSE)}, {f"tool_{i}": [] for i in range(8)}, 0.213),
        ({"a": 0.25, "b": 0.5, "c": 0.125}, {"a": [], "b": ["a"], "c": ["b"]}, 0.875),
        ({"a": 1.0, "b": 2.0, "c": 5.0, "d": 1.0}, {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}, 7.0),
        ({"a": 3.0, "b": 1.0, "c": 1.0}, {"a": [], "b": [], "c": ["b"]}, 3.0),
    ],
)
def test_critical_path_length(
    answers: Answers, latency: dict[str, float], deps: dict[str, list[str]], expected: float
) -> None:
    shown = call("critical_path_length", latency, deps)
    got = number(answers.critical_path_length(dict(latency), {k: list(v) for k, v in deps.items()}), shown)
    assert close(got, expected), (
        f"{shown} returned {got:.4g}, expected {expected:g}: with unlimited workers, a sub-task starts when the "
        "last thing it waits for ends; which chain ends last?"
    )


# -- 4. the plan on W workers ------------------------------------------------------------------------


@graded("workers")
@pytest.mark.parametrize(
    ("latencies", "workers", "expected"),
    [
        (COURSE, 8, 1.066 / 0.213),
        (COURSE, 64, 1.066 / 0.213),
        (COURSE, 1, 1.0),
        ([1.0, 1.0, 1.0, 1.0], 2, 2.0),
        ([1.0, 1.0, 1.0], 2, 1.5),
        ([3.0, 1.0, 1.0, 1.0], 2, 2.0),
        ([1.0, 1.0, 1.0, 3.0], 2, 1.5),
    ],
)
def test_plan_speedup(answers: Answers, latencies: list[float], workers: int, expected: float) -> None:
    shown = call("plan_speedup", latencies, workers)
    got = number(answers.plan_speedup(list(latencies), workers), shown)
    assert close(got, expected, rel=1e-9), (
        f"{shown} returned {got:.4g}, expected {expected:.4g}: hand the sub-tasks out in plan order, each to "
        "the worker that is free first; the run ends when the last worker is done"
    )


@graded("workers")
def test_more_workers_than_sub_tasks_do_not_help(answers: Answers) -> None:
    speedups = [number(answers.plan_speedup(list(COURSE), w), call("plan_speedup", COURSE, w)) for w in (8, 9, 100)]
    assert all(close(s, speedups[0]) for s in speedups), (
        f"plan_speedup(COURSE, W) for W = 8, 9, 100 gave {speedups}: with eight sub-tasks, a ninth worker has "
        "nothing to do"
    )


# -- 5. the ceiling of a plan with a spine -----------------------------------------------------------


@graded("ceiling")
@pytest.mark.parametrize(
    ("latencies", "spine", "expected"),
    [
        (COURSE, 0.0, 1.066 / 0.213),
        ([0.25] * 8, 0.0, 8.0),
        ([1.0, 1.0], 1.0, 1.5),
        (COURSE, 0.5, 1.566 / 0.713),
        ([0.5], 2.0, 1.0),
    ],
)
def test_plan_ceiling(answers: Answers, latencies: list[float], spine: float, expected: float) -> None:
    shown = call("plan_ceiling", latencies, spine)
    got = number(answers.plan_ceiling(list(latencies), spine), shown)
    assert close(got, expected, rel=1e-9), (
        f"{shown} returned {got:.4g}, expected {expected:.4g}: one agent pays the spine and every sub-task; the "
        "fan-out, with a worker per sub-task, pays the spine and only what it must wait for"
    )


@graded("ceiling")
def test_a_longer_spine_lowers_the_ceiling(answers: Answers) -> None:
    ceilings = [number(answers.plan_ceiling(list(COURSE), s), call("plan_ceiling", COURSE, s)) for s in (0, 0.1, 1)]
    assert ceilings[0] > ceilings[1] > ceilings[2] > 1, (
        f"plan_ceiling(COURSE, spine) for spine = 0, 0.1, 1 s gave {ceilings}: the spine runs one step after "
        "another in both designs, so a longer one leaves less to gain"
    )


# -- 6. the hedge ------------------------------------------------------------------------------------


@graded("hedge")
@pytest.mark.parametrize(
    ("latencies", "hedge_after", "slow_index", "slow_s", "expected"),
    [
        (COURSE, 0.4, 2, 4.0, 0.613),  # the lab's straggler, hedged at 0.4 s
        (COURSE, 5.0, 2, 4.0, 4.0),  # the hedge never fires: the straggler sets the round
        (COURSE, 0.4, 2, 0.3, 0.3),  # a straggler that finishes before its hedge would
        ([0.5, 0.25], 0.125, 0, 1.0, 0.625),  # the duplicate of the slow one wins
        ([0.5, 0.25], 0.125, 1, 0.375, 0.5),  # a healthy sub-task past hedge_after: its original still wins
    ],
)
def test_hedged_round(
    answers: Answers, latencies: list[float], hedge_after: float, slow_index: int, slow_s: float, expected: float
) -> None:
    shown = call("hedged_round", latencies, hedge_after, slow_index, slow_s)
    got = number(answers.hedged_round(list(latencies), hedge_after, slow_index, slow_s), shown)
    assert close(got, expected), (
        f"{shown} returned {got:.4g}, expected {expected:g}: a duplicate starts at hedge_after and takes the "
        "sub-task's normal latency; whichever copy ends first ends the sub-task"
    )


# -- 7. lanes and slots ------------------------------------------------------------------------------


@graded("lanes")
@pytest.mark.parametrize(
    ("n", "latency", "slots", "expected"),
    [(400, 0.05, 64, 0.35), (64, 0.05, 64, 0.05), (65, 1.0, 64, 2.0), (1, 0.5, 64, 0.5), (10, 0.25, 3, 1.0)],
)
def test_ideal_wall(answers: Answers, n: int, latency: float, slots: int, expected: float) -> None:
    shown = call("ideal_wall", n, latency, slots)
    got = number(answers.ideal_wall(n, latency, slots), shown)
    assert close(got, expected), (
        f"{shown} returned {got:.4g}, expected {expected:g}: a slot runs one sub-task at a time, so the "
        "sub-tasks go in waves; a wave that is only partly full still takes a whole latency"
    )


# -- 8. retry in place or restart the loop -----------------------------------------------------------


def _restart(n: int, f: float) -> float:
    expected = 0.0
    for _ in range(n):  # reach k+1 successes in a row: reach k, then one more call, and start over if it fails
        expected = (expected + 1) / (1 - f)
    return expected


@graded("retry")
@pytest.mark.parametrize(("n", "f"), [(1, 0.5), (8, 0.0), (8, 0.1), (10, 0.2), (3, 0.5)])
def test_retry_in_place(answers: Answers, n: int, f: float) -> None:
    expected = n / (1 - f)
    got = number(answers.retry_calls(n, f), call("retry_calls", n, f))
    assert close(got, expected, rel=1e-9), (
        f"{call('retry_calls', n, f)} returned {got:.4g}, expected {expected:.4g}: each of the n calls is "
        "repeated until it succeeds, on its own"
    )


@graded("retry")
@pytest.mark.parametrize(("n", "f"), [(1, 0.5), (8, 0.0), (8, 0.1), (10, 0.2), (3, 0.5)])
def test_restart_the_loop(answers: Answers, n: int, f: float) -> None:
    expected = _restart(n, f)
    got = number(answers.restart_calls(n, f), call("restart_calls", n, f))
    assert close(got, expected, rel=1e-9), (
        f"{call('restart_calls', n, f)} returned {got:.4g}, expected {expected:.4g}: a failure throws away "
        "every call made so far; think of the expected calls to get k calls right in a row, for k = 1, 2, …, n"
    )


@graded("retry")
def test_restarting_costs_more_the_longer_the_loop(answers: Answers) -> None:
    ratios = [number(answers.restart_calls(n, 0.1), call("restart_calls", n, 0.1)) / (n / 0.9) for n in (1, 4, 16, 64)]
    assert ratios == sorted(ratios) and math.isclose(ratios[0], 1.0, rel_tol=1e-9), (
        f"restart_calls(n, 0.1) / retry_calls(n, 0.1) for n = 1, 4, 16, 64 gave {ratios}: one call restarted "
        "is one call retried, and each extra call in the loop is one more chance to lose all of them"
    )


# -- 9. the course's goals ---------------------------------------------------------------------------


def _fan_in(width: int) -> tuple[dict[str, float], dict[str, list[str]]]:
    """`width` independent one-second steps, then one step that waits for all of them."""
    latency = {**{f"s{i}": 1.0 for i in range(width)}, "combine": 1.0}
    return latency, {**{f"s{i}": [] for i in range(width)}, "combine": [f"s{i}" for i in range(width)]}


@graded("goals")
@pytest.mark.parametrize(
    ("latency", "deps", "expected"),
    [
        ({"a": 1.0, "b": 1.0, "c": 1.0}, {"a": [], "b": ["a"], "c": ["b"]}, 1.0),
        (*_fan_in(12), 6.5),
        (*_fan_in(3), 2.0),
        ({f"tool_{i}": s for i, s in enumerate(COURSE)}, {f"tool_{i}": [] for i in range(8)}, 1.066 / 0.213),
        ({"a": 1.0, "b": 2.0, "c": 5.0, "d": 1.0}, {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}, 9 / 7),
    ],
)
def test_ideal_speedup(
    answers: Answers, latency: dict[str, float], deps: dict[str, list[str]], expected: float
) -> None:
    shown = call("ideal_speedup", latency, deps)
    got = number(answers.ideal_speedup(dict(latency), {k: list(v) for k, v in deps.items()}), shown)
    assert close(got, expected, rel=1e-9), (
        f"{shown} returned {got:.4g}, expected {expected:.4g}: one agent does all the work; unlimited workers "
        "still wait for the longest chain"
    )
