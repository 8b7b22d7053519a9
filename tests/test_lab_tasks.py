"""The labs' checked tasks run on the exercises' grading code: `check("labNN.part")` scores one task alone.

Each task of labs 01 and 02 passes with the instructor's solution and fails for a plausible wrong answer,
with a message that says what was called and what came back, without spelling out the rule."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import nbformat
import pytest

from agentlab.errors import UsageError
from agentlab.grading import EXERCISES, check
from agentlab.grading.answers import locate
from agentlab.grading.labtasks import LAB_TASKS

_SOLVED: dict[str, dict[str, Any]] = {}


def _solutions(lab: str) -> dict[str, Any]:
    """The instructor's answers of one lab, run here: its setup cells, then every answer cell."""
    if lab not in _SOLVED:
        located = locate(nbformat.read(EXERCISES[lab].source_path, as_version=4).cells, EXERCISES[lab])
        namespace: dict[str, Any] = {}
        for source in [*located.setup, *(s for _, s in located.answers)]:
            exec(compile(source, f"<{lab} solution>", "exec"), namespace)
        _SOLVED[lab] = namespace
    return dict(_SOLVED[lab])


def test_every_lab_with_tasks_is_graded_like_an_exercise() -> None:
    for lab_id, lab in LAB_TASKS.items():
        exercise = EXERCISES[lab_id]
        assert exercise.folder == "" and exercise.source_path.exists() and exercise.student_path.exists()
        assert set(exercise.parts) == set(lab.tasks) and exercise.check_files


TASKS = [
    f"{lab}.{part}"
    for lab in ("lab01", "lab02")
    for part, task in LAB_TASKS[lab].tasks.items()
    if task.limit is None  # the simulator-graded parts are attacked in tests/test_sim_components.py
]


@pytest.mark.parametrize("task", TASKS)
def test_one_task_is_checked_alone(task: str) -> None:
    lab, part = task.split(".")
    grade = check(task, _solutions(lab))
    assert [p.part for p in grade.parts] == [part] and grade.points == grade.max_points > 0, grade.text()


def _pay_key_in_given_order(run_id: str, tool: str, arguments: dict[str, Any]) -> str:
    return f"{run_id}:{tool}:{json.dumps(arguments)}"  # forgets that a model may reorder the arguments


def _never_probes(calls: list[list[Any]], failures: int, reset_after: float) -> list[str]:
    admitted, failed = [], 0
    for _, up in calls:
        if failed >= failures:
            admitted.append("refused")  # once open, open for good: the half-open probe is missing
            continue
        admitted.append("closed")
        failed = 0 if up else failed + 1
    return admitted


def _checks_json_first(name: str, arguments: str, required: dict[str, list[str]]) -> str | None:
    try:
        args = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        return "MalformedArguments"  # before looking at the tool's name
    if name not in required:
        return "UnknownTool"
    if not isinstance(args, dict):
        return "MalformedArguments"
    return "InvalidArguments" if any(r not in args for r in required[name]) else None


WRONG: dict[str, tuple[dict[str, Any], str, str]] = {
    # task: (the wrong answers, a phrase its message must hold, a phrase of the rule it must not hold)
    "lab01.loop": ({"trace_events": lambda t, c: t * (1 + c)}, "trace_events(0, 1) returned 0", "+ 1"),
    "lab01.convo": ({"turns_in": lambda roles: roles.count("tool")}, "returned 3, expected 1", '== "tool"'),
    "lab01.trace": (
        {"model_share": lambda ev: sum(b - a for w, a, b in ev if w == "model") / sum(b - a for _, a, b in ev)},
        "expected 0.5",
        "max(",
    ),
    "lab01.turns": ({"finish_within": lambda q, n: q * n}, "finish_within(0.3, 10) returned 3", "1 - (1 - q)"),
    "lab01.latency": (
        {"expected_latency": lambda q, r, calls: (1 / q) * (r + sum(calls)) + r},
        "returned 1, expected 0.7",
        "max(",
    ),
    "lab01.budget": ({"budget_for": lambda q, risk: math.ceil(1 / q)}, "still stop at max_turns", "log("),
    "lab01.malformed": ({"diagnose": _checks_json_first}, "the toolbox says 'UnknownTool'", "not in required"),
    "lab02.schema": ({"REFUSED": {"B", "C", "D", "E", "F", "G"}}, "2 of your 7 verdicts differ", "'E'"),
    "lab02.timeout": ({"pick_timeout": lambda xs, keep: sum(xs) / len(xs)}, "a shorter timeout among", "sorted("),
    "lab02.retry": (
        {"worst_case_wait": lambda n, base, cap, t: n * t + sum(base * 2**i for i in range(n))},
        "worst_case_wait(1, 0.1, 1.0, 0.5) returned 0.6",
        "min(cap",
    ),
    "lab02.key": ({"call_key": _pay_key_in_given_order}, "in another order got another key", "sort_keys"),
    "lab02.breaker": ({"breaker_walk": _never_probes}, "by agentlab's breaker, not 'refused'", "reset_after seconds"),
    "lab02.ratelimit": (
        {"min_duration": lambda n, rate, burst: n / rate},
        "min_duration(6, 4, 1) returned 1.5",
        "- burst",
    ),
    "lab02.fallback": (
        {"cached_answer": lambda q, cache, now, age: "(cached result) " + cache[q][1] if q in cache else None},
        "that entry is too old",
        "stored_at",
    ),
    "lab02.sandbox": ({"stopped_after": lambda wall, cpu, busy: wall}, "which clock runs out first?", "min("),
    "lab02.approved": ({"APPROVED": {"get_price", "search_kb", "refund"}}, "lets the agent call 'refund'", "money"),
    "lab02.shards": (
        {"shards_for": lambda n, capacity, scan, task, workers: math.ceil(n / capacity)},
        "a query would take",
        "min(",
    ),
}


def test_every_task_of_labs_01_and_02_has_a_wrong_answer_below() -> None:
    assert sorted(WRONG) == sorted(TASKS)


@pytest.mark.parametrize("task", TASKS)
def test_a_plausible_wrong_answer_fails_with_a_reason_that_keeps_the_rule(task: str) -> None:
    wrong, said, rule = WRONG[task]
    grade = check(task, {**_solutions(task.split(".", maxsplit=1)[0]), **wrong})
    message = grade.parts[0].message
    assert grade.points == 0 and said in message and rule not in message, message


def test_each_lab_02_reference_reproduces_what_the_lab_prints() -> None:
    from agentlab.grading.checks import test_lab02 as lab02

    assert lab02._refused() == {"B", "C", "E", "G"} and lab02._last_start(6, 4, 1) == pytest.approx(1.25)
    walk: Callable[..., list[str]] = lab02._walk
    assert walk(*lab02._LIVES["a failed probe re-opens"]) == [
        *["closed"] * 3,
        *["refused", "probe", "refused", "probe", "closed"],
    ]


def test_a_missing_answer_says_which_cell_to_run() -> None:
    grade = check("lab01.turns", {})
    assert grade.points == 0 and "answer:lab01.turns" in grade.parts[0].message


def test_an_unknown_task_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="lab01 has no task 'nope'; its tasks are loop, convo"):
        check("lab01.nope", {})
