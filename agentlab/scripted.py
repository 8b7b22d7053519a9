"""A scripted model: replies you write by hand, for tests and lab exercises (lab 01).

`ScriptedModel([...])` hands out its replies in order, one per model step, and records every request
it saw. Replies may be `ModelReply` values or raw chat.completion bodies (dicts), which go through the
same lenient parser as a real endpoint's — so a test can feed the loop any malformed output a real
model might send.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from agentlab.wire import Message, ModelReply, ToolCall, parse_reply

__all__ = ["ScriptedModel", "calls", "final"]


def final(content: str) -> ModelReply:
    """A reply that ends the run with `content`."""
    return ModelReply(content=content)


def calls(*pairs: tuple[str, str]) -> ModelReply:
    """A reply that asks for tool calls, given as (name, arguments-json) pairs."""
    return ModelReply(None, tuple(ToolCall(f"call_{i}", n, a) for i, (n, a) in enumerate(pairs)), "tool_calls")


class ScriptedModel:
    """Replies from a list, in order; when the list runs out it answers "(script exhausted)"."""

    def __init__(self, replies: Iterable[ModelReply | dict[str, Any]]) -> None:
        self._replies = list(replies)
        self._lock = threading.Lock()
        self.requests: list[tuple[list[Message], str]] = []

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        with self._lock:
            self.requests.append((list(messages), tool_choice))
            reply = self._replies.pop(0) if self._replies else final("(script exhausted)")
        return reply if isinstance(reply, ModelReply) else parse_reply(reply)
