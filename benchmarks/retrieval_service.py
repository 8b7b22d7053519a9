"""The sharded retrieval service: queries per second at 1, 2 and 4 shards and replicas, side by side.

    python benchmarks/retrieval_service.py [--queries 400] [--repeats 3]

Every configuration answers the same queries on the same cluster in one run; the table reports the
median of the repeats and the ratio to one shard, one replica (the machine is noisy; ratios travel).

Read it with the in-process baseline beside it: a BM25 query over 300 documents costs tens of
microseconds, while each shard query is a Dask task costing about a millisecond to dispatch. Sharding
and replicas pay off only when a shard's own work (a large index, a slow vector store) outweighs that.
"""

from __future__ import annotations

import argparse
import statistics
import time

from agentlab.cluster import connect, describe, quiet_heartbeats
from agentlab.data import kb_index, kb_questions
from agentlab.services.sharded import ShardedIndex

CONFIGS = [(1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (1, 4)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    questions = [q.question for q in kb_questions()]
    queries = (questions * (args.queries // len(questions) + 1))[: args.queries]
    index = kb_index()
    with connect() as client:
        print(describe(client))
        local = time.perf_counter()
        for q in queries:
            index.search(q, 5)
        local_qps = len(queries) / (time.perf_counter() - local)
        print(f"in-process baseline (no cluster): {local_qps:,.0f} queries/s\n")
        print(f"{'shards':>6} {'replicas':>8} {'queries/s':>10} {'vs 1x1':>7}")
        base = None
        for shards, replicas in CONFIGS:
            service = ShardedIndex(client, index, shards=shards, replicas=replicas)
            service.search_many(queries[:20])  # warm up
            rates = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                service.search_many(queries)
                rates.append(len(queries) / (time.perf_counter() - start))
            qps = statistics.median(rates)
            base = base or qps
            print(f"{shards:>6} {replicas:>8} {qps:>10,.0f} {qps / base:>6.2f}x")
        quiet_heartbeats(client)  # the cluster closes next: no heartbeat may be on the wire (a traceback)


if __name__ == "__main__":
    main()
