"""Every run ends with one of a closed set of stop reasons, told truthfully and journaled (issue: the spine).

The supervisor runs in-process here (`InlineDispatcher` on a fake clock): what is tested is how a run
ends, not how work reaches a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import tool
from agentlab.durable.sqlite import SqliteJournal
from agentlab.errors import AgentlabError, JournalMismatch, ScriptError
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import FanOutResult, Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.identity import Work
from agentlab.models.chat import offline_model
from agentlab.steps import STOP_REASONS, SubTaskResult
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls, final
from agentlab.wire import Message, ModelReply

PLAN_AB = '{"subtasks": [{"id": "a", "goal": "find A"}, {"id": "b", "goal": "find B"}]}'
FINISH = '{"answer": "A and B"}'


class OutOfBudget(AgentlabError):
    """Stands for any resource budget running out (tokens, cost, requests)."""

    stop_reason = "budget"


class Interrupting:
    """A model whose step is interrupted, as Ctrl-C interrupts whatever the process is doing."""

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        raise KeyboardInterrupt


class Raising:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        raise self.error


def _supervise(model: Any, timing: SleepRunner, journal: SqliteJournal | None = None, **policy: Any) -> FanOutResult:
    inline = InlineDispatcher(timing)
    supervisor = Supervisor(
        None, model, runner=timing, dispatch=inline, clock=inline.clock, journal=journal, policy=FanOutPolicy(**policy)
    )
    return supervisor.run("find A and B", run_id="run-1")


@pytest.fixture
def journal(tmp_path: Path) -> SqliteJournal:
    return SqliteJournal(tmp_path / "journal.sqlite")


def test_the_stop_reasons_are_one_closed_set() -> None:
    assert STOP_REASONS == (
        "answer",
        "no_answer",
        "gave_up",
        "max_turns",
        "max_rounds",
        "budget",
        "model_error",
        "cancelled",
    )


def test_answer(journal: SqliteJournal) -> None:
    model = ScriptedModel([calls(("make_plan", PLAN_AB)), calls(("finish", FINISH))])
    result = _supervise(model, SleepRunner(), journal)
    assert (result.stop_reason, result.answer, result.ok) == ("answer", "A and B", True)
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason, run.answer) == ("finished", "answer", "A and B")


def test_no_answer_when_every_sub_task_failed_whatever_the_reduce_step_says(journal: SqliteJournal) -> None:
    model = ScriptedModel([calls(("make_plan", PLAN_AB)), calls(("finish", '{"answer": "all good!"}'))])
    result = _supervise(model, SleepRunner(fail=frozenset("ab")), journal, max_rounds=1)
    assert result.stop_reason == "no_answer" and not result.ok
    assert "No sub-task produced a result" in result.answer and "injected failure" in result.answer
    assert [r.id for r in result.failures()] == ["a", "b"]
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "no_answer")


def test_no_answer_from_the_offline_reducer_after_the_last_round() -> None:
    result = _supervise(offline_model(), SleepRunner(fail=frozenset({"a"})), max_rounds=2)
    assert len(result.plans) == 2 and result.stop_reason == "no_answer"


def test_an_empty_answer_is_not_an_answer() -> None:
    model = ScriptedModel([calls(("make_plan", PLAN_AB)), final("   ")])
    assert _supervise(model, SleepRunner()).stop_reason == "no_answer"


def test_max_rounds_is_reachable_when_the_reduce_step_still_wants_more(journal: SqliteJournal) -> None:
    replan = calls(("replan", '{"subtasks": [{"id": "b2", "goal": "find B again", "replaces": "b"}]}'))
    model = ScriptedModel([calls(("make_plan", PLAN_AB)), replan, replan])
    result = _supervise(model, SleepRunner(fail=frozenset({"b"})), journal, max_rounds=2)
    assert result.stop_reason == "max_rounds" and len(result.plans) == 2
    assert result.plans[1].task("b2").origin == "b"  # joined by `replaces`, not by the id's spelling
    assert "still missing: b2" in result.answer and "a ok" in result.answer
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "max_rounds")


def test_max_turns_is_the_loop_s_turn_budget() -> None:
    model = ScriptedModel([calls(("nothing", "{}"))] * 3)
    result = run_agent("goal", model=model, max_turns=2)
    assert result.stop_reason == "max_turns"


def test_budget_ends_the_loop_and_the_supervisor_gracefully(journal: SqliteJournal) -> None:
    error = OutOfBudget("the run's 10,000 tokens are spent")
    looped = run_agent("goal", model=Raising(error))
    assert looped.stop_reason == "budget" and "10,000 tokens" in looped.answer
    result = _supervise(Raising(error), SleepRunner(), journal)
    assert result.stop_reason == "budget"
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "budget")


def test_model_error_is_journaled_as_failed_not_left_running(journal: SqliteJournal) -> None:
    result = _supervise(ScriptedModel([]), SleepRunner(), journal)
    assert result.stop_reason == "model_error" and "exhausted" in result.answer
    assert result.plans == [] and "no sub-task ran" in result.summary()
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "model_error")


def test_cancelled_is_journaled_and_the_interrupt_still_propagates(journal: SqliteJournal) -> None:
    with pytest.raises(KeyboardInterrupt):
        _supervise(Interrupting(), SleepRunner(), journal)
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "cancelled")


def test_a_fault_that_is_not_a_stop_reason_is_raised_and_journaled(journal: SqliteJournal) -> None:
    with pytest.raises(RuntimeError, match="disk on fire"):
        _supervise(Raising(RuntimeError("disk on fire")), SleepRunner(), journal)
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "RuntimeError")


def test_resuming_with_another_goal_is_a_clear_error(journal: SqliteJournal) -> None:
    _supervise(ScriptedModel([calls(("make_plan", PLAN_AB)), calls(("finish", FINISH))]), SleepRunner(), journal)
    inline = InlineDispatcher(SleepRunner())
    supervisor = Supervisor(
        None, ScriptedModel([]), runner=inline.timing, dispatch=inline, clock=inline.clock, journal=journal
    )
    with pytest.raises(JournalMismatch, match="started with the goal 'find A and B'"):
        supervisor.run("another goal", run_id="run-1")


def test_a_run_journaled_under_another_key_scheme_is_refused_not_rerun(journal: SqliteJournal) -> None:
    journal.start_run("old-run", "find A and B")  # as agentlab did before key scheme 2: no scheme recorded
    inline = InlineDispatcher(SleepRunner())
    supervisor = Supervisor(
        None, ScriptedModel([]), runner=inline.timing, dispatch=inline, clock=inline.clock, journal=journal
    )
    with pytest.raises(JournalMismatch, match="key scheme 1"):
        supervisor.run("find A and B", run_id="old-run")


def test_a_resumed_run_replays_its_steps_and_ends_the_same_way(journal: SqliteJournal) -> None:
    first = _supervise(
        ScriptedModel([calls(("make_plan", PLAN_AB)), calls(("finish", FINISH))]), SleepRunner(), journal
    )
    again = _supervise(ScriptedModel([]), SleepRunner(), journal)  # nothing left to ask the model
    assert (again.stop_reason, again.answer) == (first.stop_reason, first.answer)
    assert set(again.to_frame().outcome[again.to_frame().who == "supervisor"]) == {"replayed"}


def test_the_scripted_model_is_strict() -> None:
    model = ScriptedModel({"INC-1": [final("one")]})
    assert model.complete([{"role": "user", "content": "INC-1?"}], []).content == "one"
    with pytest.raises(ScriptError, match="exhausted"):
        model.complete([{"role": "user", "content": "INC-1?"}, {"role": "assistant", "content": "one"}], [])
    with pytest.raises(ScriptError, match="no script matches"):
        model.complete([{"role": "user", "content": "INC-2?"}], [])
    assert ScriptedModel({"a": [final("x"), final("y")]}).unconsumed() == [("a", 0), ("a", 1)]


class SpentRunner(SleepRunner):
    """Every executor stops because the shared budget ran out (what `AgentRunner` reports then)."""

    def outcome(self, work: Work, start: float, worker: str, end: float | None = None) -> SubTaskResult:
        why = "the run's 1,000 tokens are spent"  # the reason is a field: the words could say anything
        return work.result("failed", "", why, worker=worker, start=start, end=end or start, stop_reason="budget")


def test_budget_when_every_executor_ran_out_of_it() -> None:
    model = ScriptedModel([calls(("make_plan", PLAN_AB)), calls(("finish", FINISH))])
    result = _supervise(model, SpentRunner(), max_rounds=1)
    assert result.stop_reason == "budget" and "1,000 tokens" in result.answer


@tool
def search_kb(query: str) -> str:
    """Search the company knowledge base.

    Args:
        query: words to look for.
    """
    raise RuntimeError("the index is offline")


def test_no_answer_when_every_sub_task_s_agent_gave_up(journal: SqliteJournal) -> None:
    """Real ReAct loops (`AgentRunner`, the offline model) whose only tool always fails: each agent calls
    `give_up` after three errors, each sub-task fails with that stop reason, and the run has no answer."""
    model = offline_model()
    inline = InlineDispatcher(SleepRunner())
    runner = AgentRunner(model, Toolkit(kb=False, sandbox=False, extra=(search_kb,)))
    supervisor = Supervisor(None, model, runner=runner, dispatch=inline, clock=inline.clock, journal=journal)
    result = supervisor.run("What were the root causes of INC-2108 and INC-2181?", run_id="run-1")
    assert result.stop_reason == "no_answer" and not result.ok, result.answer
    assert len(result.plans) == 2  # the reduce step re-planned the failures once, and they gave up again
    ran = [r for r in result.results if r.state != "blocked"]  # the analysts wait on researchers that failed
    assert ran and all(r.state == "failed" and r.stop_reason == "gave_up" for r in ran)
    assert "gave_up: the tools keep failing" in result.answer  # each sub-task says why (here: the breaker opened)
    run = journal.run("run-1")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "no_answer")
