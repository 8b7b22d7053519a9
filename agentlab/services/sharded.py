"""The retrieval service: the knowledge-base index sharded across Dask workers (lab 02).

The BM25 index is cut into `shards` row blocks; each block is scattered to `replicas` different
workers. A query goes to one replica of every shard in parallel, and the per-shard top-k lists are
merged by score. Blocks keep the *corpus-wide* IDF and length normalisation, so the merged ranking is
exactly the single index's ranking: sharding changes where the work runs, not the answer. Replicas
are the throughput lever: successive queries rotate over them, spreading load over more workers.

Left out: a replica that dies is not rebuilt here (re-create the service; lab 04 covers recovery).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import numpy as np
from distributed import Client, Future

from agentlab.agent.retrieval import Document, Index
from agentlab.errors import ClusterError

__all__ = ["ShardedIndex"]

Hit = tuple[float, int, Document]


def _search(shard: Index, query: str, k: int, offset: int) -> list[Hit]:
    """Runs on a worker: one shard's top k, with corpus-wide positions for tie-breaking."""
    return [(score, offset + i, doc) for score, i, doc in shard.ranked(query, k)]


class ShardedIndex:
    """An index spread over a Dask cluster as `shards` blocks × `replicas` copies; search it like an Index."""

    def __init__(self, client: Client, index: Index, shards: int = 2, replicas: int = 1) -> None:
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        if not workers:
            raise ClusterError("the cluster has no workers to hold the index shards")
        self.client, self.shards, self.replicas = client, shards, replicas
        placement = itertools.cycle(workers)
        bounds = np.linspace(0, len(index.docs), shards + 1).astype(int)
        self._pieces: list[tuple[int, list[Future[Any]]]] = []
        for start, stop in itertools.pairwise(bounds):
            block = index.block(int(start), int(stop))
            copies = [client.scatter(block, workers=[next(placement)], broadcast=False) for _ in range(replicas)]
            self._pieces.append((int(start), copies))
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def submit(self, query: str, k: int = 5) -> list[Future[Any]]:
        """Start one query: a task per shard, each on the next replica in rotation."""
        with self._lock:
            turn = next(self._turn)
        return [
            self.client.submit(_search, copies[turn % len(copies)], query, k, offset, pure=False)
            for offset, copies in self._pieces
        ]

    @staticmethod
    def merge(parts: list[list[Hit]], k: int) -> list[Document]:
        """Merge per-shard top-k lists into the global top k (ties go to the earlier document)."""
        ranked = sorted(itertools.chain.from_iterable(parts), key=lambda hit: (-hit[0], hit[1]))
        return [doc for _, _, doc in ranked[:k]]

    def search(self, query: str, k: int = 5) -> list[Document]:
        return self.merge(self.client.gather(self.submit(query, k)), k)

    def search_many(self, queries: list[str], k: int = 5) -> list[list[Document]]:
        """Many queries with all their shard tasks in flight together (what throughput measures)."""
        gathered: list[list[list[Hit]]] = self.client.gather([self.submit(q, k) for q in queries])
        return [self.merge(parts, k) for parts in gathered]
