"""The research assistant scenario (the course's practical example), as a reusable experiment (lab 03).

A set of analyst questions, each about several incidents, answered two ways with the same offline
model and the same knowledge-base search, whose calls fail now and then (`FlakySearch`, seeded):

* **restart the loop** — the assistant before the redesign: one ReAct agent works through the
  question's parts one after another, and a failed tool call starts the whole question over;
* **retry in place** — the planner-executor fan-out on the cluster: the parts run side by side, and a
  failed search is retried inside its own sub-task by its RPC contract (`RetryPolicy`), so one failure
  costs one call, not the question.

Both get the same deadline, and it cuts work off: the single agent's next model step past it is refused
(`BudgetExhausted`, the run ends with "budget"); the fan-out's round cancels what is unfinished at its
`FanOutPolicy(deadline=...)`. A timed-out question is one that did not finish all its parts in time.
Left out: the fan-out's plan and reduce steps are outside its round's deadline (two model steps).
"""

from __future__ import annotations

import random
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from distributed import Client

from agentlab.agent.loop import run_agent
from agentlab.agent.tools import Tool, tool
from agentlab.data import kb_index, kb_questions
from agentlab.errors import BudgetExhausted, ServiceError, UsageError
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.models.chat import ChatModel
from agentlab.models.offline.skills import offline_plan
from agentlab.prompts import ROLE_PROMPTS
from agentlab.rpc.contract import RetryPolicy, ToolPolicy

__all__ = ["FlakySearch", "analyst_questions", "research_assistant", "restart_the_loop", "summarize"]

RETRY_IN_PLACE = ToolPolicy(timeout=10.0, retry=RetryPolicy(attempts=4, base=0.02, cap=0.2))
"""The fan-out's search contract: up to four attempts with a short backoff, no breaker (the faults are
independent, so a run of failures says nothing about the service)."""


def analyst_questions(count: int = 6, parts: int = 4) -> list[str]:
    """`count` questions that each ask for the root causes of `parts` different incidents of the question set.

    The incidents are taken in order and, once used up, again from the start, so any count is met."""
    ids = [
        re.search(r"INC-\d+", q.question).group(0)  # type: ignore[union-attr]
        for q in kb_questions()
        if q.kind == "incident" and len(q.doc_ids) == 1 and "INC-" in q.question
    ]
    ids = list(dict.fromkeys(ids))
    if not 1 <= parts <= len(ids):
        raise UsageError(f"a question can ask about 1 to {len(ids)} incidents, not {parts}")
    groups = [[ids[(i * parts + j) % len(ids)] for j in range(parts)] for i in range(count)]
    return [
        f"What were the root causes of {', '.join(g[:-1])} and {g[-1]}?"
        if parts > 1
        else f"What were the root causes of {g[0]}?"
        for g in groups
    ]


@dataclass
class FlakySearch:
    """The knowledge-base search with injected faults: each call fails with probability `fail_rate`.

    A failure is a transient service error (`ServiceError(retryable=True)`, as a 503 would be). Seeded;
    `calls` and `failures` count this copy's calls (a copy sent to a Dask worker counts its own)."""

    fail_rate: float = 0.0
    seed: int = 0
    calls: int = 0
    failures: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def search_kb(self, query: str, k: int = 5) -> str:
        """Search the company knowledge base (products, policies, incidents, metrics).

        Args:
            query: keywords to look for, e.g. an incident id, a product name, a week or a region.
            k: how many documents to return (1-20).
        """
        self.calls += 1
        if self._rng.random() < self.fail_rate:
            self.failures += 1
            raise ServiceError("the search service failed (an injected fault)", status=503, retryable=True)
        hits = kb_index().search(query, max(1, min(int(k), 20)))
        return "\n\n".join(d.render() for d in hits) if hits else "no documents matched"

    def tool(self) -> Tool:
        made: Tool = tool(self.search_kb, name="search_kb")
        return made


@dataclass(frozen=True)
class _SearchForResearchers(Toolkit):
    """Researchers get the flaky search (`extra`); the analyst combines what it is given, with no tools."""

    def tools_for(self, role: str) -> list[Tool]:
        return list(self.extra) if role in ("researcher", "critic") else []


