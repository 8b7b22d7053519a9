"""Components the simulator attacks (labs 02, 04, 05): pass^k grading through the checks the grader runs.

For each component, one correct and two wrong submissions (three for lab 04's key), each a learner's
answer cell run into a namespace and graded by `check("labNN.task", namespace)`, as the notebook's check cell does (the
learner's answers copied as data, the task's own time limit). The correct one passes all 200 seeds;
each wrong one fails with a seed, and replaying that seed (and its shrunk schedule) breaks the same
promise again. Lab 07's own checker task is graded the same way: no false alarm, and seen failing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from agentlab.durable.journal import subtask_key
from agentlab.grading import PartScore, check
from agentlab.sim.board import BOARD_FAULTS, simulate_board
from agentlab.sim.components import COMPONENTS, attack_task, replay_seed
from agentlab.sim.passk import ComponentFailed, replay
from agentlab.steps import SubTask

PAYMENT_OK = """
import json

def payment_key(call):
    return json.dumps([call["run"], call["tool"], call["arguments"]], sort_keys=True)
"""
PAYMENT_BY_GOAL = """
def payment_key(call):
    return f'{call["run"]}|{call["goal"]}|{call["arguments"]["order"]}'
"""
PAYMENT_TOO_COARSE = """
def payment_key(call):
    return f'{call["run"]}/{call["tool"]}'
"""
KEY_OK = """
import json

def step_key(step):
    return json.dumps([step[k] for k in ("run", "origin", "role", "goal", "round", "deps")])
"""
KEY_WITH_ATTEMPT = KEY_OK.replace('"deps")', '"deps", "attempt")')  # a resumed process names every step anew
KEY_BY_POSITION = """
def step_key(step):
    return f'{step["run"]}/{step["round"]}/{step["position"]}'
"""
KEY_TOO_COARSE = KEY_OK.replace('"role", "goal", ', "")  # the two halves of a split re-plan are one step
INCREMENT_OK = """
def increment_step(key, replies):
    if not replies or (replies[-1]["op"] == "write" and not replies[-1]["ok"]):
        return {"op": "read"}
    last = replies[-1]
    if last["op"] == "read":
        return {"op": "write", "value": (last["value"] or 0) + 1, "expected": last["version"]}
    return {"op": "done"}
"""
INCREMENT_BLIND = """
def increment_step(key, replies):
    if not replies:
        return {"op": "read"}
    if replies[-1]["op"] == "read":
        return {"op": "write", "value": (replies[-1]["value"] or 0) + 1, "expected": None}
    return {"op": "done"}
"""
INCREMENT_STALE_RETRY = """
def increment_step(key, replies):
    if not replies:
        return {"op": "read"}
    first = replies[0]
    if replies[-1]["op"] == "write" and replies[-1]["ok"]:
        return {"op": "done"}
    return {"op": "write", "value": (first["value"] or 0) + 1, "expected": first["version"]}
"""

CASES = [
    ("lab02.payment", "correct", PAYMENT_OK, None),
    ("lab02.payment", "keyed-by-goal", PAYMENT_BY_GOAL, "exactly_once"),
    ("lab02.payment", "too-coarse", PAYMENT_TOO_COARSE, "paid_means_charged"),
    ("lab04.key", "correct", KEY_OK, None),
    ("lab04.key", "with-attempt", KEY_WITH_ATTEMPT, "resume_redoes_nothing"),
    ("lab04.key", "by-position", KEY_BY_POSITION, "replays_its_own_result"),
    ("lab04.key", "too-coarse", KEY_TOO_COARSE, "replays_its_own_result"),
    ("lab05.increment", "correct", INCREMENT_OK, None),
    ("lab05.increment", "blind-write", INCREMENT_BLIND, "linearizable"),
    ("lab05.increment", "stale-retry", INCREMENT_STALE_RETRY, "increments_land"),
]


def learner(source: str) -> dict[str, Any]:
    """The namespace an answer cell leaves behind."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<the answer cell>", "exec"), namespace)  # a learner's cell, as the notebook runs it
    return namespace


def checked(task: str, namespace: dict[str, Any]) -> PartScore:
    """`check(task)` in a notebook whose cells left `namespace` behind: the task's score."""
    grade = check(task, namespace)
    assert grade.error == "" and len(grade.parts) == 1, grade.text()
    return grade.parts[0]


@pytest.mark.parametrize(("task", "name", "source", "broken"), CASES, ids=[f"{t}-{n}" for t, n, _, _ in CASES])
def test_a_submission_is_graded_pass_k_and_a_failing_seed_replays(
    task: str, name: str, source: str, broken: str | None
) -> None:
    namespace = learner(source)
    outcome = checked(task, namespace)
    if broken is None:
        assert outcome.points == outcome.max_points > 0, outcome.message
        return
    assert outcome.points == 0 and f" {broken}: " in outcome.message, outcome.message
    seed = int(re.search(r"fails at seed (\d+)", outcome.message).group(1))  # type: ignore[union-attr]
    assert f'replay it with replay_seed("{task}", ' in outcome.message
    component, decide = COMPONENTS[task], namespace[COMPONENTS[task].answer]
    again = replay_seed(task, decide, seed)
    assert component.checkers[broken](again), again.timeline()  # the seed, replayed, fails the same way
    assert again.digest() == replay_seed(task, decide, seed).digest()
    verdict = attack_task(task, decide)
    assert verdict.failure is not None and verdict.failure.seed == seed
    shrunk = replay(component, decide, seed, verdict.failure.schedule, verdict.failure.size)
    assert component.checkers[broken](shrunk)  # so does its shrunk schedule, with no more faults than struck
    assert verdict.failure.schedule <= verdict.failure.fired and verdict.timeline()


