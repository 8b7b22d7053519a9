"""Clusters as separate processes on loopback: connecting, TLS, the plain-TCP warning, sharded retrieval."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from distributed import Client

from agentlab.agent.retrieval import recall_at_k
from agentlab.cluster import InsecureClusterWarning, connect, describe, is_loopback
from agentlab.data import kb_index, kb_questions
from agentlab.errors import ClusterError
from agentlab.services.sharded import ShardedIndex
from agentlab.testing import ProcessCluster, temporary_tls_files


def test_scheduler_and_workers_are_separate_processes(process_cluster: ProcessCluster, client: Client) -> None:
    import os

    pids = process_cluster.worker_pids(client)
    scheduler_pid = client.run_on_scheduler(os.getpid)
    assert len(set(pids.values()) | {scheduler_pid, os.getpid()}) == 4
    assert "2 workers · 32 slots" in describe(client)


def test_connect_by_address_and_by_environment(
    process_cluster: ProcessCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(process_cluster.address) as c:
        assert c.submit(sum, [1, 2, 3]).result() == 6
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", process_cluster.address)
    with connect() as c:
        assert c.scheduler.address == process_cluster.address
    with connect(scheduler_file=process_cluster.scheduler_file) as c:
        assert c.scheduler.address == process_cluster.address


def test_sharded_index_ranks_exactly_like_the_single_index(client: Client) -> None:
    index = kb_index()
    for shards, replicas in [(1, 1), (2, 1), (4, 2)]:
        sharded = ShardedIndex(client, index, shards=shards, replicas=replicas)
        questions = [q.question for q in kb_questions()[:20]]
        got = sharded.search_many(questions, k=5)
        assert [[d.id for d in hits] for hits in got] == [[d.id for d in index.search(q, 5)] for q in questions]
    pairs = [(q.question, q.doc_ids) for q in kb_questions()]
    assert recall_at_k(sharded, pairs, k=5) == recall_at_k(index, pairs, k=5)


def test_tls_cluster_accepts_credentials_and_refuses_plain_tcp(tmp_path: Path) -> None:
    tls = temporary_tls_files(tmp_path / "tls")
    with ProcessCluster(n_workers=1, nthreads=2, tls=tls) as cluster:
        assert cluster.address.startswith("tls://127.0.0.1:")
        with cluster.client() as c:
            assert c.submit(pow, 2, 10).result() == 1024
        plain = cluster.address.replace("tls://", "tcp://")
        with pytest.raises(OSError):
            Client(plain, timeout="2s")


def test_plain_tcp_to_a_remote_address_warns_loudly() -> None:
    unreachable = pytest.raises(ClusterError, match="could not reach the Dask scheduler")
    with pytest.warns(InsecureClusterWarning, match="without TLS"), unreachable:  # a clear error, no traceback
        connect("tcp://192.0.2.10:8786", timeout="0.5s")  # TEST-NET-1: never routable


def test_loopback_addresses_do_not_warn(process_cluster: ProcessCluster) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureClusterWarning)
        connect(process_cluster.address).close()


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("tcp://127.0.0.1:8786", True),
        ("127.0.0.5:1", True),
        ("tcp://[::1]:8786", True),
        ("localhost:8786", True),
        ("tcp://10.0.0.5:8786", False),
        ("tls://scheduler.example.org:8786", False),
        ("inproc://x/1/2", True),
    ],
)
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback
