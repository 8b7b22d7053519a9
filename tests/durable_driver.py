"""A supervisor process for the crash tests: run (or resume) one durable multi-round run, print the answer.

python tests/durable_driver.py ADDRESS API_URL JOURNAL RUN_ID LOG
"""

from __future__ import annotations

import sys

from distributed import Client

from agentlab.course.payments import PaymentRunner
from agentlab.durable.sqlite import SqliteJournal
from agentlab.fanout.rounds import FanOutPolicy
from agentlab.fanout.supervisor import Supervisor
from agentlab.models.chat import offline_model

GOAL = "Settle the orders for INC-1, INC-2, INC-3, INC-4, INC-5 and INC-6"


def main(address: str, api_url: str, journal: str, run_id: str, log: str) -> None:
    # b fails in round 1, blocking the combining step: the reducer re-plans both as round 2
    runner = PaymentRunner(api_url, work_s=0.4, log_path=log, fail_first_round=frozenset({"b"}))
    with Client(address) as client, SqliteJournal(journal) as store:
        print("READY", flush=True)  # imports and connections done: the run itself starts now
        supervisor = Supervisor(
            client, offline_model(latency=0.05), runner=runner, journal=store, policy=FanOutPolicy(max_rounds=2)
        )
        result = supervisor.run(GOAL, run_id=run_id)
    print(f"ANSWER: {result.answer}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
