"""The OpenAI chat-completions tool-calling format, as small values (lab 01).

A model step sends `messages` plus `tools` and gets back one assistant message that either holds
`tool_calls` (finish_reason "tool_calls") or a final `content` (finish_reason "stop"). Each tool result
goes back as a `{"role": "tool", "tool_call_id": ..., "content": ...}` message. Messages stay plain dicts
(exactly what goes on the wire); only the model's reply is parsed into values, leniently, because a model
can send anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message", "ModelReply", "ToolCall", "assistant_message", "parse_reply", "tool_message"]

Message = dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for; `arguments` is the raw JSON text, unvalidated."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ModelReply:
    """One model step's result: a final answer (`content`) or tool calls, and why it stopped."""

    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        """True when the model asked for no tools: its content is the answer."""
        return not self.tool_calls


def _text(value: object) -> str:
    """Coerce whatever the model put in a string field into a string."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_reply(body: Any) -> ModelReply:
    """Parse a chat.completion body (a dict) into a ModelReply without trusting its shape.

    Missing or mistyped fields become empty values; a call with no id gets a positional one so its
    observation can still be matched to it.
    """
    top: dict[str, Any] = body if isinstance(body, dict) else {}
    choices = top.get("choices")
    choice = _dict(choices[0]) if isinstance(choices, list) and choices else {}
    message = _dict(choice.get("message"))
    raw_calls = message.get("tool_calls")
    calls = []
    for i, raw in enumerate(raw_calls if isinstance(raw_calls, list) else []):
        function = _dict(_dict(raw).get("function"))
        calls.append(
            ToolCall(
                id=_text(_dict(raw).get("id")) or f"call_{i}",
                name=_text(function.get("name")),
                arguments=_text(function.get("arguments")),
            )
        )
    usage = _dict(top.get("usage"))
    content = message.get("content")
    return ModelReply(
        content=None if content is None else _text(content),
        tool_calls=tuple(calls),
        finish_reason=_text(choice.get("finish_reason")) or ("tool_calls" if calls else "stop"),
        usage={k: v for k, v in usage.items() if isinstance(v, int)},
    )


def assistant_message(reply: ModelReply) -> Message:
    """The assistant message to append to the conversation for this reply."""
    message: Message = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    return message


def tool_message(call_id: str, content: str) -> Message:
    """The observation message that answers one tool call."""
    return {"role": "tool", "tool_call_id": call_id, "content": content}
