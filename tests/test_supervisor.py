"""The supervisor fan-out on a real cluster (scheduler and workers in their own processes)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
from distributed import Client

from agentlab.course.seedplan import report, seed_plan
from agentlab.data import demo_goal
from agentlab.durable.run import DurableRun
from agentlab.events import RoundEvent
from agentlab.fanout.futures import FuturesDispatcher
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan, SubTask
from agentlab.fanout.round import fan_out, run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.supervisor import Supervisor
from agentlab.identity import Work
from agentlab.models.chat import offline_model
from agentlab.steps import SubTaskResult
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls
from agentlab.trace import Trace


@pytest.fixture(params=["lanes", "futures"])
def dispatch(request: pytest.FixtureRequest) -> str:
    """The fan-out behaviours hold for both ways of reaching the workers."""
    return str(request.param)


def _run(client: Client, plan: Plan, runner: Any, policy: FanOutPolicy, dispatch: str, observe: Any = None) -> Any:
    make = LaneDispatcher if dispatch == "lanes" else FuturesDispatcher
    dispatcher = make(client, runner)
    try:
        # a run id of its own: a cancelled copy of an earlier test's "c" may still be sleeping under the same key
        return run_round(dispatcher, plan, policy, f"test-{dispatch}-{uuid.uuid4().hex[:8]}", observe)
    finally:
        dispatcher.close()


def _diamond() -> Plan:
    return Plan(
        [
            SubTask("a", "fetch"),
            SubTask("b", "left", deps=("a",)),
            SubTask("c", "right", deps=("a",)),
            SubTask("d", "join", "analyst", deps=("b", "c")),
        ]
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, float]] = []

    def __call__(self, event: RoundEvent) -> None:
        self.events.append((event.kind, event.task.id, time.time()))

    def of(self, event: str) -> list[str]:
        return [tid for e, tid, _ in self.events if e == event]


def test_a_plan_with_dependencies_runs_in_dependency_order(client: Client, dispatch: str) -> None:
    plan = _diamond()
    runner = SleepRunner({"a": 0.2, "b": 0.1, "c": 0.3, "d": 0.05})
    results = _run(client, plan, runner, FanOutPolicy(), dispatch)
    assert {r.id: r.state for r in results.values()} == dict.fromkeys("abcd", "done")
    assert results["b"].start >= results["a"].end and results["c"].start >= results["a"].end
    assert results["d"].start >= max(results["b"].end, results["c"].end)
    assert results["b"].start < results["c"].end  # the two middle sub-tasks overlap: they ran in parallel
    assert len({r.worker for r in results.values()}) == 2  # spread over both worker processes
    assert set(plan.states().values()) == {"done"}


def test_quorum_returns_as_soon_as_k_sub_tasks_succeed(client: Client, dispatch: str) -> None:
    plan = Plan([SubTask(t, t) for t in "abcde"])
    runner = SleepRunner({"a": 0.05, "b": 0.1, "c": 30.0, "d": 30.0, "e": 30.0})
    results = _run(client, plan, runner, FanOutPolicy(wait="quorum", quorum=2), dispatch)
    assert [t for t, r in sorted(results.items()) if r.ok] == ["a", "b"]
    assert {results[t].state for t in "cde"} == {"cancelled"}


def test_any_returns_on_the_first_success(client: Client) -> None:
    plan = Plan([SubTask(t, t) for t in "abc"])
    results = fan_out(client, plan, SleepRunner({"a": 30.0, "b": 0.05, "c": 30.0}), FanOutPolicy(wait="any"), "any")
    assert [t for t, r in results.items() if r.ok] == ["b"]


def test_a_deadline_returns_early_with_what_finished(client: Client) -> None:
    plan = Plan([SubTask(t, t) for t in "abc"])
    runner = SleepRunner({"a": 0.05, "b": 30.0, "c": 30.0})
    results = fan_out(client, plan, runner, FanOutPolicy(wait="deadline", deadline=1.0), "deadline")
    assert results["a"].ok and results["a"].value == "a ok"
    assert results["b"].state == results["c"].state == "cancelled"


def test_a_failing_sub_task_does_not_lose_its_siblings_results(client: Client, dispatch: str) -> None:
    plan = _diamond()
    results = _run(client, plan, SleepRunner(default=0.05, fail=frozenset({"b"})), FanOutPolicy(), dispatch)
    assert results["b"].state == "failed" and results["b"].error == "injected failure"
    assert results["a"].ok and results["c"].ok and results["c"].value == "c ok"
    assert plan.state("d") == "blocked" and results["d"].state == "blocked" and results["d"].error == "depends on b"


def test_a_worker_side_crash_is_a_failed_value_too(client: Client, dispatch: str) -> None:
    def explode(work: Work) -> SubTaskResult:
        if work.task.id == "b":
            raise RuntimeError("boom on the worker")
        return SleepRunner(default=0.01)(work)

    plan = Plan([SubTask(t, t) for t in "abc"])
    results = _run(client, plan, explode, FanOutPolicy(), dispatch)
    assert results["b"].state == "failed" and "boom on the worker" in (results["b"].error or "")
    assert results["a"].ok and results["c"].ok


def test_a_straggler_is_abandoned_at_its_timeout_and_replanned_fresh(client: Client, dispatch: str) -> None:
    plan = _diamond()
    recorder = Recorder()
    # c hangs for 10 s on its first attempt; its fresh re-plan "c~1" runs normally
    runner = SleepRunner({"a": 0.05, "b": 0.05, "c": 30.0, "c~1": 0.05, "d": 0.05})
    results = _run(client, plan, runner, FanOutPolicy(subtask_timeout=1.0), dispatch, recorder)
    assert results["c"].state == "timeout"
    assert results["c~1"].ok
    assert results["d"].ok and results["d"].start >= results["c~1"].end  # d waited for the fresh copy
    assert recorder.of("timeout") == ["c"] and "c~1" in recorder.of("planned")


def test_a_straggler_past_its_replans_blocks_its_dependents(client: Client) -> None:
    plan = _diamond()
    runner = SleepRunner({"a": 0.05, "b": 0.05, "c": 30.0, "c~1": 30.0})
    results = fan_out(client, plan, runner, FanOutPolicy(subtask_timeout=0.5, replans=1), "stuck")
    assert results["c"].state == results["c~1"].state == "timeout"
    assert results["b"].ok and plan.state("d") == "blocked"


def test_a_hedged_duplicate_wins_and_the_late_result_is_ignored(client: Client, dispatch: str) -> None:
    plan = Plan([SubTask("a", "slow on its first worker")])
    recorder = Recorder()
    runner = SleepRunner({"a": 30.0}, hedge_latency={"a": 0.05})
    results = _run(client, plan, runner, FanOutPolicy(hedge_after=0.3), dispatch, recorder)
    assert results["a"].ok and results["a"].tag == "hedge"
    assert recorder.of("hedged") == ["a"]
    # the primary's result, if it comes at all, is never taken
    assert all(r.tag == "hedge" for r in results.values())


def test_the_supervisor_plans_fans_out_and_reduces_with_the_offline_model(client: Client) -> None:
    goal, truths = demo_goal()
    result = Supervisor(client, offline_model(q=0.8, latency=0.02)).run(goal)
    assert result.stop_reason == "answer"
    assert all(q.is_answered_by(result.answer) for q in truths), result.answer
    plan = result.plans[0]
    assert [t.role for t in plan.tasks] == ["researcher"] * 3 + ["analyst"]
    assert plan.task("combine").deps == ("a", "b", "c")
    frame = result.to_frame()
    assert list(frame[frame.who == "supervisor"].what) == ["plan", "reduce"]
    # structural, not a race against the clock: the critical path never exceeds the sum, nor the wall time
    assert result.wall > 0 and result.ideal <= result.sequential and result.ideal <= result.wall


def test_a_rejected_plan_is_reported_and_nothing_runs(client: Client) -> None:
    # never silently replaced by a one-sub-task plan: the run says the plan was rejected, and why
    model = ScriptedModel([calls(("make_plan", '{"subtasks": [{"id": "a", "goal": "x", "deps": ["zz"]}]}'))])
    result = Supervisor(client, model, runner=SleepRunner(default=0.01)).run("a goal")
    rejected = result.to_frame().query("what == 'plan rejected'")
    assert "depends on 'zz'" in rejected.detail.iloc[0]
    assert result.stop_reason == "no_answer" and not result.plans and not result.results
    assert "plan was rejected" in result.answer and "depends on 'zz'" in result.answer


def test_a_plan_of_ten_thousand_sub_tasks_is_planned_not_capped() -> None:
    # the planning step's arguments may be as long as a reply: the default 20,000-character cap would drop
    # a 10,000-sub-task make_plan as a note, and the plan would be rejected
    goal = "\n".join(f"- item {i}" for i in range(10_000))
    model = offline_model()
    supervisor = Supervisor(None, model, runner=SleepRunner(), dispatch=InlineDispatcher)
    plan = supervisor.plan(goal, Trace("wide"), DurableRun(None, "wide", goal))
    assert len(plan) == 10_001 and plan.task("combine").role == "analyst"
    assert model.config.max_argument_chars < 1_000_000  # the cap was raised for planning only


def test_failed_work_is_replanned_as_another_round(client: Client) -> None:
    # b fails in round 1, which blocks the combining analyst; round 2 redoes both, and b now works
    runner = SleepRunner(default=0.01, fail=frozenset({"b"}), fail_rounds=1)
    result = Supervisor(client, offline_model(), runner=runner, policy=FanOutPolicy(max_rounds=2)).run(
        "Check INC-2108 and INC-2181 and INC-2325"
    )
    assert len(result.plans) == 2 and result.stop_reason == "answer"
    second = result.plans[1]
    assert [t.id for t in second.tasks] == ["b-r2", "combine-r2"]
    assert [t.origin for t in second.tasks] == ["b", "combine"] and second.task("b-r2").round == 2
    assert sorted(second.task("combine-r2").deps) == ["a", "b-r2", "c"]
    assert result.answer == "combine-r2 ok"
    assert {r.id: r.state for r in result.results}["b"] == "failed"


def test_work_that_keeps_failing_ends_incomplete_after_the_last_round(client: Client) -> None:
    runner = SleepRunner(default=0.01, fail=frozenset({"b"}))
    result = Supervisor(client, offline_model(), runner=runner, policy=FanOutPolicy(max_rounds=2)).run(
        "Check INC-2108 and INC-2181"
    )
    assert len(result.plans) == 2
    assert "incomplete: no result for b-r2, combine-r2" in result.answer
    assert result.stop_reason == "answer"  # the reduce step chose to finish with what there was, and said so


@pytest.mark.parametrize("kwargs", [{"wait": "sometimes"}, {"wait": "deadline"}])
def test_bad_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FanOutPolicy(**kwargs)


def test_code_40_6_2_is_reproduced_line_for_line() -> None:
    expected = """subtasks N              : 8
