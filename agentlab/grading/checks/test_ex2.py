"""Checks for Exercise 40.6.2, add a straggler and a retry (labs/exercises/ex2_straggler_and_retry.ipynb).

Boundaries pinned: both indices on one sub-task, a one-sub-task plan, and a path exactly equal to the
timeout (it finishes: "at most `timeout`"). A sub-task that is both the straggler and the retried one takes
20 times its latency as the notebook words it, or 11 times in the course's other reading ("adding that
sub-task's latency a second time": one more normal latency); both are accepted. A straggler mapped to a
hedge is accepted too: the course's Fun Note fixes a straggler by "speculate a replacement".
Latencies here are multiples of 1/64, so every correct way
of computing a path gets exactly the same float. The instructor's hidden checks add properties.
"""

from __future__ import annotations

import pytest

from agentlab.grading.testkit import Answers, call, close, graded, number

COURSE = [0.131, 0.088, 0.213, 0.068, 0.184, 0.141, 0.064, 0.177]
"""Code 40.6.2's eight latencies (random.seed(7)); the notebook's straggler is tool_5, its retry tool_2."""
FEATURES = {"straggler": "wait_all", "retry": "retry_policy", "timeout": "subtask_timeout"}
ACCEPTED = {"straggler": ("wait_all", "hedge_after"), "retry": ("retry_policy",), "timeout": ("subtask_timeout",)}
"""Each addition's accepted features: a straggler is what the gather waits for, or what a hedge answers."""
OPTIONS = ("wait_all", "retry_policy", "subtask_timeout", "hedge_after", "checkpoint")
HINT = {
    "straggler": "which feature makes one slow sub-task set the length of the whole round, or answers it?",
    "retry": "the retry happens inside one sub-task, on its own path: which feature works at that level?",
    "timeout": "which feature stops waiting on one sub-task, and what does the engine do with it then?",
}
BOTH = (20, 11)
"""Times its latency, for a sub-task that is both the straggler and the retried one (either reading)."""


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
        f"{call('parallel_critical_path', COURSE, 5, 2)} returned {got:.4g}, expected 1.41 (the baseline was "
        "max = 0.213 s): work out each sub-task's path, then which one is longest"
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
    for latencies, index in (([0.25], 0), ([0.5, 0.125, 0.75], 1)):
        got = _path(answers, latencies, index, index)
        expected = [max(both * latencies[index], *latencies) for both in BOTH]
        assert any(close(got, e) for e in expected), (
            f"{call('parallel_critical_path', latencies, index, index)} returned {got:.4g}, expected {expected[0]:g}: "
            "reread what the task says about a sub-task that is both the straggler and the retried one"
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
        f"{call('worst_case_path', COURSE, 5, 2, timeout=0.5)} returned {got:.4g}, expected 0.641: which sub-tasks "
        "are still running at 0.5 s, and how long does the fresh copy of each take?"
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
        f"{call('worst_case_path', latencies, 0, 1, timeout=0.15)} returned {got:.4g}, expected 0.45: the task "
        "says which sub-tasks the timeout abandons; is a healthy one still running at 0.15 s?"
    )


@graded("timeout")
def test_a_retry_that_outlasts_the_timeout_is_redone(answers: Answers) -> None:
    latencies = [0.1, 0.3, 0.1]
    got = _worst(answers, latencies, 0, 1, 0.5)
    assert close(got, 0.8), (
        f"{call('worst_case_path', latencies, 0, 1, timeout=0.5)} returned {got:.4g}, expected 0.8: is the retried "
        "sub-task done by the timeout?"
    )


@graded("timeout")
def test_a_path_equal_to_the_timeout_finishes(answers: Answers) -> None:
    latencies = [0.125, 0.5, 0.0625]
    got = _worst(answers, latencies, 2, 1, 1.0)
    assert close(got, 1.0), (
        f"{call('worst_case_path', latencies, 2, 1, timeout=1.0)} returned {got:.4g}, expected 1.0: one path here "
        "ends exactly at the timeout; reread which paths the task says finish as before"
    )


@graded("timeout")
def test_one_sub_task_that_is_both_and_times_out(answers: Answers) -> None:
    got = _worst(answers, [0.25], 0, 0, 2.0)
    assert close(got, 2.25), (
        f"{call('worst_case_path', [0.25], 0, 0, timeout=2.0)} returned {got:.4g}, expected 2.25: is this "
        "sub-task done by the timeout, and what does its fresh copy take?"
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
    assert got in ACCEPTED[addition], f"ENGINE_FEATURES[{addition!r}] = {got!r} is not it: {HINT[addition]}"
