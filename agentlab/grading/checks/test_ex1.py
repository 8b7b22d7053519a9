"""Checks for Exercise 40.6.1, sequential spine or parallel fan-out? (labs/exercises/ex1_spine_or_fanout.ipynb)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import SimpleNamespace

import pytest

from agentlab.grading.testkit import Answers, call, close, graded, number

GOALS = ("briefs", "debug", "prices")
KIND = {"briefs": "fan-out", "debug": "sequential", "prices": "fan-out"}
REFERENCE_P = {"briefs": 0.85, "debug": 0.05, "prices": 0.95}
"""The instructor's estimates; an estimate within TOLERANCE of these (and below 1) is accepted."""
TOLERANCE = 0.15
WHY = {
    "briefs": "the twelve summaries are independent of each other; only writing the one brief needs them all",
    "debug": "each step needs the one before it (trace, then file, then fix), so almost nothing can overlap",
    "prices": "the forty price fetches are independent; only planning them and flagging the mispricings are not",
}


def _dict(answers: Answers, name: str) -> Mapping[str, object]:
    value = getattr(answers, name)
    assert isinstance(value, Mapping), f"{name} must be a dict, got {type(value).__name__}"
    assert set(value) == set(GOALS), f"{name} must have exactly the keys {list(GOALS)}, got {sorted(value)}"
    return value


@graded("classify", 1)
@pytest.mark.parametrize("goal", GOALS)
def test_each_goal_is_classified(answers: Answers, goal: str) -> None:
    got = _dict(answers, "CLASSIFICATION")[goal]
    assert got in ("sequential", "fan-out"), f'CLASSIFICATION[{goal!r}] must be "sequential" or "fan-out", got {got!r}'
    assert got == KIND[goal], f"CLASSIFICATION[{goal!r}] = {got!r}, but it is mostly {KIND[goal]}: {WHY[goal]}"


@graded("p_estimates", 1)
@pytest.mark.parametrize("goal", GOALS)
def test_each_estimate_is_in_its_band(answers: Answers, goal: str) -> None:
    p = number(_dict(answers, "P_ESTIMATES")[goal], f"P_ESTIMATES[{goal!r}]")
    assert 0.0 <= p < 1.0, (
        f"P_ESTIMATES[{goal!r}] = {p:g}: p is a fraction of the work in [0, 1), and below 1 here, "
        "because every plan has a sequential part (deciding what to do, combining the results)"
    )
    low, high = max(0.0, REFERENCE_P[goal] - TOLERANCE), min(1.0, REFERENCE_P[goal] + TOLERANCE)
    assert low <= p <= high, (
        f"P_ESTIMATES[{goal!r}] = {p:g} is outside the accepted band [{low:.2f}, {high:.2f}]: {WHY[goal]}"
    )


@graded("p_estimates", 1)
def test_the_estimates_are_ordered(answers: Answers) -> None:
    p = {goal: number(value, f"P_ESTIMATES[{goal!r}]") for goal, value in _dict(answers, "P_ESTIMATES").items()}
    assert p["debug"] < p["briefs"] <= p["prices"], (
        f"expected debug < briefs <= prices, got {p}: writing one brief from twelve summaries is a real "
        "sequential step, while flagging mispricings is a quick comparison after the fetches"
    )


@graded("ceiling", 2)
def test_the_ceiling_is_one_over_the_sequential_fraction(answers: Answers) -> None:
    for p in (0.85, 0.5, 0.9, 0.0):
        got = number(answers.speedup_ceiling(p), call("speedup_ceiling", p))
        expected = 1.0 / (1.0 - p)
        assert close(got, expected), (
            f"{call('speedup_ceiling', p)} returned {got:.4g}, expected {expected:.4g} = 1/(1 - {p:g}): as W → ∞ the "
            "parallel term p/W vanishes, and only the sequential fraction 1 - p is left to bound the speedup"
        )


@graded("ceiling", 1)
def test_a_fully_parallel_plan_has_no_ceiling(answers: Answers) -> None:
    got = answers.speedup_ceiling(1.0)
    assert got == math.inf, (
        f"{call('speedup_ceiling', 1.0)} returned {got!r}: with no sequential part S(W) = W grows without bound, "
        "so return math.inf (and do not divide by zero)"
    )


@graded("ceiling", 1)
def test_the_most_parallel_goal_and_its_ceiling(answers: Answers) -> None:
    most = answers.MOST_PARALLEL
    assert most == "prices", f"MOST_PARALLEL = {most!r}, but the price check is the most parallel: {WHY['prices']}"
    p = number(_dict(answers, "P_ESTIMATES")["prices"], "P_ESTIMATES['prices']")
    ceiling = number(answers.CEILING, "CEILING")
    assert close(ceiling, 1.0 / (1.0 - p)), (
        f"CEILING = {ceiling:.4g}, but your own estimate p = {p:g} for prices gives 1/(1 - p) = {1 / (1 - p):.4g}"
    )


@graded("ceiling", 1)
def test_what_keeps_the_ceiling_finite(answers: Answers) -> None:
    got = answers.FINITE_BECAUSE
    assert got in ("workers", "spine", "network"), (
        f'FINITE_BECAUSE must be "workers", "spine" or "network", got {got!r}'
    )
    assert got == "spine", {
        "workers": 'FINITE_BECAUSE = "workers", but W → ∞ here: more workers cannot be what stops it',
        "network": 'FINITE_BECAUSE = "network", but the fetches are the parallel part: their time shrinks as p/W',
    }[got]


@graded("fitted", 1)
def test_fitted_p_solves_amdahl_for_p(answers: Answers) -> None:
    run = SimpleNamespace(sequential=4.0, wall=1.0)
    got = number(answers.fitted_p(run, 64), "fitted_p(run, 64)")
    expected = (1 - 1 / 4.0) / (1 - 1 / 64)
    assert close(got, expected, rel=1e-4), (
        f"fitted_p(run, 64) for a run with sequential = 4.0 s and wall = 1.0 s returned {got:.4g}, expected "
        f"{expected:.4g}: the speedup is S = sequential / wall = 4, and S = 1/((1 - p) + p/W) solved for p "
        "gives p = (1 - 1/S) / (1 - 1/W)"
    )


@graded("fitted", 1)
def test_fitted_p_stays_in_range(answers: Answers) -> None:
    slower = number(answers.fitted_p(SimpleNamespace(sequential=1.0, wall=1.25), 8), "fitted_p")
    assert slower == 0.0, (
        f"a run slower than its sequential path (1.0 s of work, 1.25 s of wall time) gave p = {slower:.4g}: "
        "overhead can make a fan-out slower than Amdahl allows for any p, so clip the fit to 0"
    )
    ideal = number(answers.fitted_p(SimpleNamespace(sequential=8.0, wall=1.0), 8), "fitted_p")
    assert close(ideal, 1.0), f"a perfect 8x speedup on 8 workers gave p = {ideal:.4g}, expected 1.0"
