"""A round costs the same per sub-task at any width: counted in executed lines of Python, never timed.

The round runs in-process (`InlineDispatcher`, fake clock) with the observers a real run has — the
journal's recorder, the live progress table, the live DAG view — and `sys.settrace` counts every line of
Python executed (agentlab's, networkx's, the standard library's). A scan over the sub-tasks on each event
makes the count per sub-task grow with the width (ten times the width: ten times the count per
sub-task); bookkeeping that is O(1) per event keeps it flat. Scans inside C functions are not counted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from distributed import Client

from agentlab.durable.run import DurableRun
from agentlab.durable.sqlite import SqliteJournal
from agentlab.events import RoundEvent
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.identity import _identify_slowly, identify
from agentlab.steps import SubTask, SubTaskResult
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner
from agentlab.views.dag import LiveDag
from agentlab.views.widgets import LiveProgress


def lines_run(fn: Callable[[], Any]) -> tuple[int, Any]:
    """How many lines of Python `fn()` executes, and what it returns."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return trace

    sys.settrace(trace)
    try:
        out = fn()
    finally:
        sys.settrace(None)
    return count, out


def shaped_plan(width: int) -> tuple[Plan, SleepRunner]:
    """Groups of four: three researchers then one analyst reading them; every tenth researcher is slow
    (it is hedged, then abandoned and re-planned) and every 25th fails (its analyst is blocked)."""
    tasks, latency = [], {}
    for g in range(width // 4):
        parts = [f"g{g}r{i}" for i in range(3)]
        tasks += [SubTask(p, f"look up {p}") for p in parts]
        tasks.append(SubTask(f"g{g}a", "combine", "analyst", tuple(parts)))
        latency.update({p: 0.1 + 0.01 * (g % 7) for p in parts})
        if g % 10 == 0:
            latency[parts[0]] = 5.0  # past hedge_after and subtask_timeout
    failing = frozenset(f"g{g}r1" for g in range(0, width // 4, 25))
    return Plan(tasks), SleepRunner(latency, hedge_latency={p: 9.0 for p in latency}, fail=failing)


def round_lines(width: int) -> tuple[int, dict[str, SubTaskResult], DurableRun]:
    plan, timing = shaped_plan(width)
    dispatcher = InlineDispatcher(timing)
    journal = SqliteJournal(":memory:")
    log = DurableRun(journal, "scale", "a wide round")
    record, dag = log.recorder(), LiveDag(max_nodes=20)
    progress = LiveProgress(max_rows=20, clock=dispatcher.clock)

    def observe(event: RoundEvent) -> None:
        for observer in (record, progress, dag):
            observer(event)

    policy = FanOutPolicy(hedge_after=1.0, subtask_timeout=2.0)

    def go() -> dict[str, SubTaskResult]:
        return run_round(dispatcher, plan, policy, "scale", observe, clock=dispatcher.clock, settled=log.flush)

    lines, results = lines_run(go)
    return lines, results, log


def test_the_cost_per_sub_task_stays_flat_from_n_to_ten_n() -> None:
    small, _, _ = round_lines(100)
    large, large_results, log = round_lines(1000)
    assert len(large_results) > 1000  # every sub-task ended, plus the fresh re-plans of the slow ones
    states = {r.state for r in large_results.values()}
    assert {"done", "failed", "timeout", "blocked"} <= states
    assert log.store is not None and len(log.store.steps("scale")) == sum(
        r.state in ("done", "failed") for r in large_results.values()
    )  # every settled result journaled, once
    per_task_small, per_task_large = small / 100, large / 1000
    assert per_task_large <= 1.15 * per_task_small, (per_task_small, per_task_large)


def test_the_count_sees_a_scan_per_event() -> None:
    """The check above can fail: an observer that looks at every sub-task seen so far on each event
    (what the old progress table did) makes the count per sub-task grow with the width."""

    def scanning_round(width: int) -> int:
        plan, timing = shaped_plan(width)
        dispatcher = InlineDispatcher(timing)
        seen: dict[str, str] = {}

        def observe(event: RoundEvent) -> None:
            seen[event.task.id] = event.kind
            sum(1 for state in seen.values() if state == "done")

        return lines_run(lambda: run_round(dispatcher, plan, FanOutPolicy(), "scan", observe, clock=dispatcher.clock))[
            0
        ]

    assert scanning_round(400) / 400 > 3 * scanning_round(40) / 40


def test_the_fast_identity_writes_the_same_keys_as_the_general_encoder() -> None:
    odd = ['quote " and \\ back', "tab\tnew\nline \x00\x1f", "émoji 🚀 ünï", "\u2028\u2029", "", "ascii"]
    for text in odd:
        for task in (
            SubTask(text or "x", text, "critic", (text, "b")),
            SubTask("t", "goal", "researcher", (), round=3, attempt=2, replaces="s", origin=text or "o"),
        ):
            assert identify(text, task) == _identify_slowly(text, task)
    flagged = SubTask("t", "goal", round=True)  # type: ignore[arg-type]  (a bool is written `true` in JSON)
    assert identify("r", flagged) == _identify_slowly("r", flagged)


def test_the_lane_dispatchers_own_cost_per_sub_task_stays_flat(client: Client) -> None:
    """The same count on a real cluster, for what the supervisor's thread does with lanes (submitting,
    flushing, taking results in): the results come back in batches of whatever size, so the count per
    sub-task may fall as the width grows, but a scan per event would make it grow."""
    dispatcher = LaneDispatcher(client, SleepRunner(default=0.01))
    try:

        def lines_per_sub_task(width: int) -> float:
            plan = Plan([SubTask(f"t{i}", "wait") for i in range(width)])
            lines, results = lines_run(lambda: run_round(dispatcher, plan, FanOutPolicy(), f"lanes-{width}"))
            assert len(results) == width and all(r.ok for r in results.values())
            return lines / width

        lines_per_sub_task(50)  # warm: lanes, connections, imports
        small, large = lines_per_sub_task(200), lines_per_sub_task(2000)
        assert large <= 1.15 * small, (small, large)
    finally:
        dispatcher.close()
