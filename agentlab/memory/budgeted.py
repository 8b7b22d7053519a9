"""A model that spends from a shared budget: every step reserved, then settled, at one ledger (lab 05).

    budget = SharedBudget(board.server, Budget("run-42", tokens=5_000))
    model = BudgetedModel(offline_model(), budget)       # the same `complete(...)` as any model
    run_agent(goal, model=model, tools=...)               # ends with stop reason "budget" when it runs out

`BudgetedModel.complete` carries out the decisions of `agentlab.memory.budget` around the model it
wraps: estimate the prompt from above, reserve at the ledger (wait if the requests-per-minute window is
full), call the model, settle with the usage the endpoint reported (or the estimate, if it reported
none). When a reservation is refused it raises `BudgetExhausted`, which the ReAct loop turns into a
graceful answer with stop reason "budget". Both wrappers are picklable, so every agent on every worker
spends from the same ledger row, kept by the memory server (`agentlab.memory.server`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentlab.errors import AgentlabError, BudgetExhausted
from agentlab.memory.budget import Admission, Budget, Spend, count_tokens, estimate_tokens
from agentlab.memory.server import ServerHandle
from agentlab.models.base import Model
from agentlab.wire import Message, ModelReply

__all__ = ["BudgetedModel", "SharedBudget"]


@dataclass
class SharedBudget:
    """One `Budget`, counted at the memory server's ledger: the same spend for every process."""

    server: ServerHandle
    budget: Budget
    clock: Callable[[], float] = field(default=time.time, repr=False)
    """Whose "now" the requests-per-minute window uses (inject a fake clock in tests)."""

    def reserve(self, prompt_tokens: int) -> tuple[Admission, str]:
        answer: tuple[Admission, str] = self.server.call("ledger.reserve", self.budget, prompt_tokens, self.clock())
        return answer

    def settle(self, rid: str, prompt_tokens: int, completion_tokens: int) -> Spend:
        return Spend(**self._spend("ledger.settle", self.budget, rid, prompt_tokens, completion_tokens))

    def spend(self) -> Spend:
        """What is spent and reserved right now, across the cluster."""
        return Spend(**self._spend("ledger.spend", self.budget.name))

    def reset(self) -> None:
        self.server.call("ledger.reset", self.budget.name)

    def _spend(self, method: str, *args: Any) -> dict[str, Any]:
        row: dict[str, Any] = self.server.call(method, *args)
        row["recent"] = tuple(row["recent"])
        return row


@dataclass
class BudgetedModel:
    """`model`, with every step reserved from and charged to `budget` (see the module docstring)."""

    model: Model
    budget: SharedBudget
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def _admit(self, prompt_tokens: int) -> str:
        """Reserve the step, waiting out a full requests-per-minute window up to the budget's max_wait."""
        waited = 0.0
        while True:
            decision, rid = self.budget.reserve(prompt_tokens)
            if decision.ok:
                return rid
            if decision.wait <= 0 or waited + decision.wait > self.budget.budget.max_wait:
                spend = self.budget.spend()
                raise BudgetExhausted(_why(self.budget.budget, decision.reason, spend), limit=decision.reason)
            self.sleep(decision.wait)
            waited += decision.wait

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        """One reasoning step paid from the shared budget; `BudgetExhausted` when it cannot be."""
        prompt = estimate_tokens(messages, tools)
        rid = self._admit(prompt)
        try:
            reply = self.model.complete(messages, tools, tool_choice=tool_choice)
        except AgentlabError:
            self.budget.settle(rid, 0, 0)  # the endpoint failed: release the reservation unused
            raise
        used_prompt = reply.usage.get("prompt_tokens", prompt)
        used_completion = reply.usage.get(
            "completion_tokens",
            count_tokens(reply.content or "") + sum(count_tokens(c.arguments) for c in reply.tool_calls),
        )
        self.budget.settle(rid, used_prompt, used_completion)
        return reply


def _why(budget: Budget, reason: str, spend: Spend) -> str:
    if reason == "tokens":
        return f"the token budget {budget.name!r} is spent: {spend.tokens} of {budget.tokens} tokens used"
    if reason == "cost":
        return f"the cost budget {budget.name!r} is spent: {spend.cost:.4f} of {budget.cost}"
    return f"no request slot within {budget.max_wait:g} s: {budget.requests_per_minute} requests per minute allowed"
