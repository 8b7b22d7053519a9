"""A sub-task with a side effect: it charges a payment, exactly once, however often it runs (lab 04).

Dask runs work at least once: a retry, a worker's death, a lost result or a resumed supervisor can each
run a sub-task again. `PaymentRunner` shows the cure. Its payment carries an idempotency key made from
the payment itself (`agentlab.identity.effect_key`: the run, the tool, the validated arguments) — never
from the attempt, the copy, the position or the words of the sub-task's goal — so every re-execution,
hedge or re-plan that pays the same order presents the *same* key and the payment service returns the
first charge instead of making a second. It can also log each execution to a file, so tests can count
re-executions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from agentlab.fanout.runners import where
from agentlab.identity import Work
from agentlab.prompts import parse_findings
from agentlab.rpc import contract as rpc
from agentlab.rpc.guarded import GuardedToolbox
from agentlab.services.api_client import ApiClient, payment_tool
from agentlab.steps import SubTask, SubTaskResult
from agentlab.wire import ToolCall

__all__ = ["PaymentRunner"]


@dataclass(frozen=True)
class PaymentRunner:
    """Pay `amount` for order `<run_id>-<planned sub-task>` at the API at `api_url`, after `work_s` of other work."""

    api_url: str
    amount: float = 10.0
    work_s: float = 0.05
    log_path: str | None = None
    fail_first_round: frozenset[str] = frozenset()
    """Sub-tasks that fail (before paying) in round 1, so the supervisor re-plans them in round 2."""

    def _log(self, task: SubTask, event: str) -> None:
        if self.log_path:
            line = json.dumps({"task": task.id, "event": event, "t": time.time(), "pid": os.getpid()})
            with open(self.log_path, "a", encoding="utf-8") as f:  # O_APPEND: one short line, one write
                f.write(line + "\n")

    def __call__(self, work: Work) -> SubTaskResult:
        start, worker, task = time.time(), where(), work.task
        self._log(task, "start")
        time.sleep(self.work_s)
        if task.origin in self.fail_first_round and task.round == 1:
            self._log(task, "failed")
            return work.result("failed", "", "injected failure", worker=worker, start=start, end=time.time())
        with ApiClient(self.api_url, timeout=5.0) as client:
            # the key is this payment in this run: a re-run, a hedge or a re-plan of the order pays once
            box = GuardedToolbox(
                [payment_tool(client)],
                step=work.key,
                default=rpc.ToolPolicy(idempotent=False, forwards_key=True),
            )
            args = {"sku": "NR-1001", "amount": self.amount, "order": f"{work.run_id}-{task.origin}"}
            obs = box.call(ToolCall("pay", "pay", json.dumps(args)))
        self._log(task, "end")
        if not obs.ok:
            return work.result("failed", "", obs.content, worker=worker, start=start, end=time.time())
        # the value names what was paid and what this step was told: a run's answer is reproducible
        inputs = sorted(f["id"] for f in parse_findings(work.findings))
        value = f"paid {task.origin}" + (f" after {', '.join(inputs)}" if inputs else "")
        events = tuple(box.trace_events(work.run_id))
        return work.result("done", value, worker=worker, start=start, end=time.time(), events=events)
