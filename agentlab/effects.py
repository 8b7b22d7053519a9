"""A sub-task with a side effect: it charges a payment, exactly once, however often it runs (lab 04).

Dask runs work at least once: a retry, a worker's death, a lost result or a resumed supervisor can each
run a sub-task again. `PaymentRunner` shows the cure. Its payment carries an idempotency key made from
the step's identity — (run id, sub-task id, tool, arguments) — never from the attempt or the position,
so every re-execution presents the *same* key and the payment service returns the first charge instead
of making a second. It can also log each execution to a file, so tests can count re-executions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from agentlab import rpc
from agentlab.executor import SubTaskResult, where
from agentlab.guarded import GuardedToolbox
from agentlab.plan import SubTask, base_id
from agentlab.planning import parse_findings
from agentlab.services.api_client import ApiClient, payment_tool
from agentlab.wire import ToolCall

__all__ = ["PaymentRunner"]


@dataclass(frozen=True)
class PaymentRunner:
    """Pay `amount` for order `<run_id>-<sub-task>` at the API at `api_url`, after `work_s` of other work."""

    api_url: str
    run_id: str
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

    def __call__(self, task: SubTask, findings: str = "", tag: str = "primary") -> SubTaskResult:
        start, worker = time.time(), where()
        self._log(task, "start")
        time.sleep(self.work_s)
        if task.id in self.fail_first_round:  # round-1 ids have no "-r2" suffix
            self._log(task, "failed")
            return SubTaskResult(task.id, task.role, "failed", "", "injected failure", worker, start, time.time(), tag)
        with ApiClient(self.api_url, timeout=5.0) as client:
            # the path is the planned sub-task (base id): a fresh re-plan of the same work pays the same order
            box = GuardedToolbox(
                [payment_tool(client)],
                run_id=self.run_id,
                path=base_id(task.id),
                default=rpc.ToolPolicy(idempotent=False, forwards_key=True),
            )
            args = {"sku": "NR-1001", "amount": self.amount, "order": f"{self.run_id}-{base_id(task.id)}"}
            obs = box.call(ToolCall("pay", "pay", json.dumps(args)))
        self._log(task, "end")
        if not obs.ok:
            return SubTaskResult(task.id, task.role, "failed", "", obs.content, worker, start, time.time(), tag)
        # the value names what was paid and what this step was told: a run's answer is reproducible
        inputs = sorted(f["id"] for f in parse_findings(findings))
        value = f"paid {base_id(task.id)}" + (f" after {', '.join(inputs)}" if inputs else "")
        return SubTaskResult(task.id, task.role, "done", value, None, worker, start, time.time(), tag)
