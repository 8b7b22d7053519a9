"""A cluster across hosts (network namespaces): a worker, the client and the memory server cut off mid-run.

Each test makes its own hosts — client, scheduler, workers — as network namespaces joined by a bridge, runs
real `dask scheduler` / `dask worker` processes on them, and pulls a host's cable mid-run. Needs root
(CI runs as root); elsewhere the tests skip, saying so. What each costs (2 loaded cores): a cluster starts
in ~3-4 s; the round's `silence` is 1 s, so a cut-off worker costs its round ~1.25 s (long poll + silence)
and a cut-off client ends its run after ~2 s (silence + the scheduler's silence). Measured totals: the
worker test 11-14 s, the CLI test 17-35 s (two `agentlab` processes' start-up), the memory test 7-17 s,
futures 10 s, the others 2-6 s each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentlab.course.payments import PaymentRunner
from agentlab.data import demo_goal
from agentlab.durable.sqlite import SqliteJournal
from agentlab.errors import ClusterError, MemoryUnavailable
from agentlab.fanout.futures import FuturesDispatcher
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.memory.board import Blackboard
from agentlab.memory.server import ServerHandle
from agentlab.services.api import ApiService
from agentlab.steps import SubTask
from agentlab.testing import netns
from agentlab.testing.hosts import HostCluster
from agentlab.testing.runners import SleepRunner

pytestmark = pytest.mark.skipif(
    netns.unavailable() is not None, reason=f"multi-host tests: {netns.unavailable()} (they run in CI as root)"
)

SILENCE = 1.0  # seconds a silent lane or scheduler is given (the policy's bound); Dask's own would be minutes


def _until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Wait for something the network makes happen eventually (a liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _executions(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_worker_cut_off_mid_round_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    log = tmp_path / "executions.log"
    with HostCluster(n_workers=2, nthreads=8) as cluster:
        client = cluster.clients[0]
        with cluster.on("sched"):  # the payments API lives on the scheduler's host: w1 loses it too
            api = ApiService({"NR-1001": 10.0}, host=cluster.ip("sched"))
        with api:
            cut_off = cluster.procs["w1-dask_worker"].pid
            runner = PaymentRunner(api.base_url, work_s=1.0, log_path=str(log))
            # six independent payments, then two steps after them: the round is still on when w1 heals
            tasks = [SubTask(f"t{i}", f"pay order {i}") for i in range(6)]
            tasks += [SubTask("z1", "sum up", deps=tuple(t.id for t in tasks)), SubTask("z2", "report", deps=("z1",))]
            dispatcher = LaneDispatcher(client, runner, wait=0.25, silence=SILENCE)

            def pull_w1_cable() -> None:  # as soon as w1 is running sub-tasks; healed once they were re-sent
                _until(lambda: any(e["pid"] == cut_off for e in _executions(log)), "w1 to start its sub-tasks")
                cluster.partition("w1")
                starts = lambda: [e for e in _executions(log) if e["event"] == "start" and e["pid"] != cut_off]  # noqa: E731
                _until(lambda: len(starts()) >= 6, "w1's sub-tasks to be re-sent to w0")
                cluster.heal("w1")

            cable = threading.Thread(target=pull_w1_cable)
            cable.start()
            try:
                results = run_round(dispatcher, Plan(tasks), FanOutPolicy(silence=SILENCE), "cut-worker")
            finally:
                cable.join()
            # no result lost: every sub-task done, the cut-off worker's ones by w0
            assert {r.id: r.state for r in results.values()} == dict.fromkeys([t.id for t in tasks], "done")
            moved = {str(e["task"]) for e in _executions(log) if e["pid"] == cut_off}
            assert len(moved) == 3
            assert all(cluster.ip("w0") in results[t].worker for t in moved)
            # w1 finishes its copies after healing: their results arrive late and are not taken
            _until(lambda: dispatcher.completed(0) == [] and dispatcher.late == 3, "w1's late results")
            dispatcher.close()
            # no effect doubled: each order paid once, though w1's three were executed twice
            ends = [e for e in _executions(log) if e["event"] == "end"]
            assert len(ends) == len(tasks) + 3
            assert sorted(c.order for c in api.ledger()) == sorted(f"cut-worker-{t.id}" for t in tasks)
        # w1 is back in the cluster and runs work
        w1 = next(a for a in client.scheduler_info(n_workers=-1)["workers"] if cluster.ip("w1") in a)
        assert client.submit(os.getpid, workers=[w1], pure=False).result(timeout=30) == cut_off


def _cli(cluster: HostCluster, journal: Path, run_id: str) -> subprocess.Popen[str]:
    """`agentlab run` on the client host, journaled; its round gives a silent cluster `SILENCE` seconds."""
    env = {**cluster.env("client"), "AGENTLAB_CLUSTER_SILENCE": str(SILENCE), "PYTHONPATH": str(Path.cwd())}
    argv = [sys.executable, "-m", "agentlab", "run", demo_goal()[0], "--latency", "0.5"]
    argv += ["--address", cluster.address, "--run-id", run_id, "--journal", str(journal)]
    return subprocess.Popen(
        cluster.command("client", *argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _answer(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("answer")).split(":", 1)[1].strip()


def test_the_client_cut_off_ends_the_run_clearly_and_it_resumes_after_healing(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    with HostCluster(n_workers=2, nthreads=8) as cluster, SqliteJournal(journal) as store:

        def finished() -> dict[str, object]:
            return {s.key: s.payload for s in store.steps("cut") if s.status == "done"}

        run = _cli(cluster, journal, "cut")
        _until(lambda: any(s.kind == "subtask" for s in store.steps("cut")) or run.poll() is not None, "a sub-task")
        cluster.partition("client")  # the notebook's host loses the network mid-run
        out, err = run.communicate(timeout=120)
        assert run.returncode == 2, out + err
        assert "lost the cluster" in err and "Traceback" not in err + out
        before = finished()
        assert any(store.get("cut", key).kind == "subtask" for key in before)  # type: ignore[union-attr]

        cluster.heal("client")
        resumed = _cli(cluster, journal, "cut")
        out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, out + err
        # what finished before the cut was taken from the journal as it was, not done again
        after = finished()
        assert all(after[key] == payload for key, payload in before.items())
        # the answer an uninterrupted run gives (`agentlab demo` checks the same truths)
        assert all(truth.is_answered_by(_answer(out)) for truth in demo_goal()[1])
        assert "stopped  : answer" in out


def test_the_memory_servers_host_cut_off_fails_writes_clearly_and_loses_none(tmp_path: Path) -> None:
    with HostCluster(n_workers=0, extra=("mem",)) as cluster:  # the memory server's host is all there is
        client = cluster.clients[0]
        cluster.start_worker("mem")
        client.wait_for_workers(1, timeout=60)
        mem = next(a for a in client.scheduler_info(n_workers=-1)["workers"] if cluster.ip("mem") in a)
        server = ServerHandle.start(client, "hosts", path=str(tmp_path / "board.sqlite"), worker=mem)
        # short bounds for the test (defaults: 10 s a call, 60 s to start a server, 5 attempts)
        server.call_timeout, server.start_timeout, server.attempts = 1.0, 1.0, 2
        board = Blackboard(server, "run-c")
        acknowledged = {f"k{i}": board.write(f"k{i}", i, write_id=f"w{i}") for i in range(5)}
        assert all(r.ok for r in acknowledged.values())
        assert server.where()["path"] == str(tmp_path / "board.sqlite")

        with cluster.partitioned("mem"), pytest.raises(MemoryUnavailable, match="unreachable after 2 attempts"):
            board.write("k5", 5, write_id="w5")

        # healed: every acknowledged write is there; the one that failed is retried under its write_id, once
        assert {k: e.value for k, e in board.read("k").items()} == {f"k{i}": i for i in range(5)} | (
            {"k5": 5} if board.get("k5") else {}
        )
        assert board.write("k5", 5, write_id="w5").ok
        assert [e.key for e in board.log()].count("k5") == 1
        server.stop(client)


def test_nothing_is_left_behind_even_when_the_test_fails() -> None:
    cluster = HostCluster(n_workers=1, nthreads=2)
    with pytest.raises(ClusterError, match="a test failed here"), cluster:
        assert cluster.leftovers() != []  # namespaces, processes and files exist while it runs
        cluster.partition("w0")  # even with a host cut off
        raise ClusterError("a test failed here")
    assert cluster.leftovers() == []
    assert not [ns for ns in netns.list_namespaces() if ns.startswith(cluster.prefix)]


def test_links_delay_dask_messages_one_way_each() -> None:
    """0.1 s one way between the client and the scheduler: any question to the scheduler takes a round trip
    (a lower bound, so a loaded machine cannot make it flaky); the workers, 0 s away, are not delayed."""
    with HostCluster(n_workers=1, nthreads=2, latency={("client", "sched"): 0.1}) as cluster:
        links = cluster.links()
        assert links.one_way("client", "sched") == links.one_way("sched", "client") == (0.1, 0.0)
        assert links.one_way("w0", "sched") == (0.0, 0.0)
        client = cluster.clients[0]
        start = time.perf_counter()
        client.run_on_scheduler(os.getpid)
        assert time.perf_counter() - start >= 0.2


def test_futures_too_end_with_a_clear_error_when_the_client_is_cut_off() -> None:
    """One Dask future per sub-task: nothing comes back while the client is cut off, the scheduler does not
    answer either, and after the policy's silence the round ends with "lost the cluster" (not a hang)."""
    with HostCluster(n_workers=1, nthreads=4) as cluster:
        client = cluster.clients[0]
        plan = Plan([SubTask(f"s{i}", "wait") for i in range(4)])
        dispatcher = FuturesDispatcher(client, SleepRunner(default=3.0), silence=SILENCE)
        cut = threading.Timer(0.5, cluster.partition, ["client"])
        cut.start()
        try:
            with pytest.raises(ClusterError, match="lost the cluster"):
                run_round(dispatcher, plan, FanOutPolicy(silence=SILENCE), "cut-futures")
        finally:
            cut.join()
            cluster.heal("client")
            dispatcher.close()
