"""Checks for Exercise 40.6.2, add a straggler and a retry (labs/exercises/ex2_straggler_and_retry.ipynb).

Boundaries pinned: both indices on one sub-task, a one-sub-task plan, and a path exactly equal to the
timeout (it finishes: "at most `timeout`"). Latencies here are multiples of 1/64, so every correct way
of computing a path gets exactly the same float. The instructor's hidden checks add properties.
"""

from __future__ import annotations

import pytest

from agentlab.grading.testkit import Answers, call, close, graded, number

COURSE = [0.131, 0.088, 0.213, 0.068, 0.184, 0.141, 0.064, 0.177]
"""Code 40.6.2's eight latencies (random.seed(7)); the notebook's straggler is tool_5, its retry tool_2."""
FEATURES = {"straggler": "wait_all", "retry": "retry_policy", "timeout": "subtask_timeout"}
OPTIONS = ("wait_all", "retry_policy", "subtask_timeout", "hedge_after", "checkpoint")
WHY_FEATURE = {
    "straggler": "a round's gather waits for every sub-task it tracks as running, so the slowest sets its length",
    "retry": "a failed tool call is tried again by its retry policy, on its own sub-task's path",
    "timeout": "the fan-out abandons a sub-task past subtask_timeout and re-plans it as a fresh one",
}


def _path(answers: Answers, latencies: list[float], straggler: int, retry: int) -> float:
    shown = call("parallel_critical_path", latencies, straggler, retry)
    return number(answers.parallel_critical_path(list(latencies), straggler, retry), shown)


def _worst(answers: Answers, latencies: list[float], straggler: int, retry: int, timeout: float) -> float:
    shown = call("worst_case_path", latencies, straggler, retry, timeout=timeout)
    return number(answers.worst_case_path(list(latencies), straggler, retry, timeout=timeout), shown)


@graded("critical_path")
def test_the_course_plan_with_a_straggler_and_a_retry(answers: Answers) -> None:
    got = _path(answers, COURSE, 5, 2)
    assert close(got, 1.41), (
        f"{call('parallel_critical_path', COURSE, 5, 2)} returned {got:.4g}, expected 1.41: tool_5 (0.141 s) is "
        "ten times slower, 1.41 s, longer than any other path; the baseline was max = 0.213 s"
    )


@graded("critical_path")
def test_the_retry_counts_twice_on_its_own_path(answers: Answers) -> None:
    latencies = [0.1, 0.1, 0.5, 0.01]
    got = _path(answers, latencies, 3, 2)
    assert close(got, 1.0), (
        f"{call('parallel_critical_path', latencies, 3, 2)} returned {got:.4g}, expected 1.0: sub-task 2 fails "
        "once and is retried, so its path is 0.5 + 0.5 = 1.0 s, longer than the straggler's 10 x 0.01 = 0.1 s"
    )


@graded("critical_path")
def test_the_straggler_is_ten_times_slower(answers: Answers) -> None:
    latencies = [0.1, 0.2, 0.3]
    got = _path(answers, latencies, 0, 1)
    assert close(got, 1.0), (
        f"{call('parallel_critical_path', latencies, 0, 1)} returned {got:.4g}, expected 1.0: the straggler's "
        "path is 10 x 0.1 = 1.0 s, longer than the retried 0.2 + 0.2 = 0.4 s and the normal 0.3 s"
    )


@graded("critical_path")
def test_the_plan_is_not_changed(answers: Answers) -> None:
    latencies = [0.1, 0.2, 0.3]
    _, (after, *_) = answers.parallel_critical_path.keeping_args(list(latencies), 0, 1)
    assert after == latencies, f"parallel_critical_path changed the list it was given to {after}"


@graded("critical_path")
def test_one_sub_task_both_straggler_and_retry(answers: Answers) -> None:
    for latencies, index, expected in (([0.25], 0, 5.0), ([0.5, 0.125, 0.75], 1, 2.5)):
        got = _path(answers, latencies, index, index)
        assert close(got, expected), (
            f"{call('parallel_critical_path', latencies, index, index)} returned {got:.4g}, expected {expected:g}: "
            "when one sub-task is both the straggler and the retried one, both apply: 10 x 2 = 20 times its latency"
        )


@graded("critical_path")
def test_the_path_is_a_float(answers: Answers) -> None:
    got = answers.parallel_critical_path([1, 2], 0, 1)
    assert close(number(got, "parallel_critical_path([1, 2], 0, 1)"), 10.0), (
        f"{call('parallel_critical_path', [1, 2], 0, 1)} returned {got!r}, expected 10: the straggler's 10 x 1"
    )


