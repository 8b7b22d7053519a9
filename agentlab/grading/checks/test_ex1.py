"""Checks for Exercise 40.6.1, sequential spine or parallel fan-out? (labs/exercises/ex1_spine_or_fanout.ipynb).

Each part is pinned at its boundaries: p = 0 and p = 1 for the ceiling (1/(1 - p) must not divide by
zero), and both clips of the fitted p (a run slower than any p explains, and one faster than W workers
explain). The instructor's hidden checks add properties on many inputs.
"""

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
    assert isinstance(value, dict), f"{name} must be a dict, got {type(value).__name__}"
    assert set(value) == set(GOALS), f"{name} must have exactly the keys {list(GOALS)}, got {sorted(map(str, value))}"
    return value


def _ceiling_of(p: float) -> float:
    return math.inf if p == 1 else 1.0 / (1.0 - p)


@graded("classify")
@pytest.mark.parametrize("goal", GOALS)
def test_each_goal_is_classified(answers: Answers, goal: str) -> None:
    got = _dict(answers, "CLASSIFICATION")[goal]
    assert got in ("sequential", "fan-out"), f'CLASSIFICATION[{goal!r}] must be "sequential" or "fan-out", got {got!r}'
    assert got == KIND[goal], f"CLASSIFICATION[{goal!r}] = {got!r}, but it is mostly {KIND[goal]}: {WHY[goal]}"


@graded("p_estimates")
@pytest.mark.parametrize("goal", GOALS)
def test_each_estimate_is_in_its_band(answers: Answers, goal: str) -> None:
    p = number(_dict(answers, "P_ESTIMATES")[goal], f"P_ESTIMATES[{goal!r}]")
    assert 0.0 <= p < 1.0, (
        f"P_ESTIMATES[{goal!r}] = {p:g}: p is a fraction of the work in [0, 1), and below 1 here, "
        "because every plan has a sequential part (deciding what to do, combining the results)"
    )
    low, high = max(0.0, REFERENCE_P[goal] - TOLERANCE), min(1.0, REFERENCE_P[goal] + TOLERANCE)
    assert low - 1e-9 <= p <= high + 1e-9, (
        f"P_ESTIMATES[{goal!r}] = {p:g} is outside the accepted band [{low:.2f}, {high:.2f}]: {WHY[goal]}"
    )


@graded("p_estimates")
def test_the_estimates_are_ordered(answers: Answers) -> None:
    p = {goal: number(value, f"P_ESTIMATES[{goal!r}]") for goal, value in _dict(answers, "P_ESTIMATES").items()}
    assert p["debug"] < p["briefs"] <= p["prices"], (
        f"expected debug < briefs <= prices, got {p}: writing one brief from twelve summaries is a real "
        "sequential step, while flagging mispricings is a quick comparison after the fetches"
    )


@graded("ceiling")
@pytest.mark.parametrize("p", [0.0, 0.5, 0.85, 0.9, 0.25])
def test_the_ceiling_is_one_over_the_sequential_fraction(answers: Answers, p: float) -> None:
    got = number(answers.speedup_ceiling(p), call("speedup_ceiling", p))
    expected = _ceiling_of(p)
    assert close(got, expected), (
        f"{call('speedup_ceiling', p)} returned {got:.4g}, expected {expected:.4g} = 1/(1 - {p:g}): as W → ∞ the "
        "parallel term p/W vanishes, and only the sequential fraction 1 - p is left to bound the speedup"
    )


@graded("ceiling")
def test_a_fully_parallel_plan_has_no_ceiling(answers: Answers) -> None:
    got = answers.speedup_ceiling(1.0)
    assert got == math.inf and isinstance(got, float), (
        f"{call('speedup_ceiling', 1.0)} returned {got!r}: with no sequential part S(W) = W grows without bound, "
        "so return math.inf (and do not divide by zero)"
    )


@graded("ceiling")
def test_the_most_parallel_goal_and_its_ceiling(answers: Answers) -> None:
    most = answers.MOST_PARALLEL
    assert most == "prices", f"MOST_PARALLEL = {most!r}, but the price check is the most parallel: {WHY['prices']}"
    ceiling = number(answers.CEILING, "CEILING")
    estimates = answers.P_ESTIMATES if "P_ESTIMATES" in answers else {}
    own = estimates.get("prices") if isinstance(estimates, dict) else None
    # your own estimate, when it is a number, however wrong (a wrong estimate costs its own part, not this one)
    usable = isinstance(own, int | float) and not isinstance(own, bool)
    p = float(own) if usable else REFERENCE_P["prices"]  # type: ignore[arg-type]
    assert close(ceiling, _ceiling_of(p)), (
        f"CEILING = {ceiling:.4g}, but speedup_ceiling of the estimate p = {p:g} for prices is {_ceiling_of(p):.4g}"
    )


@graded("ceiling")
def test_what_keeps_the_ceiling_finite(answers: Answers) -> None:
    got = answers.FINITE_BECAUSE
    assert got in ("workers", "spine", "network"), (
        f'FINITE_BECAUSE must be "workers", "spine" or "network", got {got!r}'
    )
    assert got == "spine", {
        "workers": 'FINITE_BECAUSE = "workers", but W → ∞ here: more workers cannot be what stops it',
        "network": 'FINITE_BECAUSE = "network", but the fetches are the parallel part: their time shrinks as p/W',
    }[got]


def _fitted(answers: Answers, sequential: float, wall: float, workers: int) -> float:
    shown = f"fitted_p(run with sequential = {sequential:g} s and wall = {wall:g} s, {workers})"
    return number(answers.fitted_p(SimpleNamespace(sequential=sequential, wall=wall), workers), shown)


@graded("fitted")
def test_fitted_p_solves_amdahl_for_p(answers: Answers) -> None:
    got = _fitted(answers, 4.0, 1.0, 64)
    expected = (1 - 1 / 4.0) / (1 - 1 / 64)
    assert close(got, expected, rel=1e-4), (
        f"fitted_p(run, 64) for a run with sequential = 4.0 s and wall = 1.0 s returned {got:.4g}, expected "
        f"{expected:.4g}: the speedup is S = sequential / wall = 4, and S = 1/((1 - p) + p/W) solved for p "
        "gives p = (1 - 1/S) / (1 - 1/W)"
    )


@graded("fitted")
def test_a_run_slower_than_sequential_clips_to_zero(answers: Answers) -> None:
    slower = _fitted(answers, 1.0, 1.25, 8)
    assert slower == 0.0, (
        f"a run slower than its sequential path (1.0 s of work, 1.25 s of wall time) gave p = {slower:.4g}: "
        "overhead can make a fan-out slower than Amdahl allows for any p, so clip the fit to 0"
    )
    assert _fitted(answers, 2.0, 2.0, 8) == 0.0, "a run with no speedup at all (S = 1) has p = 0"


@graded("fitted")
def test_a_run_faster_than_its_workers_explain_clips_to_one(answers: Answers) -> None:
    ideal = _fitted(answers, 8.0, 1.0, 8)
    assert close(ideal, 1.0), f"a perfect 8x speedup on 8 workers gave p = {ideal:.4g}, expected 1.0"
    faster = _fitted(answers, 10.0, 1.0, 8)
    assert faster == 1.0, (
        f"a 10x speedup on 8 workers (caching, or a sequential estimate that was too long) gave p = {faster:.4g}: "
        "no p explains more than W, so clip the fit to 1"
    )
