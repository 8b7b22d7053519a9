"""Executors: what runs one sub-task on a Dask worker (lab 03).

A *runner* is a small picklable value that turns one `Work` (a copy of a sub-task, with its identity and
the findings it reads) into a `SubTaskResult`: `runner(work)`, and optionally `await runner.arun(work)`
for runners that wait without a thread. The supervisor ships it to each worker once (lanes) or with
each sub-task (futures).

`AgentRunner` runs the sub-task as its own ReAct loop with its role's tools, every tool call going
through its RPC contract (`agentlab.rpc.guarded`: timeout, retries, the idempotency key from the call's
content in the run, breaker, rate limit, allowlist); the contract's attempts appear in the sub-task's trace.
(`agentlab.testing.runners.SleepRunner` stands in for a tool call that only waits on I/O.)
Failures never escape a runner: a sub-task that raises comes back as a `failed` result, so its
siblings keep theirs; how the sub-task's loop ended is its result's `stop_reason`. Tools are built on the
worker from a `Toolkit` recipe (`agentlab.fanout.toolkit`), never pickled with their indexes, sandboxes and
connections.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agentlab.agent.loop import RunResult, arun_agent, run_agent
from agentlab.fanout.toolkit import Toolkit
from agentlab.identity import Work
from agentlab.models.base import Model
from agentlab.prompts import ROLE_PROMPTS
from agentlab.rpc.guarded import GuardedToolbox
from agentlab.steps import SubTaskResult
from agentlab.trace import merge

__all__ = ["AgentRunner", "AsyncRunner", "Runner", "where"]


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
        events = merge(result.trace.events, toolbox.trace_events(result.trace.run_id))
        reason, end = result.stop_reason, time.time()
        if reason == "answer":
            answer = result.answer
            return work.result("done", answer, worker=worker, start=start, end=end, events=events, stop_reason=reason)
        why = f"{reason}: {result.error or result.answer}"  # for people; the supervisor reads `stop_reason`
        return work.result("failed", "", why, worker=worker, start=start, end=end, events=events, stop_reason=reason)
