"""MCP tools on the cluster: a `Toolkit` whose agents also get the tools of some MCP servers (lab 06).

    runner = AgentRunner(model, toolkit=McpToolkit(servers=(McpServer("python inventory.py"),)))
    Supervisor(client, model, runner=runner).run(goal)

The toolkit is a recipe like any other: it travels to the workers as the servers' addresses, and each
worker opens its own session to each server on first use and keeps it (`mcp_client.session`), then
lists and converts the tools once per process. Every imported tool runs under the same RPC contract as
a native one (`GuardedToolbox`), derived from its annotations: read-only and idempotent tools may be
retried; destructive or non-idempotent ones are tried once and refused unless approved — by the
server's allowlist (`McpServer.approve`) or the toolkit's (`approve`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from agentlab.agent.tools import Tool
from agentlab.fanout.toolkit import DEFAULT_POLICIES, Toolkit, run_services
from agentlab.identity import StepId
from agentlab.protocols.mcp_client import McpServer, McpToolset, import_tools
from agentlab.rpc.guarded import GuardedToolbox, Services

__all__ = ["McpToolkit", "imported"]


@functools.cache
def imported(servers: tuple[McpServer, ...], taken: tuple[str, ...] = ()) -> McpToolset:
    """The servers' tools as this process sees them, listed once per process."""
    return import_tools(servers, taken=taken)


@dataclass(frozen=True)
class McpToolkit(Toolkit):
    """The built-in role tools plus the tools of `servers`, for the roles in `roles`."""

    servers: tuple[McpServer, ...] = ()
    roles: frozenset[str] = frozenset({"researcher", "coder", "critic"})
    """Which roles get the imported tools (the analyst only combines findings)."""
    approve: frozenset[str] = frozenset()
    """Imported tools (public names) approved for this run although destructive or not idempotent."""

    def tools_for(self, role: str) -> list[Tool]:
        native = super().tools_for(role)
        if role not in self.roles or not self.servers:
            return native
        return [*native, *imported(self.servers, tuple(t.name for t in native)).tools]

    def toolbox(self, role: str, step: StepId, services: Services | None = None) -> GuardedToolbox:
        """The role's tools under their contracts; imported tools need approval unless safe or approved."""
        if role not in self.roles or not self.servers:
            return super().toolbox(role, step, services)
        native = super().tools_for(role)
        toolset = imported(self.servers, tuple(t.name for t in native))
        allowed = {t.name for t in native} if self.approved is None else set(self.approved)
        return GuardedToolbox(
            [*native, *toolset.tools],
            {**DEFAULT_POLICIES, **toolset.policies, **self.policies},
            default=self.default,
            approved=allowed | toolset.approved | self.approve,
            step=step,
            services=services or run_services(step.run_id),
        )
