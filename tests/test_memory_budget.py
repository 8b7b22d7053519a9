"""Cluster-wide budgets: the pure admit and settle decisions, a model that stops the loop with "budget", a budget
that fails closed (long replies cut at the cap, an endpoint that overspends closes it), admissions racing from
threads and processes, and agents on several workers spending one token budget that is never exceeded."""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from distributed import Client

from agentlab.agent.loop import RunResult, run_agent
from agentlab.agent.retrieval import Document, Index, search_tool
from agentlab.errors import BudgetExhausted
from agentlab.fanout.report import FanOutResult
from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.memory import Blackboard, Budget, BudgetedModel, ServerHandle, SharedBudget, Spend
from agentlab.memory.budget import MIN_COMPLETION, Admission, admit, estimate_tokens, reservation, settlement
from agentlab.memory.workloads import agent_outcome
from agentlab.models.chat import offline_model
from agentlab.testing import FakeClock, InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.testing.scripted import ScriptedModel, calls, final
from agentlab.wire import ModelReply

DOCS = [Document("d-1", "Incident INC-1001", "The root cause of INC-1001 was a full disk on the Orion Gateway.")]


def test_a_step_is_admitted_only_if_its_worst_case_fits_beside_what_is_spent_and_in_flight() -> None:
    budget = Budget(tokens=1000, completion_allowance=100)
    busy = Spend(tokens=500, reserved_tokens=300)
    assert admit(budget, busy, prompt_tokens=100, now=0) == Admission(True, completion=100)  # 500+300+100+100
    assert admit(budget, busy, prompt_tokens=100, now=0, ceiling=40).completion == 40  # the model's own max_tokens
    assert admit(budget, busy, prompt_tokens=150, now=0).completion == 50  # the cap shrinks to what is left
    assert admit(budget, busy, prompt_tokens=200 - MIN_COMPLETION, now=0).completion == MIN_COMPLETION
    refused = admit(budget, busy, prompt_tokens=201 - MIN_COMPLETION, now=0)  # not even a useful reply fits
    assert (refused.ok, refused.reason, refused.wait, refused.completion) == (False, "tokens", 0.0, 0)
    assert admit(budget, Spend(overspent=1), prompt_tokens=1, now=0).reason == "overspent"  # a closed budget


def test_cost_is_priced_per_thousand_tokens_and_caps_the_completion_too() -> None:
    budget = Budget(cost=0.1, price_per_1k_prompt=1.0, price_per_1k_completion=2.0, completion_allowance=100)
    assert admit(budget, Spend(), prompt_tokens=40, now=0).completion == 30  # 0.04 + 30 × 0.002 = 0.1
    assert admit(budget, Spend(cost=0.03), prompt_tokens=40, now=0).reason == "cost"  # room for 15: too few
    assert admit(budget, Spend(), prompt_tokens=101, now=0).reason == "cost"  # the prompt alone is too dear
    assert reservation(budget, 40, 30) == (70, pytest.approx(0.1))


def test_a_step_is_charged_what_it_reported_and_any_excess_is_an_overspend() -> None:
    budget = Budget(tokens=1000, price_per_1k_prompt=1.0, price_per_1k_completion=2.0)
    reserved = reservation(budget, 100, 50)
    within = settlement(budget, reserved, 80, 50)  # a prompt estimated from above, a reply at its cap
    assert (within.tokens, within.overspent) == (130, False) and within.cost == pytest.approx(0.18)
    over = settlement(budget, reserved, 100, 400)  # an endpoint that ignored the cap
    assert (over.tokens, over.over_tokens, over.overspent) == (500, 350, True)
    pricier = settlement(budget, reserved, 20, 120)  # fewer tokens than reserved, but dearer ones
    assert (pricier.over_tokens, pricier.overspent) == (0, True)


def test_a_full_requests_per_minute_window_says_how_long_to_wait() -> None:
    budget = Budget(requests_per_minute=2)
    full = Spend(recent=(100.0, 130.0))
    decision = admit(budget, full, prompt_tokens=1, now=140.0)
    assert (decision.ok, decision.reason, decision.wait) == (False, "requests_per_minute", 20.0)
    assert admit(budget, full, prompt_tokens=1, now=160.5).ok  # the oldest left the window