@graded("timeout")
def test_the_course_plan_with_a_timeout(answers: Answers) -> None:
    got = _worst(answers, COURSE, 5, 2, 0.5)
    assert close(got, 0.641), (
        f"{call('worst_case_path', COURSE, 5, 2, timeout=0.5)} returned {got:.4g}, expected 0.641: tool_5 is "
        "abandoned at 0.5 s and its fresh copy takes its normal 0.141 s; the retried tool_2 (0.426 s) finishes "
        "before the timeout"
    )


@graded("timeout")
def test_a_generous_timeout_changes_nothing(answers: Answers) -> None:
    got = _worst(answers, COURSE, 5, 2, 5.0)
    assert close(got, 1.41), (
        f"{call('worst_case_path', COURSE, 5, 2, timeout=5.0)} returned {got:.4g}, expected 1.41: no path "
        "reaches a 5 s timeout, so nothing is abandoned and the path is the one without a timeout"
    )


@graded("timeout")
def test_a_tight_timeout_abandons_healthy_sub_tasks_too(answers: Answers) -> None:
    latencies = [0.1, 0.2, 0.3]
    got = _worst(answers, latencies, 0, 1, 0.15)
    assert close(got, 0.45), (
        f"{call('worst_case_path', latencies, 0, 1, timeout=0.15)} returned {got:.4g}, expected 0.45: every "
        "sub-task still running at the timeout is abandoned and redone, healthy ones too: the 0.3 s one is "
        "abandoned at 0.15 s and its fresh copy ends at 0.15 + 0.3 = 0.45 s"
    )


@graded("timeout")
def test_a_retry_that_outlasts_the_timeout_is_redone(answers: Answers) -> None:
    latencies = [0.1, 0.3, 0.1]
    got = _worst(answers, latencies, 0, 1, 0.5)
    assert close(got, 0.8), (
        f"{call('worst_case_path', latencies, 0, 1, timeout=0.5)} returned {got:.4g}, expected 0.8: the retried "
        "sub-task needs 0.3 + 0.3 = 0.6 s, so it is abandoned at 0.5 s and its fresh copy takes 0.3 s more"
    )


@graded("timeout")
def test_a_path_equal_to_the_timeout_finishes(answers: Answers) -> None:
    latencies = [0.125, 0.5, 0.0625]
    got = _worst(answers, latencies, 2, 1, 1.0)
    assert close(got, 1.0), (
        f"{call('worst_case_path', latencies, 2, 1, timeout=1.0)} returned {got:.4g}, expected 1.0: the retried "
        "sub-task's path is 0.5 + 0.5 = 1.0 s, exactly the timeout, so it finishes (a path of at most `timeout` "
        "finishes as before); only a sub-task still running after the timeout is abandoned"
    )


@graded("timeout")
def test_one_sub_task_that_is_both_and_times_out(answers: Answers) -> None:
    got = _worst(answers, [0.25], 0, 0, 2.0)
    assert close(got, 2.25), (
        f"{call('worst_case_path', [0.25], 0, 0, timeout=2.0)} returned {got:.4g}, expected 2.25: its path is "
        "20 x 0.25 = 5 s, so it is abandoned at 2 s and its fresh copy takes its normal 0.25 s"
    )


@graded("timeout")
def test_the_timeout_can_be_passed_by_position(answers: Answers) -> None:
    got = number(answers.worst_case_path([0.25, 0.5], 0, 1, 1.0), "worst_case_path([0.25, 0.5], 0, 1, 1.0)")
    assert close(got, 1.25), f"worst_case_path([0.25, 0.5], 0, 1, 1.0) returned {got:.4g}, expected 1.25"


@graded("engine")
def test_exactly_the_three_additions(answers: Answers) -> None:
    mapping = answers.ENGINE_FEATURES
    assert isinstance(mapping, dict), f"ENGINE_FEATURES must be a dict, got {type(mapping).__name__}"
    assert set(mapping) == set(FEATURES), f"ENGINE_FEATURES must have exactly the keys {list(FEATURES)}"


@graded("engine")
@pytest.mark.parametrize("addition", list(FEATURES))
def test_each_addition_maps_to_its_engine_feature(answers: Answers, addition: str) -> None:
    mapping = answers.ENGINE_FEATURES
    assert isinstance(mapping, dict), f"ENGINE_FEATURES must be a dict, got {type(mapping).__name__}"
    assert addition in mapping, f"ENGINE_FEATURES has no entry for {addition!r} (keys: {list(FEATURES)})"
    got = mapping[addition]
    assert got in OPTIONS, f"ENGINE_FEATURES[{addition!r}] = {got!r} is not one of {list(OPTIONS)}"
    assert got == FEATURES[addition], f"ENGINE_FEATURES[{addition!r}] = {got!r}: {WHY_FEATURE[addition]}"
