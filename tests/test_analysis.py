"""The performance models against their closed forms, and p fitted back from a synthetic trace."""

from __future__ import annotations

import math
import random

import networkx as nx
import pytest

from agentlab.analysis import (
    amdahl_ceiling,
    amdahl_speedup,
    critical_path,
    critical_path_latency,
    expected_turns,
    fit_parallel_fraction,
    parallel_fraction,
    sum_over_max,
)


def test_expected_turns_and_loop_latency() -> None:
    assert expected_turns(0.5) == 2.0
    assert expected_turns(1.0) == 1.0
    assert critical_path_latency(0.1, 0.3, 0.2) == pytest.approx(5.0)  # ten turns at half a second: 5 s
    with pytest.raises(ValueError):
        expected_turns(0)


def test_amdahl_matches_the_course() -> None:
    assert round(amdahl_speedup(0.85, 8), 2) == 3.90
    assert amdahl_ceiling(0.85) == pytest.approx(1 / 0.15)
    assert round(amdahl_ceiling(0.85), 1) == 6.7  # "never more than about 6.7 times faster"
    assert amdahl_speedup(0.0, 100) == 1.0
    assert amdahl_speedup(1.0, 8) == 8.0
    assert amdahl_ceiling(1.0) == math.inf
    assert amdahl_speedup(0.85, 10**9) == pytest.approx(amdahl_ceiling(0.85))
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError):
            amdahl_speedup(bad, 4)


def test_sum_over_max() -> None:
    assert sum_over_max([0.2, 0.2, 0.2, 0.2]) == 4.0
    assert sum_over_max([1.0, 0.1]) == pytest.approx(1.1)
    with pytest.raises(ValueError):
        sum_over_max([])


def test_critical_path_of_a_dag() -> None:
    g = nx.DiGraph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    path, length = critical_path(g, {"a": 1.0, "b": 2.0, "c": 5.0, "d": 1.0})
    assert path == ["a", "c", "d"] and length == 7.0
    independent = nx.DiGraph()
    independent.add_nodes_from("xyz")
    assert critical_path(independent, {"x": 0.1, "y": 0.3, "z": 0.2}) == (["y"], 0.3)  # the max
    assert critical_path(nx.DiGraph(), {}) == ([], 0.0)


@pytest.mark.parametrize("p", [0.5, 0.85, 0.95])
@pytest.mark.parametrize("workers", [4, 8])
def test_fitted_p_recovers_the_p_of_a_synthetic_trace(p: float, workers: int) -> None:
    rng = random.Random(11)
    # a plan whose work is a fraction p parallel: a serial spine, then `workers` equal sub-tasks, with
    # +-3% noise on every duration as a real trace would have
    total = 10.0
    spine = (1 - p) * total * rng.uniform(0.97, 1.03)
    subtasks = [p * total / workers * rng.uniform(0.97, 1.03) for _ in range(workers)]
    wall = spine + max(subtasks)
    sequential = spine + sum(subtasks)
    fitted = fit_parallel_fraction(sequential, wall, workers)
    assert fitted == pytest.approx(p, abs=0.03)  # the stated tolerance: three points of p
    assert parallel_fraction(spine, sum(subtasks)) == pytest.approx(p, abs=0.03)


def test_fit_is_clipped_when_overheads_make_a_run_slower_than_serial() -> None:
    assert fit_parallel_fraction(1.0, 2.0, 8) == 0.0
    with pytest.raises(ValueError):
        fit_parallel_fraction(1.0, 1.0, 1)
