"""A model that spends from a shared budget: every step reserved, capped, then settled, at one ledger (lab 05).

    budget = SharedBudget(board.server, Budget("run-42", tokens=5_000))
    model = BudgetedModel(offline_model(), budget)       # the same `complete(...)` as any model
    run_agent(goal, model=model, tools=...)               # ends with stop reason "budget" when it runs out

`BudgetedModel.complete` carries out the decisions of `agentlab.memory.budget` around the model it
wraps:

    1. estimate the prompt from above;
    2. reserve the step's worst case at the ledger — the prompt and its completion cap — waiting if the
       requests-per-minute window is full; a refusal raises `BudgetExhausted`;
    3. call the model with the cap in the request (a `ChatModel` sends it as `max_tokens`);
    4. settle with the usage the endpoint reported (or counted, if it reported none).

A reply that used more than its step reserved (an endpoint that ignored the cap) is charged all the
same, closes the budget at the ledger, and raises `BudgetExhausted` (limit "overspent") naming the
overspend: the reply is not used, and the fault is the model step's error in the run's trace. The ReAct
loop turns `BudgetExhausted` into a graceful answer with stop reason "budget". Both wrappers are
picklable, so every agent on every worker spends from the same ledger row, kept by the memory server
(`agentlab.memory.server`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from agentlab.errors import AgentlabError, BudgetExhausted
from agentlab.memory.budget import (
    Admission,
    Budget,
    Settlement,
    Spend,
    count_tokens,
    estimate_tokens,
    reservation,
    settlement,
)
from agentlab.memory.server import ServerHandle
from agentlab.models.base import CappedModel, Model
from agentlab.wire import Message, ModelReply

__all__ = ["BudgetedModel", "SharedBudget"]


@dataclass
class SharedBudget:
    """One `Budget`, counted at the memory server's ledger: the same spend for every process."""

    server: ServerHandle
    budget: Budget
    clock: Callable[[], float] = field(default=time.time, repr=False)
    """Whose "now" the requests-per-minute window uses (inject a fake clock in tests)."""

    def reserve(self, prompt_tokens: int, ceiling: int | None = None) -> tuple[Admission, str]:
        """Admit a step of `prompt_tokens` whose model writes at most `ceiling` (None: no cap of its own)."""
        answer: tuple[Admission, str] = self.server.call(
            "ledger.reserve", self.budget, prompt_tokens, self.clock(), ceiling
        )
        return answer

    def settle(self, rid: str, prompt_tokens: int, completion_tokens: int) -> Spend:
        return Spend(**self._spend("ledger.settle", self.budget, rid, prompt_tokens, completion_tokens))

    def spend(self) -> Spend:
        """What is spent and reserved right now, across the cluster."""
        return Spend(**self._spend("ledger.spend", self.budget.name))

    def reset(self) -> None:
        """Forget the spend, the reservations and any overspend (which reopens a closed budget)."""
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

    def _admit(self, prompt_tokens: int) -> tuple[Admission, str]:
        """Reserve the step, waiting out a full requests-per-minute window up to the budget's max_wait."""
        waited = 0.0
        while True:
            decision, rid = self.budget.reserve(prompt_tokens, _ceiling(self.model))
            if decision.ok:
                return decision, rid
            if decision.wait <= 0 or waited + decision.wait > self.budget.budget.max_wait:
                spend = self.budget.spend()
                raise BudgetExhausted(_why(self.budget.budget, decision.reason, spend), limit=decision.reason)
            self.sleep(decision.wait)
            waited += decision.wait

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        """One reasoning step paid from the shared budget; `BudgetExhausted` when it cannot be (or overspent)."""
        prompt = estimate_tokens(messages, tools)
        admission, rid = self._admit(prompt)
        try:
            reply = _capped(self.model, admission.completion).complete(messages, tools, tool_choice=tool_choice)
        except AgentlabError:
            self.budget.settle(rid, 0, 0)  # the endpoint failed: release the reservation unused
            raise
        self._settle(rid, prompt, admission.completion, reply)
        return reply

    def _settle(self, rid: str, prompt: int, completion: int, reply: ModelReply) -> None:
        """Charge the step what its endpoint reported; `BudgetExhausted` if that passed what the step reserved."""
        budget = self.budget.budget
        written = count_tokens(reply.content or "") + sum(count_tokens(c.arguments) for c in reply.tool_calls)
        used = (reply.usage.get("prompt_tokens", prompt), reply.usage.get("completion_tokens", written))
        spend = self.budget.settle(rid, *used)
        charge = settlement(budget, reservation(budget, prompt, completion), *used)  # as the ledger decided it
        if charge.overspent:  # the ledger has closed the budget: no step of any agent is admitted now
            raise BudgetExhausted(_overspent(budget, prompt, completion, charge, spend), limit="overspent")


def _cappable(model: Model) -> CappedModel | None:
    """`model` as a `CappedModel` if it is one (checked by its two attributes: an `isinstance` against a
    runtime protocol walks the protocol's members on every call, once per model step)."""
    if callable(getattr(model, "with_options", None)) and hasattr(model, "max_tokens"):
        return cast(CappedModel, model)
    return None


def _ceiling(model: Model) -> int | None:
    """The model's own cap on a reply, if it has one the request can carry."""
    capped = _cappable(model)
    return capped.max_tokens if capped is not None else None


def _capped(model: Model, completion: int) -> Model:
    """`model` with its request capped at `completion` tokens. A model with no such setting (a test double)
    cannot be told: a reply past the cap is caught when it is settled."""
    capped = _cappable(model)
    return capped.with_options(max_tokens=completion) if capped is not None else model


def _why(budget: Budget, reason: str, spend: Spend) -> str:
    if reason == "tokens":
        return f"the token budget {budget.name!r} is spent: {spend.tokens} of {budget.tokens} tokens used"
    if reason == "cost":
        return f"the cost budget {budget.name!r} is spent: {spend.cost:.4f} of {budget.cost}"
    if reason == "overspent":
        return f"the budget {budget.name!r} is closed: an endpoint reported more than its step reserved"
    return f"no request slot within {budget.max_wait:g} s: {budget.requests_per_minute} requests per minute allowed"


def _overspent(budget: Budget, prompt: int, completion: int, charge: Settlement, spend: Spend) -> str:
    return (
        f"overspent: the endpoint reported {charge.tokens} tokens for a step that reserved "
        f"{prompt + completion} (a {prompt}-token prompt, at most {completion} to write); "
        f"charged, and the budget {budget.name!r} is closed (spent: {spend.tokens} tokens, cost {spend.cost:.4f})"
    )
