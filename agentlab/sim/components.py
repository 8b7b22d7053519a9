"""The components a learner writes and the simulator attacks, one per lab (labs 02, 04, 05; lab 07).

Each is one decision of agentlab's, taken out and given to the learner as a plain function of data
(`agentlab.sim.passk`); the simulator plugs the learner's function in where agentlab's own decision
sits, and the nemesis attacks the real code around it:

    lab02.payment    payment_key(call) -> str
                     the idempotency key the payment desk sees for a `pay` call. `call` is
                     {"run", "tool", "arguments": {"order", "amount"}, "subtask", "goal", "round",
                     "attempt"}. Attacked by lost replies, 5xx, re-plans in other words or under other
                     ids, split and merged re-plans, crashed workers and supervisors. Promises: every
                     order charged at most once; every order the run says it paid was charged.
    lab04.key        step_key(step) -> str
                     the journal key of a sub-task's step, under which its result is recorded and a
                     resumed run looks it up. `step` is {"run", "round", "position", "id", "origin",
                     "role", "goal", "deps", "replan", "attempt"}. Attacked by a supervisor that dies at
                     a journal write (every seed), re-plans in other words, under other ids, split and
                     merged, failing payments and crashed workers. Promises: a resumed run redoes no
                     journaled step and takes no other step's result, loses no sub-task, charges no
                     order twice.
    lab05.increment  increment_step(key, replies) -> message
                     the agent's side of an increment, one message at a time: given the server's
                     replies so far ({"op": "read", "version", "value"} or {"op": "write", "ok",
                     "version", "value"} / {"op": "write", "ok": False, "reason"}), the next message:
                     {"op": "read"}, {"op": "write", "value": v, "expected": version or None} or
                     {"op": "done"}. Attacked by three agents interleaved message by message, server
                     crashes, paused lease holders, duplicated writes. Promises: linearizable,
                     durable, and every increment lands.

`attack_task("lab02.payment", payment_key)` grades one; `replay_seed(...)` replays a seed of it.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from agentlab.durable.journal import Step
from agentlab.errors import UsageError
from agentlab.fanout.runners import Runner
from agentlab.identity import Work, identify
from agentlab.memory.values import Entry
from agentlab.sim.board import BOARD_FAULTS, BoardParts, simulate_board
from agentlab.sim.board_checkers import durable, linearizable
from agentlab.sim.board_clients import Call, Lease, observed
from agentlab.sim.checkers import exactly_once, no_lost_subtask, replays_its_own_result, resume_redoes_nothing
from agentlab.sim.fleet import DyingJournal, Parts, Recorded, simulate
from agentlab.sim.history import History
from agentlab.sim.passk import Component, ComponentFailed, Decision, Schedule, Verdict, attack, replay
from agentlab.sim.world import Desk, World, faults_of
from agentlab.steps import SubTask, SubTaskResult

__all__ = [
    "COMPONENTS",
    "INCREMENT",
    "KEY",
    "PAYMENT",
    "attack_task",
    "increments_land",
    "keyed_journal",
    "keyed_parts",
    "learner_increment",
    "paid_means_charged",
    "replay_seed",
]

_ORDER = re.compile(r"ORD-\d+")
MESSAGES = 40
"""How many messages one increment may send before it counts as never finishing (20 compare-and-set
attempts: with three agents, a correct one lands within a few)."""


# -- lab 02: the idempotency key of a payment ------------------------------------------------------------


def paid_means_charged(history: History) -> list[str]:
    """Truthful about effects: every order the run's answer says it paid was charged by the desk."""
    charged = {r.subject for r in history.of("charge") if r.data["first"]}
    said = {order for r in history.of("outcome") for order in _ORDER.findall(str(r.data["answer"]))}
    return [f"the run's answer says {o} was paid, but the desk never charged it" for o in sorted(said - charged)]


@dataclass
class _Now:
    """The sub-task copy running now (the simulation runs one at a time)."""

    work: Work | None = None


@dataclass
class _Noting:
    """A runner that notes which copy runs, so the desk can describe the call it serves."""

    inner: Runner
    now: _Now

    def __call__(self, work: Work) -> SubTaskResult:
        self.now.work = work
        try:
            return self.inner(work)
        finally:
            self.now.work = None


