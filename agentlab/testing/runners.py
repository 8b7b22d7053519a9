"""A runner that only waits: a sub-task that is one I/O-bound tool call, for tests and Code 40.6.2 (lab 03).

`SleepRunner` stands in for an agent when what matters is *when* sub-tasks finish, not what they say:
Code 40.6.2's plan run for real, the fan-out benchmarks, and the timing table of
`agentlab.testing.InlineDispatcher`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from agentlab.fanout.runners import where
from agentlab.identity import Work
from agentlab.steps import SubTask, SubTaskResult, Tag

__all__ = ["SleepRunner"]


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
