"""Shared-memory performance: blackboard writes/s and read latency from N workers beside Dask's Variable and
Queue, and what budget enforcement costs per model step.

    python benchmarks/memory.py [--workers 2] [--writers 8] [--ops 200] [--steps 200]

Every number is measured here, on a local cluster of worker processes (`agentlab.cluster.local_cluster`):

1. N writer tasks spread over the workers each make `--ops` calls; we report writes/s (all writers
   together) and the p50/p95 latency of one call, for: blackboard `write` (a compare-and-set-capable,
   durable write: an actor call plus an SQLite commit), blackboard `get`, Dask `Variable.set` / `.get`
   (scheduler memory, no versions, not durable) and `Queue.put`. The ratio column is each one against
   `Variable.set`, the naive baseline.
2. `--steps` pairs of model steps of the offline model (zero latency), one plain and one wrapped in a
   `BudgetedModel` (reserve + settle at the ledger: two actor calls), alternating, from this process; the
   difference of the medians is the cost of enforcing a cluster-wide budget per step.
3. The same writes and gets on a `MemoryServer` in this process: what the SQLite store costs without Dask,
   so the rest of a blackboard call's latency is the trip through the actor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable

from distributed import Client, Queue, Variable

from agentlab.cluster import local_cluster, quiet_heartbeats
from agentlab.memory import Blackboard, Budget, BudgetedModel, MemoryServer, SharedBudget
from agentlab.memory.workloads import queue_puts, timed_board_reads, timed_board_writes, variable_sets
from agentlab.models.base import Model
from agentlab.models.chat import offline_model


def _spread(client: Client, fn: Callable[..., list[float]], writers: int, *args: object) -> tuple[float, list[float]]:
    """Run `fn(arg0, writer, ...)` as `writers` tasks at once; (wall seconds, every call's latency)."""
    start = time.perf_counter()
    futures = [client.submit(fn, args[0], w, *args[1:], pure=False) for w in range(writers)]
    batches = client.gather(futures)
    return time.perf_counter() - start, [t for batch in batches for t in batch]


def _spread_named(
    client: Client, fn: Callable[..., list[float]], writers: int, name: str, *args: object
) -> tuple[float, list[float]]:
    start = time.perf_counter()
    futures = [client.submit(fn, name, *args, pure=False) for _ in range(writers)]
    batches = client.gather(futures)
    return time.perf_counter() - start, [t for batch in batches for t in batch]


def _row(what: str, wall: float, latencies: list[float]) -> tuple[str, float, float, float]:
    cuts = statistics.quantiles(latencies, n=20)
    return what, len(latencies) / wall, statistics.median(latencies) * 1000, cuts[18] * 1000


def coordination(client: Client, board: Blackboard, writers: int, ops: int) -> list[tuple[str, float, float, float]]:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    Variable(name, client=client).set(0)
    Queue(name, client=client)
    for w in range(writers):  # the keys the readers read exist before anyone reads them
        board.write(f"bench/{w}", 0)
    return [
        _row("blackboard write", *_spread(client, timed_board_writes, writers, board, ops)),
        _row("blackboard get", *_spread(client, timed_board_reads, writers, board, ops)),
        _row("Variable.set", *_spread_named(client, variable_sets, writers, name, ops)),
        _row("Variable.get", *_spread_named(client, variable_sets, writers, name, ops, True)),
        _row("Queue.put", *_spread_named(client, queue_puts, writers, name, ops)),
    ]


def _step(model: Model) -> float:
    messages = [{"role": "user", "content": "What was the root cause of INC-1001?"}]
    start = time.perf_counter()
    model.complete(messages, [])
    return time.perf_counter() - start


def budget_cost(board: Blackboard, steps: int) -> tuple[float, float]:
    """Median seconds of a plain and of a budgeted model step, taken in alternation so load hits both alike."""
    plain = offline_model()
    budgeted = BudgetedModel(plain, SharedBudget(board.server, Budget(f"bench-{uuid.uuid4().hex[:6]}", tokens=10**12)))
    _step(plain), _step(budgeted)  # warm up: the offline endpoint and the ledger row start on first use
    pairs = [(_step(plain), _step(budgeted)) for _ in range(steps)]
    return statistics.median(p for p, _ in pairs), statistics.median(b for _, b in pairs)


def store_alone(ops: int) -> tuple[float, float]:
    """Mean seconds of a write and of a get on a `MemoryServer` in this process: the store without Dask."""
    server = MemoryServer(os.path.join(tempfile.mkdtemp(prefix="bench-memory-"), "alone.sqlite"))
    start = time.perf_counter()
    for i in range(ops):
        server.call("board.write", "alone", f"k{i % 8}", i, write_id=str(i))
    write = (time.perf_counter() - start) / ops
    start = time.perf_counter()
    for i in range(ops):
        server.call("board.get", "alone", f"k{i % 8}")
    return write, (time.perf_counter() - start) / ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer tasks")
    parser.add_argument("--ops", type=int, default=200, help="calls per writer")
    parser.add_argument("--steps", type=int, default=200, help="model steps for the budget cost")
    args = parser.parse_args()
    with local_cluster(n_workers=args.workers, dashboard=False) as cluster, Client(cluster) as client:
        path = os.path.join(tempfile.mkdtemp(prefix="bench-memory-"), "memory.sqlite")
        board = Blackboard.open(client, "bench", server=f"bench-{uuid.uuid4().hex[:6]}", path=path)
        rows = coordination(client, board, args.writers, args.ops)
        baseline = next(r[1] for r in rows if r[0] == "Variable.set")
        print(f"{args.writers} writers × {args.ops} calls on {args.workers} worker processes")
        print(f"{'operation':<18} {'ops/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'× Variable.set':>15}")
        for what, rate, p50, p95 in rows:
            print(f"{what:<18} {rate:>9.0f} {p50:>8.2f} {p95:>8.2f} {rate / baseline:>15.2f}")
        plain, budgeted = budget_cost(board, args.steps)
        print(f"\nmodel step (offline model, median): {plain * 1000:.2f} ms plain, {budgeted * 1000:.2f} ms budgeted")
        print(f"budget enforcement: {(budgeted - plain) * 1000:+.2f} ms per step ({budgeted / plain:.2f}× a bare step)")
        write, get = store_alone(args.ops)
        print(f"the SQLite store alone, in this process: write {write * 1000:.3f} ms, get {get * 1000:.3f} ms")
        board.server.stop(client)
        quiet_heartbeats(client)  # the cluster closes next: no heartbeat may be on the wire (a traceback)


if __name__ == "__main__":
    main()