class KeyedDesk(Desk):
    """The payment desk, seeing the key the learner's `payment_key` makes instead of agentlab's."""

    def __init__(self, world: World, decide: Decision, now: _Now) -> None:
        super().__init__(world)
        self.decide, self.now = decide, now

    def pay(self, order: str, amount: float, key: str | None) -> dict[str, Any]:
        work = self.now.work
        if work is None:
            raise UsageError("a payment outside any sub-task")
        task = work.task
        call = {
            "run": work.run_id,
            "tool": "pay",
            "arguments": {"order": order, "amount": amount},
            "subtask": task.id,
            "goal": task.goal,
            "round": task.round,
            "attempt": task.attempt,
        }
        mine = self.decide(call)
        if not isinstance(mine, str) or not mine:
            raise ComponentFailed(f"payment_key returned {mine!r}: a key is a non-empty str")
        return super().pay(order, amount, mine)


def keyed_parts(decide: Decision) -> Parts:
    """agentlab's parts, with the payment desk seeing the keys `decide` makes (a learner's, or an old scheme's)."""
    now = _Now()
    return Parts(
        desk=lambda world: KeyedDesk(world, decide, now),
        runner=lambda inner, world: Recorded(_Noting(inner, now), world),
    )


def _payment(decide: Decision, seed: int, schedule: Schedule | None, size: int) -> History:
    return simulate(seed, PAYMENT.faults, size=size, schedule=schedule, parts=keyed_parts(decide))


PAYMENT = Component(
    "lab02.payment",
    "payment_key",
    _payment,
    faults_of(["payments", "replans", "crashes"]),
    {"exactly_once": exactly_once, "paid_means_charged": paid_means_charged},
)


# -- lab 04: the journal key of a sub-task's step ------------------------------------------------------


def _identity(run_id: str, task: SubTask) -> str:
    """Which step `task` is, for the checkers: agentlab's journal key, the re-plan count left out (a fresh
    re-plan after a timeout is the same work, so taking its result for the timed-out copy is right)."""
    return identify(run_id, replace(task, attempt=0)).journal


class KeyedJournal(DyingJournal):
    """The supervisor's journal, keyed by the learner's `step_key`: each commit of a sub-task's step, and
    each key asked for (`LearnerKey`), is recorded with which step it is (agentlab's own identity), so the
    checkers can tell a step that found its own result from one that found another's, and a redone step
    from a new one."""

    def __init__(self, world: World, dies_at: int | None) -> None:
        super().__init__(world, dies_at)
        self.processes = 0
        """How many supervisor processes have opened it before the one running now."""
        self.held = 0
        """How many sub-task results it holds (committed)."""
        self.logged = 0
        """How many sub-task results the log has had recorded: those it held when this process opened it,
        and those this process has recorded since (the next one's position)."""
        self.steps_at: dict[str, SubTask] = {}  # by path: the sub-task whose result a commit writes

    def noted(self, step: Step) -> dict[str, Any]:
        task = self.steps_at.get(step.path)
        if step.kind != "subtask" or task is None:
            return {}
        self.held += 1
        return {"journal": identify(step.run_id, task).journal, "identity": _identity(step.run_id, task)}

    def revive(self) -> None:
        super().revive()
        self.processes += 1
        self.logged = self.held


@dataclass
class LearnerKey:
    """One supervisor process's `step_key`: asks the learner's function for each sub-task's key.

    A step's position is its place in the run's log of sub-task steps, as a position-numbered log has it
    (`agentlab.durable.journal.PositionLog`, DBOS #688): the first time a process asks for a step's key it
    is looking the step up, and the position is how many steps it had looked up before; each later time
    it is recording the step's result, and the position is how many results the journal held before."""

    decide: Decision
    journal: KeyedJournal
    asked: list[str] = field(default_factory=list)
    """The sub-tasks this process has looked up, in order (by path)."""

    def __call__(self, run_id: str, task: SubTask) -> str:
        path = f"r{task.round}/{task.id}"
        use = "record" if path in self.asked else "lookup"
        if use == "record":
            position = self.journal.logged
            self.journal.logged += 1
        else:
            position = len(self.asked)
            self.asked.append(path)
        step = {
            "run": run_id,
            "round": task.round,
            "position": position,
            "id": task.id,
            "origin": task.origin,
            "role": task.role,
            "goal": task.goal,
            "deps": list(task.deps),
            "replan": task.attempt,
            "attempt": self.journal.processes,
        }
        key = self.decide(step)
        if not isinstance(key, str) or not key:
            raise ComponentFailed(f"step_key returned {key!r}: a key is a non-empty str")
        self.journal.steps_at[path] = task
        self.journal.world.record("key", path, use=use, key=key, identity=_identity(run_id, task))
        return key


