"""One round of a fan-out: dispatch ready sub-tasks, stream results, handle stragglers (lab 03).

    1. Every ready sub-task (dependencies done) goes to a worker through a dispatcher
       (`agentlab.dispatch`: lanes by default, or one Dask future per sub-task).
    2. Results stream back as they complete; each completion may make dependents ready: dispatch them.
    3. A failure is a value: the sub-task is `failed`, its dependents `blocked`, its siblings unaffected.
    4. A sub-task past `subtask_timeout` is abandoned and re-planned as a fresh sub-task (new id), at
       most `replans` times; past `hedge_after` it gets a speculative duplicate, and the first result
       wins — the loser is cancelled, so whatever it still computes is never read.
    5. The round ends when every sub-task is finished, or early by policy: `any`, `quorum` k done, or
       a `deadline`. What is unfinished then is cancelled; what finished is kept.

Nothing can stop a running thread: cancelling only stops *waiting* for it. Execution is also
at-least-once (a worker's death re-runs its work), which is why the journal (lab 04) and idempotency
keys exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from distributed import Client

from agentlab.dispatch import Dispatcher, LaneDispatcher, Work
from agentlab.executor import SubTaskResult
from agentlab.identity import step_key
from agentlab.plan import Plan, SubTask, base_id
from agentlab.planning import findings_block

__all__ = ["FanOutPolicy", "Observer", "run_round"]

Observer = Callable[[str, SubTask, dict[str, Any]], None]
"""Called as observer(event, task, info) for planned/dispatched/done/failed/timeout/hedged/ignored/cancelled."""


@dataclass(frozen=True)
class FanOutPolicy:
    """When a round is over, and what to do about slow sub-tasks."""

    wait: str = "all"
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

    def __post_init__(self) -> None:
        if self.wait not in ("all", "any", "quorum", "deadline"):
            raise ValueError(f"unknown wait policy {self.wait!r}")
        if self.wait == "deadline" and self.deadline is None:
            raise ValueError("the deadline policy needs a deadline")


@dataclass
class _Flight:
    key: str
    task: SubTask
    tag: str
    since: float


class _Round:
    """The state of one round; `run_round` drives it."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        plan: Plan,
        policy: FanOutPolicy,
        run_id: str,
        observe: Observer,
        done_before: dict[str, SubTaskResult],
    ) -> None:
        self.dispatcher, self.plan, self.policy, self.run_id = dispatcher, plan, policy, run_id
        self.observe = observe
        self.results: dict[str, SubTaskResult] = {}
        self.known = done_before  # findings from earlier rounds that dependents may need
        self.flights: dict[str, _Flight] = {}
        self.first_seen: dict[str, float] = {}
        self.start = time.time()

    def dispatch(self, task: SubTask, tag: str = "primary") -> None:
        deps = [self.results.get(d) or self.known.get(base_id(d)) for d in self.plan.inputs_of(task.id)]
        findings = findings_block([(r.id, r.role, r.state, "", r.value) for r in deps if r]) if deps else ""
        key = f"{task.id}-{tag}-{step_key(self.run_id, task.id, 'subtask', task.goal)}"
        self.dispatcher.submit(Work(key, task, findings, tag))
        now = time.time()
        self.flights[key] = _Flight(key, task, tag, now)
        self.first_seen.setdefault(task.id, now)
        self.plan.mark(task.id, "running")
        self.observe("hedged" if tag == "hedge" else "dispatched", task, {"key": key})

    def live(self) -> list[_Flight]:
        return list(self.flights.values())

    def drop(self, flight: _Flight, why: str) -> None:
        """Stop waiting for a copy: cancel it; whatever it still computes is never read."""
        self.flights.pop(flight.key, None)
        self.dispatcher.cancel(flight.key)
        self.observe("ignored", flight.task, {"tag": flight.tag, "why": why})

    def settle(self, key: str, result: SubTaskResult) -> None:
        """A copy finished: its result is the sub-task's, unless another copy already won."""
        flight = self.flights.pop(key, None)
        if flight is None:
            return  # a copy we had stopped waiting for
        if flight.task.id in self.results:
            self.observe("ignored", flight.task, {"tag": flight.tag, "why": "another copy finished first"})
            return
        self.results[flight.task.id] = result
        self.plan.mark(flight.task.id, result.state)
        self.observe(result.state, flight.task, {"result": result})
        for twin in [f for f in self.live() if f.task.id == flight.task.id]:
            self.drop(twin, f"the {flight.tag} copy won")  # first result wins
        if not result.ok:
            self.block_after(flight.task.id)

    def replay(self, task: SubTask, result: SubTaskResult) -> None:
        """A sub-task a journal says already finished: take its recorded result, run nothing."""
        self.results[task.id] = result
        self.plan.mark(task.id, result.state)
        self.observe("replayed", task, {"result": result})
        if not result.ok:
            self.block_after(task.id)

    def launch_ready(self, replayed: Mapping[str, SubTaskResult]) -> None:
        """Dispatch every ready sub-task; recorded ones are replayed, which may make more of them ready."""
        while ready := self.plan.ready():
            for task in ready:
                if task.id in replayed:
                    self.replay(task, replayed[task.id])
                else:
                    self.dispatch(task)
            if not any(task.id in replayed for task in ready):
                return

    def block_after(self, task_id: str) -> None:
        """Everything downstream of a sub-task that failed for good is blocked: a result of its own."""
        for blocked in self.plan.block_dependents(task_id):
            task = self.plan.task(blocked)
            self.results[blocked] = SubTaskResult(blocked, task.role, "blocked", "", f"depends on {task_id}")
            self.observe("blocked", task, {"after": task_id})

    def abandon(self, task: SubTask, now: float) -> None:
        """A straggler: stop waiting for every copy, record a timeout, and re-plan it fresh if allowed."""
        copies = [f for f in self.live() if f.task.id == task.id]
        for flight in copies:
            self.drop(flight, "abandoned at its timeout")
        waited = now - self.first_seen[task.id]
        result = SubTaskResult(
            task.id,
            task.role,
            "timeout",
            "",
            f"abandoned after {waited:.2f} s",
            copies[0].tag if copies else "",
            self.first_seen[task.id],
            now,
        )
        self.results[task.id] = result
        self.plan.mark(task.id, "timeout")
        self.observe("timeout", task, {"result": result})
        if task.attempt < self.policy.replans:
            fresh = self.plan.replace_with_fresh(task.id)
            self.observe("planned", fresh, {"replaces": task.id})
        else:
            self.block_after(task.id)

    def check_clocks(self, now: float) -> None:
        policy = self.policy
        for task_id in {f.task.id for f in self.live()}:
            task = self.plan.task(task_id)
            age = now - self.first_seen[task_id]
            if policy.subtask_timeout is not None and age >= policy.subtask_timeout:
                self.abandon(task, now)
            elif (
                policy.hedge_after is not None
                and age >= policy.hedge_after
                and not any(f.tag == "hedge" for f in self.live() if f.task.id == task_id)
            ):
                self.dispatch(task, "hedge")

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until a timeout, a hedge or the deadline needs attention (None: just wait)."""
        times = []
        if self.policy.deadline is not None:
            times.append(self.start + self.policy.deadline)
        for task_id in {f.task.id for f in self.live()}:
            since = self.first_seen[task_id]
            if self.policy.subtask_timeout is not None:
                times.append(since + self.policy.subtask_timeout)
            hedged = any(f.tag == "hedge" for f in self.live() if f.task.id == task_id)
            if self.policy.hedge_after is not None and not hedged:
                times.append(since + self.policy.hedge_after)
        return max(0.0, min(times) - now) if times else None

    def enough(self) -> bool:
        wins = sum(r.ok for r in self.results.values())
        return (self.policy.wait == "any" and wins >= 1) or (
            self.policy.wait == "quorum" and wins >= self.policy.quorum
        )

    def close(self, reason: str) -> None:
        """End the round: cancel whatever is still in flight; unfinished sub-tasks are `cancelled`."""
        for flight in list(self.flights.values()):
            self.dispatcher.cancel(flight.key)
            if flight.task.id not in self.results:
                now = time.time()
                self.results[flight.task.id] = SubTaskResult(
                    flight.task.id, flight.task.role, "cancelled", "", reason, "", self.first_seen[flight.task.id], now
                )
                self.plan.mark(flight.task.id, "cancelled")
                self.observe("cancelled", flight.task, {"reason": reason})
        self.flights.clear()


def run_round(
    client: Client,
    plan: Plan,
    runner: Any,
    policy: FanOutPolicy,
    run_id: str,
    observe: Observer | None = None,
    done_before: dict[str, SubTaskResult] | None = None,
    dispatcher: Dispatcher | None = None,
    replayed: Mapping[str, SubTaskResult] | None = None,
) -> dict[str, SubTaskResult]:
    """Run every sub-task of `plan` that can run, by the policy; return each one's result by id.

    `dispatcher` decides how sub-tasks reach the workers (default: a `LaneDispatcher` for this round);
    `replayed` holds results a journal recorded on an earlier attempt of this run: those sub-tasks are
    not run again.
    """
    own = dispatcher is None
    dispatch = dispatcher or LaneDispatcher(client, runner)
    state = _Round(dispatch, plan, policy, run_id, observe or (lambda *_: None), done_before or {})
    try:
        state.launch_ready(replayed or {})
        dispatch.flush()
        while state.live():
            for key, result in dispatch.completed(state.next_wakeup(time.time())):
                state.settle(key, result)
            now = time.time()
            if state.enough():
                state.close(f"the round reached its {policy.wait} policy")
                break
            if policy.deadline is not None and now >= state.start + policy.deadline:
                state.close(f"the round's deadline of {policy.deadline:g} s passed")
                break
            state.check_clocks(now)
            state.launch_ready(replayed or {})
            dispatch.flush()
        state.close("the round ended")
    finally:
        if own:
            dispatch.close()
    return state.results
