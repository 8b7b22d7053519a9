"""A broken MCP server, written by hand on raw JSON-RPC: it completes the (legacy) handshake and lists a
tool, then answers every call with a result that is not valid MCP (tests/test_mcp_import.py)."""

from __future__ import annotations

import json
import sys

TOOL = {
    "name": "lookup",
    "description": "Look a word up.",
    "inputSchema": {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
    "annotations": {"readOnlyHint": True},
}


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
        version = request["params"]["protocolVersion"]
        info = {"name": "garbage", "version": "0"}
        reply(request, {"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": info})
    elif method == "tools/list":
        reply(request, {"tools": [TOOL]})
    elif method == "tools/call":
        reply(request, {"content": "this should have been a list of content blocks", "isError": "maybe"})
    else:
        reply(request, error={"code": -32601, "message": f"method not found: {method}"})
