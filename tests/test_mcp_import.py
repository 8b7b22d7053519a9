"""Importing the tools of MCP servers agentlab did not write, and calling them under RPC contracts.

The inventory server (tests/mcp_inventory_server.py) is built with the MCP SDK's own server API and
runs as a subprocess over stdio; the garbage server (tests/mcp_garbage_server.py) speaks raw JSON-RPC
and answers calls with invalid results. Agents call the imported tools locally and on a process cluster.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from distributed import Client

from agentlab.errors import ServiceError
from agentlab.fanout.runners import AgentRunner
from agentlab.identity import Work, identify
from agentlab.models.chat import offline_model
from agentlab.protocols.mcp_client import McpServer, call_tool, close_sessions, import_tools
from agentlab.protocols.mcp_toolkit import McpToolkit
from agentlab.rpc.contract import RetryPolicy, ToolPolicy
from agentlab.steps import SubTask
from agentlab.wire import ToolCall

HERE = Path(__file__).parent
INVENTORY = McpServer(f"{sys.executable} {HERE / 'mcp_inventory_server.py'}", name="inventory", timeout=30)
GOAL = "How many units of NR-1001 are in stock?"


@pytest.fixture(autouse=True)
def _fresh_sessions() -> None:
    close_sessions()  # every test starts its own servers (a killed one must not leak into the next)


def call(box: object, name: str, arguments: str = "{}") -> object:
    return box.call(ToolCall("c1", name, arguments))  # type: ignore[attr-defined]


def test_imported_tools_keep_the_servers_schema_and_get_contracts_from_annotations() -> None:
    toolset = import_tools(INVENTORY)
    by_name = {t.name: t for t in toolset.tools}
    assert set(by_name) == {"stock_level", "delete_item", "reserve", "hang", "server_pid"}
    assert by_name["stock_level"].schema()["function"]["parameters"]["required"] == ["sku"]
    assert toolset.policies["stock_level"].retry.attempts == 3  # read-only: may be retried
    assert toolset.policies["reserve"].retry.attempts == 1  # no hints: not idempotent, tried once
    assert toolset.policies["delete_item"].idempotent  # destructive, but says it is idempotent
    assert sorted(toolset.needs_approval) == ["delete_item", "reserve"]


def test_a_destructive_tool_is_refused_without_approval_and_runs_with_it() -> None:
    toolset = import_tools(INVENTORY)
    refused = call(toolset.toolbox(), "delete_item", '{"sku": "NR-1001"}')
    assert not refused.ok and refused.error == "NotApproved"  # type: ignore[attr-defined]
    assert call(toolset.toolbox(), "stock_level", '{"sku": "NR-1001"}').content == "40"  # type: ignore[attr-defined]
    approved = toolset.toolbox(approve=["delete_item"])
    assert call(approved, "delete_item", '{"sku": "NR-1001"}').content == "deleted NR-1001"  # type: ignore[attr-defined]
    gone = call(approved, "stock_level", '{"sku": "NR-1001"}')
    assert not gone.ok and gone.error == "ToolFailed" and "unknown SKU" in gone.content  # type: ignore[attr-defined]


def test_a_server_killed_mid_call_is_an_error_observation_and_the_next_call_gets_a_fresh_server() -> None:
    once = ToolPolicy(timeout=60, retry=RetryPolicy(attempts=1))
    toolset = import_tools(INVENTORY, base=once)
    box = toolset.toolbox()
    pid = int(call(box, "server_pid").content)  # type: ignore[attr-defined]
    outcome: list[object] = []
    caller = threading.Thread(target=lambda: outcome.append(call(box, "hang", '{"seconds": 60}')))
    caller.start()
    os.kill(pid, signal.SIGKILL)  # whether the call is already in flight or about to be sent, it cannot succeed
    caller.join()
    (killed,) = outcome
    assert not killed.ok and killed.error == "ServiceError"  # type: ignore[attr-defined]
    assert "closed the connection" in killed.content or "connection" in killed.content  # type: ignore[attr-defined]
    assert int(call(box, "server_pid").content) != pid  # type: ignore[attr-defined]


def test_a_hung_server_times_out_and_a_garbage_reply_is_a_clear_error() -> None:
    quick = McpServer(INVENTORY.target, name="inventory", timeout=1.0)
    hung = call(
        import_tools(quick, base=ToolPolicy(timeout=1.0, retry=RetryPolicy(attempts=1))).toolbox(),
        "hang",
        '{"seconds": 30}',
    )
    assert not hung.ok and hung.error == "ToolTimeout"  # type: ignore[attr-defined]
    garbage = import_tools(McpServer(f"{sys.executable} {HERE / 'mcp_garbage_server.py'}", timeout=10))
    reply = call(garbage.toolbox(), "lookup", '{"word": "x"}')
    assert not reply.ok and "not valid MCP" in reply.content  # type: ignore[attr-defined]
    with pytest.raises(ServiceError, match=r"could not be started"):
        import_tools(McpServer(f"{sys.executable} -c pass", timeout=10))


def test_an_agent_on_the_process_cluster_calls_an_imported_tool(client: Client) -> None:
    runner = AgentRunner(offline_model(seed=3, q=1.0), toolkit=McpToolkit(servers=(INVENTORY,)))
    task = SubTask("stock", GOAL)
    work = Work("mcp-cluster", task, identify("mcp-cluster", task))
    result = client.submit(runner, work, pure=False).result()
    assert result.state == "done", result.error
    assert "stock_level" in result.value and "40" in result.value
    assert result.worker.startswith("tcp://")
    assert any(e.who == "rpc:stock_level" and e.outcome == "ok" for e in result.events)
    # one session per worker, reused: the same server process answers every call a worker makes
    first = client.run(call_tool, INVENTORY, "server_pid", {})
    again = client.run(call_tool, INVENTORY, "server_pid", {})
    pids = {w: r.structured_content["result"] for w, r in first.items()}
    assert pids == {w: r.structured_content["result"] for w, r in again.items()}
    assert len(set(pids.values())) == len(pids)  # and each worker has its own
    client.run(close_sessions)


def test_the_cluster_agent_is_refused_a_destructive_tool_unless_the_run_approves_it(client: Client) -> None:
    goal = "Delete the product NR-1003 from the warehouse inventory."
    task = SubTask("wipe", goal)
    work = Work("mcp-approve", task, identify("mcp-approve", task))
    refused = client.submit(
        AgentRunner(offline_model(seed=3), toolkit=McpToolkit(servers=(INVENTORY,))), work, pure=False
    )
    events = refused.result().events
    assert any(e.who == "rpc:delete_item" and e.outcome == "refused" for e in events)
    allowed = McpToolkit(servers=(INVENTORY,), approve=frozenset({"delete_item"}))
    done = client.submit(AgentRunner(offline_model(seed=3), toolkit=allowed), work, pure=False).result()
    assert any(e.who == "rpc:delete_item" and e.outcome == "ok" for e in done.events)
    assert "deleted NR-1003" in done.value
    client.run(close_sessions)
