"""The `Model` protocol: what the agent loop needs from a model (lab 01).

One reasoning step: the conversation so far and the tools on offer go in, a `ModelReply` (tool calls or
a final answer) comes out. `ChatModel` (`agentlab.models.chat`) and the test doubles
(`agentlab.testing.scripted`) satisfy it. Reading it needs no SDK and no HTTP client: how a reply is
fetched, retried or recorded is left to the models themselves.
"""

from __future__ import annotations

from typing import Any, Protocol

from agentlab.wire import Message, ModelReply

__all__ = ["Model"]


class Model(Protocol):
    """Anything that can take one reasoning step."""

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply: ...
