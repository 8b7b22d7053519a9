"""Analysis: the course's performance models, as small pure functions (labs 01 and 03).

E[T] = 1/q                              expected turns when each unfinished turn succeeds with probability q
critical path ≈ E[T]·(ℓ_reason + ℓ_act) one agent's sequential loop
S(W) = 1 / ((1 − p) + p/W)              Amdahl's law, W workers, parallel fraction p
S(∞) = 1 / (1 − p)                      the ceiling no number of workers can pass
Σℓᵢ / max ℓᵢ                            the ideal fan-out speedup of independent sub-tasks
p = (1 − 1/S) / (1 − 1/W)               Amdahl solved for p, given a measured speedup S at W workers
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx

from agentlab.errors import UsageError

__all__ = [
    "amdahl_ceiling",
    "amdahl_speedup",
    "critical_path",
    "critical_path_latency",
    "expected_turns",
    "fit_parallel_fraction",
    "parallel_fraction",
    "sum_over_max",
]


def expected_turns(q: float) -> float:
    """Mean of a geometric number of turns with per-turn success probability q."""
    if not 0.0 < q <= 1.0:
        raise UsageError(f"q must be in (0, 1], got {q}")
    return 1.0 / q


def critical_path_latency(q: float, reason_s: float, act_s: float) -> float:
    """Expected wall time of one agent's sequential loop: E[T] turns of reasoning plus acting."""
    return expected_turns(q) * (reason_s + act_s)


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise UsageError(f"the parallel fraction p must be in [0, 1], got {p}")


def amdahl_speedup(p: float, workers: float) -> float:
    """Amdahl's law: the speedup of work that is a fraction p parallel, on `workers` workers."""
    _check_p(p)
    if workers < 1:
        raise UsageError(f"workers must be at least 1, got {workers}")
    return 1.0 / ((1.0 - p) + p / workers)


def amdahl_ceiling(p: float) -> float:
    """The limit of S(W) as W → ∞: the sequential fraction 1 − p alone bounds the speedup."""
    _check_p(p)
    return float("inf") if p == 1.0 else 1.0 / (1.0 - p)


def sum_over_max(latencies: Sequence[float]) -> float:
    """Ideal speedup of independent sub-tasks: serial costs the sum, a full fan-out costs the max."""
    if not latencies or max(latencies) <= 0:
        raise UsageError("need at least one positive latency")
    return sum(latencies) / max(latencies)


def critical_path(graph: nx.DiGraph, durations: Mapping[str, float]) -> tuple[list[str], float]:
    """The longest chain of dependent sub-tasks, weighting each node by its duration: (path, length)."""
    if graph.number_of_nodes() == 0:
        return [], 0.0
    best: dict[str, tuple[float, str | None]] = {}
    for node in nx.topological_sort(graph):
        before = max(((best[p][0], p) for p in graph.predecessors(node)), default=(0.0, None))
        best[node] = (before[0] + float(durations.get(node, 0.0)), before[1])
    end = max(best, key=lambda n: best[n][0])
    path, node = [], end
    while node is not None:
        path.append(node)
        node = best[node][1]
    return path[::-1], best[end][0]


def parallel_fraction(serial_s: float, parallel_s: float) -> float:
    """p from a trace's work: the share of all work that ran inside fan-outs."""
    total = serial_s + parallel_s
    if total <= 0:
        raise UsageError("no work in the trace")
    return parallel_s / total


def fit_parallel_fraction(sequential_s: float, wall_s: float, workers: int) -> float:
    """The p that Amdahl's law needs to explain a measured run: speedup S = sequential/wall at W workers.

    Clipped to [0, 1]: overheads can make a run slower than Amdahl allows for any p.
    """
    if workers <= 1:
        raise UsageError("fitting p needs more than one worker")
    if sequential_s <= 0 or wall_s <= 0:
        raise UsageError("times must be positive")
    speedup = sequential_s / wall_s
    return min(1.0, max(0.0, (1.0 - 1.0 / speedup) / (1.0 - 1.0 / workers)))
