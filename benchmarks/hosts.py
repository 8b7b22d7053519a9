"""A fan-out across hosts: what one-way latency between the client and the cluster costs a round.

    python benchmarks/hosts.py [--latencies 0,1,5,10,25] [--repeats 2] [--skip-futures-10k]   (as root)
    python benchmarks/hosts.py --partition      a worker cut off mid-round: its cost beside the bound

Each latency gets a fresh `HostCluster` (`agentlab.testing.hosts`): a client host, a scheduler host and two
worker hosts (network namespaces), with the given one-way delay on every client↔cluster link and 0.5 ms on
every link inside the cluster, added by Dask's comms (`agentlab.testing.netdelay`: there is no netem here).
Workloads (sub-tasks wait, they do not compute):

  seed8      Code 40.6.2's plan: 8 independent tool calls of 0.05-0.30 s   (critical path 0.213 s)
  wide1000   1,000 tool calls of 0.2 s                                      (critical path 0.2 s)
  wide10000  10,000 tool calls of 0.2 s                                     (critical path 0.2 s)
  agents100  100 short agent loops on the offline model (50 ms a step)     (critical path: one loop alone)

on lanes and on futures. ideal = critical path + one round trip (2 × one-way) per level of the plan (all
four are one level): the work has to reach the cluster and its result has to come back, whatever the
protocol — that is the one round trip no dispatcher can avoid. (Dask futures need two: the result is
announced through the scheduler, then fetched from the worker.) Opening the lanes (placing one actor
per worker) happens once per dispatcher, before the round, and is not counted. efficiency = ideal / wall.
`vs 0 ms` is wall minus the 0 ms wall, over the round trip the latency adds: 1.0 means the latency
cost exactly one round trip.

It also measures, for the projection in benchmarks/README.md: CPU time per sub-task in the client
process, on the scheduler and on the workers, for the widest round each dispatcher ran at 0 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from distributed import Client

from agentlab.course.seedplan import seed_plan
from agentlab.data import kb_questions
from agentlab.fanout.futures import FuturesDispatcher
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan, SubTask
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.runners import AgentRunner
from agentlab.identity import Work, identify
from agentlab.models.chat import offline_model
from agentlab.testing.hosts import HostCluster
from agentlab.testing.runners import SleepRunner

INSIDE = 0.0005  # one-way seconds between the cluster's own hosts


def workloads() -> dict[str, tuple[Plan, Any, float]]:
    """name → (plan, runner, critical path in seconds)."""
    seed = seed_plan()
    questions = [q.question for q in kb_questions() if len(q.doc_ids) == 1]
    agent = AgentRunner(offline_model(q=1.0, latency=0.05))
    agents = Plan([SubTask(f"q{i}", questions[i % len(questions)]) for i in range(100)])
    return {
        "seed8": (Plan([SubTask(n, n) for n, _ in seed]), SleepRunner(dict(seed)), max(s for _, s in seed)),
        "wide1000": (Plan([SubTask(f"t{i}", "wait") for i in range(1000)]), SleepRunner(default=0.2), 0.2),
        "wide10000": (Plan([SubTask(f"t{i}", "wait") for i in range(10000)]), SleepRunner(default=0.2), 0.2),
        "agents100": (agents, agent, one_loop(agents, agent)),
    }


def one_loop(plan: Plan, runner: Any) -> float:
    """An agent loop's own latency, alone in this process (median of 5): the critical path of independent loops."""
    return statistics.median(runner(Work("one", t, identify("one", t))).duration for t in plan.tasks[:5])


def in_process(width: int, seconds: float = 0.2) -> float:
    """The in-process limit: the same waits as `asyncio.gather` in this process, no distribution (median of 3)."""

    async def wide() -> None:
        await asyncio.gather(*(asyncio.sleep(seconds) for _ in range(width)))

    times = []
    for _ in range(3):
        start = time.perf_counter()
        asyncio.run(wide())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fan_out(plan: Plan, dispatcher: Any) -> None:
    results = run_round(dispatcher, Plan(plan.tasks), FanOutPolicy(), f"bench-{time.time()}")
    bad = [r.error for r in results.values() if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} sub-tasks failed, e.g. {bad[:2]}")


