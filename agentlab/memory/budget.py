"""Cluster-wide budgets: tokens, cost and requests per minute, decided by pure functions (lab 05).

A `Budget` is shared by every agent on every worker of a run. A budget *fails closed*: before each model
step an agent *reserves* the most the step can cost — the prompt it is about to send, estimated from
above, plus the most the request lets the model write — and the reservation is admitted only if

    spent + reserved by steps in flight + this reservation ≤ the limit        (tokens, and cost)

The most the model may write, the step's *completion cap*, is the least of the budget's
`completion_allowance`, the model's own `max_tokens` and what the limits leave after the prompt; the
request carries it as `max_tokens`, so the endpoint stops there (finish_reason "length"). A step that
cannot get even `MIN_COMPLETION` tokens is refused. After the step the reservation is *settled* with the
usage the endpoint reported, which is at most the reservation — so the spend never passes the limit,
however many agents race for the last tokens: the check and the reservation are one transaction at the
ledger (`agentlab.memory.ledger`).

An endpoint that reports more than its step reserved broke the cap (or the prompt estimate was low): the
ledger charges what it reported (the spend tells the truth, even past the limit), counts the step as
`overspent` and closes the budget — every later step is refused (reason "overspent") — and the step
that overspent ends its run with "budget", the fault in its trace (`agentlab.memory.budgeted`).

A requests-per-minute limit is a sliding 60-second window; a step that finds it full waits for the
oldest request to leave it (up to `max_wait`).

This module only decides (`admit`, `settlement`); `agentlab.memory.ledger` keeps the numbers in SQLite
behind the memory server, and `agentlab.memory.budgeted.BudgetedModel` carries the decisions out around a
model. Tokens are counted by `agentlab.text.count_tokens`, the counter the offline endpoint reports by.

Left out: budgets per agent or per sub-task (give each its own `Budget` name), refunds, reopening a
closed budget (`SharedBudget.reset`), and reservations of an agent that died mid-step, which stay reserved
(the budget errs on the safe side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agentlab.errors import ConfigError
from agentlab.text import count_tokens, estimate_tokens

__all__ = [
    "MIN_COMPLETION",
    "WINDOW_S",
    "Admission",
    "Budget",
    "Settlement",
    "Spend",
    "admit",
    "count_tokens",
    "estimate_tokens",
    "reservation",
    "settlement",
    "step_cost",
]

WINDOW_S = 60.0
"""The requests-per-minute window, in seconds."""
MIN_COMPLETION = 16
"""The fewest completion tokens worth a step: a step the budget cannot give this many is refused."""


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
    """The most completion tokens one step may write: the request's cap (lower if the model's own
    max_tokens is, or if the limits leave less), reserved up front with the prompt."""
    max_wait: float = 60.0
    """The longest a step waits for a requests-per-minute slot before the run stops with "budget"."""

    def __post_init__(self) -> None:
        for name in ("tokens", "cost", "requests_per_minute"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"a budget's {name} must be ≥ 0, not {value}")
        if self.completion_allowance < 1:
            raise ConfigError(f"a budget's completion_allowance must be ≥ 1, not {self.completion_allowance}")


@dataclass(frozen=True)
class Spend:
    """A budget's ledger row: what is spent, what steps in flight have reserved, recent request times."""

    tokens: int = 0
    cost: float = 0.0
    reserved_tokens: int = 0
    reserved_cost: float = 0.0
    requests: int = 0
    refused: int = 0
    overspent: int = 0
    """Steps whose endpoint reported more than they reserved: any closes the budget."""
    recent: tuple[float, ...] = ()
    """Start times of the requests admitted in the last WINDOW_S seconds, oldest first."""


@dataclass(frozen=True)
class Admission:
    """The decision for one step: admitted, or refused for `reason`; `wait` > 0 means "try again then"."""

    ok: bool
    reason: str = ""
    """"" (admitted), "tokens", "cost", "requests_per_minute" or "overspent" (the budget is closed)."""
    wait: float = 0.0
    completion: int = 0
    """The step's completion cap when admitted: the most it may write, reserved with its prompt."""


@dataclass(frozen=True)
class Settlement:
    """What one step is charged, and by how much its reported usage passed its reservation."""

    tokens: int
    cost: float
    over_tokens: int = 0
    over_cost: float = 0.0

    @property
    def overspent(self) -> bool:
        """True when the reported usage passed the reservation, in tokens or in cost."""
        return self.over_tokens > 0 or self.over_cost > 1e-12


def step_cost(budget: Budget, prompt_tokens: int, completion_tokens: int) -> float:
    """The price of one step at the budget's rates."""
    return (prompt_tokens * budget.price_per_1k_prompt + completion_tokens * budget.price_per_1k_completion) / 1000


def admit(budget: Budget, spend: Spend, prompt_tokens: int, now: float, ceiling: int | None = None) -> Admission:
    """Admit a step that sends about `prompt_tokens` with its completion cap, or say which limit it would break.

    `ceiling`: the model's own max_tokens (None: it has none). Pure: the ledger asks it in its transaction."""
    if spend.overspent:  # an endpoint broke its cap: nothing the budget reserves can be trusted any more
        return Admission(False, "overspent")
    most = budget.completion_allowance if ceiling is None else min(budget.completion_allowance, ceiling)
    cap = most
    for reason, room in _rooms(budget, spend, prompt_tokens):
        if room < min(MIN_COMPLETION, most):  # not even a useful reply fits beside the prompt
            return Admission(False, reason)
        cap = min(cap, room)  # the cap shrinks to what the limit leaves
    recent = [t for t in spend.recent if t > now - WINDOW_S]
    if budget.requests_per_minute is not None and len(recent) >= budget.requests_per_minute:
        if budget.requests_per_minute == 0:
            return Admission(False, "requests_per_minute")
        return Admission(False, "requests_per_minute", wait=recent[0] + WINDOW_S - now)
    return Admission(True, completion=cap)


def _rooms(budget: Budget, spend: Spend, prompt_tokens: int) -> list[tuple[str, int]]:
    """The completion tokens each limit leaves a step after its prompt and everything spent or in flight."""
    rooms = []
    if budget.tokens is not None:
        rooms.append(("tokens", budget.tokens - spend.tokens - spend.reserved_tokens - prompt_tokens))
    if budget.cost is not None:
        left = budget.cost - spend.cost - spend.reserved_cost - step_cost(budget, prompt_tokens, 0) + 1e-12
        per_token = budget.price_per_1k_completion / 1000
        if left < 0:
            rooms.append(("cost", -1))
        elif per_token > 0:
            rooms.append(("cost", math.floor(left / per_token)))
    return rooms


def reservation(budget: Budget, prompt_tokens: int, completion: int) -> tuple[int, float]:
    """The tokens and cost a step admitted with completion cap `completion` reserves: its worst case."""
    return prompt_tokens + completion, step_cost(budget, prompt_tokens, completion)


def settlement(budget: Budget, reserved: tuple[int, float], prompt_tokens: int, completion_tokens: int) -> Settlement:
    """What a step that `reserved` (tokens, cost) is charged for the usage its endpoint reported: all of it,
    and how far past the reservation that went (pure)."""
    tokens = prompt_tokens + completion_tokens
    cost = step_cost(budget, prompt_tokens, completion_tokens)
    return Settlement(tokens, cost, max(tokens - reserved[0], 0), max(cost - reserved[1], 0.0))
