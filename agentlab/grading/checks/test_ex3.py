"""Checks for Exercise 40.6.3, cost of a round versus a fan-out (labs/exercises/ex3_round_or_fanout.ipynb).

Boundaries pinned: a tie (c exactly at the break-even overhead: a fan-out is not *strictly* faster),
one-sub-task plans, q = 1, c = 0; results are a float and a bool (numpy.bool_ is accepted as a bool).
Latencies here are multiples of 1/64, so every correct way of computing the condition agrees exactly.
The instructor's hidden checks add properties.
"""

from __future__ import annotations

import pytest

from agentlab.grading.testkit import Answers, boolean, call, close, graded, number

SCENARIOS = {
    "two_lookups": [0.1, 0.12],
    "eight_searches": [0.2] * 8,
    "one_report_four_lookups": [2.0, 0.05, 0.05, 0.05, 0.05],
    "single_call": [5.0],
    "twelve_summaries": [0.3] * 12,
}
"""The same scenarios as the notebook's setup cell; with C_EXAMPLE = 0.3 s of overhead per fan-out."""
C_EXAMPLE = 0.3


def _beats(answers: Answers, c: float, latencies: list[float], q: float) -> bool:
    got = answers.fanout_beats_sequential(c, list(latencies), q)
    return boolean(got, call("fanout_beats_sequential", c, latencies, q))


@graded("expected_times")
def test_expected_sequential_time(answers: Answers) -> None:
    latencies = [0.2, 0.3, 0.5]
    got = number(answers.expected_sequential_time(latencies, 0.5), "expected_sequential_time")
    assert close(got, 2.0), (
        f"{call('expected_sequential_time', latencies, 0.5)} returned {got:.4g}, expected 2.0: each round runs "
        "the sub-tasks one after another (1.0 s), and E[T] = 1/q = 2 rounds"
    )


@graded("expected_times")
def test_expected_fanout_time(answers: Answers) -> None:
    latencies = [0.2, 0.3, 0.5]
    got = number(answers.expected_fanout_time(0.1, latencies, 0.5), "expected_fanout_time")
    assert close(got, 1.2), (
        f"{call('expected_fanout_time', 0.1, latencies, 0.5)} returned {got:.4g}, expected 1.2: each round pays "
        "the overhead c plus the slowest sub-task (0.1 + 0.5 s), and E[T] = 1/q = 2 rounds"
    )


@graded("expected_times")
def test_one_sub_task_certain_success_and_no_overhead(answers: Answers) -> None:
    seq = number(answers.expected_sequential_time([0.75], 1.0), "expected_sequential_time([0.75], 1.0)")
    fan = number(answers.expected_fanout_time(0.0, [0.75], 1.0), "expected_fanout_time(0.0, [0.75], 1.0)")
    assert close(seq, 0.75) and close(fan, 0.75), (
        f"with one sub-task of 0.75 s, q = 1 and c = 0, both ways take 0.75 s; got {seq:.4g} and {fan:.4g}"
    )


@graded("condition")
def test_many_equal_sub_tasks_fan_out(answers: Answers) -> None:
    got = _beats(answers, 0.05, [0.2] * 8, 0.5)
    assert got is True, (
        f"{call('fanout_beats_sequential', 0.05, [0.2] * 8, 0.5)} returned False, expected True: per round a "
        "fan-out costs c + max = 0.25 s, the sequential turns 1.6 s (is your inequality reversed?)"
    )


@graded("condition")
def test_a_large_overhead_keeps_it_sequential(answers: Answers) -> None:
    got = _beats(answers, 1.0, [0.2, 0.2, 0.2], 0.5)
    assert got is False, (
        f"{call('fanout_beats_sequential', 1.0, [0.2, 0.2, 0.2], 0.5)} returned True, expected False: per round a "
        "fan-out costs c + max = 1.2 s, the sequential turns only 0.6 s (is your inequality reversed?)"
    )


@graded("condition")
def test_the_answer_does_not_depend_on_q(answers: Answers) -> None:
    cases = [(0.25, [0.2, 0.2]), (0.15, [0.2, 0.2]), (0.5, [0.3, 0.3, 0.1])]
    for c, latencies in cases:
        answers_by_q = {q: _beats(answers, c, latencies, q) for q in (1.0, 0.5, 0.1)}
        expected = c < sum(latencies) - max(latencies)
        assert set(answers_by_q.values()) == {expected}, (
            f"fanout_beats_sequential({c}, {latencies}, q) gave {answers_by_q} for q = 1, 0.5, 0.1, expected "
            f"{expected} for every q: both ways take E[T] = 1/q rounds and pay per round, so 1/q cancels"
        )


@graded("condition")
def test_the_break_even_overhead(answers: Answers) -> None:
    for latencies, expected in (([0.2, 0.3, 0.5], 0.5), ([0.4] * 5, 1.6), ([5.0], 0.0)):
        got = number(answers.break_even_overhead(list(latencies)), "break_even_overhead")
        assert close(got, expected), (
            f"{call('break_even_overhead', latencies)} returned {got:.4g}, expected {expected:g}: a fan-out pays "
            "off while c + max < sum, i.e. while c < sum - max"
        )


@graded("condition")
def test_a_tie_is_not_a_win(answers: Answers) -> None:
    for c, latencies in ((0.25, [0.5, 0.25]), (0.0, [0.75]), (1.5, [0.5, 0.5, 0.5, 0.5])):
        got = _beats(answers, c, latencies, 0.5)
        assert got is False, (
            f"{call('fanout_beats_sequential', c, latencies, 0.5)} returned True, expected False: c equals the "
            "break-even overhead sum - max, so both ways take exactly as long, and a fan-out is not strictly faster"
        )


@graded("condition")
def test_just_below_the_break_even_overhead_wins(answers: Answers) -> None:
    got = _beats(answers, 0.234375, [0.5, 0.25], 1.0)
    assert got is True, (
        f"{call('fanout_beats_sequential', 0.234375, [0.5, 0.25], 1.0)} returned False, expected True: "
        "c is just below sum - max = 0.25 s"
    )


@graded("regime")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_which_scenarios_stay_sequential(answers: Answers, name: str) -> None:
    keep = answers.KEEP_SEQUENTIAL
    assert isinstance(keep, dict), f"KEEP_SEQUENTIAL must be a dict, got {type(keep).__name__}"
    assert name in keep, f"KEEP_SEQUENTIAL has no entry for {name!r} (keys: {list(SCENARIOS)})"
    latencies = SCENARIOS[name]
    saved = sum(latencies) - max(latencies)
    expected = saved <= C_EXAMPLE  # keep it sequential unless the fan-out saves more than it costs
    assert keep[name] is expected, (
        f"KEEP_SEQUENTIAL[{name!r}] = {keep[name]!r}: with {len(latencies)} sub-task(s) a fan-out saves "
        f"sum - max = {saved:.2f} s per round, {'less' if expected else 'more'} than the {C_EXAMPLE} s overhead"
    )