def timed(fn: Callable[[], None], repeats: int) -> float:
    """Median wall time over `repeats` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu(client: Client) -> tuple[float, float, float]:
    """CPU seconds so far: this (client) process, the scheduler, all workers together."""
    workers = sum(client.run(time.process_time).values())
    return time.process_time(), float(client.run_on_scheduler(time.process_time)), float(workers)


def costs(client: Client, plan: Plan, dispatcher: Any) -> tuple[float, float, float]:
    """CPU µs per sub-task in the client, on the scheduler and on the workers, over one round of `plan`."""
    fan_out(plan, dispatcher)  # warm
    before = cpu(client)
    fan_out(plan, dispatcher)
    after = cpu(client)
    return tuple((a - b) / len(plan) * 1e6 for a, b in zip(after, before, strict=True))  # type: ignore[return-value]


def measure(latency: float, args: argparse.Namespace, table: dict[tuple[str, str, float], float]) -> None:
    inside = {(a, b): INSIDE for a in ("sched", "w0", "w1") for b in ("sched", "w0", "w1") if a < b}
    loss = {("client", "*"): args.loss} if args.loss else {}
    with HostCluster(n_workers=2, nthreads=32, latency={("client", "*"): latency, **inside}, loss=loss) as cluster:
        client = cluster.clients[0]
        for name, (plan, runner, _) in workloads().items():
            for kind in ("lanes", "futures"):
                if kind == "futures" and name == "wide10000" and args.skip_futures_10k:
                    continue
                if kind not in args.dispatchers.split(",") or name not in args.workloads.split(","):
                    continue
                make = LaneDispatcher if kind == "lanes" else FuturesDispatcher
                dispatcher = make(client, runner, **args.lane_options) if kind == "lanes" else make(client, runner)
                repeats = 1 if name == "wide10000" else args.repeats
                table[(name, kind, latency)] = timed(lambda p=plan, d=dispatcher: fan_out(p, d), repeats)
                widest = "wide1000" if kind == "futures" and args.skip_futures_10k else "wide10000"
                if latency == 0 and name == widest:
                    args.costs[(kind, name)] = costs(client, plan, dispatcher)
                dispatcher.close()
                print(
                    f"  {latency * 1e3:4g} ms  {name:<10} {kind:<8} {table[(name, kind, latency)]:7.3f} s", flush=True
                )


def partition_cost(silence: float = 1.0, wait: float = 0.25, seconds: float = 1.0, width: int = 20) -> None:
    """A worker cut off mid-round: what it costs the round, beside the same round undisturbed, and the bound
    (undisturbed + the lane's long poll + `silence` + one re-sent sub-task)."""
    plan, runner = Plan([SubTask(f"p{i}", "wait") for i in range(width)]), SleepRunner(default=seconds)
    with HostCluster(n_workers=2, nthreads=8) as cluster:
        client = cluster.clients[0]
        policy = FanOutPolicy(silence=silence)

        def one(cut: bool) -> tuple[float, int, int]:
            dispatcher = LaneDispatcher(client, runner, wait=wait, silence=silence)
            timer = threading.Timer(seconds / 3, cluster.partition, ["w1"]) if cut else None
            start = time.perf_counter()
            if timer:
                timer.start()
            results = run_round(dispatcher, Plan(plan.tasks), policy, f"cut-{time.time()}")
            wall = time.perf_counter() - start
            if timer:
                timer.join()
                cluster.heal("w1")
            dispatcher.close()
            return wall, sum(r.ok for r in results.values()), len(results)

        one(False)  # warm
        calm = statistics.median(one(False)[0] for _ in range(2))
        cut, done, taken = one(True)
        bound = calm + wait + silence + seconds
        print(
            f"\nworker cut off mid-round ({width} sub-tasks of {seconds:g} s on 2 workers, silence {silence:g} s): "
            f"undisturbed {calm:.2f} s, cut {cut:.2f} s, bound {bound:.2f} s; {width - done} lost, "
            f"{taken - width} taken twice"
        )


def report(table: dict[tuple[str, str, float], float], latencies: list[float], args: argparse.Namespace) -> None:
    paths = {name: path for name, (_, _, path) in workloads().items()}
    print(f"\none-way client<->cluster latency; {INSIDE * 1e3:g} ms inside; ideal = critical path + 1 round trip")
    head = f"{'workload':<10} {'dispatch':<8} {'one-way':>7} {'wall s':>8} {'ideal s':>8} {'efficiency':>10}"
    print(f"{head} {'vs 0 ms':>8}")
    for name, path in paths.items():
        for kind in ("lanes", "futures"):
            for latency in latencies:
                wall = table.get((name, kind, latency))
                if wall is None:
                    continue
                ideal = path + 2 * latency
                base = table.get((name, kind, 0.0))
                added = f"{(wall - base) / (2 * latency):8.2f}" if base is not None and latency > 0 else f"{'-':>8}"
                print(
                    f"{name:<10} {kind:<8} {latency * 1e3:5g}ms {wall:8.3f} {ideal:8.3f} {ideal / wall:10.2f} {added}"
                )
    print("\nwide rounds on lanes beside the in-process limit plus the round trip (target: within 1.25x):")
    for name, width in (("wide1000", 1000), ("wide10000", 10000)):
        limit = in_process(width)
        for latency in latencies:
            wall = table.get((name, "lanes", latency))
            if wall is not None:
                target = limit + 2 * latency
                ratio = wall / target
                print(f"  {name:<10} {latency * 1e3:5g}ms  wall {wall:.3f}  limit+RTT {target:.3f}  ratio {ratio:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of the client process: {peak:.0f} MiB (after rounds of up to 10,000 sub-tasks)")
    for (kind, name), (client_us, scheduler_us, workers_us) in args.costs.items():
        print(
            f"\nCPU per sub-task, {name} on {kind} at 0 ms: client {client_us:.0f} µs, scheduler "
            f"{scheduler_us:.0f} µs, workers {workers_us:.0f} µs (all workers together)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latencies", default="0,1,5,10,25", help="one-way client<->cluster, in ms")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-futures-10k", action="store_true", help="10,000 futures take ~10-30 s a run")
    parser.add_argument("--wait", type=float, default=None, help="lanes' long poll (default: the dispatcher's)")
    parser.add_argument("--eager", type=int, default=None, help="lanes' first flush (default: the dispatcher's)")
    parser.add_argument("--linger", type=float, default=None, help="lanes' linger after a first result")
    parser.add_argument("--adaptive-linger", action="store_true", help="lanes linger half their round trip")
    parser.add_argument("--dispatchers", default="lanes,futures")
    parser.add_argument("--partition", action="store_true", help="only: what a worker cut off costs a round")
    parser.add_argument("--loss", type=float, default=0.0, help="loss rate on client<->cluster links (each way)")
    parser.add_argument("--workloads", default="seed8,wide1000,wide10000,agents100")
    args = parser.parse_args()
    options = {"wait": args.wait, "eager": args.eager, "linger": args.linger}
    args.lane_options = {k: v for k, v in options.items() if v is not None}
    if args.adaptive_linger:
        args.lane_options["linger"] = None
    args.costs = {}
    if args.partition:
        partition_cost()
        return
    latencies = [float(x) / 1e3 for x in args.latencies.split(",")]
    table: dict[tuple[str, str, float], float] = {}
    for latency in latencies:
        measure(latency, args, table)
    report(table, latencies, args)


if __name__ == "__main__":
    main()
