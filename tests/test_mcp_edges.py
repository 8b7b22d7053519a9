"""The edges of MCP, against servers agentlab did not write: content types, progress, task-only tools,
names, garbage on stdout, timeouts, a server that dies mid-call.

Servers: tests/mcp_content_server.py (the SDK's low-level server API, over stdio and streamable HTTP),
tests/mcp_garbage_server.py (raw JSON-RPC of 2025-11-25), tests/mcp_inventory_server.py (the SDK's
MCPServer). Every one is a real subprocess.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import pytest
from distributed import Client

from agentlab.cli import protocols
from agentlab.errors import ServiceError
from agentlab.events import RoundEvent
from agentlab.identity import identify
from agentlab.protocols import mcp_progress
from agentlab.protocols.background import Background, free_port
from agentlab.protocols.mcp_client import McpServer, call_tool, close_sessions, describe, import_tools
from agentlab.protocols.mcp_toolkit import McpToolkit
from agentlab.steps import SubTask
from agentlab.views.widgets import LiveProgress
from agentlab.wire import ToolCall

HERE = Path(__file__).parent
CONTENTS = McpServer(f"{sys.executable} {HERE / 'mcp_content_server.py'} stdio", timeout=30)
GARBAGE = f"{sys.executable} {HERE / 'mcp_garbage_server.py'}"
INVENTORY = f"{sys.executable} {HERE / 'mcp_inventory_server.py'}"


@pytest.fixture(autouse=True)
def _fresh_sessions() -> None:
    close_sessions()


def _call(box: object, name: str, arguments: str = "{}") -> object:
    return box.call(ToolCall("c1", name, arguments))  # type: ignore[attr-defined]


def test_links_and_embedded_resources_reach_the_observation() -> None:
    seen = _call(import_tools(CONTENTS).toolbox(), "files")
    text = seen.content  # type: ignore[attr-defined]
    assert seen.ok  # type: ignore[attr-defined]
    # a resource link keeps its name, URI, type and size
    assert "Q3 report <file:///reports/q3.pdf> (application/pdf, 48213 bytes) - the quarterly report" in text
    assert "[resource file:///reports/notes.md (text/markdown)]\nRevenue up 4%." in text  # text resource: its text
    assert "[resource file:///reports/chart.bin: application/octet-stream, 1024 bytes, not shown]" in text  # a blob
    assert "[image: image/png, 100 bytes]" in text
    assert "[resource]" not in text


def test_a_server_is_named_by_its_own_name_not_its_commands_last_word() -> None:
    assert CONTENTS.label == "stdio"  # all the command says
    toolset = import_tools(CONTENTS)
    assert {t.server for t in toolset.tools} == {"contents"}  # what the server calls itself
    assert toolset.policies["files"].service == "mcp:contents"


def test_progress_is_requested_and_each_notification_is_a_trace_row() -> None:
    box = import_tools(CONTENTS).toolbox()
    assert _call(box, "slow").content == "copied 3 files"  # type: ignore[attr-defined]
    rows = [(e.outcome, e.detail) for e in box.events]
    assert rows == [
        ("progress", "mcp:contents 1/3 copied file 1"),
        ("progress", "mcp:contents 2/3 copied file 2"),
        ("progress", "mcp:contents 3/3 copied file 3"),
        ("ok", ""),
    ]
    assert all(e.who == "rpc:slow" for e in box.trace_events())


def test_progress_on_a_worker_reaches_the_live_view(client: Client) -> None:
    step = identify("mcp-progress", SubTask("copy", "copy the files"))
    seen: list[RoundEvent] = []
    arrived = threading.Event()
    live = LiveProgress()

    def observe(event: RoundEvent) -> None:
        seen.append(event)
        live(event)
        if len(seen) == 3:
            arrived.set()

    mcp_progress.follow(client, observe, run_id="mcp-progress")

    def on_worker() -> str:  # pickled by value: it builds the toolbox where the tools run
        box = McpToolkit(servers=(CONTENTS,)).toolbox("researcher", step)
        return str(box.call(ToolCall("c1", "slow", "{}")).content)

    assert client.submit(on_worker, pure=False).result() == "copied 3 files"
    assert arrived.wait(timeout=60), seen
    assert [(e.kind, e.task.id, e.remote.state) for e in seen] == [("remote", "copy", "progress")] * 3  # type: ignore[union-attr]
    assert seen[-1].remote.agent == "mcp:contents" and seen[-1].remote.text == "slow: 3/3 copied file 3"  # type: ignore[union-attr]
    live.refresh()  # the widget redraws at most every 0.1 s; draw the last word now
    assert "mcp:contents progress: slow: 3/3 copied file 3" in live.widget.value
    client.run(close_sessions)


def test_a_tool_that_requires_task_mode_is_left_out_with_a_note() -> None:
    toolset = import_tools(McpServer(GARBAGE, timeout=10))
    assert [t.name for t in toolset.tools] == ["lookup"]
    assert "requires MCP Tasks" in toolset.left_out["garbage/batch"]
    assert "garbage/batch  [left out: requires MCP Tasks" in describe(toolset)


def test_garbage_on_stdout_is_not_valid_mcp_at_once_without_a_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    box = import_tools(McpServer(f"{GARBAGE} --not-json", timeout=30)).toolbox()
    seen = _call(box, "lookup", '{"word": "x"}')
    assert not seen.ok and "not valid MCP" in seen.content  # type: ignore[attr-defined]
    assert "'Traceback (most recent call last): lookup crashed'" in seen.content  # type: ignore[attr-defined]
    # answered at once: one attempt, not a wait for the 30 s timeout (and not retried: it would not help)
    assert [e.outcome for e in box.events] == ["ServiceError"]
    again = _call(box, "lookup", '{"word": "x"}')  # a fresh server, which is just as broken
    assert "not valid MCP" in again.content  # type: ignore[attr-defined]
    err = capfd.readouterr().err
    assert "Traceback" not in err.replace("'Traceback (most recent call last): lookup crashed'", "")
    assert "Failed to parse" not in err


def test_a_banner_before_the_handshake_is_not_valid_mcp_at_once() -> None:
    with pytest.raises(ServiceError, match="could not be started: wrote 'garbage server v0 ready' on stdout"):
        import_tools(McpServer(f"{GARBAGE} --banner", timeout=30, startup=600))  # not a wait for 600 s


def test_a_timed_out_read_only_tool_is_tried_once() -> None:
    toolset = import_tools(McpServer(INVENTORY, name="inventory", timeout=1.0))
    assert toolset.policies["hang"].retry.attempts == 3 and not toolset.policies["hang"].retry.on_timeout
    box = toolset.toolbox()
    seen = _call(box, "hang", '{"seconds": 30}')
    assert not seen.ok and seen.error == "ToolTimeout"  # type: ignore[attr-defined]
    assert [e.outcome for e in box.events] == ["ToolTimeout"]  # no second or third wait


def _run_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    protocols.add_run_options(parser)
    return parser.parse_args(list(argv))


def test_the_mcp_timeout_is_set_per_server_on_the_command_line() -> None:
    args = _run_args("--mcp", "slow-server", "--mcp-timeout", "30", "--mcp", "quick-server")
    assert [(s.target, s.timeout) for s in protocols._servers(args)] == [("slow-server", 30.0), ("quick-server", 10.0)]
    every = _run_args("--mcp-timeout", "20", "--mcp", "a", "--mcp", "b", "--mcp-timeout", "5")
    assert [s.timeout for s in protocols._servers(every)] == [20.0, 5.0]
    with pytest.raises(SystemExit):
        _run_args("--mcp", "a", "--mcp-timeout", "0")
    # the server's timeout is what a call gets: a 1.5 s tool fails at 1 s and succeeds at 20 s
    slow = _run_args("--mcp", INVENTORY, "--mcp-timeout", "1")
    hung = _call(
        protocols.run_toolkit(slow).toolbox("researcher", identify("t", SubTask("a", "x"))), "hang", '{"seconds": 1.5}'
    )
    assert hung.error == "ToolTimeout"  # type: ignore[attr-defined]
    close_sessions()
    patient = _run_args("--mcp", INVENTORY, "--mcp-timeout", "20")
    woke = _call(
        protocols.run_toolkit(patient).toolbox("researcher", identify("t", SubTask("a", "x"))),
        "hang",
        '{"seconds": 1.5}',
    )
    assert woke.content == "woke up"  # type: ignore[attr-defined]


def test_an_http_server_that_dies_mid_call_is_reported_as_such() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Background([sys.executable, str(HERE / "mcp_content_server.py"), "http", str(port)], ready=url):
        server = McpServer(url, timeout=30, startup=10)
        toolset = import_tools(server)
        with pytest.raises(ServiceError, match="contents died mid-call") as died:
            call_tool(server, "die", {})
        assert died.value.retryable
        box = toolset.toolbox()
        gone = _call(box, "pid")  # retried: each attempt tries a fresh session to a server that is gone
        assert "died and could not be restarted" in gone.content  # type: ignore[attr-defined]
        assert "could not be started" not in gone.content  # type: ignore[attr-defined]