def test_the_prompt_estimate_is_from_above() -> None:
    messages = [{"role": "user", "content": "what was the root cause of INC-1001?"}]
    assert estimate_tokens(messages) >= len(messages[0]["content"].split())


class _Usage(ScriptedModel):
    """A scripted model whose replies report `tokens` of prompt and `completion` of completion usage each."""

    def __init__(self, replies: list[ModelReply], tokens: int, completion: int = 0) -> None:
        usage = {"prompt_tokens": tokens, "completion_tokens": completion}
        super().__init__([ModelReply(r.content, r.tool_calls, r.finish_reason, usage) for r in replies])


def test_the_loop_ends_gracefully_with_budget_when_the_budget_runs_out(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("b", tokens=600, completion_allowance=50))
    search = calls(("search_kb", '{"query": "INC-1001"}'))
    model = BudgetedModel(_Usage([search] * 10, tokens=150), shared)
    result = run_agent("What was the root cause of INC-1001?", model=model, tools=[search_tool(Index(DOCS))])
    assert result.stop_reason == "budget" and "budget" in result.answer
    spent = shared.spend()
    assert spent.tokens <= 600 and spent.reserved_tokens == 0 and spent.refused == 1
    with pytest.raises(BudgetExhausted) as caught:
        model.complete([{"role": "user", "content": "a long question " * 100}], [])  # ~400 tokens: more than is left
    assert caught.value.limit == "tokens"


def test_requests_per_minute_waits_on_the_injected_clock(tmp_path: Path) -> None:
    clock = FakeClock(start=0.0)
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("rpm", requests_per_minute=2), clock=clock)
    model = BudgetedModel(_Usage([final("ok")] * 3, tokens=1), shared, sleep=clock.sleep)
    for _ in range(3):
        model.complete([{"role": "user", "content": "hi"}], [])
    assert clock.slept == [60.0] and shared.spend().requests == 3
    impatient = BudgetedModel(
        _Usage([final("ok")] * 2, tokens=1),
        SharedBudget(board.server, Budget("rpm", requests_per_minute=2, max_wait=1.0), clock=clock),
        sleep=clock.sleep,
    )
    impatient.complete([{"role": "user", "content": "hi"}], [])  # the window holds one request: room for one more
    with pytest.raises(BudgetExhausted):  # full again, and the wait (60 s) is longer than max_wait
        impatient.complete([{"role": "user", "content": "hi"}], [])


def test_a_failed_model_step_releases_its_reservation(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("rel", tokens=10_000))
    broken = BudgetedModel(
        offline_model().with_options(base_url="http://127.0.0.1:9/v1", offline=None, max_retries=0, timeout=2.0), shared
    )
    result = run_agent("anything", model=broken)
    assert result.stop_reason == "model_error"
    assert shared.spend().reserved_tokens == 0 and shared.spend().tokens == 0


