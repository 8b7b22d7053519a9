"""One simulated run of the fleet: the real supervisor and runners, the nemesis around them (lab 07).

`simulate(seed, faults)` runs a supervised goal — pay N orders — with the real `Supervisor`, its rounds,
`AgentRunner`'s ReAct loops, the `pay` tool behind its RPC contract (retries, the idempotency key), the
SQLite journal and a shared token budget, all in this process on a `FakeClock`. What the nemesis adds:

    SimDispatcher   an `InlineDispatcher` whose copies take seeded times, and whose workers may die
                    after a copy ran but before its result came back (the copy is sent again)
    DyingJournal    the journal of a supervisor process that dies at a seeded write: that write and
                    every later one never happen; a new supervisor then resumes the run from what was
                    written, as `agentlab run --run-id` does after a crash

Everything that happens goes to the world's history, which the checkers judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentlab.agent.tools import Tool, tool
from agentlab.durable.journal import Step
from agentlab.durable.sqlite import SqliteJournal
from agentlab.events import RoundEvent
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner, Runner
from agentlab.fanout.supervisor import Supervisor
from agentlab.fanout.toolkit import Toolkit
from agentlab.identity import Work
from agentlab.memory.budget import Budget
from agentlab.memory.budgeted import BudgetedModel, SharedBudget
from agentlab.memory.server import ServerHandle
from agentlab.rpc.contract import RetryPolicy, ToolPolicy
from agentlab.rpc.guarded import idempotency_key
from agentlab.sim.history import History
from agentlab.sim.model import SimModel
from agentlab.sim.world import Desk, World
from agentlab.steps import SubTask, SubTaskResult, Tag
from agentlab.testing.clock import FakeClock
from agentlab.testing.inline import InlineDispatcher
from agentlab.testing.runners import SleepRunner

__all__ = ["SimCrash", "simulate"]

PAY_POLICY = ToolPolicy(
    timeout=None, retry=RetryPolicy(attempts=2, base=0.0, jitter=False), idempotent=False, forwards_key=True
)
"""The payment's contract: one retry at once, carrying the idempotency key to the desk."""
_LEDGER = ServerHandle.local(":memory:", name="agentlab-sim")


class SimCrash(BaseException):
    """The supervisor's process died (a BaseException, so nothing in agentlab catches it as a failure)."""


@dataclass(frozen=True)
class SimTiming(SleepRunner):
    """How long each copy takes: 0.5-2.5 s, drawn from the seed by the planned sub-task and the attempt."""

    world: World = field(default_factory=lambda: World(0))

    def seconds(self, task: SubTask, tag: Tag) -> float:
        return 0.5 + 2.0 * self.world.draw("latency", task.origin, task.round, task.attempt, tag)


@dataclass
class SimDispatcher(InlineDispatcher):
    """`InlineDispatcher`, plus workers that die holding a result: the copy is sent again."""

    world: World = field(default_factory=lambda: World(0))

    def completed(self, timeout: float | None) -> list[tuple[str, SubTaskResult]]:
        works = dict(self._work)  # the copies in flight, before the parent forgets the finished ones
        done = []
        for key, result in super().completed(timeout):
            work = works[key]
            if self.world.fires("worker_crash", work.key.journal, len(self.submitted)):
                self.submit(work)  # at-least-once: the dispatcher re-sends what its lost worker held
            else:
                done.append((key, result))
        return done


@dataclass
class Recorded:
    """A runner that tells the world which sub-task runs, and records each execution and its result."""

    inner: Runner
    world: World

    def __call__(self, work: Work) -> SubTaskResult:
        self.world.current = work.task.id
        self.world.record("execute", work.task.id, journal=work.key.journal, origin=work.task.origin)
        result = self.inner(work)
        self.world.current = ""
        return result


