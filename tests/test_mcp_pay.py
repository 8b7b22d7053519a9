"""`pay` over MCP is idempotent across restarts of the server: a retried payment is charged once.

The payments API runs here, on loopback; the MCP server that wraps it (tests/mcp_pay_server.py) is a
stdio subprocess that the test stops and starts again between two identical calls, as a client that
retries after a crash would.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from mcp import Client, StdioServerParameters

import agentlab
from agentlab.data import read_json
from agentlab.protocols.mcp_client import McpServer, close_sessions, import_tools
from agentlab.services.api import ApiService
from agentlab.wire import ToolCall

SERVER = Path(__file__).parent / "mcp_pay_server.py"
ENV = {"PYTHONPATH": str(Path(agentlab.__file__).parents[1])}  # the server runs the agentlab under test
PAYMENT = {"sku": "NR-1001", "amount": 1999.0, "order": "ORD-7"}


def _pay_with_agentlab(url: str, run_id: str) -> str:
    """One `pay` from agentlab's client in a fresh server process (the key travels in `_meta`)."""
    try:
        toolset = import_tools(McpServer(f"{sys.executable} {SERVER} {url}", timeout=60, env=tuple(ENV.items())))
        box = toolset.toolbox(approve=["pay"], run_id=run_id, path="checkout")
        seen = box.call(ToolCall("c1", "pay", json.dumps(PAYMENT)))
        assert seen.ok, seen.content
        return str(json.loads(seen.content)["payment_id"])
    finally:
        close_sessions()  # the server process exits with its session


async def _pay_with_the_sdk(url: str) -> str:
    """One `pay` from the MCP SDK's own client, which sends no key, in a fresh server process."""
    async with Client(StdioServerParameters(command=sys.executable, args=[str(SERVER), url], env=ENV)) as client:
        result = await client.call_tool("pay", PAYMENT)
        assert not result.is_error, result.content
        return str(result.structured_content["payment_id"])  # type: ignore[index]


def test_a_payment_retried_against_a_restarted_server_is_charged_once() -> None:
    with ApiService(read_json("catalog/live_prices.json")) as api:
        first = _pay_with_agentlab(api.base_url, "run-1")
        again = _pay_with_agentlab(api.base_url, "run-1")  # the same call of the same run, new server process
        assert again == first and len(api.ledger()) == 1
        other_run = _pay_with_agentlab(api.base_url, "run-2")  # another run's payment is its own
        assert other_run != first and len(api.ledger()) == 2
        keyless = asyncio.run(_pay_with_the_sdk(api.base_url))  # no client key: the server's stable scope
        assert asyncio.run(_pay_with_the_sdk(api.base_url)) == keyless
        assert len(api.ledger()) == 3
