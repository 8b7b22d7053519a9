"""A broken MCP server, written by hand on raw JSON-RPC (2025-11-25, the legacy handshake): it lists its
tools, then answers every call with a result that is not valid MCP (tests/test_mcp_import.py), or with
`--not-json` with a line on stdout that is not JSON-RPC at all; with `--banner` it greets on stdout before
the handshake, as careless servers do (tests/test_mcp_edges.py).

Its second tool, `batch`, requires MCP Tasks (`execution.taskSupport: required`), as some servers'
long-running tools do; agentlab leaves such tools out.
"""

from __future__ import annotations

import json
import sys

TOOLS = [
    {
        "name": "lookup",
        "description": "Look a word up.",
        "inputSchema": {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
        "annotations": {"readOnlyHint": True},
    },
    {
        "name": "batch",
        "description": "A long batch job (task mode only).",
        "inputSchema": {"type": "object", "properties": {}},
        "execution": {"taskSupport": "required"},
    },
]
NOT_JSON = "--not-json" in sys.argv
if "--banner" in sys.argv:
    print("garbage server v0 ready", flush=True)


def reply(request: dict[str, object], result: object = None, error: object = None) -> None:
    body = {"jsonrpc": "2.0", "id": request["id"], **({"error": error} if error else {"result": result})}
    sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    method = request.get("method")
    if "id" not in request:
        continue  # a notification
    if method == "initialize":
        info = {"name": "garbage", "version": "0"}
        capabilities = {"tools": {}, "tasks": {"requests": {"tools": {"call": {}}}}}
        reply(request, {"protocolVersion": "2025-11-25", "capabilities": capabilities, "serverInfo": info})
    elif method == "tools/list":
        reply(request, {"tools": TOOLS})
    elif method == "tools/call" and NOT_JSON:
        sys.stdout.write("Traceback (most recent call last): lookup crashed\n")  # a stray print, not a reply
        sys.stdout.flush()
    elif method == "tools/call":
        reply(request, {"content": "this should have been a list of content blocks", "isError": "maybe"})
    else:
        reply(request, error={"code": -32601, "message": f"method not found: {method}"})