def test_agentlab_own_journal_key_keeps_every_promise_of_lab04() -> None:
    """agentlab's own rule (`subtask_key`), written as a learner's `step_key`, passes the 200 seeds: the step
    the component describes carries everything agentlab's key reads, and a resumed run finds what it wrote."""

    def agentlab_key(step: dict[str, Any]) -> str:
        task = SubTask(step["id"], step["goal"], step["role"], tuple(step["deps"]), step["round"], step["replan"])
        return subtask_key(step["run"], replace(task, origin=step["origin"]))

    verdict = attack_task("lab04.key", agentlab_key)
    assert verdict.ok and verdict.calls > 1000, verdict.message()
    commits = [r.data for r in replay_seed("lab04.key", agentlab_key, 3).of("commit") if r.data["step"] == "subtask"]
    assert commits and all(c["key"] == c["journal"] for c in commits)  # agentlab's own keys, exactly


def test_an_attack_is_deterministic() -> None:
    decide = learner(PAYMENT_BY_GOAL)["payment_key"]
    first, second = attack_task("lab02.payment", decide), attack_task("lab02.payment", decide)
    assert first.failure is not None and second.failure is not None
    assert (first.failure.seed, first.failure.schedule) == (second.failure.seed, second.failure.schedule)
    assert first.failure.history.digest() == second.failure.history.digest()


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("def step_key(step):\n    raise NotImplementedError", "not implemented: `step_key`"),
        ("def step_key(step):\n    return step['missing']", "KeyError"),
        ("def step_key(step):\n    return None", "step_key returned None"),
    ],
)
def test_an_answer_that_raises_or_answers_nonsense_fails_with_what_it_did(source: str, said: str) -> None:
    outcome = checked("lab04.key", learner(source))
    assert outcome.points == 0 and said in outcome.message and "on seed 0" in outcome.message, outcome.message


def test_a_missing_answer_fails_with_the_hint() -> None:
    outcome = checked("lab05.increment", {})
    assert outcome.points == 0 and "`increment_step` is not defined" in outcome.message


def test_a_board_run_replays_in_schedule_mode() -> None:
    faults = frozenset(BOARD_FAULTS)
    ran = simulate_board(4, faults)
    fired = frozenset((f, w) for f, w in ran.meta["fired"])
    assert fired, "seed 4 should meet some faults"
    scheduled = simulate_board(4, faults, schedule=fired)
    assert [r.as_json() for r in scheduled] == [r.as_json() for r in ran]
    assert simulate_board(4, faults, schedule=frozenset()).meta["fired"] == []


@pytest.mark.parametrize(("task", "answer"), [("lab02.payment", "payment_key"), ("lab04.key", "step_key")])
def test_a_replay_lets_the_learners_error_through_for_its_traceback(task: str, answer: str) -> None:
    stub = learner(f"def {answer}(*args):\n    raise NotImplementedError")[answer]
    with pytest.raises(NotImplementedError):  # even where a tool call's contract would catch it (lab 02)
        replay_seed(task, stub, 0)
    with pytest.raises(ComponentFailed, match="returned 7"):  # an answer the component cannot use
        replay_seed(task, learner(f"def {answer}(*args):\n    return 7")[answer], 0)


COUNTER_EXACT = """
def counter_exact(records):
    final = 0
    ok = unknown = 0
    for r in records:
        if r["kind"] == "log" and r["subject"] == "counter":
            final = r["data"]["value"]
        elif r["kind"] in ("ok", "info") and r["data"].get("op") == "incr":
            ok += r["kind"] == "ok"
            unknown += r["kind"] == "info"
    return [] if ok <= final <= ok + unknown else [f"{final} after {ok} acknowledged ({unknown} unknown)"]
"""
CHECKERS_OF_LAB07 = [
    ("correct", COUNTER_EXACT, None),
    ("never-flags", "def counter_exact(records):\n    return []", "lost an update, and counter_exact returned []"),
    ("ignores-unknown", COUNTER_EXACT.replace("ok + unknown", "ok"), "cries wolf"),
]


@pytest.mark.parametrize(("name", "source", "said"), CHECKERS_OF_LAB07, ids=[n for n, _, _ in CHECKERS_OF_LAB07])
def test_a_learners_checker_is_trusted_only_without_false_alarms_and_once_seen_failing(
    name: str, source: str, said: str | None
) -> None:
    outcome = checked("lab07.checker", learner(source))
    if said is None:
        assert outcome.points == outcome.max_points > 0, outcome.message
    else:
        assert outcome.points == 0 and said in outcome.message, outcome.message


SEEDS_NEEDED = """
import math

def seeds_needed(rate, confidence):
    return 1 if rate >= 1 else math.ceil(math.log(1 - confidence) / math.log(1 - rate))
"""


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (SEEDS_NEEDED, None),
        (SEEDS_NEEDED.replace("math.ceil", "math.floor"), "expected 919"),  # one seed short of the confidence
        (SEEDS_NEEDED.replace("1 if rate >= 1 else ", ""), "math domain error"),  # log(0): a certain bug
        ("def seeds_needed(rate, confidence):\n    return round(confidence / rate)", "expected 919"),  # linear
    ],
)
def test_seeds_needed_is_checked_on_rare_and_certain_bugs(source: str, said: str | None) -> None:
    outcome = checked("lab07.seeds", learner(source))
    if said is None:
        assert outcome.points == outcome.max_points > 0, outcome.message
    else:
        assert outcome.points == 0 and said in outcome.message, outcome.message
