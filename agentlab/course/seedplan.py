"""Code 40.6.2, reproduced: the seed's plan of N independent tool calls, analysed and then run for real (lab 03).

`seed_plan(7, 8)` draws the same eight latencies as the course (`random.seed(7)`, uniform 0.05–0.30 s);
`report()` prints the course's six lines character for character; `run_on_cluster()` runs the same
plan as real I/O-bound sub-tasks on a Dask cluster and measures what a fan-out actually achieves.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from distributed import Client, wait

from agentlab.analysis import amdahl_speedup, sum_over_max

__all__ = ["SeedRun", "report", "run_on_cluster", "seed_plan", "tool_call"]


def seed_plan(seed: int = 7, n: int = 8) -> list[tuple[str, float]]:
    """The course's plan: n sub-tasks `tool_i`, each a latency drawn uniformly from 0.05-0.30 s (3 decimals)."""
    rng = random.Random(seed)  # the same Mersenne Twister stream as random.seed(seed)
    return [(f"tool_{i}", round(rng.uniform(0.05, 0.30), 3)) for i in range(n)]


def report(plan: list[tuple[str, float]], workers: int | None = None, p: float = 0.85) -> str:
    """The six lines of Output 40.6.2, computed from `plan`."""
    n = len(plan)
    w = n if workers is None else workers  # one worker per independent sub-task, as in the course
    latencies = [secs for _, secs in plan]
    return "\n".join(
        [
            f"subtasks N              : {n}",
            f"workers  W              : {w}",
            f"sum of subtask latency  : {sum(latencies):.3f} s  (critical path if serial)",
            f"slowest single subtask  : {max(latencies):.3f} s  (critical path if parallel)",
            f"ideal fan-out speedup    : {sum_over_max(latencies):.2f}x  (independent sub-tasks)",
            f"Amdahl ceiling (p={p})  : {amdahl_speedup(p, w):.2f}x  at W={w} workers",
        ]
    )


def tool_call(name: str, secs: float) -> tuple[str, float, float]:
    """One sub-task: a tool call that blocks on I/O for `secs` (it sleeps; it does not burn CPU)."""
    start = time.time()
    time.sleep(secs)
    return name, start, time.time()


@dataclass(frozen=True)
class SeedRun:
    wall: float
    serial: float
    ideal: float
    spans: list[tuple[str, float, float]]

    @property
    def achieved_speedup(self) -> float:
        return self.serial / self.wall

    @property
    def ideal_speedup(self) -> float:
        return self.serial / self.ideal

    def summary(self) -> str:
        return (
            f"measured on the cluster    : {self.wall:.3f} s  (ideal {self.ideal:.3f} s, "
            f"efficiency {self.ideal / self.wall:.2f})\n"
            f"achieved fan-out speedup   : {self.achieved_speedup:.2f}x  (ideal {self.ideal_speedup:.2f}x)"
        )


def run_on_cluster(client: Client, plan: list[tuple[str, float]]) -> SeedRun:
    """Fan the plan out as one Dask future per sub-task and time it from first submit to last result."""
    start = time.time()
    futures = [client.submit(tool_call, name, secs, pure=False, key=f"seed-{name}-{start}") for name, secs in plan]
    wait(futures)
    spans = client.gather(futures)
    wall = time.time() - start
    latencies = [secs for _, secs in plan]
    return SeedRun(wall, sum(latencies), max(latencies), spans)
