"""The labs' checked tasks run on the exercises' grading code: `check("labNN.part")` scores one task alone.

Each task passes with the instructor's solution and fails for a plausible wrong answer, with a message that
says what was called and what came back, without spelling out the rule. The simulator-graded tasks are
tested in tests/test_sim_components.py."""

from __future__ import annotations

import itertools
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


# --- labs 04, 05, 06: every task's solution passes; a plausible wrong answer fails with its reason -------------

LABS_456 = ("lab04", "lab05", "lab06")
SECTION_TASKS = {lab: [p for p in EXERCISES[lab].parts if p not in EXERCISES[lab].limits] for lab in LABS_456}
"""Each lab's section tasks; its simulator-graded component (a part with a time limit of its own) is graded in
tests/test_sim_components.py."""


def _strict_fence(writes: list[Any]) -> list[Any]:
    newest, accepted = None, []
    for token, value in writes:
        if newest is None or token > newest:  # refuses the newest holder's second write
            newest = token
            accepted.append(value)
    return accepted


def _greedy_view(sizes: list[Any], budget: int) -> list[str]:
    plan, used = [], 0
    for whole, summary in sizes:  # each entry as detailed as fits, whatever came before
        if used + whole <= budget:
            plan.append("whole")
            used += whole
        elif used + summary <= budget:
            plan.append("summary")
            used += summary
        else:
            plan.append("dropped")
    return plan


WRONG_456: dict[str, tuple[dict[str, Any], str]] = {
    "lab04.payment": ({"payment_key": lambda run, tool, args: f"{run}|{tool}|{args}"}, "in another order"),
    "lab04.lost": (
        {"lost_work": lambda intervals, kill_at: sum(e - s for s, e in intervals if s < kill_at < e)},
        "two sub-tasks were in flight",
    ),
    "lab04.ledger": ({"ledger": lambda attempts: list({a[1]: list(a) for a in attempts}.values())}, "two keys"),
    "lab04.positions": ({"position_log_right": lambda plan, done: len(set(plan) & set(done))}, "i-th sub-task"),
    "lab05.lease": ({"longest_wait": lambda lease_timeout, interval: lease_timeout}, "next looks"),
    "lab05.naive": ({"naive_final": lambda schedule: sum(op == "write" for _, op in schedule)}, "both read 0"),
    "lab05.replay": ({"rebuild": lambda log: {key: value for _, key, value in log}}, "seq numbers"),
    "lab05.fence": ({"fenced": _strict_fence}, "may write more than once"),
    "lab05.view": ({"plan_view": _greedy_view}, "never shown in more detail"),
    "lab05.admit": (
        {
            "completion_cap": lambda limit, spent, reserved, prompt, allowance: max(
                0, min(allowance, limit - spent - prompt)
            )
        },
        "reserved are not free",
    ),
    "lab05.fuse": ({"fuse": lambda rankings, k=60: list(dict.fromkeys(x for r in rankings for x in r))}, "rank 1"),
    "lab06.schema": (
        {
            "input_schema": lambda params: {
                "type": "object",
                "properties": {n: {"type": "number" if t in ("int", "float") else "string"} for n, t, _ in params},
                "required": [n for n, _, r in params if r],
            }
        },
        "expected",
    ),
    "lab06.contract": (
        {
            "contract_of": lambda a: [
                a.get("readOnlyHint", False) or a.get("idempotentHint", False),
                a.get("destructiveHint", False),
            ]
        },
        "says nothing about its effects",
    ),
    "lab06.sessions": ({"servers_started": lambda calls: len({w for w, _ in calls})}, "a crash, then the retry"),
    "lab06.approval": (
        {
            "gate": lambda calls, approved: [
                "run" if not needs or any(tool in names for names in approved.values()) else "refused"
                for _, tool, needs in calls
            ]
        },
        "for one run",
    ),
    "lab06.jsonrpc": (
        {
            "tools_call": lambda i, name, args: {
                "jsonrpc": "2.0",
                "id": i,
                "method": "call_tool",
                "params": {"name": name, "arguments": args},
            }
        },
        "not the method MCP names",
    ),
    "lab06.states": (
        {"legal_life": lambda s: bool(s) and s[-1] in {"completed", "failed", "canceled"}},
        "expected False",
    ),
    "lab06.deadline": ({"delegation_outcome": lambda n, s, t: "completed" if n * s < t else "canceled"}, "0.4 s"),
}


