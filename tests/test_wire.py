"""The reply parser trusts nothing about the shape of a model's output."""

from __future__ import annotations

from agentlab.wire import (
    ModelReply,
    ToolCall,
    assistant_message,
    cap_arguments,
    empty_reply,
    parse_reply,
    tool_message,
)


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


def test_duplicate_call_ids_are_made_unique() -> None:
    call = {"id": "dup", "function": {"name": "f", "arguments": "{}"}}
    reply = parse_reply({"choices": [{"message": {"tool_calls": [call, call, call]}}]})
    assert [c.id for c in reply.tool_calls] == ["dup", "dup~1", "dup~2"]


def test_oversized_arguments_are_dropped_for_a_note() -> None:
    reply = ModelReply(None, (ToolCall("a", "f", '{"q": "x"}'), ToolCall("b", "f", "x" * 500)), "tool_calls")
    capped = cap_arguments(reply, 100)
    assert capped.tool_calls[0] == reply.tool_calls[0]
    assert capped.tool_calls[1].arguments == "<500 characters of arguments dropped: over the 100 cap>"
    assert cap_arguments(capped, 100) == capped


def test_empty_replies_are_named() -> None:
    assert empty_reply({"choices": []}) == "the reply had no choices"
    assert empty_reply({"id": "x"}) == "the reply had no choices"
    assert empty_reply({"choices": [{"message": {"content": None}}]}) == "the reply had no content and no tool calls"
    cut = {"choices": [{"message": {"content": " "}, "finish_reason": "length"}]}
    assert "max_tokens" in (empty_reply(cut) or "")
    assert empty_reply({"choices": [{"message": {"content": "5"}}]}) is None
    assert empty_reply({"choices": [{"message": {"tool_calls": [{"function": {"name": "f"}}]}}]}) is None
