"""Checks for lab 01's tasks (labs/01_agent_loop.ipynb): the turns a loop takes, and its turn budget."""

from __future__ import annotations

import pytest

from agentlab.grading.testkit import Answers, call, close, graded, number


@graded("turns")
@pytest.mark.parametrize("q", [1.0, 0.5, 0.3, 0.05])
def test_mean_turns_follows_the_geometric_law(answers: Answers, q: float) -> None:
    got = number(answers.mean_turns(q), call("mean_turns", q))
    assert close(got, 1 / q), (
        f"{call('mean_turns', q)} returned {got:.4g}: with q = {q}, a loop needs {1 / q:.4g} turns on average "
        "(a turn that succeeds with probability q is a coin flip repeated until the first success)"
    )


@graded("turns")
def test_a_loop_that_always_succeeds_finishes_in_its_first_turn(answers: Answers) -> None:
    got = number(answers.finish_within(1.0, 1), call("finish_within", 1.0, 1))
    assert close(got, 1.0), f"{call('finish_within', 1.0, 1)} returned {got:.4g}: with q = 1 the first turn succeeds"


@graded("turns")
@pytest.mark.parametrize(("q", "n"), [(0.3, 10), (0.5, 1), (0.1, 3), (0.05, 60)])
def test_finish_within_is_the_chance_of_a_success_in_n_turns(answers: Answers, q: float, n: int) -> None:
    got = number(answers.finish_within(q, n), call("finish_within", q, n))
    expected = 1 - (1 - q) ** n
    assert close(got, expected, rel=1e-9), (
        f"{call('finish_within', q, n)} returned {got:.6g}, expected {expected:.6g}: the loop is still running after "
        f"n turns only if every one of them failed"
    )


@graded("turns")
def test_finish_within_grows_with_the_budget(answers: Answers) -> None:
    chances = [number(answers.finish_within(0.2, n), call("finish_within", 0.2, n)) for n in (1, 2, 5, 20)]
    assert chances == sorted(chances) and all(0 <= c <= 1 for c in chances), (
        f"finish_within(0.2, n) for n = 1, 2, 5, 20 gave {chances}: a probability, never smaller with more turns"
    )
