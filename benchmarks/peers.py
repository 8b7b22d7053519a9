"""Wide fan-outs beside the peers, in one run: asyncio, LangGraph `Send`, Ray async actors, agentlab's lanes.

    pip install "langgraph==1.2.22" "ray==2.60.0"      # the peers are not agentlab's dependencies
    python benchmarks/peers.py [--widths 8 1000 10000] [--seconds 0.2] [--repeats 3]

Every system runs the same round: `width` I/O-bound sub-tasks that each wait `--seconds`, all at once,
results gathered. The ideal is the wait itself. Each system is written the way its documentation
shows for this job:

    asyncio     asyncio.gather in this process: the practical limit, nothing distributed
    langgraph   a StateGraph that fans out with `Send`, async nodes, max_concurrency = width
    ray         two async actors (max_concurrency 100,000), one call per sub-task, ray.get on all
    lanes       agentlab's round (`run_round` + `LaneDispatcher`) on a local Dask cluster of 2 workers

Times are medians of `--repeats` runs after a warm-up; a peer that is not installed is skipped, saying so.
The research note research/perf-baseline.md has the peers measured once before agentlab's lanes existed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import operator
import statistics
import time
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from distributed import Client

from agentlab.cluster import local_cluster, quiet_heartbeats
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan, SubTask
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.testing.runners import SleepRunner


def median_wall(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def with_asyncio(width: int, seconds: float) -> Callable[[], object]:
    async def all_of_them() -> None:
        await asyncio.gather(*(asyncio.sleep(seconds) for _ in range(width)))

    return lambda: asyncio.run(all_of_them())


class _Round(TypedDict):
    width: int
    done: Annotated[list[int], operator.add]


class _Item(TypedDict):
    i: int


def with_langgraph(width: int, seconds: float) -> Callable[[], object]:
    from langgraph.graph import END, START, StateGraph  # noqa: PLC0415  (optional peer)
    from langgraph.types import Send  # noqa: PLC0415

    async def work(item: _Item) -> dict[str, list[int]]:
        await asyncio.sleep(seconds)
        return {"done": [item["i"]]}

    def fan(state: _Round) -> list[Any]:  # (LangGraph reads these hints: only names it can resolve)
        return [Send("work", {"i": i}) for i in range(state["width"])]

    graph = StateGraph(_Round)
    graph.add_node("work", work)
    graph.add_conditional_edges(START, fan, ["work"])
    graph.add_edge("work", END)
    app = graph.compile()

    def run() -> None:
        out = asyncio.run(app.ainvoke({"width": width, "done": []}, config={"max_concurrency": width}))
        assert len(out["done"]) == width

    return run


def with_ray(width: int, seconds: float) -> Callable[[], object]:
    import ray  # noqa: PLC0415  (optional peer)

    @ray.remote(max_concurrency=100_000)
    class Sleeper:
        async def run(self, i: int) -> int:
            await asyncio.sleep(seconds)
            return i

    actors = [Sleeper.remote() for _ in range(2)]  # type: ignore[attr-defined]

    def run() -> None:
        assert len(ray.get([actors[i % 2].run.remote(i) for i in range(width)])) == width

    return run


def with_lanes(dispatcher: LaneDispatcher, width: int) -> Callable[[], object]:
    def run() -> None:
        plan = Plan([SubTask(f"t{i}", "wait") for i in range(width)])
        results = run_round(dispatcher, plan, FanOutPolicy(), f"peers-{time.time()}")
        assert len(results) == width and all(r.ok for r in results.values())

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 1000, 10000])
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    table: dict[int, dict[str, float]] = {w: {} for w in args.widths}
    for width in args.widths:
        table[width]["asyncio"] = median_wall(with_asyncio(width, args.seconds), args.repeats)
    if importlib.util.find_spec("langgraph"):
        for width in args.widths:
            table[width]["langgraph"] = median_wall(with_langgraph(width, args.seconds), args.repeats)
    else:
        print('langgraph is not installed: pip install "langgraph==1.2.22" to compare with it')
    if importlib.util.find_spec("ray"):
        import ray  # noqa: PLC0415  (optional peer)

        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        for width in args.widths:
            table[width]["ray"] = median_wall(with_ray(width, args.seconds), args.repeats)
        ray.shutdown()
    else:
        print('ray is not installed: pip install "ray==2.60.0" to compare with it')
    with local_cluster(dashboard=False) as cluster, Client(cluster) as client:
        dispatcher = LaneDispatcher(client, SleepRunner(default=args.seconds))
        for width in args.widths:
            table[width]["lanes"] = median_wall(with_lanes(dispatcher, width), args.repeats)
        dispatcher.close()
        quiet_heartbeats(client)  # the cluster closes next: no heartbeat may be on the wire (a traceback)
    print_table(table, args.seconds)


def print_table(table: dict[int, dict[str, Any]], ideal: float) -> None:
    systems = ["asyncio", "langgraph", "ray", "lanes"]
    print(
        f"\n{'width':>7} " + " ".join(f"{s:>10}" for s in systems) + f" {'lanes/asyncio':>14} {'best peer/lanes':>16}"
    )
    for width, row in table.items():
        cells = " ".join(f"{row[s]:>10.3f}" if s in row else f"{'-':>10}" for s in systems)
        peers = [row[s] for s in ("langgraph", "ray") if s in row]
        best = f"{min(peers) / row['lanes']:>15.2f}x" if peers else f"{'-':>16}"
        print(f"{width:>7} {cells} {row['lanes'] / row['asyncio']:>14.2f} {best}")
    print(f"(seconds; ideal {ideal:g} s at every width)")


if __name__ == "__main__":
    main()