@dataclass(frozen=True)
class _Until:
    """A model whose steps are refused from `at` (time.perf_counter) on: the deadline that cuts the agent off."""

    model: ChatModel
    at: float

    def complete(self, messages: Any, tools: Any, tool_choice: Any = "auto") -> Any:
        if time.perf_counter() >= self.at:
            raise BudgetExhausted("the question's deadline passed")
        return self.model.complete(messages, tools, tool_choice=tool_choice)


@dataclass(frozen=True)
class Attempt:
    """How one way of answering a question went."""

    seconds: float
    finished: bool
    """Every part answered before the deadline."""
    restarts: int = 0
    failures: int = 0
    """Tool calls that failed (and were restarted over, or retried in place)."""


def restart_the_loop(question: str, model: ChatModel, search: FlakySearch, deadline: float) -> Attempt:
    """One agent works through the question's parts in turn; after a part in which a tool call failed, it
    starts the whole question over. Its model steps past `deadline` seconds are refused."""
    start = time.perf_counter()
    until, tools = _Until(model, start + deadline), [search.tool()]
    parts = offline_plan(question)["subtasks"][:-1]  # the parts; a single agent needs no combining step
    restarts, failed_before = 0, search.failures
    while True:
        seen = search.failures
        for part in parts:
            run = run_agent(part["goal"], model=until, tools=tools, system=ROLE_PROMPTS["researcher"], max_turns=6)
            if run.stop_reason == "budget":  # cut off by the deadline
                return Attempt(time.perf_counter() - start, False, restarts, search.failures - failed_before)
            if search.failures > seen:  # a tool failed: the loop starts over from the first part
                break
        else:
            return Attempt(time.perf_counter() - start, True, restarts, search.failures - failed_before)
        restarts += 1


def research_assistant(
    client: Client,
    model: ChatModel,
    questions: list[str],
    deadline: float = 5.0,
    fail_rate: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Per question: restart-the-loop (one agent) beside retry-in-place (the fan-out), each under `deadline`
    seconds, the search failing with probability `fail_rate`; and the fan-out's own speedup beside its
    sum-over-max ideal."""
    search = FlakySearch(fail_rate, seed)
    toolkit = _SearchForResearchers(extra=(search.tool(),), policies={"search_kb": RETRY_IN_PLACE})
    supervisor = Supervisor(
        client,
        model,
        runner=AgentRunner(model, toolkit),
        policy=FanOutPolicy(deadline=deadline, max_rounds=1),
    )
    rows = []
    for question in questions:
        single = restart_the_loop(question, model, search, deadline)
        result = supervisor.run(question)
        cut = [r.id for r in result.results if r.state != "done"]
        rows.append(
            {
                "question": question,
                "single_agent_s": single.seconds,
                "fanout_s": result.wall,
                "vs_single_agent": single.seconds / result.wall,
                "restarts": single.restarts,
                "speedup": result.sequential / result.wall,
                "ideal_speedup": result.sequential / result.ideal,
                "single_timed_out": not single.finished,
                "fanout_timed_out": bool(cut) or result.stop_reason != "answer",
                "cut_off": ", ".join(cut),
            }
        )
    return pd.DataFrame(rows)


def summarize(frame: pd.DataFrame) -> str:
    """The scenario's headline numbers, side by side."""
    single, fanout = statistics.median(frame.single_agent_s), statistics.median(frame.fanout_s)
    return "\n".join(
        [
            f"questions                      : {len(frame)}",
            f"median latency, single agent   : {single:.2f} s  (restarts the loop on a tool failure)",
            f"median latency, fan-out        : {fanout:.2f} s  (retries the call in place)",
            f"median latency ratio           : {single / fanout:.2f}x  (the course: 40 s -> 12 s, 3.3x)",
            f"timeout rate, single agent     : {frame.single_timed_out.mean():.0%}",
            f"timeout rate, fan-out          : {frame.fanout_timed_out.mean():.0%}",
            f"fan-out speedup (median)       : {statistics.median(frame.speedup):.2f}x over its sequential path; "
            f"sum-over-max ideal {statistics.median(frame.ideal_speedup):.2f}x",
        ]
    )
