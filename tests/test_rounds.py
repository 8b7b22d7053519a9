"""A round's decisions at exact times: timeouts, re-plans, hedges, quorum and deadlines, in-process on a
fake clock (no cluster, no waiting; the same `run_round` the cluster runs)."""

from __future__ import annotations

from typing import Any

import pytest

from agentlab.errors import UsageError
from agentlab.events import RoundEvent
from agentlab.fanout.plan import Plan
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy, closing_reason, on_timer, timers_for
from agentlab.fanout.supervisor import Supervisor
from agentlab.steps import SubTask
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls


class Recorder:
    def __init__(self, inline: InlineDispatcher) -> None:
        self.inline = inline
        self.events: list[tuple[str, str, float]] = []

    def __call__(self, event: RoundEvent) -> None:
        self.events.append((event.kind, event.task.id, self.inline.clock()))

    def at(self, event: str) -> dict[str, float]:
        return {tid: t for e, tid, t in self.events if e == event}


def _round(plan: Plan, timing: SleepRunner, policy: FanOutPolicy, hang: tuple[str, ...] = ()) -> tuple[Any, Recorder]:
    inline = InlineDispatcher(timing, hang=hang)
    recorder = Recorder(inline)
    results = run_round(inline, plan, policy, "inline", recorder, clock=inline.clock)
    return results, recorder


def _diamond() -> Plan:
    return Plan(
        [
            SubTask("a", "fetch"),
            SubTask("b", "left", deps=("a",)),
            SubTask("c", "right", deps=("a",)),
            SubTask("d", "join", "analyst", deps=("b", "c")),
        ]
    )


def test_dependencies_start_the_moment_their_inputs_finish() -> None:
    results, rec = _round(_diamond(), SleepRunner({"a": 0.2, "b": 0.1, "c": 0.3, "d": 0.05}), FanOutPolicy())
    assert rec.at("dispatched") == pytest.approx({"a": 0.0, "b": 0.2, "c": 0.2, "d": 0.5})
    assert results["d"].end == pytest.approx(0.55)  # the critical path a → c → d, exactly


def test_a_straggler_is_abandoned_at_exactly_its_timeout_and_replanned_fresh() -> None:
    timing = SleepRunner({"a": 0.1, "b": 0.1, "c~1": 0.1, "d": 0.1})
    plan = _diamond()
    results, rec = _round(plan, timing, FanOutPolicy(subtask_timeout=0.5), hang=("c",))
    assert rec.at("timeout") == pytest.approx({"c": 0.1 + 0.5})
    fresh = plan.task("c~1")
    assert (fresh.origin, fresh.attempt, fresh.replaces) == ("c", 1, "c")
    assert rec.at("dispatched")["c~1"] == pytest.approx(0.6)  # re-planned and sent at the same instant
    assert results["c"].state == "timeout" and results["c~1"].ok
    assert rec.at("dispatched")["d"] == pytest.approx(0.7) and results["d"].ok  # d waited for the fresh copy


def test_a_straggler_past_its_replans_blocks_its_dependents() -> None:
    plan = _diamond()
    results, rec = _round(plan, SleepRunner(default=0.1), FanOutPolicy(subtask_timeout=0.5, replans=1), ("c", "c~1"))
    assert rec.at("timeout") == pytest.approx({"c": 0.6, "c~1": 1.1})
    assert results["d"].state == "blocked" and results["d"].error == "depends on c~1"
    assert results["b"].ok


def test_a_hedge_is_sent_at_exactly_hedge_after_and_the_first_copy_wins() -> None:
    timing = SleepRunner({"a": 5.0}, hedge_latency={"a": 0.25})
    inline = InlineDispatcher(timing)
    rec = Recorder(inline)
    results = run_round(
        inline, Plan([SubTask("a", "slow")]), FanOutPolicy(hedge_after=0.2), "h", rec, clock=inline.clock
    )
    assert rec.at("hedged") == pytest.approx({"a": 0.2})
    assert results["a"].tag == "hedge" and results["a"].end == pytest.approx(0.45)
    primary = next(w.flight for w in inline.submitted if w.tag == "primary")
    assert inline.cancelled == [primary]  # the loser is cancelled, never read


def test_no_hedge_once_the_sub_task_finished() -> None:
    results, rec = _round(Plan([SubTask("a", "x")]), SleepRunner({"a": 0.1}), FanOutPolicy(hedge_after=0.2))
    assert rec.at("hedged") == {} and results["a"].tag == "primary"


def test_quorum_closes_the_round_at_the_kth_success() -> None:
    timing = SleepRunner({"a": 0.05, "b": 0.1, "c": 3.0, "d": 3.0, "e": 3.0})
    results, rec = _round(Plan([SubTask(t, t) for t in "abcde"]), timing, FanOutPolicy(wait="quorum", quorum=2))
    assert {t for t, r in results.items() if r.ok} == {"a", "b"}
    assert rec.at("cancelled") == pytest.approx(dict.fromkeys("cde", 0.1))


