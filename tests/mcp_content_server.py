"""An MCP server built with the SDK's low-level server API, for the edges of the protocol (test_mcp_edges.py).

    python tests/mcp_content_server.py stdio          # over stdio (the last word is *not* its name)
    python tests/mcp_content_server.py http PORT      # streamable HTTP on 127.0.0.1:PORT/mcp

Its tools: `files` answers with every kind of content block (a resource link, an embedded text resource,
an embedded blob, an image); `slow` reports progress three times before answering; `die` kills the
server mid-call; `pid` says which process answered.
"""

from __future__ import annotations

import base64
import os
import sys
from typing import Any

import anyio
import mcp_types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(92)).decode()  # 100 bytes
BLOB = base64.b64encode(bytes(range(256)) * 4).decode()  # 1,024 bytes
READ = mcp_types.ToolAnnotations(read_only_hint=True)
EMPTY = {"type": "object", "properties": {}}
TOOLS = [
    mcp_types.Tool(name="files", description="Show the report's files.", input_schema=EMPTY, annotations=READ),
    mcp_types.Tool(name="slow", description="Copy files slowly.", input_schema=EMPTY, annotations=READ),
    mcp_types.Tool(name="die", description="Exit mid-call.", input_schema=EMPTY, annotations=READ),
    mcp_types.Tool(name="pid", description="This server's process id.", input_schema=EMPTY, annotations=READ),
]


def _text(text: str) -> mcp_types.CallToolResult:
    return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=text)])


def _files() -> mcp_types.CallToolResult:
    link = mcp_types.ResourceLink(
        type="resource_link",
        name="q3-report",
        title="Q3 report",
        uri="file:///reports/q3.pdf",
        mime_type="application/pdf",
        size=48213,
        description="the quarterly report",
    )
    notes = mcp_types.TextResourceContents(
        uri="file:///reports/notes.md", mime_type="text/markdown", text="Revenue up 4%."
    )
    blob = mcp_types.BlobResourceContents(
        uri="file:///reports/chart.bin", mime_type="application/octet-stream", blob=BLOB
    )
    image = mcp_types.ImageContent(type="image", data=PNG, mime_type="image/png")
    embedded = [mcp_types.EmbeddedResource(type="resource", resource=r) for r in (notes, blob)]
    return mcp_types.CallToolResult(content=[link, *embedded, image])


async def call_tool(
    ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
) -> mcp_types.CallToolResult:
    if params.name == "files":
        return _files()
    if params.name == "slow":
        for done in (1, 2, 3):
            await ctx.session.report_progress(done, 3, f"copied file {done}")
        return _text("copied 3 files")
    if params.name == "die":
        os._exit(3)
    if params.name == "pid":
        return _text(str(os.getpid()))
    return mcp_types.CallToolResult(
        content=[mcp_types.TextContent(type="text", text="run me as a task")], is_error=True
    )


async def list_tools(ctx: ServerRequestContext[Any], params: Any) -> mcp_types.ListToolsResult:
    return mcp_types.ListToolsResult(tools=TOOLS)


server: Server[Any] = Server("contents", version="1", on_list_tools=list_tools, on_call_tool=call_tool)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        import uvicorn

        uvicorn.run(
            server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning"
        )
    else:
        anyio.run(main)