workers  W              : 8
sum of subtask latency  : 1.066 s  (critical path if serial)
slowest single subtask  : 0.213 s  (critical path if parallel)
ideal fan-out speedup    : 5.00x  (independent sub-tasks)
Amdahl ceiling (p=0.85)  : 3.90x  at W=8 workers"""
    assert report(seed_plan(7, 8)) == expected


def test_the_fanout_command_prints_the_course_output_then_a_real_run(process_cluster: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentlab", "fanout", "--address", process_cluster.address],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "\n".join(lines[:6]) == report(seed_plan(7, 8))
    assert lines[7].startswith("measured on the cluster    : ")
    assert "achieved fan-out speedup" in lines[8] and "(ideal 5.00x)" in lines[8]


def test_a_worker_killed_mid_fan_out_loses_nothing() -> None:
    from agentlab.testing import ProcessCluster, kill_worker

    with ProcessCluster(n_workers=2, nthreads=8) as cluster, cluster.client() as client:
        plan = Plan([SubTask(f"t{i}", f"task {i}") for i in range(12)])
        runner = SleepRunner(default=0.6)
        killed: list[str] = []

        def kill_once(event: RoundEvent) -> None:
            if event.kind == "dispatched" and event.task.id == "t11" and not killed:
                time.sleep(0.2)  # let the sub-tasks start running on both workers
                killed.append(kill_worker(client, seed=1))

        results = fan_out(client, plan, runner, FanOutPolicy(), "kill", kill_once)
        assert killed
        assert sorted(results) == sorted(t.id for t in plan.tasks)
        assert all(r.ok for r in results.values())
        assert {r.worker for r in results.values()} - {killed[0]}  # survivors (or the restarted worker) finished
