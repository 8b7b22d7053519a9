"""Protocols: agents and tools as network-addressable participants (lab 06; course §5).

MCP standardizes how an agent reaches tools; A2A how one agent delegates to another.

    mcp_tools    an MCP tool as an agentlab Tool: name, schema, contract from annotations, result text
    mcp_client   import any MCP server's tools (stdio command or streamable-HTTP URL), one session per process
    mcp_transport  a strict stdio transport: a line that is not JSON-RPC fails the call at once
    mcp_progress   progress notifications of long calls, as trace rows and live events
    mcp_server   serve agentlab tool sets over MCP (stdio or streamable HTTP on loopback)
    mcp_toolkit  a runner's toolkit whose agents also get some MCP servers' tools, on the Dask workers
    a2a_server   serve an agentlab agent over A2A (agent card, task lifecycle, streamed updates)
    a2a_client   delegate a sub-task to an allowlisted remote A2A agent and follow its states
    origins      where a URL really goes (scheme, host, port): the allowlist compares these, never strings
    background   an MCP or A2A server as a real subprocess on loopback (labs and tests)

Their command line, `agentlab mcp ...` and `agentlab a2a ...`, is `agentlab.cli.protocols`.

The A2A modules need the `a2a` extra (`pip install agentlab[a2a]`); nothing here is imported by the
layers below it.
"""

__all__: list[str] = []