class DyingJournal(SqliteJournal):
    """A journal whose supervisor dies at write number `dies_at` (None: never)."""

    def __init__(self, world: World, dies_at: int | None) -> None:
        super().__init__(":memory:")
        self.world, self.dies_at, self.writes, self.dead = world, dies_at, 0, False

    def _write(self) -> bool:
        if self.dead:
            return False
        self.writes += 1
        if self.writes == self.dies_at:
            self.dead = True
            self.world.record("crash", "supervisor", write=self.writes)
            raise SimCrash
        return True

    def append(self, step: Step) -> bool:
        return self.append_many([step])[0] if step else False

    def append_many(self, steps: Sequence[Step]) -> list[bool]:
        if not steps or not self._write():
            return [False] * len(steps)
        for step in steps:
            self.world.record("commit", step.path, key=step.key, step=step.kind)
        return super().append_many(steps)

    def finish_run(self, run_id: str, status: str, answer: str = "", stop_reason: str = "") -> None:
        if self._write():
            super().finish_run(run_id, status, answer, stop_reason)

    def revive(self) -> None:
        """A new supervisor process opens the same file."""
        self.dead, self.dies_at = False, None


def _pay_tool(desk: Desk) -> Tool:
    @tool
    def pay(order: str, amount: float) -> dict[str, Any]:
        """Charge an order once; repeating the call with the same key never charges twice.

        Args:
            order: the order to charge, e.g. ORD-3.
            amount: the amount, e.g. 42.00.
        """
        return desk.pay(order, amount, idempotency_key())

    made: Tool = pay
    return made


_ENDINGS = ("done", "failed", "timeout", "blocked", "cancelled", "replayed")


def _observe(world: World) -> Any:
    def observe(event: RoundEvent) -> None:
        task = event.task
        if event.kind == "planned":
            world.record("planned", task.id, origin=task.origin, goal=task.goal, replaces=task.replaces or "")
        elif event.result is not None and event.kind in (
            "done",
            "failed",
            "timeout",
            "blocked",
            "cancelled",
            "replayed",
        ):
            r = event.result
            world.record(
                "result", task.id, state=r.state, stop_reason=r.stop_reason or "", replayed=event.kind == "replayed"
            )

    return observe


def simulate(
    seed: int,
    faults: frozenset[str] = frozenset(),
    *,
    size: int = 6,
    tokens: int = 4_000,
    schedule: frozenset[tuple[str, str]] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> History:
    """Run one seed (see the module docstring) and return its history."""
    world = World(
        seed, faults, schedule, History({"seed": seed, "faults": sorted(faults), "size": size, **(meta or {})})
    )
    clock = FakeClock(0.0)
    world.now = clock
    desk, budget = Desk(world), Budget(f"sim-{seed}", tokens=tokens)
    model = SimModel(world, size)
    shared = SharedBudget(_LEDGER, budget, clock=clock)
    toolkit = Toolkit(kb=False, sandbox=False, extra=(_pay_tool(desk),), policies={"pay": PAY_POLICY})
    runner = Recorded(AgentRunner(BudgetedModel(model, shared, sleep=clock.advance), toolkit, max_turns=4), world)
    crash_at = 2 + int(world.draw("crash-at") * (size + 3)) if world.fires("supervisor_crash", "run") else None
    journal = DyingJournal(world, crash_at)
    run_id, goal = f"sim-{seed}", f"Pay the {size} orders of the day."
    try:
        for attempt in range(2):  # the first supervisor, and the one that resumes after a crash
            dispatcher = SimDispatcher(SimTiming(world=world), clock=clock, world=world)
            supervisor = Supervisor(
                None, model, runner=runner, dispatch=dispatcher, journal=journal, clock=clock,
                policy=FanOutPolicy(max_rounds=3), observers=[_observe(world)],
            )  # fmt: skip
            try:
                result = supervisor.run(goal, run_id=run_id)
            except SimCrash:
                journal.revive()
                world.record("resume", "supervisor", attempt=attempt + 1)
                continue
            world.record("outcome", run_id, stop_reason=result.stop_reason, answer=result.answer)
            break
        spent = shared.spend()
        world.record("spend", budget.name, tokens=spent.tokens, limit=tokens)
    finally:
        shared.reset()
        journal.close()
    history = world.history
    history.meta["fired"] = [list(f) for f in world.fired]
    return history
