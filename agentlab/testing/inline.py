"""An in-process dispatcher on a fake clock: a fan-out's decisions tested at exact times (lab 03).

`InlineDispatcher` does what `LaneDispatcher` and `FuturesDispatcher` do — take sub-tasks, hand back
results as they complete, forget cancelled copies — with no cluster and no waiting. *When* a copy
completes comes from a `SleepRunner` *timing* (its `seconds(task, tag)`); `completed(timeout)` moves
the `FakeClock` straight to the next completion, or by `timeout` if that comes first. A timeout at
0.5 s therefore happens at exactly 0.5 s, and a round of 1,000 sub-tasks takes milliseconds. The
round under test is the real `agentlab.fanout.round.run_round`, with `clock=dispatcher.clock`.

*What* a copy returns comes from the runner the supervisor hands it (`Supervisor(dispatch=inline)`
calls `inline(runner)`), or from `runner=` given directly: a real `AgentRunner` runs its ReAct loop,
its tool contracts and its model in this process when its copy comes due, and its result is stamped
with the fake clock's start and end. With no runner, or a `SleepRunner`, the timing's own outcome is
the result. A cancelled copy is never run.

Give a copy `None` seconds (`hang={...}`) and it never completes: the round's own timeouts, quorum or
deadline must end it; if nothing can, `completed(None)` raises instead of waiting forever.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from agentlab.errors import UsageError
from agentlab.fanout.runners import Runner
from agentlab.identity import Work
from agentlab.steps import SubTaskResult
from agentlab.testing.clock import FakeClock
from agentlab.testing.runners import SleepRunner

__all__ = ["InlineDispatcher"]


@dataclass
class InlineDispatcher:
    """A dispatcher whose workers are a timing table and whose time is a `FakeClock`."""

    timing: SleepRunner = field(default_factory=SleepRunner)
    clock: FakeClock = field(default_factory=lambda: FakeClock(0.0))
    runner: Runner | None = None
    """What runs each copy when it comes due (None: the timing's outcome stands for the work)."""
    hang: Collection[str] = ()
    """Ids of sub-tasks whose copies never complete (a fresh re-plan has its own id)."""
    submitted: list[Work] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._due: list[tuple[float, int, str]] = []
        self._work: dict[str, Work] = {}
        self._starts: dict[str, float] = {}
        self._seq = itertools.count()

    def __call__(self, runner: Runner) -> InlineDispatcher:
        """As a `Supervisor(dispatch=...)` factory: the supervisor's runner does the work (a `SleepRunner`
        is taken as the timing's stand-in, and left to the timing)."""
        if not isinstance(runner, SleepRunner):
            self.runner = runner
        return self

    def submit(self, work: Work) -> None:
        self.submitted.append(work)
        self._work[work.flight] = work
        self._starts[work.flight] = self.clock()
        task = work.task
        if task.id in self.hang:
            return
        done_at = self.clock() + self.timing.seconds(task, work.tag)
        heapq.heappush(self._due, (done_at, next(self._seq), work.flight))

    def flush(self) -> None:
        """Nothing is batched in-process."""

    def completed(self, timeout: float | None) -> list[tuple[str, SubTaskResult]]:
        while self._due and self._due[0][2] not in self._work:
            heapq.heappop(self._due)  # cancelled copies
        if not self._due:
            if timeout is None:
                raise UsageError("the round waits with no timeout for copies that never complete")
            self.clock.advance(timeout)
            return []
        next_at = self._due[0][0]
        if timeout is not None and next_at > self.clock() + timeout:
            self.clock.advance(timeout)
            return []
        self.clock.now = max(self.clock(), next_at)
        done = []
        while self._due and self._due[0][0] <= self.clock():
            _, _, key = heapq.heappop(self._due)
            work = self._work.pop(key, None)
            if work is not None:
                done.append((key, self._outcome(work, self._starts.pop(key))))
        return done

    def _outcome(self, work: Work, start: float) -> SubTaskResult:
        """The copy's result: the runner's, on the fake clock's times; else the timing's."""
        if self.runner is None:
            return self.timing.outcome(work, start, "inline", self.clock())
        return replace(self.runner(work), worker="inline", start=start, end=self.clock())

    def cancel(self, key: str) -> None:
        if self._work.pop(key, None) is not None:
            self.cancelled.append(key)

    def close(self) -> None:
        self._work.clear()
