"""Fan-out at scale: 1k, 10k and 100k I/O-bound sub-tasks, against the in-process asyncio limit of the same run.

    python benchmarks/scale.py [--widths 1000 10000 100000] [--seconds 0.2] [--repeats 3]

Each sub-task waits `--seconds` (a sleep, like a tool call waiting on I/O), so the ideal wall time of a
round is that wait, at any width. For every width one run prints, side by side:

    asyncio    asyncio.gather of the same sleeps in this process: the practical limit, no distribution
    lanes      agentlab's round (`run_round`) through `LaneDispatcher` on a local cluster (2 workers)
    ratio      lanes / asyncio: the price of distributing the work (the targets: 1k ≤ 1.25, 10k ≤ 1.5, 100k ≤ 2.5)
    µs/task    (lanes - ideal) / width: the overhead each sub-task pays; it should stay flat as width grows
    async µs   (asyncio - ideal) / width: the same for the in-process limit
    round µs   the round's own bookkeeping per sub-task: CPU of an in-process round (`InlineDispatcher`, no cluster)
    peak MiB   peak traced memory (tracemalloc) of that in-process round, plan included, and KiB per sub-task

Times are medians of `--repeats` runs (one run for 100k); the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable

from distributed import Client

from agentlab.cluster import local_cluster, quiet_heartbeats
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan, SubTask
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.testing import InlineDispatcher
from agentlab.testing.runners import SleepRunner


def median_wall(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def asyncio_limit(width: int, seconds: float) -> None:
    async def all_of_them() -> None:
        await asyncio.gather(*(asyncio.sleep(seconds) for _ in range(width)))

    asyncio.run(all_of_them())


def wide_plan(width: int) -> Plan:
    return Plan([SubTask(f"t{i}", "wait") for i in range(width)])


def lanes_round(dispatcher: LaneDispatcher, width: int) -> None:
    results = run_round(dispatcher, wide_plan(width), FanOutPolicy(), f"scale-{time.time()}")
    assert len(results) == width and all(r.ok for r in results.values())


def inline_round(width: int, seconds: float, traced: bool = False) -> tuple[float, int]:
    """The round's bookkeeping alone: CPU seconds of an in-process round on a fake clock, and (traced) its
    peak bytes, the plan included (tracing slows it down, so the time comes from an untraced run)."""
    gc.collect()
    if traced:
        tracemalloc.start()
    plan = wide_plan(width)
    dispatcher = InlineDispatcher(SleepRunner(default=seconds))
    start = time.process_time()
    results = run_round(dispatcher, plan, FanOutPolicy(), "scale", clock=dispatcher.clock)
    cpu = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    assert len(results) == width
    return cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with local_cluster(dashboard=False) as cluster, Client(cluster) as client:
        dispatcher = LaneDispatcher(client, SleepRunner(default=args.seconds))
        lanes_round(dispatcher, 100)  # warm up the lanes and the workers' imports
        for width in args.widths:
            repeats = args.repeats if width <= 10_000 else 1
            limit = median_wall(lambda w=width: asyncio_limit(w, args.seconds), repeats)
            lanes = median_wall(lambda w=width: lanes_round(dispatcher, w), repeats)
            bookkeeping, _ = inline_round(width, args.seconds)
            _, peak = inline_round(width, args.seconds, traced=True)
            rows.append((width, args.seconds, limit, lanes, bookkeeping, peak))
            print_row(*rows[-1], header=len(rows) == 1)
        dispatcher.close()
        quiet_heartbeats(client)  # the cluster closes next: no heartbeat may be on the wire (a traceback)


def print_row(width: int, ideal: float, limit: float, lanes: float, round_s: float, peak: int, header: bool) -> None:
    if header:
        print(
            f"{'width':>8} {'ideal s':>8} {'asyncio s':>9} {'lanes s':>8} {'ratio':>6} {'µs/task':>8} "
            f"{'async µs':>8} {'round µs':>8} {'peak MiB':>8} {'KiB/task':>8}"
        )
    print(
        f"{width:>8} {ideal:>8.3f} {limit:>9.3f} {lanes:>8.3f} {lanes / limit:>6.2f} "
        f"{(lanes - ideal) / width * 1e6:>8.1f} {(limit - ideal) / width * 1e6:>8.1f} "
        f"{round_s / width * 1e6:>8.1f} {peak / 2**20:>8.1f} {peak / width / 1024:>8.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
