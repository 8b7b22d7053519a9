"""Tools as RPC: every tool call crosses a boundary, so it gets a contract (lab 02).

    contract.py  the contract as values (timeout, retries with backoff, breaker, rate limit) and the pure
                 decisions that carry it out
    guarded.py   the driver: a toolbox whose every call goes through its contract, keyed for idempotency
    faults.py    seeded fault injection (latency, errors, hangs, throttling) for services and the simulator

The contract's names are importable from here: `from agentlab.rpc import ToolPolicy, RetryPolicy`.
"""

from agentlab.rpc.contract import BreakerPolicy, RateLimit, RetryPolicy, ToolPolicy

__all__ = ["BreakerPolicy", "RateLimit", "RetryPolicy", "ToolPolicy"]
