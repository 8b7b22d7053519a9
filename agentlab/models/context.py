"""Keeping a conversation inside the model's context window, by a stated rule (lab 01).

A model sees at most its context window of tokens per request, prompt and reply together: llama.cpp
serving a small model often has 4,096. An agent's conversation grows by a tool result every turn, and
one search for 20 documents is ~3,700 tokens on its own, so after a turn or two the request no longer
fits and the server refuses it. Before each request the model's conversation is fitted by one rule:

    1. The prompt may use the window less the reply's `max_tokens`, the tools' description and a margin.
    2. Cap each tool result at half of that: a longer one keeps its start, cut at a line, and says so.
    3. While the rest does not fit, drop the oldest tool turn whole (a call with its results), never
       the system prompt, the goal or the latest turn; one note in their place says how many went.
    4. If it still does not fit, cut the longest message left (a huge goal, a long reduce prompt).

Nothing is dropped silently: `Fitted` counts the turns dropped, the results cut and the tokens they
held, the model's reply carries those counts in its `usage` (`context_*`), and the agent loop's trace
shows them. The conversation the loop keeps is whole; only what the model is sent is fitted.

Tokens are counted from above without a tokenizer, more cautiously than the budgets do: the larger of
`count_tokens` and characters / 2.5 (SmolLM2's tokenizer needs up to 1 token per 3.2 characters of the
knowledge base and 1 per 2.4 of a JSON tool call; `tests/test_context_window.py` checks the margin
against llama.cpp when it is installed). Left out: exact tokenizers, and summarizing what is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agentlab.errors import ConfigError
from agentlab.text import count_tokens
from agentlab.wire import Message

__all__ = ["RULE", "Fitted", "context_note", "fit", "prompt_budget", "prompt_tokens"]

RULE = (
    "keep the system prompt, the goal and the latest turn; cap each tool result at half the prompt budget; "
    "drop the oldest tool turns whole until the rest fits; then cut the longest message"
)

MESSAGE_OVERHEAD = 16
"""Tokens a chat template adds around each message (role markers, separators), counted from above."""
MARGIN = 0.05
"""Share of the window left unused, for what a template adds beyond that."""
RESULT_SHARE = 0.5
"""The largest share of the prompt budget one tool result may take."""


def prompt_tokens(text: str) -> int:
    """Tokens `text` may take in a prompt, counted from above: max(count_tokens, characters / 2.5)."""
    return max(count_tokens(text), math.ceil(len(text) / 2.5))


def _tokens(message: Message) -> int:
    calls = " ".join(str((c.get("function") or {}).get("arguments", "")) for c in message.get("tool_calls") or ())
    return MESSAGE_OVERHEAD + prompt_tokens(str(message.get("content") or "")) + prompt_tokens(calls)


def prompt_budget(window: int, max_tokens: int | None, overhead: int) -> int:
    """Tokens the messages may take: the window less the reply, the tools' description and the margin."""
    budget = window - (max_tokens or 0) - overhead - math.ceil(window * MARGIN)
    if budget < 2 * MESSAGE_OVERHEAD:
        raise ConfigError(
            f"a context window of {window} tokens leaves no room for a prompt after the reply's max_tokens "
            f"({max_tokens}) and the tools ({overhead} tokens): lower max_tokens or serve a larger context"
        )
    return budget


@dataclass(frozen=True)
class Fitted:
    """The conversation as the model is sent it, and what fitting it left out."""

    messages: list[Message]
    tokens: int
    """Tokens of `messages`, counted from above (`prompt_tokens`)."""
    budget: int
    dropped_turns: int = 0
    """Tool turns (a call with its results) left out, oldest first."""
    cut_messages: int = 0
    """Messages sent with their end cut off (tool results over their cap, or the longest message)."""
    dropped_tokens: int = 0
    """Tokens left out, in dropped turns and cut ends."""

    @property
    def changed(self) -> bool:
        return bool(self.dropped_turns or self.cut_messages)

    def usage(self) -> dict[str, int]:
        """The counts as a reply's `usage` entries (empty when nothing was left out)."""
        if not self.changed:
            return {}
        return {
            "context_budget": self.budget,
            "context_dropped_turns": self.dropped_turns,
            "context_cut_messages": self.cut_messages,
            "context_dropped_tokens": self.dropped_tokens,
        }


