"""Plans: validation of what a model proposes, readiness, fresh re-plans, blocking."""

from __future__ import annotations

import pytest

from agentlab.errors import InvalidArguments
from agentlab.fanout.plan import Plan, SubTask
from agentlab.models.offline.skills import offline_plan, offline_reduce
from agentlab.prompts import findings_block, parse_findings, reduce_prompt


def test_ready_follows_dependencies() -> None:
    plan = Plan([SubTask("a", "x"), SubTask("b", "y", deps=("a",)), SubTask("c", "z")])
    assert [t.id for t in plan.ready()] == ["a", "c"]
    assert plan.ready() == [t for t in plan.tasks if t.id in "ac"]  # asking changes nothing
    plan.mark("a", "running")
    plan.mark("c", "running")
    assert plan.ready() == []
    plan.mark("a", "done")
    assert [t.id for t in plan.ready()] == ["b"] == [t.id for t in plan.dependents("a")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "non-empty list 'subtasks'"),
        ({"subtasks": []}, "non-empty list 'subtasks'"),
        ({"subtasks": [{"id": "a"}]}, "needs a 'goal'"),
        ({"subtasks": [{"id": "a", "goal": "g", "role": "wizard"}]}, "unknown role 'wizard'"),
        ({"subtasks": [{"id": "a", "goal": "g", "deps": "b"}]}, "must be a list"),
        ({"subtasks": [{"id": "a", "goal": "g", "deps": ["zz"]}]}, "not in the plan"),
        ({"subtasks": [{"id": "a", "goal": "g"}, {"id": "a", "goal": "h"}]}, "two sub-tasks with id 'a'"),
        ({"subtasks": [{"id": "a", "goal": "g", "deps": ["b"]}, {"id": "b", "goal": "h", "deps": ["a"]}]}, "cycle"),
        ("not a dict", "non-empty list"),
    ],
)
def test_bad_plans_are_clear_errors(spec: object, message: str) -> None:
    with pytest.raises(InvalidArguments, match=message):
        Plan.from_spec(spec)


def test_a_dependency_on_an_earlier_round_is_allowed() -> None:
    plan = Plan.from_spec({"subtasks": [{"id": "x-r2", "goal": "g", "deps": ["a"]}]}, earlier=["a"])
    assert plan.deps_of("x-r2") == [] and plan.inputs_of("x-r2") == ["a"]
    assert [t.id for t in plan.ready()] == ["x-r2"]


def test_a_fresh_replan_takes_over_the_dependents() -> None:
    plan = Plan([SubTask("a", "x"), SubTask("b", "y", deps=("a",)), SubTask("c", "z", deps=("b",))])
    plan.mark("a", "done")
    plan.mark("b", "timeout")
    fresh = plan.replace_with_fresh("b")
    assert fresh.id == "b~1" and fresh.attempt == 1 and fresh.origin == "b" and fresh.replaces == "b"
    assert plan.deps_of("c") == ["b~1"] and plan.deps_of("b~1") == ["a"]
    assert [t.id for t in plan.ready()] == ["b~1"]


def test_blocking_marks_everything_downstream() -> None:
    plan = Plan([SubTask("a", "x"), SubTask("b", "y", deps=("a",)), SubTask("c", "z", deps=("b",))])
    plan.mark("a", "failed")
    assert sorted(plan.block_dependents("a")) == ["b", "c"]
    assert plan.finished()


def test_offline_planner_fans_out_over_ids_and_lists() -> None:
    spec = offline_plan("What were the root causes of INC-1, INC-2 and INC-3?")
    goals = [s["goal"] for s in spec["subtasks"]]
    assert goals[:3] == [f"What were the root causes of INC-{i}?" for i in (1, 2, 3)]
    assert spec["subtasks"][-1]["role"] == "analyst" and spec["subtasks"][-1]["deps"] == ["a", "b", "c"]
    assert len(offline_plan("summarize doc1; summarize doc2")["subtasks"]) == 3
    assert len(offline_plan("- fix the test\n- write the note")["subtasks"]) == 3
    assert len(offline_plan("What is the refund window?")["subtasks"]) == 1


def test_findings_round_trip_and_the_offline_reducer() -> None:
    block = findings_block(
        [
            ("a", "researcher", "done", "g1", "found A"),
            ("b", "researcher", "timeout", "find B", "abandoned after 2.00 s"),
        ]
    )
    assert [f["state"] for f in parse_findings(block)] == ["done", "timeout"]
    name, args = offline_reduce(reduce_prompt("goal", 1, 2, block))
    assert name == "replan"
    # the redone goal names its round: a new conversation, so a seeded model does not replay the same failure
    redo = {"id": "b-r2", "goal": "find B (round 2)", "role": "researcher", "deps": [], "replaces": "b"}
    assert args["subtasks"] == [redo]
    name, args = offline_reduce(reduce_prompt("goal", 2, 2, block))
    assert name == "finish" and args["answer"] == "found A (incomplete: no result for b)"


def test_a_replanned_sub_task_stands_for_the_one_it_replaces_whatever_its_id() -> None:
    # a real model names its own ids: the join is by the `replaces` field, never by parsing "b-r2"
    spec = {"subtasks": [{"id": "fresh-look", "goal": "find B", "replaces": "b~1"}, {"id": "new", "goal": "g"}]}
    plan = Plan.from_spec(spec, round_no=2, origins={"b": "b", "b~1": "b"})
    task = plan.task("fresh-look")
    assert (task.origin, task.replaces, task.round) == ("b", "b~1", 2)
    assert plan.task("new").origin == "new" and plan.task("new").replaces is None


def test_fresh_re_plans_never_share_an_id() -> None:
    """Two sub-tasks standing for one planned sub-task (a re-plan split in two) that both time out get two
    fresh ids (the simulator found them colliding as `x~1`, and the round then waited on one copy twice);
    a model that already named a sub-task like a fresh attempt does not collide either."""
    spec = {
        "subtasks": [
            {"id": "x-r1", "goal": "pay X", "replaces": "x"},
            {"id": "x-r1b", "goal": "pay X", "replaces": "x"},
        ]
    }
    plan = Plan.from_spec(spec, earlier=["x"], round_no=2, origins={"x": "x"})
    first, second = plan.replace_with_fresh("x-r1"), plan.replace_with_fresh("x-r1b")
    assert first.origin == second.origin == "x" and first.id != second.id
    named = Plan([SubTask("a", "A"), SubTask("a~1", "a model's own id")])
    assert named.replace_with_fresh("a").id not in ("a", "a~1")