def keyed_journal(decide: Decision) -> Parts:
    """agentlab's parts, with the journal naming each sub-task's step by `decide` (a learner's rule, or a
    broken one's)."""
    return Parts(
        journal=KeyedJournal,
        step_key=lambda world, journal: LearnerKey(decide, cast(KeyedJournal, journal)),
    )


def _key(decide: Decision, seed: int, schedule: Schedule | None, size: int) -> History:
    return simulate(seed, KEY.faults, size=size, schedule=schedule, parts=keyed_journal(decide))


KEY = Component(
    "lab04.key",
    "step_key",
    _key,
    faults_of(["crashes", "replans", "payments"]),
    {
        "resume_redoes_nothing": resume_redoes_nothing,
        "replays_its_own_result": replays_its_own_result,
        "no_lost_subtask": no_lost_subtask,
        "exactly_once": exactly_once,
    },
)


# -- lab 05: an increment, one message at a time --------------------------------------------------------


def increments_land(history: History) -> list[str]:
    """Progress: every increment ends acknowledged ("ok"), unless a server crash left it unknown ("info")."""
    return [
        f"{r.data['id']}'s increment of {r.subject} ended without landing ({r.data.get('reason', 'refused')})"
        for r in history.of("fail")
        if r.data["op"] == "incr"
    ]


def _message(answer: Any) -> dict[str, Any]:
    """The learner's next message, checked: a dict with op read, write (with a value) or done."""
    ops = ("read", "write", "done")
    if not isinstance(answer, Mapping) or answer.get("op") not in ops:
        raise ComponentFailed(f"increment_step returned {answer!r}: answer a dict whose op is one of {ops}")
    if answer["op"] == "write" and ("value" not in answer or not isinstance(answer.get("expected"), int | None)):
        raise ComponentFailed(f"increment_step returned {answer!r}: a write has a value and an expected version")
    return dict(answer)


def learner_increment(decide: Decision) -> Any:
    """An `agentlab.sim.board_clients.Operation` that asks the learner's function for each message."""

    def increment(key: str, op_id: str, note: dict[str, Any]) -> Generator[Call | Lease, Any, Any]:
        replies: list[dict[str, Any]] = []
        for _ in range(MESSAGES):
            message = _message(decide(key, list(replies)))
            if message["op"] == "done":
                break
            if message["op"] == "read":
                entry: Entry | None = yield Call("get", (key,))
                replies.append({"op": "read", **observed(entry)})
                continue
            note["sent"] = True  # from here a crash may leave the write landed or not
            kwargs = {"expected": message.get("expected"), "write_id": op_id, "writer": op_id}
            result = yield Call("write", (key, message["value"]), kwargs)
            seen = observed(result.entry) if result.ok else {"reason": result.reason}
            replies.append({"op": "write", "ok": result.ok, **seen})
        else:
            return "fail", {"reason": f"sent {MESSAGES} messages without finishing"}
        last = replies[-1] if replies else {}
        if last.get("op") == "write" and last["ok"]:
            return "ok", {"version": last["version"], "value": last["value"]}
        return "fail", {"reason": "done without an acknowledged write"}

    return increment


def _increment(decide: Decision, seed: int, schedule: Schedule | None, size: int) -> History:
    parts = BoardParts(incr=learner_increment(decide))
    return simulate_board(seed, frozenset(BOARD_FAULTS), clients=size, parts=parts, schedule=schedule)


INCREMENT = Component(
    "lab05.increment",
    "increment_step",
    _increment,
    frozenset(BOARD_FAULTS),
    {"linearizable": linearizable, "durable": durable, "increments_land": increments_land},
    size=3,
    unit="agents",
)

COMPONENTS: Mapping[str, Component] = {c.name: c for c in (PAYMENT, KEY, INCREMENT)}


def _component(task: str) -> Component:
    if task not in COMPONENTS:
        raise UsageError(f"no simulator-graded task called {task!r}; known: {', '.join(COMPONENTS)}")
    return COMPONENTS[task]


def attack_task(task: str, decide: Decision, *, k: int | None = None) -> Verdict:
    """Grade `decide` as the task's component: pass^k over its seeds (see `agentlab.sim.passk.attack`)."""
    return attack(_component(task), decide, k=k)


def replay_seed(task: str, decide: Decision, seed: int) -> History:
    """One seed of the task's attack, run again with `decide`: the identical history every time."""
    return replay(_component(task), decide, seed)
