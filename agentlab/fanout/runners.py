"""Executors: what runs one sub-task on a Dask worker (lab 03).

A *runner* is a small picklable value that turns one `Work` (a copy of a sub-task, with its identity and
the findings it reads) into a `SubTaskResult`: `runner(work)`, and optionally `await runner.arun(work)`
for runners that wait without a thread. The supervisor ships it to each worker once (lanes) or with
each sub-task (futures).

`AgentRunner` runs the sub-task as its own ReAct loop with its role's tools, every tool call going
through its RPC contract (`agentlab.rpc.guarded`: timeout, retries, the idempotency key from the sub-task's
identity, breaker, rate limit, allowlist); the contract's attempts appear in the sub-task's trace.
`SleepRunner` stands in for a tool call that only waits on I/O (Code 40.6.2's sub-tasks, benchmarks).
Failures never escape a runner: a sub-task that raises comes back as a `failed` result, so its
siblings keep theirs. Tools are built on the worker from a `Toolkit` recipe (cached per process),
never pickled with their indexes, sandboxes and connections.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agentlab.agent.loop import RunResult, arun_agent, run_agent
from agentlab.agent.retrieval import search_tool
from agentlab.agent.tools import Tool
from agentlab.data import kb_index
from agentlab.identity import StepId, Work
from agentlab.models.chat import Model
from agentlab.rpc import contract as rpc
from agentlab.rpc.guarded import GuardedToolbox, Services
from agentlab.steps import SubTask, SubTaskResult, Tag

__all__ = [
    "DEFAULT_POLICIES",
    "ROLE_PROMPTS",
    "AgentRunner",
    "AsyncRunner",
    "Runner",
    "SleepRunner",
    "SubTaskResult",
    "Toolkit",
    "where",
]

ROLE_PROMPTS = {
    "researcher": "You are a researcher. Find the facts the goal asks for with your tools; cite documents.",
    "coder": "You are a coder. Write and run small Python programs with run_python to answer the goal.",
    "analyst": "You are an analyst. Combine the findings you are given into one clear answer.",
    "critic": "You are a critic. Check the findings against the sources and point out anything unsupported.",
}

DEFAULT_POLICIES: Mapping[str, rpc.ToolPolicy] = {
    # a read: safe to retry; a breaker stops a worker hammering an index that keeps failing
    "search_kb": rpc.ToolPolicy(timeout=10.0, breaker=rpc.BreakerPolicy(failures=5, reset_after=30.0)),
    # the sandbox kills the program at its own wall clock; the caller waits a little longer, never retries
    "run_python": rpc.ToolPolicy(timeout=30.0, retry=rpc.RetryPolicy(attempts=1)),
}
"""The contract of each built-in tool when no other is given (`Toolkit.policies` overrides them)."""


@runtime_checkable
class Runner(Protocol):
    """Runs one copy of a sub-task on a worker and says how it ended (never raises for the sub-task's faults)."""

    def __call__(self, work: Work) -> SubTaskResult: ...


@runtime_checkable
class AsyncRunner(Runner, Protocol):
    """A runner that can also wait without a thread: lanes await `arun` on the worker's event loop."""

    async def arun(self, work: Work) -> SubTaskResult: ...


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


@functools.cache
def _sandbox() -> Tool:
    from agentlab.services.sandbox import sandbox_tool  # noqa: PLC0415  (only coders need it)

    return sandbox_tool()


@functools.cache
def worker_services() -> Services:
    """Breakers and rate limits shared by every sub-task in this process: a breaker protects a service
    from the whole worker, not from one agent."""
    return Services()


@dataclass(frozen=True)
class Toolkit:
    """A recipe for each role's tools and their RPC contracts, resolved on the worker that runs the sub-task.

    `extra` tools go to every role; `policies` override `DEFAULT_POLICIES` by tool name; `default` is the
    contract of a tool with no policy; `approved`, when given, is the allowlist (others are refused).
    """

    kb: bool = True
    sandbox: bool = True
    extra: tuple[Tool, ...] = ()
    policies: Mapping[str, rpc.ToolPolicy] = field(default_factory=dict)
    default: rpc.ToolPolicy = field(default_factory=rpc.ToolPolicy)
    approved: frozenset[str] | None = None

    def tools_for(self, role: str) -> list[Tool]:
        tools = list(self.extra)
        if role in ("researcher", "critic") and self.kb:
            tools.append(_kb_search())
        if role == "coder" and self.sandbox:
            tools.append(_sandbox())
        return tools  # the analyst combines what it is given

    def toolbox(self, role: str, step: StepId, services: Services | None = None) -> GuardedToolbox:
        """The role's tools, each call held to its contract, keyed by the sub-task's identity."""
        return GuardedToolbox(
            self.tools_for(role),
            {**DEFAULT_POLICIES, **self.policies},
            default=self.default,
            approved=self.approved,
            step=step,
            services=services or worker_services(),
        )


@dataclass(frozen=True)
class AgentRunner:
    """Run a sub-task as a ReAct agent in its role, with the findings of its dependencies in its prompt."""

    model: Model
    toolkit: Toolkit = field(default_factory=Toolkit)
    max_turns: int = 6

    def __call__(self, work: Work) -> SubTaskResult:
        start, worker = time.time(), where()
        try:
            toolbox = self.toolkit.toolbox(work.task.role, work.key)
            result = run_agent(**self._agent(work), tools=toolbox)
        except Exception as exc:  # a crash in one sub-task must not lose its siblings' results
            return work.result(
                "failed", "", f"{type(exc).__name__}: {exc}", worker=worker, start=start, end=time.time()
            )
        return self._outcome(work, result, toolbox, worker, start)

    async def arun(self, work: Work) -> SubTaskResult:
        """The same agent, awaited on the worker's event loop (`agentlab.agent.loop.arun_agent`): lanes use this,
        so a thousand agents on one worker wait on their model steps without a thousand threads."""
        start, worker = time.time(), where()
        try:
            toolbox = self.toolkit.toolbox(work.task.role, work.key)
            result = await arun_agent(**self._agent(work), tools=toolbox)
        except Exception as exc:  # a crash in one sub-task must not lose its siblings' results
            return work.result(
                "failed", "", f"{type(exc).__name__}: {exc}", worker=worker, start=start, end=time.time()
            )
        return self._outcome(work, result, toolbox, worker, start)

    def _agent(self, work: Work) -> dict[str, Any]:
        """The loop's arguments for this sub-task: its goal with the findings it reads, its role's prompt."""
        task = work.task
        return {
            "goal": f"{task.goal}\n\n{work.findings}" if work.findings else task.goal,
            "model": self.model,
            "system": ROLE_PROMPTS.get(task.role),
            "max_turns": self.max_turns,
            "run_id": f"{work.run_id}/{task.id}",
        }

    def _outcome(
        self, work: Work, result: RunResult, toolbox: GuardedToolbox, worker: str, start: float
    ) -> SubTaskResult:
        events = tuple(
            sorted([*result.trace.events, *toolbox.trace_events(result.trace.run_id)], key=lambda e: e.start)
        )
        if result.stop_reason == "answer":
            return work.result("done", result.answer, worker=worker, start=start, end=time.time(), events=events)
        why = f"{result.stop_reason}: {result.error or result.answer}"
        return work.result("failed", "", why, worker=worker, start=start, end=time.time(), events=events)


@dataclass(frozen=True)
class SleepRunner:
    """A sub-task that is one I/O-bound tool call: it waits `latency[id]` seconds (default `default`).

    Latencies are looked up by the sub-task's id, then by the planned sub-task it stands for (`origin`).
    `hedge_latency` gives a speculative duplicate its own latency; `fail` names planned sub-tasks that
    fail (in every round, or only in the first `fail_rounds`).
    """

    latency: Mapping[str, float] = field(default_factory=dict)
    default: float = 0.1
    hedge_latency: Mapping[str, float] = field(default_factory=dict)
    fail: frozenset[str] = frozenset()
    fail_rounds: int | None = None

    def seconds(self, task: SubTask, tag: Tag) -> float:
        table = self.hedge_latency if tag == "hedge" and task.origin in self.hedge_latency else self.latency
        return float(table.get(task.id, table.get(task.origin, self.default)))

    def outcome(self, work: Work, start: float, worker: str, end: float | None = None) -> SubTaskResult:
        task, end = work.task, time.time() if end is None else end
        if task.origin in self.fail and (self.fail_rounds is None or task.round <= self.fail_rounds):
            return work.result("failed", "", "injected failure", worker=worker, start=start, end=end)
        return work.result("done", f"{task.id} ok", worker=worker, start=start, end=end)

    def __call__(self, work: Work) -> SubTaskResult:
        """Block a thread for the latency (what a synchronous tool call does)."""
        start, worker = time.time(), where()
        time.sleep(self.seconds(work.task, work.tag))
        return self.outcome(work, start, worker)

    async def arun(self, work: Work) -> SubTaskResult:
        """Wait without a thread (what an async tool call does): lanes use this when it exists."""
        start = time.time()
        await asyncio.sleep(self.seconds(work.task, work.tag))
        return self.outcome(work, start, where())
