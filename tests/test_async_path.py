"""The awaited path a lane takes: `arun_agent` ends every run as `run_agent` does, the offline model answers
through `openai.AsyncOpenAI`, lanes hand back results as they finish, and the collector pause is undone."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading

import networkx as nx
import pytest
from distributed import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from agentlab.agent.loop import RunResult, arun_agent, run_agent
from agentlab.agent.tools import Tool
from agentlab.errors import InvalidArguments, ModelUnavailable
from agentlab.fanout.lanes import Lane, LaneDispatcher, pack, unpack
from agentlab.fanout.plan import Plan
from agentlab.fanout.quietgc import fewer_collections
from agentlab.fanout.runners import AgentRunner
from agentlab.identity import Work, identify
from agentlab.models.chat import offline_model
from agentlab.steps import SubTask, SubTaskResult
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls, final


def _both(make_model: object, goal: str, tools: list[Tool], max_turns: int = 4) -> tuple[RunResult, RunResult]:
    """The same run, once through each driver (each with a fresh model: scripted ones are used up)."""
    assert callable(make_model)
    sync = run_agent(goal, model=make_model(), tools=tools, max_turns=max_turns, run_id="r")
    awaited = asyncio.run(arun_agent(goal, model=make_model(), tools=tools, max_turns=max_turns, run_id="r"))
    return sync, awaited


def _same(sync: RunResult, awaited: RunResult) -> None:
    assert (awaited.answer, awaited.stop_reason, awaited.turns, awaited.error) == (
        sync.answer,
        sync.stop_reason,
        sync.turns,
        sync.error,
    )
    assert awaited.messages == sync.messages
    assert [(e.who, e.outcome) for e in awaited.trace.events] == [(e.who, e.outcome) for e in sync.trace.events]


def test_the_offline_model_answers_the_same_through_either_driver(tiny_search: Tool) -> None:
    sync, awaited = _both(lambda: offline_model(q=1.0, seed=3), "What was the root cause of INC-1002?", [tiny_search])
    assert sync.stop_reason == "answer" and sync.turns >= 1
    _same(sync, awaited)


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ([calls(("search_kb", '{"query": "INC-1002"}')), final("expired certificate")], "answer"),
        ([calls(("search_kb", '{"query": "x"}'))] * 2 + [final("best guess")], "max_turns"),
        ([calls(("search_kb", '{"query": "x"}'))], "model_error"),  # the script runs out: a model error
        ([calls(("nope", "{")), final("")], "no_answer"),
    ],
)
def test_a_model_without_an_async_path_ends_each_way_the_same(
    tiny_search: Tool, script: list[object], reason: str
) -> None:
    sync, awaited = _both(lambda: ScriptedModel(list(script)), "Why did INC-1002 happen?", [tiny_search], 2)
    assert sync.stop_reason == reason
    _same(sync, awaited)


def test_a_step_past_the_timeout_is_a_model_error_on_the_async_path() -> None:
    model = offline_model(q=1.0, latency=0.5).with_options(timeout=0.1, max_retries=1)
    with pytest.raises(ModelUnavailable, match=r"no reply within 0.1 s \(2 attempts\)"):
        asyncio.run(model.acomplete([{"role": "user", "content": "hi"}], []))
    result = asyncio.run(arun_agent("What was the root cause of INC-1002?", model=model))
    assert result.stop_reason == "model_error" and "no reply within" in (result.error or "")


def test_an_agent_runner_gives_the_same_result_awaited() -> None:
    runner = AgentRunner(offline_model(q=1.0, seed=1))
    task = SubTask("q1", "What was the root cause of INC-2108?")
    work = Work("run", task, identify("run", task))
    sync, awaited = runner(work), asyncio.run(runner.arun(work))
    assert sync.ok and (awaited.state, awaited.value) == (sync.state, sync.value)
    assert [e.who for e in awaited.events] == [e.who for e in sync.events]
    assert any(e.who == "rpc:search_kb" for e in awaited.events)  # the tool call kept its contract


def test_a_lane_hands_back_a_result_before_its_batch_finishes(client: Client) -> None:
    """One call carries both sub-tasks; the fast one comes back while the slow one still runs."""
    runner = SleepRunner({"fast": 0.05, "slow": 3.0})
    dispatcher = LaneDispatcher(client, runner, calls_per_lane=1)
    try:
        dispatcher.lanes = dict(list(dispatcher.lanes.items())[:1])  # one lane: one call for both
        works = [Work("lane", t, identify("lane", t)) for t in (SubTask("fast", "x"), SubTask("slow", "y"))]
        for work in works:
            dispatcher.submit(work)
        dispatcher.flush()
        first = dispatcher.completed(timeout=None)
        assert [result.id for _, result in first] == ["fast"]
        assert list(dispatcher.in_flight) == [works[1].flight]  # the slow one is still out
        second = dispatcher.completed(timeout=None)
        assert [result.id for _, result in second] == ["slow"]
    finally:
        dispatcher.close()


def test_fewer_collections_is_undone_by_the_last_holder() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    entered, leave = threading.Event(), threading.Event()

    def other_holder() -> None:
        with fewer_collections():
            entered.set()
            leave.wait()

    thread = threading.Thread(target=other_holder)
    with fewer_collections():
        assert gc.get_threshold()[0] >= 50_000 and gc.get_freeze_count() > frozen
        thread.start()
        entered.wait()
    assert gc.get_threshold() != before  # the other thread still holds it
    leave.set()
    thread.join()
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 12).flatmap(
        lambda n: st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n).map(
            lambda e: (n, e)
        )
    )
)
def test_a_plan_orders_and_checks_its_dag_as_networkx_does(shape: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = shape
    deps: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in pairs:
        if a != b and a not in deps[b]:
            deps[b].append(a)
    tasks = [SubTask(f"t{i}", "g", deps=tuple(f"t{d}" for d in deps[i])) for i in range(n)]
    graph = nx.DiGraph()
    graph.add_nodes_from(t.id for t in tasks)
    graph.add_edges_from((d, t.id) for t in tasks for d in t.deps)
    if not nx.is_directed_acyclic_graph(graph):
        with pytest.raises(InvalidArguments, match="dependency cycle"):
            Plan(tasks)
        return
    plan = Plan(tasks)
    assert plan.order() == list(nx.topological_sort(graph))
    assert set(plan.graph.edges) == set(graph.edges)
    assert [t.id for t in plan.ready()] == [t.id for t in tasks if not t.deps]


class ExitingRunner(SleepRunner):
    """A runner whose sub-task "bad" calls sys.exit(), as careless user code might."""

    def outcome(self, work: Work, start: float, worker: str, end: float | None = None) -> SubTaskResult:
        if work.task.id == "bad":
            sys.exit(3)
        return super().outcome(work, start, worker, end)


@pytest.mark.parametrize("awaited", [True, False])
def test_a_runner_that_exits_fails_its_sub_task_and_the_lane_lives_on(awaited: bool) -> None:
    runner = ExitingRunner(default=0.01)
    lane = Lane(runner if awaited else _Blocking(runner), threads=4, address="tcp://lane")
    works = [Work("exits", t, identify("exits", t)) for t in (SubTask("bad", "x"), SubTask("good", "y"))]

    async def run_all(batch: list[Work]) -> dict[str, SubTaskResult]:
        assert await lane.start(pack(batch)) == len(batch)
        results: dict[str, SubTaskResult] = {}
        while len(results) < len(batch):
            results.update((r.id, r) for _, r in unpack(await lane.collect(5.0)))
        return results

    async def twice() -> tuple[dict[str, SubTaskResult], dict[str, SubTaskResult]]:
        return await run_all(works), await run_all(works[1:])  # a lane lives on one event loop

    results, again = asyncio.run(twice())
    assert results["bad"].state == "failed" and "SystemExit: 3" in (results["bad"].error or "")
    assert results["good"].ok and results["good"].worker == "tcp://lane"
    assert again["good"].ok  # the same lane still runs work
    assert not lane.running


class _Blocking:
    """The runner without its `arun`: the lane runs it on a thread."""

    def __init__(self, runner: SleepRunner) -> None:
        self.runner = runner

    def __call__(self, work: Work) -> SubTaskResult:
        return self.runner(work)
