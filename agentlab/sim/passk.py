"""Pass^k: a learner's component under the nemesis on k seeds, the first failing one shrunk and replayable (lab 07).

A *component* is one decision the learner writes — the idempotency key of a payment (lab 02), the journal
key of a sub-task's step (lab 04), the next message of an increment (lab 05) —
as a plain function from data to data. The simulator plugs it into the real code it stands for
(`agentlab.sim.components`) and the nemesis attacks it:

    attack(component, decide)        every seed of `range(k)`, under the component's faults, judged by
                                     its checkers: pass^k holds only if every checker passes every seed.
                                     It stops at the first failing seed and shrinks it
    shrink                           the fewest sub-tasks (or clients) and faults that still break the
                                     same checker: each is removed in turn, the seed replayed with
                                     exactly the ones left (the world's schedule mode)
    replay(component, decide, seed)  one seed again, the identical history: `.timeline()` shows it

Why pure functions of data: the grader calls a learner's function across a process boundary (the
sandbox, `agentlab.grading.testkit`), and a decision that reads nothing but its arguments is one the
simulator can replay exactly (decide apart from doing, as agentlab's own retry, breaker and stop rules
do). Within one run each distinct question is asked once (answers are memoised), so a run never meets
two answers to one question, and an attack across a process boundary asks no more than it must.

Left out: more than one failing seed per attack (pass^k needs one counterexample), and shrinking the
faults' places (a fault is kept or dropped as a whole).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentlab.sim.checkers import Checker
from agentlab.sim.history import History

__all__ = ["Component", "ComponentFailed", "Decision", "Failure", "Verdict", "attack", "replay", "shrink"]

Decision = Callable[..., Any]
"""A learner's function: plain data in (str, numbers, lists, dicts), plain data out."""
Schedule = frozenset[tuple[str, str]]
Run = Callable[[Decision, int, "Schedule | None", int], History]
"""How a component runs one seed: (decide, seed, schedule or None for the nemesis's rates, size)."""


class ComponentFailed(BaseException):
    """The learner's function raised, or answered something the component cannot use.

    A BaseException, so that agentlab's own `except Exception` around the code it is plugged into (a
    sub-task's runner, a tool call) does not take it for an ordinary failure and carry on."""


@dataclass(frozen=True)
class Component:
    """A part of agentlab a learner can write, with the attack that grades it."""

    name: str
    """The task it is graded as, e.g. "lab02.payment"."""
    answer: str
    """The name of the learner's function, e.g. "payment_key"."""
    run: Run
    faults: frozenset[str]
    """The nemesis: the faults that may strike, at their rates."""
    checkers: Mapping[str, Checker]
    """The promises the component must keep on every seed."""
    size: int = 6
    """Sub-tasks per plan (the fleet) or agents (the board); `shrink` tries fewer."""
    unit: str = "sub-tasks"
    """What `size` counts, for messages."""
    k: int = 200


class _Memo:
    """The learner's function, each distinct question asked once per run, any error a `ComponentFailed`."""

    def __init__(self, decide: Decision, name: str) -> None:
        self.decide, self.name, self.answers = decide, name, dict[str, Any]()
        self.error: Exception | None = None
        """What the learner's function raised, as it raised it (`replay` raises it again for its traceback)."""

    def __call__(self, *args: Any) -> Any:
        question = json.dumps(args, sort_keys=True, default=str)
        if question not in self.answers:
            try:
                self.answers[question] = self.decide(*args)
            except AssertionError as exc:  # the grader's word for an answer that raised or is missing
                self.error = exc
                raise ComponentFailed(str(exc)) from None
            except Exception as exc:  # the learner's code, whatever it raised: the seed fails with it
                self.error = exc
                said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                raise ComponentFailed(f"{self.name} raised {said}") from None
        return self.answers[question]


@dataclass(frozen=True)
class Failure:
    """The first seed that broke a promise, and the smallest schedule found that still breaks it."""

    seed: int
    checker: str
    """The promise broken (a checker's name), or "raised" when the learner's function failed."""
    messages: tuple[str, ...]
    fired: Schedule
    """Every fault that struck in the failing run, as (fault, where)."""
    schedule: Schedule
    """The shrunk schedule: replaying the seed with exactly these faults still breaks `checker`."""
    size: int
    history: History = field(repr=False, compare=False)
    """The shrunk run's history."""

    def faults(self, width: int = 40) -> str:
        """The faults of the shrunk schedule, one `fault at where` each, the places cut to `width`."""
        shown = [f"{fault} at {where[:width]}" for fault, where in sorted(self.schedule)]
        return "; ".join(shown) or "no fault at all"


