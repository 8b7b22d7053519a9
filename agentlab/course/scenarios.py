"""The research assistant scenario (the course's practical example), as a reusable experiment (lab 03).

A set of analyst questions, each about several incidents, answered two ways with the same offline
model and tools: by one sequential ReAct agent that works through the question's parts one after
another, and by the planner-executor fan-out on the cluster. Each question's plan also gives the
sum-over-max ideal: the speedup a perfect fan-out of its parts would reach.
"""

from __future__ import annotations

import re
import statistics
import time

import pandas as pd
from distributed import Client

from agentlab.agent.loop import run_agent
from agentlab.agent.retrieval import search_tool
from agentlab.data import kb_index, kb_questions
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner
from agentlab.fanout.supervisor import Supervisor
from agentlab.models.chat import ChatModel
from agentlab.models.offline.skills import offline_plan
from agentlab.prompts import ROLE_PROMPTS

__all__ = ["analyst_questions", "research_assistant", "summarize"]


def analyst_questions(count: int = 6, parts: int = 4) -> list[str]:
    """Questions that each ask for the root causes of `parts` incidents from the question set."""
    ids = [
        re.search(r"INC-\d+", q.question).group(0)  # type: ignore[union-attr]
        for q in kb_questions()
        if q.kind == "incident" and len(q.doc_ids) == 1 and "INC-" in q.question
    ]
    ids = list(dict.fromkeys(ids))
    groups = [ids[i : i + parts] for i in range(0, len(ids), parts)][:count]
    return [f"What were the root causes of {', '.join(g[:-1])} and {g[-1]}?" for g in groups if len(g) == parts]


def _single_agent(question: str, model: ChatModel) -> float:
    """One agent working through the question's parts in turn (what the single-agent assistant did)."""
    start = time.perf_counter()
    tools = [search_tool(kb_index())]
    for part in offline_plan(question)["subtasks"][:-1]:  # the parts; a single agent needs no combining step
        run_agent(part["goal"], model=model, tools=tools, system=ROLE_PROMPTS["researcher"], max_turns=6)
    return time.perf_counter() - start


def research_assistant(client: Client, model: ChatModel, questions: list[str], timeout: float = 5.0) -> pd.DataFrame:
    """Per question: the single agent's and the fan-out's latency and timeouts, and the fan-out's own
    speedup — its sequential path over its wall time — beside its sum-over-max ideal."""
    supervisor = Supervisor(client, model, runner=AgentRunner(model), policy=FanOutPolicy(subtask_timeout=timeout))
    rows = []
    for question in questions:
        single = _single_agent(question, model)
        result = supervisor.run(question)
        rows.append(
            {
                "question": question,
                "single_agent_s": single,
                "fanout_s": result.wall,
                "vs_single_agent": single / result.wall,
                "speedup": result.sequential / result.wall,
                "ideal_speedup": result.sequential / result.ideal,
                "single_timed_out": single > timeout,
                "fanout_timed_out": result.wall > timeout,
                "answered": result.stop_reason == "answer",
            }
        )
    return pd.DataFrame(rows)


def summarize(frame: pd.DataFrame) -> str:
    """The scenario's headline numbers, side by side."""
    return "\n".join(
        [
            f"questions                      : {len(frame)}",
            f"median latency, single agent   : {statistics.median(frame.single_agent_s):.2f} s",
            f"median latency, fan-out        : {statistics.median(frame.fanout_s):.2f} s",
            f"timeout rate, single agent     : {frame.single_timed_out.mean():.0%}",
            f"timeout rate, fan-out          : {frame.fanout_timed_out.mean():.0%}",
            f"fan-out speedup (median)       : {statistics.median(frame.speedup):.2f}x over its sequential path; "
            f"sum-over-max ideal {statistics.median(frame.ideal_speedup):.2f}x",
            f"achieved / ideal (median)      : {statistics.median(frame.speedup / frame.ideal_speedup):.2f}",
        ]
    )
