"""Fan-out performance, side by side in one run: sequential, naive Dask futures, and agentlab's lanes.

    python benchmarks/fanout.py [--repeats 3] [--skip-slow] [--tiny]

Workloads (sub-tasks are I/O-bound: they wait, they do not compute):
  (a) seed8     Code 40.6.2's plan: 8 tool calls of 0.05-0.30 s (ideal: the slowest, 0.213 s)
  (b) wide1000  1,000 tool calls of 0.2 s (ideal: 0.2 s)
  (c) agents1000 1,000 short agent loops: model step + search + answer on the offline model (50 ms/step)
and the research-assistant scenario (the course's practical example).

"naive" is what a newcomer writes: the default LocalCluster and one future per sub-task. "futures" is
the same on agentlab's cluster (2 workers x 32 threads). "lanes" is agentlab's dispatcher. Times are
medians of --repeats runs (the naive runs of (b) and (c) take minutes, so they run once); ratios are
what to read: the machine is noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from distributed import Client, LocalCluster

from agentlab.cluster import local_cluster, quiet_heartbeats
from agentlab.course.scenarios import analyst_questions, research_assistant, summarize
from agentlab.course.seedplan import seed_plan
from agentlab.data import kb_questions
from agentlab.fanout.futures import FuturesDispatcher
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan, SubTask
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner
from agentlab.identity import Work, identify
from agentlab.latency import Latency
from agentlab.models.chat import offline_model
from agentlab.testing.runners import SleepRunner


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of `fn` over `repeats` runs (after a warm-up run when repeating), and the last result."""
    if repeats > 1:
        fn()
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def plans() -> dict[str, tuple[Plan, Any]]:
    seed = seed_plan()
    questions = [q.question for q in kb_questions() if len(q.doc_ids) == 1]
    agent = AgentRunner(offline_model(q=1.0, latency=0.05))
    return {
        "seed8": (Plan([SubTask(n, n) for n, _ in seed]), SleepRunner(dict(seed))),
        "wide1000": (Plan([SubTask(f"t{i}", "wait") for i in range(1000)]), SleepRunner(default=0.2)),
        "agents1000": (Plan([SubTask(f"q{i}", questions[i % len(questions)]) for i in range(1000)]), agent),
    }


def fan_out(plan: Plan, dispatcher: Any) -> dict[str, Any]:
    fresh = Plan(plan.tasks)  # states start over each run
    results = run_round(dispatcher, fresh, FanOutPolicy(), f"bench-{time.time()}")
    assert all(r.ok for r in results.values()), [r.error for r in results.values() if not r.ok][:3]
    return results


def work(run_id: str, task: SubTask) -> Work:
    return Work(run_id, task, identify(run_id, task))


def newcomer(client: Client, plan: Plan, runner: Any) -> list[Any]:
    """What a newcomer writes: one future per sub-task, then gather them all."""
    run_id = f"naive-{time.time()}"
    futures = [client.submit(runner, work(run_id, task), pure=False) for task in plan.tasks]
    return list(client.gather(futures))


def one_loop(plan: Plan, runner: Any) -> float:
    """The critical path of independent agent loops: one loop's own latency, alone on the machine."""
    return statistics.median(runner(work("one", task)).duration for task in plan.tasks[:10])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-slow", action="store_true", help="skip the slow naive and futures runs of (b), (c)")
    parser.add_argument("--tiny", action="store_true", help="seed8 once and one research question: a smoke test")
    args = parser.parse_args()
    if args.tiny:
        args.repeats, args.skip_slow = 1, True
    table: dict[str, dict[str, float]] = {}
    workloads = {"seed8": plans()["seed8"]} if args.tiny else plans()

    with LocalCluster(processes=True, dashboard_address=":0") as naive_cluster, Client(naive_cluster) as naive:
        slots = sum(w["nthreads"] for w in naive.scheduler_info(n_workers=-1)["workers"].values())
        print(f"naive cluster: default LocalCluster, {slots} slots")
        for name, (plan, runner) in workloads.items():
            if name != "seed8" and args.skip_slow:
                continue
            repeats = args.repeats if name == "seed8" else 1
            wall, _ = timed(lambda p=plan, r=runner: newcomer(naive, p, r), repeats)
            table.setdefault(name, {})["naive"] = wall
        quiet_heartbeats(naive)  # the cluster closes next: no heartbeat may be on the wire (a traceback)

    with local_cluster(dashboard=False) as cluster, Client(cluster) as client:
        for name, (plan, runner) in workloads.items():
            row = table.setdefault(name, {})
            if name == "seed8":
                row["sequential"], _ = timed(lambda r=runner, p=plan: [r(work("seq", t)) for t in p.tasks], 1)
            if name == "seed8" or not args.skip_slow:
                futures = FuturesDispatcher(client, runner)
                row["futures"], _ = timed(lambda p=plan, d=futures: fan_out(p, d), args.repeats)
                futures.close()
            lanes = LaneDispatcher(client, runner, threads=512)
            row["lanes"], _ = timed(lambda p=plan, d=lanes: fan_out(p, d), args.repeats)
            lanes.close()
            row["ideal"] = 0.213 if name == "seed8" else (0.2 if name == "wide1000" else one_loop(plan, runner))
        print_table(table)
        print("\nresearch assistant (offline model, lognormal steps: mean 0.4 s, sigma 0.8; user timeout 5 s):")
        model = offline_model(q=0.5, latency=Latency("lognormal", mean=0.4, sigma=0.8))
        questions = analyst_questions(count=1, parts=2) if args.tiny else analyst_questions(count=5, parts=4)
        frame = research_assistant(client, model, questions)
        print(summarize(frame))
        quiet_heartbeats(client)


def print_table(table: dict[str, dict[str, float]]) -> None:
    print(
        f"\n{'workload':<11} {'sequential':>10} {'naive':>8} {'futures':>8} {'lanes':>8} {'ideal':>7} "
        f"{'lanes/ideal':>11} {'naive/lanes':>11}"
    )
    for name, row in table.items():
        seq = f"{row['sequential']:.3f}" if "sequential" in row else "-"
        futures = f"{row['futures']:.3f}" if "futures" in row else "-"
        naive = f"{row['naive']:.3f}" if "naive" in row else "-"
        speedup = f"{row['naive'] / row['lanes']:.1f}x" if "naive" in row else "-"
        print(
            f"{name:<11} {seq:>10} {naive:>8} {futures:>8} {row['lanes']:>8.3f} {row['ideal']:>7.3f} "
            f"{row['ideal'] / row['lanes']:>11.2f} {speedup:>11}"
        )


if __name__ == "__main__":
    main()