def test_any_closes_at_the_first_success_and_ignores_failures() -> None:
    timing = SleepRunner({"a": 0.05, "b": 0.2, "c": 3.0}, fail=frozenset({"a"}))
    results, rec = _round(Plan([SubTask(t, t) for t in "abc"]), timing, FanOutPolicy(wait="any"))
    assert results["a"].state == "failed" and results["b"].ok
    assert rec.at("cancelled") == pytest.approx({"c": 0.2})


def test_a_deadline_closes_the_round_at_exactly_the_deadline_keeping_what_finished() -> None:
    timing = SleepRunner({"a": 0.05, "b": 5.0})
    results, rec = _round(
        Plan([SubTask(t, t) for t in "abc"]), timing, FanOutPolicy(wait="deadline", deadline=0.6), ("c",)
    )
    assert results["a"].ok
    assert rec.at("cancelled") == pytest.approx({"b": 0.6, "c": 0.6})
    assert "deadline of 0.6 s" in (results["b"].error or "")


def test_a_round_that_could_wait_forever_is_an_error_not_a_hang() -> None:
    with pytest.raises(UsageError, match="never complete"):
        _round(Plan([SubTask("a", "x")]), SleepRunner(), FanOutPolicy(), hang=("a",))


def test_the_decisions_are_pure_functions_of_policy_state_and_time() -> None:
    policy = FanOutPolicy(subtask_timeout=1.0, hedge_after=0.4, replans=1)
    assert timers_for(policy, since=10.0) == [(10.4, "hedge"), (11.0, "timeout")]
    task = SubTask("a", "x")
    assert on_timer(policy, "hedge", task, running=True, hedged=False) == "hedge"
    assert on_timer(policy, "hedge", task, running=True, hedged=True) == "skip"
    assert on_timer(policy, "timeout", task, running=True, hedged=True) == "replan"
    assert on_timer(policy, "timeout", task.fresh(), running=True, hedged=False) == "abandon"
    assert on_timer(policy, "timeout", task, running=False, hedged=False) == "skip"
    assert closing_reason(FanOutPolicy(wait="quorum", quorum=2), wins=1, started=0.0, now=5.0) is None
    assert closing_reason(FanOutPolicy(wait="quorum", quorum=2), wins=2, started=0.0, now=5.0)
    assert closing_reason(FanOutPolicy(deadline=2.0), wins=0, started=1.0, now=2.99) is None
    assert closing_reason(FanOutPolicy(deadline=2.0), wins=0, started=1.0, now=3.0)


@pytest.mark.parametrize("kwargs", [{"wait": "sometimes"}, {"wait": "deadline"}, {"max_rounds": 0}])
def test_bad_policies_are_usage_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        FanOutPolicy(**kwargs)


def test_a_whole_supervised_run_in_process_on_the_fake_clock() -> None:
    tasks = '[{"id": "a", "goal": "x"}, {"id": "b", "goal": "y"}, {"id": "c", "goal": "z", "deps": ["a", "b"]}]'
    plan = f'{{"subtasks": {tasks}}}'
    model = ScriptedModel([calls(("make_plan", plan)), calls(("finish", '{"answer": "done"}'))])
    timing = SleepRunner({"a": 1.0, "b": 2.0, "c": 0.5})
    inline = InlineDispatcher(timing)
    result = Supervisor(None, model, runner=timing, dispatch=inline, clock=inline.clock).run("goal")
    assert (result.stop_reason, result.answer) == ("answer", "done")
    assert result.wall == pytest.approx(2.5) and result.ideal == pytest.approx(2.5)
    assert result.sequential == pytest.approx(3.5)
    assert model.unconsumed() == []


def test_a_supervised_run_with_real_agents_runs_in_process_on_the_fake_clock() -> None:
    """`InlineDispatcher` runs the supervisor's own runner: `AgentRunner` (ReAct loops, the search tool
    behind its RPC contract) with the offline model, in this process, at the times of the timing table."""
    from agentlab.fanout.runners import AgentRunner
    from agentlab.fanout.toolkit import Toolkit
    from agentlab.models.chat import offline_model

    model = offline_model()
    timing = SleepRunner({"a": 1.0, "b": 2.5}, default=0.5)
    inline = InlineDispatcher(timing)
    runner = AgentRunner(model, Toolkit(sandbox=False))
    result = Supervisor(None, model, runner=runner, dispatch=inline, clock=inline.clock).run(
        "What were the root causes of INC-2108 and INC-2181?", run_id="inline-agents"
    )
    assert result.stop_reason == "answer", result.answer
    assert {r.worker for r in result.results} == {"inline"}
    assert all(r.ok and r.stop_reason == "answer" for r in result.results)
    tools = {e.who for r in result.results for e in r.events}
    assert "model" in tools and any(who.startswith("rpc:search_kb") for who in tools)  # real loops, real contracts
    by_id = {r.id: r for r in result.results}
    assert all(
        r.duration == timing.seconds(task, "primary") for task in result.plans[0].tasks for r in [by_id[task.id]]
    )
    assert len(inline.submitted) == len(result.results)  # each sub-task ran once, in-process