@pytest.mark.slow
def test_agents_on_several_workers_never_exceed_one_token_budget(client: Client, tmp_path: Path) -> None:
    board = Blackboard.open(client, "run", server=f"budget-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "m.sqlite"))
    limit = 2_000
    shared = SharedBudget(board.server, Budget("cluster", tokens=limit, completion_allowance=64))
    model = BudgetedModel(offline_model(q=0.25), shared)  # q=0.25: agents search several turns before answering
    tools = [search_tool(Index(DOCS))]
    goals = [f"What was the root cause of INC-1001? (agent {i})" for i in range(12)]
    futures = [client.submit(agent_outcome, goal, model, tools, pure=False) for goal in goals]
    results = client.gather(futures)
    spent = shared.spend()
    board.server.stop(client)
    assert len({r["pid"] for r in results}) == 2  # the agents ran on both workers
    assert spent.tokens <= limit and spent.reserved_tokens == 0
    reasons = [r["stop_reason"] for r in results]
    assert "budget" in reasons and set(reasons) <= {"answer", "budget", "max_turns"}
    assert spent.refused >= reasons.count("budget")


@pytest.mark.slow
def test_a_supervised_fan_out_that_exhausts_its_budget_ends_with_budget(client: Client, tmp_path: Path) -> None:
    board = Blackboard.open(client, "run", server=f"budget-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "m.sqlite"))
    # the allowance lets the plan be written whole (a plan cut at max_tokens is rejected, never replaced):
    # the sub-tasks then run the shared budget out
    shared = SharedBudget(board.server, Budget("supervised", tokens=700, completion_allowance=160))
    try:
        result = Supervisor(client, BudgetedModel(offline_model(), shared)).run(
            "What were the root causes of INC-2108 and INC-2181?"
        )
        spent = shared.spend()
    finally:
        board.server.stop(client)
    assert result.stop_reason == "budget" and "budget" in result.answer
    assert spent.tokens <= 700 and spent.reserved_tokens == 0


LONG_DOCS = [
    Document(
        f"d-{n}",
        f"Incident INC-{n}",
        f"The root cause of INC-{n} was a full disk on the Orion Gateway, "
        + "as the logs grew on and on " * 250
        + "until it filled.",
    )
    for n in (1001, 1002, 1003, 1004, 1005, 1006)
]


@pytest.mark.slow
def test_agents_in_threads_writing_long_replies_never_spend_past_the_limit(client: Client, tmp_path: Path) -> None:
    """Each agent's answer is a ~1,800-token sentence, far past the 256-token completion allowance: each request
    carries its cap, and the offline endpoint stops there, as a real one does. (Before the fix: 17,829 of 12,000.)"""
    board = Blackboard.open(client, "run", server=f"budget-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "m.sqlite"))
    limit = 12_000
    shared = SharedBudget(board.server, Budget("long", tokens=limit))
    model = BudgetedModel(offline_model(), shared)
    seen: list[Spend] = []
    done = threading.Event()

    def watch() -> None:  # what the ledger holds while the agents race, not only at the end
        while not done.wait(0.005):
            seen.append(shared.spend())

    def agent(doc: Document) -> RunResult:  # each agent searches its own incident's report
        return run_agent(
            f"What was the root cause of {doc.title.split()[-1]}?", model=model, tools=[search_tool(Index([doc]))]
        )

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(agent, LONG_DOCS))
    finally:
        done.set()
        watcher.join()
        spent = shared.spend()
        board.server.stop(client)
    assert spent.tokens <= limit and spent.reserved_tokens == 0, spent
    assert all(s.tokens + s.reserved_tokens <= limit for s in seen)
    reasons = [r.stop_reason for r in results]
    assert "budget" in reasons and set(reasons) <= {"answer", "budget"}, reasons
    cut = [[e.outcome for e in r.trace.events if e.who == "model"][-1] for r in results if r.stop_reason == "answer"]
    assert cut and set(cut) == {"length"}  # every answer stopped at its request's max_tokens


def test_an_endpoint_that_reports_more_than_it_reserved_is_charged_and_closes_the_budget(tmp_path: Path) -> None:
    board = Blackboard.local(str(tmp_path / "m.sqlite"), "run")
    shared = SharedBudget(board.server, Budget("loud", tokens=1_000))
    loud = BudgetedModel(_Usage([final("The root cause was a full disk. " * 300)], tokens=50, completion=2_000), shared)
    result = run_agent("What was the root cause of INC-1001?", model=loud)
    assert result.stop_reason == "budget" and "overspent" in result.answer
    (fault,) = [e for e in result.trace.events if e.who == "model"]
    assert fault.outcome == "error" and "reported 2050 tokens for a step that reserved" in fault.detail
    spent = shared.spend()
    assert (spent.tokens, spent.overspent, spent.reserved_tokens) == (2_050, 1, 0)  # the truth, past the limit
    quiet = BudgetedModel(_Usage([final("ok")], tokens=1), shared)
    with pytest.raises(BudgetExhausted) as caught:  # closed for every agent, however little it asks
        quiet.complete([{"role": "user", "content": "hi"}], [])
    assert caught.value.limit == "overspent" and shared.spend().refused == 1
    shared.reset()  # a new run under the same name starts with the budget open
    assert quiet.complete([{"role": "user", "content": "hi"}], []).content == "ok"


RACE_LIMIT = 4_000


def _race(path: str, threads: int, steps: int) -> list[int]:
    """In a process of its own: `threads` agents admit, write the board and settle at their cap (the worst case)
    on the ledger in the file at `path`; the spent + reserved each saw after every reservation and settlement."""
    server = ServerHandle.local(path)
    shared = SharedBudget(server, Budget("race", tokens=RACE_LIMIT, completion_allowance=50))
    board = Blackboard(server, "race")

    def agent(n: int) -> list[int]:
        seen = []
        for i in range(steps):
            decision, rid = shared.reserve(30)
            seen.append((spend := shared.spend()).tokens + spend.reserved_tokens)
            board.write(f"{os.getpid()}-{n}", i)  # the board's transactions share the server's connection
            if decision.ok:
                seen.append((spend := shared.settle(rid, 30, decision.completion)).tokens + spend.reserved_tokens)
        return seen

    with ThreadPoolExecutor(threads) as pool:
        return [total for seen in pool.map(agent, range(threads)) for total in seen]


@pytest.mark.slow
def test_admissions_racing_from_threads_in_several_processes_never_pass_the_limit(tmp_path: Path) -> None:
    path = str(tmp_path / "m.sqlite")
    fork = multiprocessing.get_context("fork")  # the children start with these imports: no seconds spent importing
    with ProcessPoolExecutor(3, mp_context=fork) as pool:
        seen = [total for totals in pool.map(_race, [path] * 3, [4] * 3, [12] * 3) for total in totals]
    spent = SharedBudget(ServerHandle.local(path), Budget("race", tokens=RACE_LIMIT)).spend()
    assert max(seen) <= RACE_LIMIT and spent.tokens <= RACE_LIMIT
    assert (spent.reserved_tokens, spent.overspent, spent.requests + spent.refused) == (0, 0, 3 * 4 * 12)
    assert spent.refused > 0 and spent.tokens > RACE_LIMIT - 30 - MIN_COMPLETION  # raced to the last tokens


def _supervise(shared: SharedBudget, supervisor_pays: bool) -> FanOutResult:
    """A supervised run in this process on the fake clock, every executor step paid from `shared` (and the
    supervisor's own plan and reduce steps too, if `supervisor_pays`)."""
    budgeted = BudgetedModel(offline_model(), shared)
    inline = InlineDispatcher(SleepRunner({"a": 1.0, "b": 2.0}, default=0.5))
    runner = AgentRunner(budgeted, Toolkit(sandbox=False))
    supervisor = Supervisor(
        None, budgeted if supervisor_pays else offline_model(), runner=runner, dispatch=inline, clock=inline.clock
    )
    return supervisor.run("What were the root causes of INC-2108 and INC-2181?", run_id="budgeted")


@pytest.mark.parametrize(("supervisor_pays", "limit"), [(False, 1_800), (True, 2_200)])
def test_a_supervised_run_whose_sub_task_was_refused_ends_budget_with_what_it_found(
    tmp_path: Path, supervisor_pays: bool, limit: int
) -> None:
    shared = SharedBudget(Blackboard.local(str(tmp_path / "m.sqlite"), "run").server, Budget("sup", tokens=limit))
    result = _supervise(shared, supervisor_pays)
    assert result.stop_reason == "budget" and not result.ok, result.answer
    assert any(r.ok for r in result.results) and any(r.stop_reason == "budget" for r in result.results)
    assert result.answer.startswith("Out of budget") and "cut off: b" in result.answer
    assert "stale DNS record" in result.answer  # what sub-task a found (INC-2108's root cause)
    refused = [e for e in result.trace.events if e.who == "supervisor" and e.outcome == "error"]
    assert bool(refused) == supervisor_pays and (not refused or "budget" in refused[0].detail)
    spent = shared.spend()
    assert spent.tokens <= limit and spent.reserved_tokens == 0 and spent.overspent == 0
