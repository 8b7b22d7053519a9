"""A cluster closes without heartbeat tracebacks (agentlab.cluster.quiet_heartbeats; benchmarks/*.py).

The race, made certain: the scheduler answers heartbeats a second late, a heartbeat is on the wire, and
the cluster closes. Without `quiet_heartbeats` the worker logs "Failed to communicate with scheduler
during heartbeat" with a CommClosedError traceback (what `benchmarks/fanout.py` printed on a busy
machine); with it, the heartbeat lands first and nothing is logged. The cluster is in-process (its
workers are threads, the heartbeat code is the same), so the log is this process's and the test is fast.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from distributed import Client, LocalCluster

from agentlab.cluster import quiet_heartbeats


def _late_heartbeats(dask_scheduler: Any) -> None:
    answer = dask_scheduler.handlers["heartbeat_worker"]

    async def late(**kwargs: Any) -> Any:
        await asyncio.sleep(1.0)
        return answer(**kwargs)

    dask_scheduler.handlers["heartbeat_worker"] = late


_BEATS: set[asyncio.Future[Any]] = set()


async def _beat(dask_worker: Any) -> None:
    _BEATS.add(asyncio.ensure_future(dask_worker.heartbeat()))  # a heartbeat now, on the wire for a second
    await asyncio.sleep(0.1)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def worker_log() -> Iterator[_Records]:
    handler = _Records()
    logger = logging.getLogger("distributed.worker")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _close_with_a_heartbeat_on_the_wire(quiet: bool) -> None:
    with (
        LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        client.run_on_scheduler(_late_heartbeats)
        client.run(_beat)
        if quiet:
            quiet_heartbeats(client)
            stopped = client.run(lambda dask_worker: dask_worker.periodic_callbacks["heartbeat"].is_running())
            assert not any(stopped.values())


def test_without_it_a_heartbeat_on_the_wire_logs_a_traceback_at_close(worker_log: _Records) -> None:
    """The broken variant: the traceback the benchmarks printed."""
    _close_with_a_heartbeat_on_the_wire(quiet=False)
    failed = [r for r in worker_log.records if "during heartbeat" in r.getMessage()]
    assert failed and failed[0].exc_info is not None


def test_quiet_heartbeats_lets_the_cluster_close_with_nothing_logged(worker_log: _Records) -> None:
    _close_with_a_heartbeat_on_the_wire(quiet=True)
    assert not [r for r in worker_log.records if "heartbeat" in r.getMessage()]
