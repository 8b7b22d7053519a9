"""A round's decisions, apart from doing them: when to abandon, hedge or close (lab 03).

Everything here is a pure function of the round's policy, a little state and the time `now`, which the
caller passes in. `agentlab.fanout.round` carries the decisions out on a cluster; `agentlab.testing`'s
`InlineDispatcher` carries them out in-process on a fake clock, so a timeout at 0.5 s is tested at
exactly 0.5 s, and the labs can draw the decisions without running anything.

    timers_for     a sub-task dispatched at `since` needs attention at since + hedge_after (a hedge)
                   and since + subtask_timeout (abandon it)
    on_timer       a timer went off: "hedge", "abandon", "replan" (abandon and plan it fresh) or "skip"
    closing_reason the round may end early: the `any`/`quorum` policy is met, or its deadline passed
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agentlab.errors import UsageError
from agentlab.steps import SubTask

__all__ = ["Action", "FanOutPolicy", "TimerKind", "closing_reason", "on_timer", "timers_for"]

TimerKind = Literal["hedge", "timeout"]
Action = Literal["hedge", "abandon", "replan", "skip"]


@dataclass(frozen=True)
class FanOutPolicy:
    """When a round is over, and what to do about slow sub-tasks."""

    wait: Literal["all", "any", "quorum", "deadline"] = "all"
    """"all", "any" (first success), "quorum" (`quorum` successes) or "deadline" (stop at `deadline`)."""
    quorum: int = 1
    deadline: float | None = None
    """Seconds after the round starts; unfinished sub-tasks are then cancelled (any `wait` mode)."""
    subtask_timeout: float | None = None
    """Seconds a sub-task may run before it is abandoned and re-planned as a fresh one."""
    replans: int = 1
    """How many fresh re-plans one planned sub-task may get after timeouts."""
    hedge_after: float | None = None
    """Seconds after which a still-running sub-task gets a speculative duplicate (first result wins)."""
    max_rounds: int = 2
    """How many plan → fan out → reduce rounds the supervisor may run."""
    silence: float = 30.0
    """Seconds a worker (beyond a lane's long poll) or the scheduler may leave the client unanswered
    before it counts as unreachable: a silent worker's sub-tasks are re-sent to the others; a silent
    scheduler means this client lost the cluster (`ClusterError`). Partitions, not crashes, need this:
    a cut-off peer's connections stall rather than close."""

    def __post_init__(self) -> None:
        if self.wait not in ("all", "any", "quorum", "deadline"):
            raise UsageError(f"unknown wait policy {self.wait!r}; one of all, any, quorum, deadline")
        if self.wait == "deadline" and self.deadline is None:
            raise UsageError("the deadline policy needs a deadline")
        if self.max_rounds < 1 or self.quorum < 1 or self.replans < 0:
            raise UsageError("max_rounds and quorum must be at least 1, replans at least 0")
        if not self.silence > 0:
            raise UsageError(f"silence must be a positive number of seconds, not {self.silence!r}")


def timers_for(policy: FanOutPolicy, since: float) -> list[tuple[float, TimerKind]]:
    """When a sub-task first dispatched at `since` will need a decision."""
    timers: list[tuple[float, TimerKind]] = []
    if policy.hedge_after is not None:
        timers.append((since + policy.hedge_after, "hedge"))
    if policy.subtask_timeout is not None:
        timers.append((since + policy.subtask_timeout, "timeout"))
    return timers


def on_timer(policy: FanOutPolicy, kind: TimerKind, task: SubTask, *, running: bool, hedged: bool) -> Action:
    """What a timer going off means for `task`: nothing if it has finished, else a hedge or an abandon."""
    if not running:
        return "skip"
    if kind == "hedge":
        # a timeout at the same moment wins: a sub-task being abandoned gets no duplicate
        due_too = policy.subtask_timeout is not None and policy.subtask_timeout <= (policy.hedge_after or 0.0)
        return "skip" if hedged or due_too else "hedge"
    return "replan" if task.attempt < policy.replans else "abandon"


def closing_reason(policy: FanOutPolicy, wins: int, started: float, now: float) -> str | None:
    """Why the round should end now, before every sub-task finished (None: keep going)."""
    if policy.wait == "any" and wins >= 1:
        return "the round reached its any policy"
    if policy.wait == "quorum" and wins >= policy.quorum:
        return f"the round reached its quorum of {policy.quorum}"
    if policy.deadline is not None and now >= started + policy.deadline:
        return f"the round's deadline of {policy.deadline:g} s passed"
    return None
