"""A fan-out's result and its report: the answer, how it stopped, and the numbers of lab 03.

`FanOutResult` holds what a supervised run produced — every round's plan, every sub-task result, the
supervisor's trace — and reports it: the summary (wall time beside the sequential path and the ideal,
sum over the critical path), a per-sub-task timeline, every tool call's RPC attempts, the events inside
the sub-tasks as a DataFrame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from agentlab.analysis import critical_path
from agentlab.fanout.plan import Plan
from agentlab.steps import StopReason, SubTaskResult
from agentlab.trace import Trace, merge

__all__ = ["FanOutResult"]


@dataclass
class FanOutResult:
    """A supervised run: the answer, why it stopped, the plans of each round, every sub-task result, the trace."""

    answer: str
    stop_reason: StopReason
    plans: list[Plan]
    results: list[SubTaskResult]
    trace: Trace = field(repr=False)
    wall: float = 0.0

    @property
    def ok(self) -> bool:
        """True only when the run ended with an answer."""
        return self.stop_reason == "answer"

    def to_frame(self) -> pd.DataFrame:
        """The supervisor's trace: plan and reduce steps, and one row per sub-task."""
        return self.trace.to_frame()

    def events_frame(self) -> pd.DataFrame:
        """What happened inside the sub-tasks: every model step, tool call and RPC attempt, one row each."""
        return Trace(self.trace.run_id, list(merge(*(r.events for r in self.results)))).to_frame()

    def failures(self) -> list[SubTaskResult]:
        """The sub-tasks that ended without a result, with why (`error`)."""
        return [r for r in self.results if not r.ok]

    @property
    def spine(self) -> float:
        """Seconds spent in the supervisor's own sequential steps (plan and reduce)."""
        return sum(e.duration for e in self.trace.events if e.who == "supervisor")

    @property
    def sequential(self) -> float:
        """What the same steps would take run one after another: the spine plus every sub-task."""
        return self.spine + sum(r.duration for r in self.results if r.tag == "primary" or r.ok)

    @property
    def ideal(self) -> float:
        """The spine plus each round's critical path: the best any number of workers could do."""
        total = self.spine
        for plan in self.plans:
            durations = {r.id: r.duration for r in self.results if r.id in plan.graph}
            total += critical_path(plan.graph, durations)[1]
        return total

    def summary(self) -> str:
        if not self.results or self.wall <= 0 or self.ideal <= 0:
            return f"wall {self.wall:.2f} s · no sub-task ran, so there is no speedup to report"
        return (
            f"wall {self.wall:.2f} s · sequential path {self.sequential:.2f} s · ideal {self.ideal:.2f} s\n"
            f"achieved speedup {self.sequential / self.wall:.2f}x · ideal speedup "
            f"{self.sequential / self.ideal:.2f}x (sum over the critical path)"
        )

    def timeline(self) -> str:
        """Per-sub-task lines: when it ran (seconds since the run began), where, how it ended, and why."""
        origin = min((e.start for e in self.trace.events), default=0.0)
        lines = []
        for r in sorted(self.results, key=lambda r: (r.start or origin, r.id)):
            t0, t1 = (r.start or origin) - origin, (r.end or origin) - origin
            why = "" if r.ok else f"  ({' '.join((r.error or '').split())[:90]})"  # one line, however it was written
            lines.append(f"  {t0:6.2f}-{t1:6.2f} s  {r.role + ':' + r.id:<22} {r.state:<9} {r.worker or '-':<22}{why}")
        return "\n".join(lines) or "  (no sub-task ran)"

    def rpc_table(self) -> str:
        """Every tool call's RPC attempts, one line each: the sub-task, tool, attempt, outcome and key."""
        rows = [(r.id, e) for r in self.results for e in r.events if e.rpc_of]
        return "\n".join(f"  {tid:<12} {e.rpc_of:<12} {e.what:<60} {e.outcome}" for tid, e in rows)

    def _repr_html_(self) -> str:
        return f"<p><b>{self.stop_reason}</b>: {self.answer}</p><pre>{self.timeline()}</pre>"
