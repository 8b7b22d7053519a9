"""Explore many seeds, shrink a failing one, replay it (lab 07; README: Simulation).

explore(range(2000), faults)   every seed simulated and judged by every checker: the pass^k table
                               (of k seeds, how many each checker passed) and each violation
shrink(violation)              the fewest faults (and sub-tasks) that still break the same checker:
                               faults are removed one at a time, and the run is replayed with exactly
                               the ones left (schedule mode), until none can go
simulate(seed, faults)         a seed replayed: the identical history (compare `digest()`)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agentlab.sim.checkers import CHECKERS, Checker
from agentlab.sim.fleet import Parts, simulate
from agentlab.sim.history import History

__all__ = ["Report", "Violation", "explore", "shrink"]

AGENTLAB = Parts()
"""agentlab's own parts (the default)."""


@dataclass(frozen=True)
class Violation:
    seed: int
    checker: str
    messages: tuple[str, ...]
    faults: frozenset[str]
    size: int
    fired: tuple[tuple[str, str], ...]
    """The faults that struck, as (fault, where): the schedule `shrink` starts from."""
    parts: Parts = field(default=AGENTLAB, repr=False, compare=False)


@dataclass
class Report:
    runs: int = 0
    seconds: float = 0.0
    passed: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0

    def table(self) -> str:
        """The pass^k line per checker: of k seeds, how many passed."""
        lines = [f"{self.runs} runs in {self.seconds:.1f} s: {self.runs_per_second:.0f} runs/s"]
        for name, ok in self.passed.items():
            verdict = "pass^k holds" if ok == self.runs else f"{self.runs - ok} violated"
            lines.append(f"  {name:<24} {ok:>6}/{self.runs}  {verdict}")
        return "\n".join(lines)


def explore(
    seeds: Iterable[int],
    faults: frozenset[str],
    checkers: Mapping[str, Checker] = CHECKERS,
    *,
    size: int = 6,
    parts: Parts = AGENTLAB,
) -> Report:
    """Simulate every seed and judge it with every checker."""
    report = Report(passed=dict.fromkeys(checkers, 0))
    start = time.perf_counter()
    for seed in seeds:
        history = simulate(seed, faults, size=size, parts=parts)
        fired = tuple((str(f), str(w)) for f, w in history.meta["fired"])
        report.runs += 1
        for name, check in checkers.items():
            messages = check(history)
            if messages:
                report.violations.append(Violation(seed, name, tuple(messages), faults, size, fired, parts))
            else:
                report.passed[name] += 1
    report.seconds = time.perf_counter() - start
    return report


def _fails(violation: Violation, schedule: frozenset[tuple[str, str]], size: int) -> History | None:
    history = simulate(violation.seed, violation.faults, size=size, schedule=schedule, parts=violation.parts)
    return history if CHECKERS[violation.checker](history) else None


def shrink(violation: Violation) -> tuple[frozenset[tuple[str, str]], int, History]:
    """The smallest schedule and plan size found that still violate the same checker, and its history."""
    schedule, size = frozenset(violation.fired), violation.size
    failing = _fails(violation, schedule, size)
    if failing is None:  # the explicit schedule does not reproduce it: keep what explore saw
        return schedule, size, simulate(violation.seed, violation.faults, size=size, parts=violation.parts)
    for smaller in range(1, size):  # fewer sub-tasks first: the faults on the ones left still apply
        found = _fails(violation, schedule, smaller)
        if found is not None:
            size, failing = smaller, found
            break
    for fault in sorted(schedule):  # then each fault, one at a time
        fewer = schedule - {fault}
        found = _fails(violation, fewer, size)
        if found is not None:
            schedule, failing = fewer, found
    return schedule, size, failing
