"""Exactly-once effects under at-least-once execution: workers killed mid-fan-out, payments charged once."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from agentlab.course.payments import PaymentRunner
from agentlab.fanout.futures import FuturesDispatcher
from agentlab.fanout.lanes import LaneDispatcher
from agentlab.fanout.plan import Plan, SubTask
from agentlab.fanout.round import run_round
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.services.api import ApiService
from agentlab.testing import ProcessCluster, kill_worker


@pytest.mark.slow
@pytest.mark.parametrize("dispatch", ["lanes", "futures"])
def test_workers_killed_repeatedly_mid_fan_out_lose_nothing_and_charge_once(tmp_path: Path, dispatch: str) -> None:
    log = tmp_path / "executions.jsonl"
    with (
        ApiService({"NR-1001": 10.0}) as api,
        ProcessCluster(n_workers=2, nthreads=8) as cluster,
        cluster.client() as client,
    ):
        runner = PaymentRunner(api.base_url, work_s=0.4, log_path=str(log))
        plan = Plan([SubTask(f"t{i:02d}", f"pay order {i}") for i in range(24)])
        dispatcher = (LaneDispatcher if dispatch == "lanes" else FuturesDispatcher)(client, runner)
        kills: list[str] = []

        def killer() -> None:
            for i in range(3):  # three workers die while the payments are in flight
                time.sleep(0.25 if i == 0 else 0.6)
                try:
                    kills.append(kill_worker(client, seed=i))
                except Exception as exc:  # no worker alive at that instant: the nanny is restarting it
                    kills.append(f"none ({type(exc).__name__})")

        thread = threading.Thread(target=killer)
        thread.start()
        results = run_round(dispatcher, plan, FanOutPolicy(), "kill-test")
        thread.join()
        dispatcher.close()
        assert len(kills) == 3 and any(k.startswith("tcp://") for k in kills)
        assert sorted(results) == [t.id for t in plan.tasks]  # nothing lost
        assert all(r.ok for r in results.values()), [r.error for r in results.values() if not r.ok]
        ledger = api.ledger()
        assert len(ledger) == 24 and len({c.order for c in ledger}) == 24  # one charge per order
        starts = [json.loads(line)["task"] for line in log.read_text().splitlines() if '"start"' in line]
        assert set(starts) == {t.id for t in plan.tasks}
        # at-least-once execution, exactly-once effect: re-runs happened, and the ledger still has one charge each
        print(
            f"\n{dispatch}: kills {kills}; {len(starts)} executions for 24 sub-tasks; "
            f"{api.stats()['replayed']} payments answered from the ledger"
        )
