"""How cheap is a simulated run? Explore many seeds and print runs/s and the pass^k table (README: Simulation).

    python benchmarks/sim.py                    # 100,000 seeds of the fleet, all faults, both cores
    python benchmarks/sim.py --seeds 5000       # a quicker look

Side by side in one run: the fleet with every fault vs with none (what the nemesis costs), one process
vs both cores, 6 vs 10 sub-tasks per plan, and the blackboard simulator. Each line prints runs/s and
the ratio to the first line; the last table is the pass^k line of every checker over all the seeds.
"""

from __future__ import annotations

import argparse
import time

from agentlab.cli.sim import explore_parallel
from agentlab.sim.board import BOARD_FAULTS, explore_board
from agentlab.sim.checkers import CHECKERS
from agentlab.sim.world import faults_of


def _rate(label: str, seeds: int, run: object, base: float | None) -> float:
    start = time.perf_counter()
    report = run()  # type: ignore[operator]
    rate = report.runs / (time.perf_counter() - start)
    ratio = f"{rate / base:5.2f}x" if base else "  1.00x"
    print(f"  {label:<44} {rate:8.0f} runs/s  {ratio}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100_000)
    args = parser.parse_args()
    every, none, names = faults_of(["all"]), frozenset[str](), list(CHECKERS)
    probe = range(min(args.seeds, 1000))
    print(f"probes of {len(probe)} seeds each:")
    base = _rate(
        "fleet, 6 sub-tasks, all faults, 1 process",
        len(probe),
        lambda: explore_parallel(probe, every, names, 6, 1),
        None,
    )
    _rate(
        "fleet, 6 sub-tasks, no faults, 1 process", len(probe), lambda: explore_parallel(probe, none, names, 6, 1), base
    )
    _rate(
        "fleet, 10 sub-tasks, all faults, 1 process",
        len(probe),
        lambda: explore_parallel(probe, every, names, 10, 1),
        base,
    )
    _rate(
        "fleet, 6 sub-tasks, all faults, 2 processes",
        len(probe),
        lambda: explore_parallel(probe, every, names, 6, 2),
        base,
    )
    _rate(
        "blackboard, 3 clients, all faults, 1 process",
        len(probe),
        lambda: explore_board(probe, frozenset(BOARD_FAULTS)),
        base,
    )
    print(f"\nthe fleet over {args.seeds} seeds, all faults, 10 sub-tasks per plan, both cores:")
    report = explore_parallel(range(args.seeds), every, names, 10, 2)
    print(report.table())
    for v in report.violations[:5]:
        print(f"  ✗ {v.checker} · seed {v.seed}: {v.messages[0]}")


if __name__ == "__main__":
    main()
