"""The `Model` protocol: what the agent loop needs from a model (lab 01).

One reasoning step: the conversation so far and the tools on offer go in, a `ModelReply` (tool calls or
a final answer) comes out. `ChatModel` (`agentlab.models.chat`) and the test doubles
(`agentlab.testing.scripted`) satisfy it. Reading it needs no SDK and no HTTP client: how a reply is
fetched, retried or recorded is left to the models themselves.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from agentlab.wire import Message, ModelReply

__all__ = ["CappedModel", "Model"]


class Model(Protocol):
    """Anything that can take one reasoning step."""

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply: ...


@runtime_checkable
class CappedModel(Model, Protocol):
    """A model whose requests carry a cap on the reply: what a budget needs to fail closed
    (`agentlab.memory.budgeted`). `ChatModel` sends it as `max_tokens`; a server stops there."""

    @property
    def max_tokens(self) -> int | None: ...

    def with_options(self, **changes: Any) -> CappedModel: ...
