"""MCP tool descriptions as agentlab tools: names, schemas, contracts and results (no server needed)."""

from __future__ import annotations

import mcp_types
import pytest

from agentlab.agent.tools import Toolbox
from agentlab.protocols.mcp_tools import approved_names, contract, needs_task_mode, public_name, result_text, to_tool
from agentlab.rpc.contract import ToolPolicy
from agentlab.wire import ToolCall

SCHEMA = {
    "type": "object",
    "properties": {"file-path": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
    "required": ["file-path"],
}


def listed(name: str = "fs.read/file", annotations: mcp_types.ToolAnnotations | None = None) -> mcp_types.Tool:
    return mcp_types.Tool(name=name, description="Read a file.", input_schema=SCHEMA, annotations=annotations)


def test_names_are_made_safe_for_chat_apis() -> None:
    assert public_name("fs.read/file") == "fs_read_file"
    long = public_name("x" * 100)
    assert len(long) == 64 and long != public_name("x" * 99)


@pytest.mark.parametrize(
    ("hints", "idempotent", "attempts", "ask"),
    [
        ({"read_only_hint": True}, True, 3, False),
        ({"read_only_hint": False, "destructive_hint": False, "idempotent_hint": True}, True, 3, False),
        ({"destructive_hint": True, "idempotent_hint": True}, True, 3, True),  # safe to repeat, still destructive
        ({"destructive_hint": False}, False, 1, True),  # not idempotent: tried once, asked first
        ({}, False, 1, True),  # the spec's defaults: destructive and not idempotent
    ],
)
def test_contract_follows_the_annotations_and_the_specs_defaults(
    hints: dict[str, bool], idempotent: bool, attempts: int, ask: bool
) -> None:
    policy, needs_approval = contract(mcp_types.ToolAnnotations(**hints), ToolPolicy())
    assert (policy.idempotent, policy.retry.attempts, needs_approval) == (idempotent, attempts, ask)
    assert contract(mcp_types.ToolAnnotations(**hints), ToolPolicy(), allowlisted=True)[1] is False


def test_the_servers_schema_is_what_the_model_sees_and_what_arguments_are_checked_against() -> None:
    sent: list[tuple[str, dict[str, object]]] = []

    def call(name: str, arguments: dict[str, object]) -> mcp_types.CallToolResult:
        sent.append((name, arguments))
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text="hello")])

    converted = to_tool(listed(), call, server="fs")
    assert converted.name == "fs_read_file" and converted.original == "fs.read/file"
    assert converted.schema()["function"]["parameters"] == SCHEMA
    box = Toolbox([converted])
    ok = box.call(ToolCall("1", "fs_read_file", '{"file-path": "/etc/hosts"}'))
    assert (ok.ok, ok.content) == (True, "hello")
    assert sent == [("fs.read/file", {"file-path": "/etc/hosts"})]  # the absent optional stays absent
    bad = box.call(ToolCall("2", "fs_read_file", '{"file-path": "a", "limit": 0}'))
    assert not bad.ok and bad.error == "InvalidArguments" and "minimum" in bad.content
    extra = box.call(ToolCall("3", "fs_read_file", '{"file-path": "a", "mode": "w"}'))
    assert not extra.ok and extra.error == "InvalidArguments"
    assert len(sent) == 1  # neither bad call reached the server


def test_results_become_text_and_is_error_becomes_a_failed_observation() -> None:
    structured = mcp_types.CallToolResult(content=[], structured_content={"units": 40})
    assert result_text(structured) == '{"units": 40}'
    image = mcp_types.ImageContent(type="image", data="aGk=", mime_type="image/png")
    assert "image/png" in result_text(mcp_types.CallToolResult(content=[image]))

    def failing(name: str, arguments: dict[str, object]) -> mcp_types.CallToolResult:
        text = mcp_types.TextContent(type="text", text="no such file")
        return mcp_types.CallToolResult(content=[text], is_error=True)

    obs = Toolbox([to_tool(listed(), failing, server="fs")]).call(ToolCall("1", "fs_read_file", '{"file-path": "x"}'))
    assert not obs.ok and obs.error == "ToolFailed" and "no such file" in obs.content


def test_links_and_embedded_resources_are_told_not_dropped() -> None:
    link = mcp_types.ResourceLink(type="resource_link", name="log", uri="file:///var/log/app.log")
    notes = mcp_types.TextResourceContents(uri="mem://notes", text="the fix is in")
    blob = mcp_types.BlobResourceContents(uri="mem://x", blob="AAAA")  # 3 bytes, no MIME type given
    blocks = [link, *(mcp_types.EmbeddedResource(type="resource", resource=r) for r in (notes, blob))]
    assert result_text(mcp_types.CallToolResult(content=blocks)).splitlines() == [
        "[resource link: log <file:///var/log/app.log>]",
        "[resource mem://notes]",
        "the fix is in",
        "[resource mem://x: binary, 3 bytes, not shown]",
    ]


def test_only_a_tool_that_requires_tasks_needs_task_mode() -> None:
    def tool(support: str | None) -> mcp_types.Tool:
        execution = mcp_types.ToolExecution(task_support=support) if support else None  # type: ignore[arg-type]
        return mcp_types.Tool(name="t", input_schema=SCHEMA, execution=execution)

    assert [needs_task_mode(tool(s)) for s in (None, "forbidden", "optional", "required")] == [False] * 3 + [True]


def test_only_safe_or_allowlisted_tools_are_approved() -> None:
    def never(name: str, arguments: dict[str, object]) -> mcp_types.CallToolResult:
        raise AssertionError("not called")

    read = to_tool(listed("read", mcp_types.ToolAnnotations(read_only_hint=True)), never, server="s")
    wipe = to_tool(listed("wipe"), never, server="s")
    assert approved_names([read, wipe], ToolPolicy(), ()) == {"read"}
    assert approved_names([read, wipe], ToolPolicy(), ("wipe",)) == {"read", "wipe"}
    assert approved_names([read, wipe], ToolPolicy(), ("*",)) == {"read", "wipe"}
