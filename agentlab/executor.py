"""Executors: what runs one sub-task on a Dask worker (lab 03).

A *runner* is a small picklable value with `__call__(task, findings, tag) -> SubTaskResult`. The
supervisor ships it to a worker with each sub-task. `AgentRunner` runs the sub-task as its own ReAct loop
with its role's tools; `SleepRunner` stands in for a tool call that only waits on I/O (Code 40.6.2's
sub-tasks, and the benchmarks). Failures never escape a runner: a sub-task that raises comes back as a
`failed` result, so its siblings keep theirs. Tools are built on the worker from a `Toolkit` recipe
(cached per process), never pickled with their indexes and connections.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from agentlab.data import kb_index
from agentlab.loop import run_agent
from agentlab.models import ChatModel
from agentlab.plan import SubTask, base_id
from agentlab.retrieval import search_tool
from agentlab.tools import Tool
from agentlab.trace import Event

__all__ = ["AgentRunner", "SleepRunner", "SubTaskResult", "Toolkit", "where"]

ROLE_PROMPTS = {
    "researcher": "You are a researcher. Find the facts the goal asks for with your tools; cite documents.",
    "coder": "You are a coder. Write and run small programs to answer the goal.",
    "analyst": "You are an analyst. Combine the findings you are given into one clear answer.",
    "critic": "You are a critic. Check the findings against the sources and point out anything unsupported.",
}


@dataclass(frozen=True)
class SubTaskResult:
    """How one sub-task ended. A failure is a value like any other: `state` says which kind."""

    id: str
    role: str
    state: str
    """"done", "failed", "timeout" (abandoned by the supervisor), "cancelled" or "blocked" (a dependency failed)."""
    value: str = ""
    error: str | None = None
    worker: str = ""
    start: float = 0.0
    end: float = 0.0
    tag: str = "primary"
    """"primary", or "hedge" for a speculative duplicate."""
    events: tuple[Event, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return self.state == "done"

    @property
    def duration(self) -> float:
        return self.end - self.start


def where() -> str:
    """The Dask worker this code runs on, or the process id outside a worker."""
    try:
        from distributed import get_worker  # noqa: PLC0415  (only meaningful inside a task)

        return str(get_worker().address)
    except ValueError:
        return f"pid:{os.getpid()}"


@functools.cache
def _kb_search() -> Tool:
    return search_tool(kb_index())


@dataclass(frozen=True)
class Toolkit:
    """A recipe for each role's tools, resolved on the worker that runs the sub-task."""

    kb: bool = True

    def tools_for(self, role: str) -> list[Tool]:
        if role in ("researcher", "critic") and self.kb:
            return [_kb_search()]
        return []  # the analyst combines what it is given


@dataclass(frozen=True)
class AgentRunner:
    """Run a sub-task as a ReAct agent in its role, with the findings of its dependencies in its prompt."""

    model: ChatModel
    toolkit: Toolkit = field(default_factory=Toolkit)
    max_turns: int = 6
    run_id: str = "run"

    def __call__(self, task: SubTask, findings: str = "", tag: str = "primary") -> SubTaskResult:
        start, worker = time.time(), where()
        goal = f"{task.goal}\n\n{findings}" if findings else task.goal
        try:
            result = run_agent(
                goal,
                model=self.model,
                tools=self.toolkit.tools_for(task.role),
                system=ROLE_PROMPTS.get(task.role),
                max_turns=self.max_turns,
                run_id=f"{self.run_id}/{task.id}",
            )
        except Exception as exc:  # a crash in one sub-task must not lose its siblings' results
            return SubTaskResult(
                task.id, task.role, "failed", "", f"{type(exc).__name__}: {exc}", worker, start, time.time(), tag
            )
        state = "done" if result.stop_reason == "answer" else "failed"
        return SubTaskResult(
            task.id,
            task.role,
            state,
            result.answer,
            result.error if state != "done" else None,
            worker,
            start,
            time.time(),
            tag,
            tuple(result.trace.events),
        )


@dataclass(frozen=True)
class SleepRunner:
    """A sub-task that is one I/O-bound tool call: it waits `latency[id]` seconds (default `default`).

    `hedge_latency` gives a speculative duplicate its own latency; `fail` names sub-tasks that fail
    (in every round, or only in the first `fail_rounds`).
    """

    latency: Mapping[str, float] = field(default_factory=dict)
    default: float = 0.1
    hedge_latency: Mapping[str, float] = field(default_factory=dict)
    fail: frozenset[str] = frozenset()
    fail_rounds: int | None = None

    def seconds(self, task: SubTask, tag: str) -> float:
        base = base_id(task.id)
        table = self.hedge_latency if tag == "hedge" and base in self.hedge_latency else self.latency
        return float(table.get(task.id, table.get(base, self.default)))

    def outcome(self, task: SubTask, tag: str, start: float, worker: str) -> SubTaskResult:
        round_no = int(task.id.rsplit("-r", 1)[1]) if re.search(r"-r\d+$", task.id) else 1
        if base_id(task.id) in self.fail and (self.fail_rounds is None or round_no <= self.fail_rounds):
            return SubTaskResult(task.id, task.role, "failed", "", "injected failure", worker, start, time.time(), tag)
        return SubTaskResult(task.id, task.role, "done", f"{task.id} ok", None, worker, start, time.time(), tag)

    def __call__(self, task: SubTask, findings: str = "", tag: str = "primary") -> SubTaskResult:
        """Block a thread for the latency (what a synchronous tool call does)."""
        start, worker = time.time(), where()
        time.sleep(self.seconds(task, tag))
        return self.outcome(task, tag, start, worker)

    async def arun(self, task: SubTask, findings: str = "", tag: str = "primary") -> SubTaskResult:
        """Wait without a thread (what an async tool call does): lanes use this when it exists."""
        start = time.time()
        await asyncio.sleep(self.seconds(task, tag))
        return self.outcome(task, tag, start, "")