@dataclass(frozen=True)
class Verdict:
    """How a component did on k seeds."""

    component: str
    answer: str
    k: int
    passed: int
    """Seeds that kept every promise (before the first failure)."""
    seconds: float
    calls: int
    """How many questions were put to the learner's function (memoised per run)."""
    failure: Failure | None = None
    unit: str = "sub-tasks"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def message(self) -> str:
        """One paragraph a learner can act on: the seed, the promise, what broke it, how to replay it."""
        if self.failure is None:
            return f"pass^{self.k} holds: {self.answer} kept every promise on all {self.k} seeds"
        f = self.failure
        if f.checker == "raised":
            return f"{f.messages[0]} (on seed {f.seed} of the attack)"
        said = f.messages[0] if len(f.messages[0]) <= 120 else f.messages[0][:119] + "…"
        return (  # what a learner needs first comes first: a grade report cuts a message at 300 characters
            f"pass^{self.k} fails at seed {f.seed} ({self.passed} seeds passed before it); replay it with "
            f'replay_seed("{self.component}", {self.answer}, {f.seed}). {f.checker}: {said} Shrunk to '
            f"{f.size} {self.unit} and {len(f.schedule)} of the {len(f.fired)} faults that struck: {f.faults()}"
        )

    def timeline(self, width: int = 110) -> str:
        """The shrunk failing run, one line per record, faults marked `!` (empty if every seed passed)."""
        return self.failure.history.timeline(width) if self.failure else ""


def _fails(component: Component, decide: Decision, seed: int, schedule: Schedule | None, size: int) -> Failure | None:
    """Run one seed; the first promise it breaks, unshrunk, or None."""
    memo = _Memo(decide, component.answer)
    try:
        history = component.run(memo, seed, schedule, size)
    except ComponentFailed as exc:
        return Failure(seed, "raised", (str(exc),), frozenset(), frozenset(), size, History({"seed": seed}))
    fired = frozenset((str(f), str(w)) for f, w in history.meta.get("fired", []))
    for name, check in component.checkers.items():
        messages = check(history)
        if messages:
            return Failure(seed, name, tuple(messages), fired, fired, size, history)
    return None


def shrink(component: Component, decide: Decision, failure: Failure) -> Failure:
    """The fewest sub-tasks (or clients), then the fewest faults, that still break the same promise."""
    if failure.checker == "raised":
        return failure

    def still(schedule: Schedule, size: int) -> Failure | None:
        found = _fails(component, decide, failure.seed, schedule, size)
        return found if found is not None and found.checker == failure.checker else None

    best = still(failure.fired, failure.size)
    if best is None:  # the explicit schedule does not reproduce it: keep the run the nemesis made
        return failure
    for smaller in range(1, failure.size):
        found = still(best.schedule, smaller)
        if found is not None:
            best = found
            break
    for fault in sorted(best.schedule):
        found = still(best.schedule - {fault}, best.size)
        if found is not None:
            best = found
    return Failure(failure.seed, failure.checker, best.messages, failure.fired, best.schedule, best.size, best.history)


def attack(component: Component, decide: Decision, *, k: int | None = None, first: int = 0) -> Verdict:
    """Seeds `first`, `first + 1`, ... (k of them) under the nemesis; stop at the first failure and shrink it."""
    k = component.k if k is None else k
    counted = _Counting(decide)
    start = time.perf_counter()
    for passed, seed in enumerate(range(first, first + k)):
        failure = _fails(component, counted, seed, None, component.size)
        if failure is not None:
            failure = shrink(component, counted, failure)
            seconds = time.perf_counter() - start
            return Verdict(component.name, component.answer, k, passed, seconds, counted.calls, failure, component.unit)
    seconds = time.perf_counter() - start
    return Verdict(component.name, component.answer, k, k, seconds, counted.calls, None, component.unit)


def replay(
    component: Component, decide: Decision, seed: int, schedule: Schedule | None = None, size: int | None = None
) -> History:
    """One seed run again (with exactly `schedule`'s faults, if given): the identical history every time.
    An error in `decide` reaches the caller as it was raised, so a notebook shows its traceback (a tool
    call's contract would otherwise take it for a failed call and carry on)."""
    memo = _Memo(decide, component.answer)
    try:
        return component.run(memo, seed, schedule, component.size if size is None else size)
    except ComponentFailed:
        if memo.error is not None:
            raise memo.error from None
        raise


class _Counting:
    """The learner's function, counting the calls that reach it."""

    def __init__(self, decide: Decision) -> None:
        self.decide, self.calls = decide, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.decide(*args)