def _cut(message: Message, limit: int, why: str) -> tuple[Message, int]:
    """`message` with its content cut to about `limit` tokens at a line break, and the tokens cut."""
    text = str(message.get("content") or "")
    before = prompt_tokens(text)
    keep = max(0, int(limit * 2.5) - 200)  # characters that surely fit, the note included
    head = text[:keep]
    if "\n" in head[keep // 2 :]:
        head = head[: head.rindex("\n")]
    note = f"\n[… {before - prompt_tokens(head)} more tokens cut to fit the model's context window ({why})]"
    cut = {**message, "content": head + note}
    return cut, max(0, before - prompt_tokens(str(cut["content"])))


def _turns(messages: list[Message]) -> tuple[list[Message], list[list[Message]]]:
    """The head (system prompt and goal: everything before the first assistant message) and the turns."""
    first = next((i for i, m in enumerate(messages) if m.get("role") == "assistant"), len(messages))
    turns: list[list[Message]] = []
    for message in messages[first:]:
        if message.get("role") == "assistant" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)  # a tool result (or a note) belongs to the call before it
    return list(messages[:first]), turns


def fit(messages: list[Message], budget: int) -> Fitted:
    """The conversation fitted into `budget` tokens by `RULE` (see the module docstring)."""
    cap = int(budget * RESULT_SHARE)
    cut_count = lost = 0
    capped: list[Message] = []
    for message in messages:  # 2. cap each tool result
        if message.get("role") == "tool" and _tokens(message) > cap:
            message, gone = _cut(message, cap - MESSAGE_OVERHEAD, f"a tool result may take {cap}")
            cut_count, lost = cut_count + 1, lost + gone
        capped.append(message)
    head, turns = _turns(capped)
    dropped = 0
    note_cost = 40

    def size() -> int:
        return sum(_tokens(m) for m in head) + sum(_tokens(m) for t in turns for m in t) + (note_cost if dropped else 0)

    while size() > budget and len(turns) > 1:  # 3. drop the oldest turn whole
        lost += sum(_tokens(m) for m in turns.pop(0))
        dropped += 1
    if dropped:  # said where the goal is: a new message there would break templates that alternate roles
        note = f"({dropped} earlier tool turn(s) were left out to fit the model's context window.)"
        last = head.pop() if head else {"role": "user", "content": ""}
        head.append({**last, "content": f"{last.get('content') or ''}\n\n{note}".strip()})
    fitted = [*head, *(m for t in turns for m in t)]
    while (total := sum(_tokens(m) for m in fitted)) > budget:  # 4. cut the longest message
        longest = max(range(len(fitted)), key=lambda i: _tokens(fitted[i]))
        target = _tokens(fitted[longest]) - (total - budget) - MESSAGE_OVERHEAD
        if target < 4 * MESSAGE_OVERHEAD:
            raise ConfigError(f"the conversation cannot be fitted into {budget} tokens: serve a larger context")
        fitted[longest], gone = _cut(fitted[longest], target, f"the prompt may take {budget}")
        cut_count, lost = cut_count + 1, lost + gone
    return Fitted(fitted, sum(_tokens(m) for m in fitted), budget, dropped, cut_count, lost)


def context_note(usage: dict[str, int]) -> str:
    """One line for the trace from a reply's `context_*` usage entries."""
    return (
        f"{usage.get('context_dropped_turns', 0)} earlier turn(s) dropped, "
        f"{usage.get('context_cut_messages', 0)} message(s) cut, "
        f"~{usage.get('context_dropped_tokens', 0)} tokens left out (prompt budget {usage.get('context_budget', 0)})"
    )
