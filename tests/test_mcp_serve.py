"""agentlab's tools served over MCP and called by the SDK's own client; the `agentlab mcp` and `run --mcp` CLI.

Every server here is a real subprocess: `agentlab mcp serve` over stdio (the client starts it) and over
streamable HTTP on loopback (started in the background).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import Client, MCPError, StdioServerParameters

from agentlab.cli import protocols
from agentlab.data import demo_question
from agentlab.protocols.background import Background, agentlab_command, free_port
from agentlab.services.sandbox import isolation_available

INVENTORY = Path(__file__).parent / "mcp_inventory_server.py"


async def _round_trip(target: str | StdioServerParameters) -> dict[str, Any]:
    question = demo_question()
    async with Client(target) as client:
        tools = (await client.list_tools()).tools
        try:
            await client.call_tool("no_such_tool", {})
            unknown: int | None = None
        except MCPError as exc:  # a protocol error, not a tool result
            unknown = exc.code
        return {
            "tools": tools,
            "search": await client.call_tool("search_kb", {"query": question.question, "k": 3}),
            "price": await client.call_tool("get_price", {"sku": "NR-1001"}),
            "python": await client.call_tool("run_python", {"code": "print(6 * 7)"}),
            "raised": await client.call_tool("run_python", {"code": "1/0"}),
            "bad": await client.call_tool("get_price", {"sku": 1001}),
            "unknown": unknown,
        }


def _check(seen: dict[str, Any]) -> None:
    tools = {t.name: t for t in seen["tools"]}
    assert set(tools) == {"search_kb", "get_price", "run_python"}
    assert tools["search_kb"].annotations is not None and tools["search_kb"].annotations.read_only_hint
    assert tools["get_price"].input_schema["required"] == ["sku"]
    search, price, python, bad = (seen[k] for k in ("search", "price", "python", "bad"))
    assert not search.is_error and demo_question().doc_ids[0] in search.content[0].text  # type: ignore[union-attr]
    assert price.content[0].text == "1999.0"  # type: ignore[union-attr]
    assert "42" in python.content[0].text  # type: ignore[union-attr]
    assert bad.is_error and "invalid arguments" in bad.content[0].text  # type: ignore[union-attr]
    raised = seen["raised"]
    assert raised.is_error and "ZeroDivisionError" in raised.content[0].text  # a failed program is a failed call
    # the sandbox is closed-world exactly where this machine cuts its network
    assert tools["run_python"].annotations.open_world_hint is not isolation_available()["netns"]
    assert seen["unknown"] == mcp_types.INVALID_PARAMS


def test_agentlab_tools_round_trip_over_stdio() -> None:
    command = agentlab_command("mcp", "serve")
    _check(asyncio.run(_round_trip(StdioServerParameters(command=command[0], args=command[1:]))))


def test_agentlab_tools_round_trip_over_streamable_http() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Background(agentlab_command("mcp", "serve", "--http", str(port)), ready=url):
        _check(asyncio.run(_round_trip(url)))


def _agentlab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(agentlab_command(*args), capture_output=True, text=True, timeout=240, check=False)


def test_mcp_list_shows_a_servers_tools_and_their_contracts() -> None:
    listed = _agentlab("mcp", "list", "--", sys.executable, "-m", "agentlab", "mcp", "serve")
    assert listed.returncode == 0, listed.stderr
    # named by the name it gives in its handshake, not by its command's last word ("serve")
    assert listed.stdout.startswith("agentlab: 3 tool(s)") and "search_kb(query, k)  [read-only" in listed.stdout
    third_party = _agentlab("mcp", "list", "--", sys.executable, str(INVENTORY))
    assert third_party.stdout.startswith("inventory: 5 tool(s)")
    assert "delete_item(sku)  [effects; retry x3; approval needed]" in third_party.stdout


def test_mcp_list_without_a_server_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert protocols.main(["mcp", "list"]) == 2
    assert "give the server's command after --" in capsys.readouterr().err


def test_run_with_mcp_gives_the_agent_a_servers_tools() -> None:
    question = "How many units of NR-1001 are in stock?"
    run = _agentlab("run", question, "--single", "--q", "1", "--latency", "0", "--mcp", f"{sys.executable} {INVENTORY}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "stock_level" in run.stdout and "40" in run.stdout.split("answer", 1)[1]