@pytest.mark.parametrize("lab", LABS_456)
def test_each_task_of_labs_4_to_6_passes_with_its_solution(lab: str) -> None:
    solutions = _solutions(lab)
    for part in SECTION_TASKS[lab]:
        grade = check(f"{lab}.{part}", solutions)
        assert grade.points == grade.max_points > 0, grade.text()


def test_every_task_of_labs_4_to_6_has_a_wrong_answer_here() -> None:
    assert set(WRONG_456) == {f"{lab}.{part}" for lab in LABS_456 for part in SECTION_TASKS[lab]}


@pytest.mark.parametrize("task", list(WRONG_456))
def test_a_plausible_wrong_answer_fails_its_task_with_a_reason(task: str) -> None:
    lab = task.partition(".")[0]
    wrong, reason = WRONG_456[task]
    grade = check(task, {**_solutions(lab), **wrong})
    assert grade.points == 0, grade.text()
    assert reason in grade.parts[0].message, grade.parts[0].message
    assert "### BEGIN SOLUTION" not in grade.parts[0].message


# -- lab 03: a task per section ----------------------------------------------------------------------


@pytest.mark.parametrize("part", list(EXERCISES["lab03"].parts))
def test_each_lab03_solution_passes_its_task(part: str) -> None:
    grade = check(f"lab03.{part}", _solutions("lab03"))
    assert [p.part for p in grade.parts] == [part] and grade.points == grade.max_points > 0, grade.text()


def _restart_as_if_each_call_were_retried(n: int, f: float) -> float:
    return n / (1 - f)


LAB03_WRONG: dict[str, tuple[dict[str, Any], str, str]] = {
    # part: (a plausible wrong answer, what its message must say, what it must not give away)
    "ready": (
        {"ready": lambda deps, done: {t for t, waits in deps.items() if all(d in done for d in waits)}},
        "returned ['a', 'b'], expected ['b']",
        "not in done",
    ),
    "imbalance": ({"idle_share": lambda ls: 1 - max(ls) / sum(ls)}, "returned 0.8002", "len(latencies)"),
    "critical_path": (
        {"critical_path_length": lambda latency, deps: max(latency.values())},
        "returned 0.5, expected 0.875",
        "finish_of",
    ),
    "workers": ({"plan_speedup": lambda ls, w: min(w, len(ls))}, "plan_speedup([0.131", "heappop"),
    "ceiling": (
        {"plan_ceiling": lambda ls, spine: sum(ls) / max(ls)},
        "plan_ceiling([1.0, 1.0], 1.0) returned 2, expected 1.5",
        "spine_s + sum",
    ),
    "hedge": (
        {"hedged_round": lambda ls, h, i, s: max(h + ls[i], *ls)},
        "hedged_round([0.131",
        "hedge_after + latency",
    ),
    "lanes": ({"ideal_wall": lambda n, latency, slots: n / slots * latency}, "returned 0.3125, expected 0.35", "ceil"),
    "goals": (
        {"ideal_speedup": lambda latency, deps: sum(latency.values()) / max(latency.values())},
        "returned 3, expected 1: one agent does all the work",
        "finish",
    ),
    "retry": (
        {"restart_calls": _restart_as_if_each_call_were_retried},
        "restart_calls(8, 0.1) returned 8.889, expected 13.23",
        "(expected + 1)",
    ),
}


@pytest.mark.parametrize("part", list(LAB03_WRONG))
def test_a_plausible_wrong_lab03_answer_fails_with_a_hint_not_the_rule(part: str) -> None:
    wrong, says, hides = LAB03_WRONG[part]
    grade = check(f"lab03.{part}", {**_solutions("lab03"), **wrong})
    assert grade.points == 0, grade.text()
    message = grade.parts[0].message
    assert says in message and hides not in message, message


def test_lab03_has_a_task_at_the_end_of_every_section() -> None:
    cells = nbformat.read(EXERCISES["lab03"].source_path, as_version=4).cells
    sections = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("## ")]
    bounds = [*sections, len(cells)]
    for start, end in itertools.pairwise(bounds):
        title = cells[start].source.splitlines()[0]
        if title.startswith("## Done"):
            continue
        tags = [t for c in cells[start:end] for t in c.metadata.get("tags", [])]
        assert any(t.startswith("check:lab03.") for t in tags), f"{title} ends with no checked task"
