"""The MCP server: agentlab tool sets served to any MCP client, over stdio or streamable HTTP (lab 06).

    server = mcp_server(standard_tools())       # the knowledge-base search, live prices, the sandbox
    serve_stdio(server)                         # a host starts us as a subprocess: stdout is the wire
    serve_http(server, port=8000)               # http://127.0.0.1:8000/mcp, loopback only

Each agentlab `Tool` is listed with the JSON Schema the model sees in agentlab and with *annotations*
that tell a client how careful to be (read-only, destructive, idempotent, open world). A call runs
through a `GuardedToolbox`, so the tool keeps its own contract (timeout, breaker) on this side of the
wire; its observation comes back as text, with `is_error` set when it failed (a Python program that
raised included) and the JSON value as structured content when the tool returned one. A call to a tool
the server does not list is a JSON-RPC error (-32602), not a tool result. Blocking tools run on worker
threads, never on the event loop.

**Idempotency keys never change with the server process.** A side effect (`pay`) is keyed by the call's
content in a scope: the key the client sends in `_meta["agentlab.dev/idempotency-key"]` (agentlab's
client sends its own run-scoped key), else this server's name. So a client that retries against a
restarted server presents the same key and is charged once; the cost, as for `payment_key`, is that
two identical calls without a client key are one payment.

Left out: authentication (serve on loopback only), resources, prompts, sending progress notifications.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import Any

import anyio
import mcp_types
from mcp import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

from agentlab.agent.tools import Tool
from agentlab.protocols.mcp_tools import IDEMPOTENCY_META
from agentlab.rpc.contract import RetryPolicy, ToolPolicy
from agentlab.rpc.guarded import GuardedToolbox, Services
from agentlab.wire import ToolCall

__all__ = ["ANNOTATIONS", "local_annotations", "mcp_server", "serve_http", "serve_stdio", "standard_tools"]


_READ = mcp_types.ToolAnnotations(read_only_hint=True, open_world_hint=False)
ANNOTATIONS: Mapping[str, mcp_types.ToolAnnotations] = {
    "search_kb": _READ,
    "get_price": mcp_types.ToolAnnotations(read_only_hint=True, open_world_hint=True),
    # the sandbox changes nothing outside its scratch directory, but a second run is a second run;
    # closed world only where the sandbox really has no network (`local_annotations()` checks this machine)
    "run_python": mcp_types.ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
    ),
    # a payment is destructive; it is idempotent because the service deduplicates on the call's key
    "pay": mcp_types.ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=True),
}
"""How agentlab describes its own tools' effects to MCP clients (a tool not listed gets no hints)."""


def local_annotations() -> dict[str, mcp_types.ToolAnnotations]:
    """`ANNOTATIONS` as they hold on this machine: `run_python` is open-world where its network is not cut."""
    from agentlab.services.sandbox import isolation_available  # noqa: PLC0415  (probes this machine once)

    found = dict(ANNOTATIONS)
    if not isolation_available().get("netns", False):
        found["run_python"] = found["run_python"].model_copy(update={"open_world_hint": True})
    return found


_POLICIES: Mapping[str, ToolPolicy] = {"run_python": ToolPolicy(timeout=30.0, retry=RetryPolicy(attempts=1))}


def _listing(tool: Tool, annotations: Mapping[str, mcp_types.ToolAnnotations]) -> mcp_types.Tool:
    schema = tool.schema()["function"]
    return mcp_types.Tool(
        name=tool.name,
        description=schema.get("description") or tool.name,
        input_schema=schema.get("parameters") or {"type": "object", "properties": {}},
        annotations=annotations.get(tool.name),
    )


def _result(content: str, ok: bool) -> mcp_types.CallToolResult:
    structured: dict[str, Any] | None = None
    if ok:
        try:
            value = json.loads(content)
        except ValueError:
            value = None
        structured = value if isinstance(value, dict) else None
    return mcp_types.CallToolResult(
        content=[mcp_types.TextContent(type="text", text=content)], structured_content=structured, is_error=not ok
    )


def mcp_server(
    tools: Sequence[Tool],
    *,
    name: str = "agentlab",
    policies: Mapping[str, ToolPolicy] | None = None,
    annotations: Mapping[str, mcp_types.ToolAnnotations] | None = None,
) -> Server[Any]:
    """A low-level MCP `Server` that lists `tools` and runs their calls under their contracts
    (`annotations` default: `local_annotations()`, this machine's)."""
    hints = annotations if annotations is not None else local_annotations()
    contracts = {**_POLICIES, **(policies or {})}
    services = Services()  # breakers and rate limits are the server's, whatever key scope a call has
    listing = [_listing(t, hints) for t in tools]
    known = {t.name for t in tools}

    def toolbox(scope: str) -> GuardedToolbox:
        """A toolbox whose idempotency keys are (scope, tool, arguments): the same in every server process."""
        return GuardedToolbox(list(tools), contracts, run_id=f"mcp-{name}", path=scope, services=services)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=listing)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        if params.name not in known:  # the spec's answer to an unknown tool: a protocol error
            raise MCPError(code=mcp_types.INVALID_PARAMS, message=f"unknown tool {params.name!r}")
        client_key = (params.meta or {}).get(IDEMPOTENCY_META)
        box = toolbox(f"key:{client_key}" if isinstance(client_key, str) and client_key else "server")
        call = ToolCall(uuid.uuid4().hex[:12], params.name, json.dumps(params.arguments or {}))
        # a blocking tool (a search, an HTTP call, a subprocess) must not stall the server's event loop
        observation = await anyio.to_thread.run_sync(box.call, call)
        return _result(observation.content, observation.ok)

    return Server(name, version="1", on_list_tools=list_tools, on_call_tool=call_tool)


def standard_tools(stack: ExitStack, prices_url: str | None = None) -> list[Tool]:
    """agentlab's own tools: the knowledge-base search, the live price API, the Python sandbox.

    Without `prices_url` a local price service (the catalog's live prices) is started on loopback and
    stopped when `stack` closes.
    """
    from agentlab.agent.retrieval import search_tool  # noqa: PLC0415
    from agentlab.data import kb_index, read_json  # noqa: PLC0415  (datasets load only when serving)
    from agentlab.services.api import ApiService  # noqa: PLC0415
    from agentlab.services.api_client import ApiClient, price_tool  # noqa: PLC0415
    from agentlab.services.sandbox import sandbox_tool  # noqa: PLC0415

    if prices_url is None:
        prices_url = stack.enter_context(ApiService(read_json("catalog/live_prices.json"))).base_url
    client = stack.enter_context(ApiClient(prices_url))
    # a program that fails is a failed call (isError), not a result that happens to contain a traceback
    return [search_tool(kb_index()), price_tool(client), sandbox_tool(failures_raise=True)]


def serve_stdio(server: Server[Any]) -> None:
    """Serve over this process's stdin/stdout until the client hangs up (blocks)."""

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def serve_http(server: Server[Any], port: int = 8000, host: str = "127.0.0.1", log_level: str = "warning") -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp until interrupted (blocks). Loopback by default."""
    import uvicorn  # noqa: PLC0415  (only the HTTP transport needs it)

    uvicorn.run(server.streamable_http_app(host=host), host=host, port=port, log_level=log_level)
