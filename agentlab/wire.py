"""The OpenAI chat-completions tool-calling format, as small values (lab 01).

A model step sends `messages` plus `tools` and gets back one assistant message that either holds
`tool_calls` (finish_reason "tool_calls") or a final `content` (finish_reason "stop"). Each tool result
goes back as a `{"role": "tool", "tool_call_id": ..., "content": ...}` message. Messages stay plain dicts
(exactly what goes on the wire); only the model's reply is parsed into values, leniently, because a model
can send anything.

Two repairs keep the conversation well-formed whatever the model sent: duplicate call ids are made
unique (each call gets exactly one answering tool message), and `cap_arguments` swaps arguments longer
than a cap for a short note, so a 2 MB argument is not echoed back to the model on every turn.
`empty_reply` names a reply that carries nothing to act on (it is never taken for an answer).

Giving up is part of the format, not a phrase in the text: beside its own tools, an agent is offered the
reserved tool `give_up(reason)` (`GIVE_UP_TOOL`). A call to it says "I cannot finish, and this is why";
the loop ends the run "gave_up" with that reason (`give_up_reason`) and never runs it as a tool. Any
OpenAI-compatible model can call it, like any other tool.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "GIVE_UP",
    "GIVE_UP_TOOL",
    "Message",
    "ModelReply",
    "ToolCall",
    "assistant_message",
    "cap_arguments",
    "empty_reply",
    "give_up_reason",
    "parse_reply",
    "tool_message",
]

Message = dict[str, Any]

GIVE_UP = "give_up"
"""The reserved tool name: no agent's own tool may take it."""
GIVE_UP_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": GIVE_UP,
        "description": (
            "Call this only when you cannot finish the task with your other tools (say, they keep failing). "
            "The run ends here, without an answer, and reports your reason."
        ),
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why you cannot finish."}},
            "required": ["reason"],
            "additionalProperties": False,
        },
    },
}
"""The reserved tool's entry in a request's `tools` list (read it, do not change it)."""


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

    Missing or mistyped fields become empty values; a call with no id gets a positional one, and a
    repeated id gets a suffix, so each observation can still be matched to exactly one call.
    """
    top: dict[str, Any] = body if isinstance(body, dict) else {}
    choices = top.get("choices")
    choice = _dict(choices[0]) if isinstance(choices, list) and choices else {}
    message = _dict(choice.get("message"))
    raw_calls = message.get("tool_calls")
    calls: list[ToolCall] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_calls if isinstance(raw_calls, list) else []):
        function = _dict(_dict(raw).get("function"))
        call_id = _text(_dict(raw).get("id")) or f"call_{i}"
        if call_id in seen:  # two calls of one id would get two answers of one id
            call_id = f"{call_id}~{i}"
        seen.add(call_id)
        calls.append(ToolCall(call_id, _text(function.get("name")), _text(function.get("arguments"))))
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


def cap_arguments(reply: ModelReply, cap: int) -> ModelReply:
    """The reply with every call's arguments longer than `cap` characters replaced by a short note.

    The note is not JSON, so the call fails as malformed (an error observation) instead of running on
    a truncated argument; the conversation keeps the note, not the megabytes.
    """
    if all(len(c.arguments) <= cap for c in reply.tool_calls):
        return reply
    calls = tuple(
        c
        if len(c.arguments) <= cap
        else ToolCall(c.id, c.name, f"<{len(c.arguments)} characters of arguments dropped: over the {cap} cap>")
        for c in reply.tool_calls
    )
    return replace(reply, tool_calls=calls)


def empty_reply(body: Any) -> str | None:
    """Why a chat.completion body has nothing to act on (no choices, no content and no calls), or None."""
    top: dict[str, Any] = body if isinstance(body, dict) else {}
    choices = top.get("choices")
    if not isinstance(choices, list) or not choices:
        return "the reply had no choices"
    reply = parse_reply(body)
    if reply.tool_calls or (reply.content or "").strip():
        return None
    if reply.finish_reason == "length":
        return "the reply was cut off by max_tokens before any content (raise --max-tokens)"
    return "the reply had no content and no tool calls"


def give_up_reason(reply: ModelReply) -> str | None:
    """The reason a reply gives for giving up, or None if it does not call `give_up`.

    A call is a give-up whatever its arguments: a reason that is not a JSON string becomes the raw
    arguments (or a note that none was given), never an error that would keep the run going.
    """
    call = next((c for c in reply.tool_calls if c.name == GIVE_UP), None)
    if call is None:
        return None
    try:
        args = json.loads(call.arguments)
    except (json.JSONDecodeError, RecursionError):
        args = None
    reason = args.get("reason") if isinstance(args, dict) else None
    text = reason if isinstance(reason, str) else call.arguments
    return " ".join(text.split())[:500] or "no reason given"
