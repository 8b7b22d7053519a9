"""Durable execution: the supervisor SIGKILLed at random points and resumed — same answer, nothing redone,
nothing charged twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentlab.durable.sqlite import SqliteJournal
from agentlab.services.api import ApiService
from agentlab.testing import ProcessCluster

DRIVER = Path(__file__).with_name("durable_driver.py")


def _start(cluster: ProcessCluster, api: ApiService, journal: Path, run_id: str, log: Path) -> subprocess.Popen[str]:
    args = [sys.executable, str(DRIVER), cluster.address, api.base_url, str(journal), run_id, str(log)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    return out.split("ANSWER: ", 1)[1].strip()


def _executions(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
@pytest.mark.timeout(900)  # many processes killed and restarted: minutes on a loaded 2-core machine
def test_supervisor_killed_at_random_points_resumes_to_the_same_answer(tmp_path: Path) -> None:
    rng = random.Random(40)
    journal = tmp_path / "journal.sqlite"
    with ApiService({"NR-1001": 10.0}) as api, ProcessCluster(n_workers=2, nthreads=16) as cluster:
        # the uninterrupted run: its answer, and how long a run takes (kill points fall inside it)
        proc = _start(cluster, api, journal, "reference", tmp_path / "reference.log")
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        start = time.perf_counter()
        reference = _finish(proc)
        duration = time.perf_counter() - start  # the run itself, after start-up
        assert "paid combine after" in reference

        kills = trials = 0
        while (
            kills < 20 and trials < 30
        ):  # at least 20 kill points that land inside a live run (a loaded machine may need more trials)
            run_id, log = f"trial-{trials}", tmp_path / f"trial-{trials}.log"
            trials += 1
            for window in (0.6 * duration, 0.35 * duration, 0.15 * duration):  # each resume has less left to do
                proc = _start(cluster, api, journal, run_id, log)
                assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
                time.sleep(rng.uniform(0.0, window))
                if proc.poll() is not None:
                    break  # it finished before the kill point
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                kills += 1
            answer = _finish(_start(cluster, api, journal, run_id, log))
            assert answer == reference

            with SqliteJournal(journal) as store:
                done = {
                    s.path.split("/", 1)[1]: s.created
                    for s in store.steps(run_id)
                    if s.kind == "subtask" and s.status == "done"
                }
                assert store.runs()[-1].status == "finished"
            # no completed step ran again: nothing started after its result was journaled
            for event in _executions(log):
                if event["event"] == "start" and event["task"] in done:
                    assert float(event["t"]) <= done[str(event["task"])], f"{event['task']} re-ran after it was done"
            # and no payment was charged twice, however often a step ran
            orders = [c.order for c in api.ledger() if c.order.startswith(f"{run_id}-")]
            assert len(orders) == len(set(orders)) == 7  # a..f and combine; b paid once, in round 2
        assert kills >= 20, f"only {kills} kill points landed inside a run in {trials} trials"
