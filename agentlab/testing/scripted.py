"""A scripted model: replies you write by hand, for tests and lab exercises (labs 01, 03).

Replies may be `ModelReply` values or raw chat.completion bodies (dicts), which go through the same
lenient parser as a real endpoint's — so a test can feed the loop any malformed output a real model
might send. Two forms:

- `ScriptedModel([r1, r2, ...])`: one script handed out in order, one reply per model step, in the
  process that holds it (a loop, or a supervisor's own plan and reduce steps).
- `ScriptedModel({"INC-2108": [...], "Combine": [...], ...})`: a script per conversation. A request
  gets the script whose key occurs in its first user message, and the reply at its turn (how many
  assistant messages the conversation already holds). Nothing is counted in the model, so a copy
  pickled to each Dask worker answers exactly as the original would: this is the form that drives a
  supervisor's executors on a real cluster.

It is strict: a request no script matches, or past the end of its script, raises `ScriptError` (the
run ends "model_error"), never a made-up answer; `unconsumed()` lists what was never asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentlab.errors import ScriptError
from agentlab.wire import Message, ModelReply, ToolCall, parse_reply

__all__ = ["Reply", "ScriptedModel", "calls", "final"]

Reply = ModelReply | dict[str, Any]


def final(content: str) -> ModelReply:
    """A reply that ends the run with `content`."""
    return ModelReply(content=content)


def calls(*pairs: tuple[str, str]) -> ModelReply:
    """A reply that asks for tool calls, given as (name, arguments-json) pairs."""
    return ModelReply(None, tuple(ToolCall(f"call_{i}", n, a) for i, (n, a) in enumerate(pairs)), "tool_calls")


def _first_user(messages: list[Message]) -> str:
    return next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")


class ScriptedModel:
    """Replies from a script (see the module docstring); strict about running out."""

    def __init__(self, script: Iterable[Reply] | Mapping[str, Sequence[Reply]]) -> None:
        if isinstance(script, Mapping):
            self.scripts: dict[str, tuple[Reply, ...]] = {str(k): tuple(v) for k, v in script.items()}
            self.sequence: tuple[Reply, ...] | None = None
        else:
            self.scripts, self.sequence = {}, tuple(script)
        self.position = 0
        self.used: set[tuple[str, int]] = set()
        self.requests: list[tuple[list[Message], str]] = []
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def complete(
        self, messages: list[Message], tools: list[dict[str, Any]], *, tool_choice: str = "auto"
    ) -> ModelReply:
        with self._lock:
            self.requests.append((list(messages), tool_choice))
            reply = self._next(messages)
        return reply if isinstance(reply, ModelReply) else parse_reply(reply)

    def _next(self, messages: list[Message]) -> Reply:
        if self.sequence is not None:
            if self.position >= len(self.sequence):
                raise ScriptError(f"the script is exhausted: all {len(self.sequence)} replies were used")
            self.position += 1
            self.used.add(("", self.position - 1))
            return self.sequence[self.position - 1]
        asked = _first_user(messages)
        key = next((k for k in self.scripts if k in asked), None)
        if key is None:
            raise ScriptError(f"no script matches the conversation {asked[:120]!r}; keys: {list(self.scripts)}")
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        if turn >= len(self.scripts[key]):
            raise ScriptError(f"the script {key!r} is exhausted: it has {len(self.scripts[key])} replies")
        self.used.add((key, turn))
        return self.scripts[key][turn]

    def unconsumed(self, seen: Iterable[tuple[str, int]] = ()) -> list[tuple[str, int]]:
        """(script key, turn) of every reply never handed out — here, or in `seen` (what copies in other
        processes handed out: `agentlab.testing.check_script` gathers it from a run's traces)."""
        used = self.used | set(seen)
        if self.sequence is not None:
            return [("", i) for i in range(len(self.sequence)) if ("", i) not in used]
        return [(k, i) for k, replies in self.scripts.items() for i in range(len(replies)) if (k, i) not in used]
