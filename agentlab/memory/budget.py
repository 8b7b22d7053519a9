"""Cluster-wide budgets: tokens, cost and requests per minute, decided by pure functions (lab 05).

A `Budget` is shared by every agent on every worker of a run. Before each model step an agent
*reserves* what the step may spend — the prompt it is about to send, estimated from above, plus a
completion allowance — and the reservation is admitted only if

    spent + reserved by steps in flight + this reservation ≤ the limit        (tokens, and cost)

After the step the reservation is *settled* with the usage the endpoint reported. So the spend never
passes the limit while each step stays inside its reservation, however many agents race for the last
tokens: the check and the reservation are one transaction at the ledger (`agentlab.memory.ledger`).
A requests-per-minute limit is a sliding 60-second window; a step that finds it full waits for the
oldest request to leave it (up to `max_wait`).

This module only decides (`admit`); `agentlab.memory.ledger` keeps the numbers in SQLite behind the
memory server, and `agentlab.memory.budgeted.BudgetedModel` carries the decisions out around a model.

Left out: budgets per agent or per sub-task (give each its own `Budget` name), refunds, and
reservations of an agent that died mid-step, which stay reserved (the budget errs on the safe side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from agentlab.errors import ConfigError
from agentlab.wire import Message

__all__ = ["WINDOW_S", "Admission", "Budget", "Spend", "admit", "count_tokens", "estimate_tokens", "step_cost"]

WINDOW_S = 60.0
"""The requests-per-minute window, in seconds."""


@dataclass(frozen=True)
class Budget:
    """What a run may spend on its model endpoint, across every agent and worker. None: no limit."""

    name: str = "default"
    """The ledger row it is counted on: every agent given a Budget of this name shares one spend."""
    tokens: int | None = None
    """Total model tokens (prompt + completion) for everything the run's agents ask."""
    cost: float | None = None
    """Total cost, in the currency of the prices below."""
    requests_per_minute: int | None = None
    """Model requests admitted in any 60-second window."""
    price_per_1k_prompt: float = 0.0
    price_per_1k_completion: float = 0.0
    completion_allowance: int = 256
    """The most completion tokens one step is assumed to produce: reserved up front with the prompt."""
    max_wait: float = 60.0
    """The longest a step waits for a requests-per-minute slot before the run stops with "budget"."""

    def __post_init__(self) -> None:
        for name in ("tokens", "cost", "requests_per_minute"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"a budget's {name} must be ≥ 0, not {value}")


@dataclass(frozen=True)
class Spend:
    """A budget's ledger row: what is spent, what steps in flight have reserved, recent request times."""

    tokens: int = 0
    cost: float = 0.0
    reserved_tokens: int = 0
    reserved_cost: float = 0.0
    requests: int = 0
    refused: int = 0
    recent: tuple[float, ...] = ()
    """Start times of the requests admitted in the last WINDOW_S seconds, oldest first."""


@dataclass(frozen=True)
class Admission:
    """The decision for one step: admitted, or refused for `reason`; `wait` > 0 means "try again then"."""

    ok: bool
    reason: str = ""
    """"" (admitted), "tokens", "cost" or "requests_per_minute"."""
    wait: float = 0.0


def step_cost(budget: Budget, prompt_tokens: int, completion_tokens: int) -> float:
    """The price of one step at the budget's rates."""
    return (prompt_tokens * budget.price_per_1k_prompt + completion_tokens * budget.price_per_1k_completion) / 1000


def admit(budget: Budget, spend: Spend, prompt_tokens: int, now: float) -> Admission:
    """Admit a step that sends about `prompt_tokens`, or say which limit it would break (pure)."""
    tokens = prompt_tokens + budget.completion_allowance
    if budget.tokens is not None and spend.tokens + spend.reserved_tokens + tokens > budget.tokens:
        return Admission(False, "tokens")
    cost = step_cost(budget, prompt_tokens, budget.completion_allowance)
    if budget.cost is not None and spend.cost + spend.reserved_cost + cost > budget.cost + 1e-12:
        return Admission(False, "cost")
    recent = [t for t in spend.recent if t > now - WINDOW_S]
    if budget.requests_per_minute is not None and len(recent) >= budget.requests_per_minute:
        if budget.requests_per_minute == 0:
            return Admission(False, "requests_per_minute")
        return Admission(False, "requests_per_minute", wait=recent[0] + WINDOW_S - now)
    return Admission(True)


def count_tokens(text: str) -> int:
    """Tokens in `text`, counted from above: the larger of its words and its characters / 4."""
    return max(len(text.split()), math.ceil(len(text) / 4))


def estimate_tokens(messages: list[Message], tools: list[dict[str, Any]] | None = None) -> int:
    """An estimate from above of a request's prompt tokens (no tokenizer download needed)."""
    total = 0
    for message in messages:
        total += 4 + count_tokens(str(message.get("content") or ""))
        for call in message.get("tool_calls") or ():
            total += count_tokens(str(call.get("function", {}).get("arguments", "")))
    return total + sum(count_tokens(str(schema)) for schema in tools or ())
