"""The reply parser trusts nothing about the shape of a model's output."""

from __future__ import annotations

from agentlab.wire import ModelReply, ToolCall, assistant_message, parse_reply, tool_message


def test_parses_tool_calls() -> None:
    body = {
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2}'}}
                    ],
                },
            }
        ]
    }
    reply = parse_reply(body)
    assert reply == ModelReply(None, (ToolCall("call_1", "add", '{"a": 2}'),), "tool_calls", {})
    assert not reply.is_final


def test_parses_final_answer_and_usage() -> None:
    reply = parse_reply(
        {"choices": [{"finish_reason": "stop", "message": {"content": "5"}}], "usage": {"total_tokens": 9, "junk": "x"}}
    )
    assert reply.is_final and reply.content == "5" and reply.usage == {"total_tokens": 9}


def test_garbage_shapes_become_empty_values() -> None:
    for body in [None, [], "text", {"choices": "x"}, {"choices": [5]}, {"choices": [{"message": []}]}]:
        reply = parse_reply(body)
        assert reply.is_final and reply.content is None


def test_mistyped_call_fields_are_coerced_to_text() -> None:
    body = {"choices": [{"message": {"tool_calls": [7, {"function": {"name": 3, "arguments": {"a": 1}}}]}}]}
    reply = parse_reply(body)
    assert reply.tool_calls == (ToolCall("call_0", "", ""), ToolCall("call_1", "3", '{"a": 1}'))
    assert reply.finish_reason == "tool_calls"


def test_messages_round_trip_in_openai_format() -> None:
    reply = ModelReply(None, (ToolCall("c9", "f", "{}"),), "tool_calls")
    assert assistant_message(reply) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }
    assert tool_message("c9", "ok") == {"role": "tool", "tool_call_id": "c9", "content": "ok"}
