"""A toolkit: each role's tools and their RPC contracts, resolved on the worker that runs the sub-task (lab 03).

A `Toolkit` is a recipe, not the tools: indexes, sandboxes and connections are built on the worker (and
cached per process), never pickled. Each call goes through its contract (`agentlab.rpc.guarded`), keyed by
what it does in the sub-task's run; breakers and rate limits are shared by one run's sub-tasks in a
process, never across runs (`run_services`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from agentlab.agent.retrieval import search_tool
from agentlab.agent.tools import Tool
from agentlab.data import kb_index
from agentlab.identity import StepId
from agentlab.rpc import contract as rpc
from agentlab.rpc.guarded import GuardedToolbox, Services

__all__ = ["DEFAULT_POLICIES", "Toolkit", "run_services"]

DEFAULT_POLICIES: Mapping[str, rpc.ToolPolicy] = {
    # a read: safe to retry; a breaker stops a worker hammering an index that keeps failing
    "search_kb": rpc.ToolPolicy(timeout=10.0, breaker=rpc.BreakerPolicy(failures=5, reset_after=30.0)),
    # the sandbox kills the program at its own wall clock; the caller waits a little longer, never retries
    "run_python": rpc.ToolPolicy(timeout=30.0, retry=rpc.RetryPolicy(attempts=1)),
}
"""The contract of each built-in tool when no other is given (`Toolkit.policies` overrides them)."""


@functools.cache
def _kb_search() -> Tool:
    return search_tool(kb_index())


@functools.cache
def _sandbox() -> Tool:
    from agentlab.services.sandbox import sandbox_tool  # noqa: PLC0415  (only coders need it)

    return sandbox_tool()


@functools.lru_cache(maxsize=256)
def run_services(run_id: str) -> Services:
    """Breakers and rate limits shared by every sub-task of one run in this process: a breaker protects a
    service from the whole worker's share of the run, not from one agent; another run (a lab re-run, a
    second notebook) starts closed. The 256 most recent runs are kept."""
    return Services()


@dataclass(frozen=True)
class Toolkit:
    """A recipe for each role's tools and their RPC contracts, resolved on the worker that runs the sub-task.

    `extra` tools go to the roles in `extra_roles` (None: every role); `policies` override `DEFAULT_POLICIES`
    by tool name; `default` is the contract of a tool with no policy; `approved`, when given, is the
    allowlist (others are refused).
    """

    kb: bool = True
    sandbox: bool = True
    extra: tuple[Tool, ...] = ()
    extra_roles: frozenset[str] | None = None
    policies: Mapping[str, rpc.ToolPolicy] = field(default_factory=dict)
    default: rpc.ToolPolicy = field(default_factory=rpc.ToolPolicy)
    approved: frozenset[str] | None = None

    def tools_for(self, role: str) -> list[Tool]:
        tools = list(self.extra) if self.extra_roles is None or role in self.extra_roles else []
        if role in ("researcher", "critic") and self.kb:
            tools.append(_kb_search())
        if role == "coder" and self.sandbox:
            tools.append(_sandbox())
        return tools  # the analyst combines what it is given

    def toolbox(self, role: str, step: StepId, services: Services | None = None) -> GuardedToolbox:
        """The role's tools, each call held to its contract, keyed by its content in `step`'s run."""
        return GuardedToolbox(
            self.tools_for(role),
            {**DEFAULT_POLICIES, **self.policies},
            default=self.default,
            approved=self.approved,
            step=step,
            services=services or run_services(step.run_id),
        )
