"""An MCP server agentlab did not write: built with the MCP SDK's own server API, run as a subprocess.

The tests import its tools (tests/test_mcp_import.py). Its annotations say how careful a client must be:
`stock_level` only reads; `delete_item` destroys; `reserve` has effects and says nothing more (so MCP's
defaults apply: destructive, not idempotent); `hang` never answers in time; `server_pid` tells which
process (and so which session) answered.
"""

from __future__ import annotations

import os
import time

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

mcp = MCPServer("inventory")
READ = ToolAnnotations(read_only_hint=True)
STOCK = {"NR-1001": 40, "NR-1002": 0, "NR-1003": 12}


@mcp.tool(annotations=READ)
def stock_level(sku: str) -> int:
    """How many units of a product are in stock in the warehouse.

    Args:
        sku: the product's SKU, e.g. NR-1001.
    """
    if sku not in STOCK:
        raise ToolError(f"unknown SKU {sku}")  # a ToolError's message reaches the client
    return STOCK[sku]


@mcp.tool(annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True))
def delete_item(sku: str) -> str:
    """Delete a product from the warehouse inventory for good.

    Args:
        sku: the product's SKU, e.g. NR-1001.
    """
    STOCK.pop(sku, None)
    return f"deleted {sku}"


@mcp.tool()
def reserve(sku: str, units: int) -> str:
    """Reserve units of a product in stock for an order.

    Args:
        sku: the product's SKU, e.g. NR-1001.
        units: how many units to reserve.
    """
    return f"reserved {units} of {sku}"


@mcp.tool(annotations=READ)
def hang(seconds: float) -> str:
    """Wait a while before answering (a server that hangs)."""
    time.sleep(seconds)
    return "woke up"


@mcp.tool(annotations=READ)
def server_pid() -> int:
    """The process id of this server."""
    return os.getpid()


if __name__ == "__main__":
    mcp.run()
