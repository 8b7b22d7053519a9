"""One round of a fan-out: dispatch ready sub-tasks, stream results, handle stragglers (lab 03).

    1. Every ready sub-task (dependencies done) goes to a worker through a dispatcher
       (`agentlab.fanout.lanes`: lanes by default, or one Dask future per sub-task).
    2. Results stream back as they complete; each completion may make dependents ready: dispatch them.
    3. A failure is a value: the sub-task is `failed`, its dependents `blocked`, its siblings unaffected.
    4. A sub-task past `subtask_timeout` is abandoned and re-planned as a fresh sub-task (its next
       attempt), at most `replans` times; past `hedge_after` it gets a speculative duplicate, and the
       first result wins — the loser is cancelled, so whatever it still computes is never read.
    5. The round ends when every sub-task is finished, or early by policy: `any`, `quorum` k done, or
       a `deadline`. What is unfinished then is cancelled; what finished is kept.

The decisions (when to hedge, abandon or close) are pure functions in `agentlab.fanout.rounds`; this module
carries them out. Time comes from the `clock` it is given, so the same round runs on a real cluster
with `time.time` or in-process on a fake clock (`agentlab.testing.InlineDispatcher`). Each event costs
O(1) bookkeeping plus the sub-task's own edges: timers sit in a heap, copies are indexed by sub-task,
and only a finished sub-task's dependents are checked for readiness; a journal commits each batch of
results at once (`settled`). `benchmarks/scale.py` measures it from 1,000 to 100,000 sub-tasks, and
`tests/test_scale.py` counts it.

Nothing can stop a running thread: cancelling only stops *waiting* for it. Execution is also
at-least-once (a worker's death re-runs its work), which is why the journal (lab 04) and idempotency
keys exist.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from distributed import Client

from agentlab.events import EventKind, Observer, RoundEvent
from agentlab.fanout.futures import Dispatcher
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan
from agentlab.fanout.quietgc import fewer_collections
from agentlab.fanout.rounds import FanOutPolicy, TimerKind, closing_reason, on_timer, timers_for
from agentlab.identity import StepId, Work, identify
from agentlab.prompts import findings_block
from agentlab.steps import SubTask, SubTaskResult, Tag

if TYPE_CHECKING:
    from agentlab.fanout.runners import Runner

__all__ = ["fan_out", "run_round"]


class _Round:
    """The state of one round; `run_round` drives it."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        plan: Plan,
        policy: FanOutPolicy,
        run_id: str,
        observe: Observer,
        earlier: Mapping[str, SubTaskResult],
        replayed: Mapping[str, SubTaskResult],
        clock: Callable[[], float],
    ) -> None:
        self.dispatcher, self.plan, self.policy, self.run_id = dispatcher, plan, policy, run_id
        self.observe, self.earlier, self.replayed, self.clock = observe, earlier, replayed, clock
        self.recall: Callable[[SubTask], SubTaskResult | None] | None = None
        self.results: dict[str, SubTaskResult] = {}
        self.flights: dict[str, Work] = {}  # by flight key (one per copy)
        self.copies: dict[str, list[str]] = {}  # sub-task id → its flight keys in flight
        self.first_seen: dict[str, float] = {}
        self.steps: dict[str, StepId] = {}  # sub-task id → its identity, computed once
        self.hedged: set[str] = set()
        self.timers: list[tuple[float, int, TimerKind, str]] = []
        self.timed = bool(timers_for(policy, 0.0))  # does this policy set timers at all?
        self.seq = itertools.count()  # breaks ties between timers due at the same moment
        self.wins = 0
        self.start = clock()

    # -- doing ---------------------------------------------------------------------------------------

    def launch(self, ready: list[SubTask]) -> None:
        """Dispatch ready sub-tasks; recorded ones are replayed, which may make more of them ready."""
        while ready:
            task = ready.pop()
            found = self.replayed.get(task.id)
            if found is None and self.recall is not None and task.attempt:  # a fresh re-plan made mid-round
                found = self.recall(task)
            if found is not None:
                ready.extend(self.finish(task, found, "replayed"))
            else:
                self.dispatch(task)

    def dispatch(self, task: SubTask, tag: Tag = "primary") -> None:
        findings = self.findings_for(task) if task.deps else ""
        work = Work(self.run_id, task, self.step_of(task), findings, tag)
        key = work.flight
        self.dispatcher.submit(work)
        self.flights[key] = work
        copies = self.copies.get(task.id)
        if copies is None:
            self.copies[task.id] = [key]
        else:
            copies.append(key)
        if task.id not in self.first_seen:
            now = self.first_seen[task.id] = self.clock()
            if self.timed:
                for at, kind in timers_for(self.policy, now):
                    heapq.heappush(self.timers, (at, next(self.seq), kind, task.id))
        self.plan.mark(task.id, "running")
        self.observe(RoundEvent("hedged" if tag == "hedge" else "dispatched", task, work.key, tag=tag, flight=key))

    def step_of(self, task: SubTask) -> StepId:
        """The sub-task's identity (`agentlab.identity.identify`), computed once per sub-task."""
        step = self.steps.get(task.id)
        if step is None:
            step = self.steps[task.id] = identify(self.run_id, task)
        return step

    def findings_for(self, task: SubTask) -> str:
        """What the sub-task reads: the results of its dependencies, here and in earlier rounds."""
        inputs = [self.results.get(d) or self.earlier.get(d) for d in self.plan.inputs_of(task.id)]
        rows = [(r.id, r.role, r.state, "", r.value) for r in inputs if r]
        return findings_block(rows) if rows else ""

    def drop(self, key: str, why: str) -> None:
        """Stop waiting for a copy: cancel it; whatever it still computes is never read."""
        work = self.flights.pop(key)
        self.copies[work.task.id].remove(key)
        self.dispatcher.cancel(key)
        self.observe(RoundEvent("ignored", work.task, work.key, tag=work.tag, why=why))

    def settle(self, key: str, result: SubTaskResult) -> None:
        """A copy finished: its result is the sub-task's, unless another copy already won."""
        work = self.flights.pop(key, None)
        if work is None:
            return  # a copy we had stopped waiting for
        task = work.task
        copies = self.copies[task.id]
        copies.remove(key)
        for twin in list(copies) if copies else ():
            self.drop(twin, f"the {work.tag} copy won")  # first result wins
        self.launch(self.finish(task, result, "done" if result.ok else "failed"))

    def finish(self, task: SubTask, result: SubTaskResult, event: EventKind) -> list[SubTask]:
        """Record a sub-task's result; return the dependents it made ready (none if it failed)."""
        self.results[task.id] = result
        self.plan.mark(task.id, result.state)
        self.wins += result.ok
        self.observe(RoundEvent(event, task, self.step_of(task), result))
        if result.ok:
            return self.plan.dependents(task.id)
        self.block_after(task.id)
        return []

    def block_after(self, task_id: str) -> None:
        """Everything downstream of a sub-task that failed for good is blocked: a result of its own."""
        for blocked in self.plan.block_dependents(task_id):
            task = self.plan.task(blocked)
            self.results[blocked] = SubTaskResult(blocked, task.role, "blocked", "", f"depends on {task_id}")
            self.observe(RoundEvent("blocked", task, self.step_of(task), self.results[blocked], after=task_id))

    def abandon(self, task: SubTask, replan: bool, now: float) -> None:
        """A straggler: stop waiting for every copy, record a timeout, and re-plan it fresh if allowed."""
        for key in list(self.copies.get(task.id, ())):
            self.drop(key, "abandoned at its timeout")
        since = self.first_seen[task.id]
        result = SubTaskResult(
            task.id, task.role, "timeout", "", f"abandoned after {now - since:.2f} s", "", since, now
        )
        self.results[task.id] = result
        self.plan.mark(task.id, "timeout")
        self.observe(RoundEvent("timeout", task, self.step_of(task), result))
        if replan:
            fresh = self.plan.replace_with_fresh(task.id)
            self.observe(RoundEvent("planned", fresh, self.step_of(fresh), round=fresh.round, replaces=task.id))
            self.launch([fresh] if self.plan.is_ready(fresh.id) else [])
        else:
            self.block_after(task.id)

    def close(self, reason: str) -> None:
        """End the round: cancel whatever is still in flight; unfinished sub-tasks are `cancelled`."""
        now = self.clock()
        for key, work in list(self.flights.items()):
            self.dispatcher.cancel(key)
            task = work.task
            if task.id not in self.results:
                since = self.first_seen[task.id]
                self.results[task.id] = SubTaskResult(task.id, task.role, "cancelled", "", reason, "", since, now)
                self.plan.mark(task.id, "cancelled")
                self.observe(RoundEvent("cancelled", task, self.step_of(task), self.results[task.id], why=reason))
        self.flights.clear()

    # -- deciding (the decisions themselves are in agentlab.fanout.rounds) -------------------------------------

    def due_timers(self, now: float) -> None:
        """Carry out every timer that has gone off by `now`, oldest first."""
        while self.timers and self.timers[0][0] <= now:
            _, _, kind, task_id = heapq.heappop(self.timers)
            running = bool(self.copies.get(task_id)) and task_id not in self.results
            action = on_timer(
                self.policy, kind, self.plan.task(task_id), running=running, hedged=task_id in self.hedged
            )
            if action == "hedge":
                self.hedged.add(task_id)
                self.dispatch(self.plan.task(task_id), "hedge")
            elif action in ("abandon", "replan"):
                self.abandon(self.plan.task(task_id), action == "replan", now)

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until a timer or the deadline needs attention (None: just wait for results)."""
        times = [self.timers[0][0]] if self.timers else []
        if self.policy.deadline is not None:
            times.append(self.start + self.policy.deadline)
        return max(0.0, min(times) - now) if times else None


def run_round(
    dispatcher: Dispatcher,
    plan: Plan,
    policy: FanOutPolicy,
    run_id: str,
    observe: Observer | None = None,
    earlier: Mapping[str, SubTaskResult] | None = None,
    replayed: Mapping[str, SubTaskResult] | None = None,
    clock: Callable[[], float] = time.time,
    settled: Callable[[], None] | None = None,
    recall: Callable[[SubTask], SubTaskResult | None] | None = None,
) -> dict[str, SubTaskResult]:
    """Run every sub-task of `plan` that can run, by the policy; return each one's result by id.

    `dispatcher` takes sub-tasks to the workers (`LaneDispatcher`, `FuturesDispatcher`, or
    `agentlab.testing.InlineDispatcher`); `earlier` holds results of earlier rounds that sub-tasks here
    may read (by id); `replayed` holds results a journal recorded on an earlier attempt of this run, and
    `recall` finds one for a fresh re-plan made inside the round (its identity is known only then):
    those sub-tasks are not run again. `clock` tells the time (the dispatcher's, if it keeps its own).
    `settled` is called after each batch of results has been observed, and before the round returns
    (even if it fails): where a journal commits a batch at once (`DurableRun.flush`).
    """
    state = _Round(dispatcher, plan, policy, run_id, observe or (lambda *_: None), earlier or {}, replayed or {}, clock)
    state.recall = recall
    with fewer_collections():  # a round's objects live until it ends: collecting them early finds nothing
        _drive(state, dispatcher, policy, clock, settled)
    return state.results


def _drive(
    state: _Round,
    dispatcher: Dispatcher,
    policy: FanOutPolicy,
    clock: Callable[[], float],
    settled: Callable[[], None] | None,
) -> None:
    plan = state.plan
    try:
        state.launch(list(reversed(plan.ready())))
        dispatcher.flush()
        while state.flights:
            for key, result in dispatcher.completed(state.next_wakeup(clock())):
                state.settle(key, result)
            if settled is not None:
                settled()
            now = clock()
            reason = closing_reason(policy, state.wins, state.start, now)
            if reason:
                state.close(reason)
                break
            state.due_timers(now)
            dispatcher.flush()
        state.close("the round ended")
    finally:
        if settled is not None:
            settled()


def fan_out(
    client: Client,
    plan: Plan,
    runner: Runner,
    policy: FanOutPolicy | None = None,
    run_id: str = "fan-out",
    observe: Observer | None = None,
) -> dict[str, SubTaskResult]:
    """One round of `plan` on the cluster behind `client`, through lanes opened for it and closed after."""
    policy = policy or FanOutPolicy()
    dispatcher = LaneDispatcher(client, runner, silence=policy.silence)
    try:
        return run_round(dispatcher, plan, policy, run_id, observe)
    finally:
        dispatcher.close()
