"""A bounded shared context: what an agent sees of the board fits a token budget, by a stated rule (lab 05).

A board grows with every finding; an agent that reads all of it into its prompt pays for every token,
every turn, and past some size the prompt no longer fits. So each agent's *view* of the board has a
token budget, and one rule decides what goes in:

    1. Order the entries: those sharing words with the agent's sub-task first (when it is given),
       then newest first.
    2. Take entries whole, in that order, while they fit.
    3. Then fold the next ones into one-line summaries (key and first words), while those fit.
    4. Drop the rest.

Nothing is lost silently: the view counts what it summarized and dropped and the tokens that cost,
says so on its first line — which is what the agent reads and what its trace shows — and
`trace_event` puts the same numbers in a run's trace.

Tokens are counted from above without a tokenizer (the larger of words and characters / 4), the same
count the budgets use. Left out: summaries written by a model (ours are truncations), and embeddings
for relevance (word overlap is the rule here).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from agentlab.agent.tools import Tool, tool
from agentlab.memory.board import Blackboard
from agentlab.memory.budget import count_tokens
from agentlab.memory.values import Entry
from agentlab.text import content_terms
from agentlab.trace import Trace

__all__ = ["RULE", "ContextView", "board_view_tool", "count_tokens", "view"]

RULE = "relevant first, then newest; whole while they fit, then one-line summaries, then dropped"

_SUMMARY_WORDS = 8


def _whole(entry: Entry) -> str:
    return f"[{entry.key} v{entry.version}{' by ' + entry.writer if entry.writer else ''}] {entry.value}"


def _summary(entry: Entry) -> str:
    words = str(entry.value).split()
    more = "…" if len(words) > _SUMMARY_WORDS else ""
    return f"[{entry.key} v{entry.version}, summary] {' '.join(words[:_SUMMARY_WORDS])}{more}"


@dataclass(frozen=True)
class ContextView:
    """What one agent sees of the board: the lines shown, and what the budget cost it."""

    budget: int
    lines: tuple[str, ...]
    whole: tuple[str, ...]
    """Keys shown whole."""
    summarized: tuple[str, ...]
    """Keys shown as a one-line summary."""
    dropped: tuple[str, ...]
    """Keys not shown at all."""
    tokens: int
    """Tokens of the lines shown (≤ budget)."""
    lost_tokens: int
    """Tokens of the board the agent did not see: dropped entries, and what summaries left out."""

    @property
    def note(self) -> str:
        """The first line of the view: how much was left out to fit the budget, by which rule."""
        if not self.summarized and not self.dropped:
            return f"(board: {len(self.whole)} entries, all shown, {self.tokens}/{self.budget} tokens)"
        return (
            f"(board: {len(self.whole)} shown whole, {len(self.summarized)} summarized, {len(self.dropped)} dropped; "
            f"{self.lost_tokens} tokens left out to fit {self.budget}; rule: {RULE})"
        )

    @property
    def text(self) -> str:
        return "\n".join([self.note, *self.lines])

    def trace_event(self, trace: Trace, who: str = "memory") -> None:
        """Record this view in a run's trace: outcome "trimmed" when anything was left out."""
        now = time.time()
        outcome = "trimmed" if self.summarized or self.dropped else "complete"
        trace.add(who, f"board view {self.tokens}/{self.budget} tokens", now, now, outcome, self.note)


def _order(entries: Iterable[Entry], relevant_to: str) -> list[Entry]:
    wanted = set(content_terms(relevant_to)) if relevant_to else set()

    def rank(entry: Entry) -> tuple[int, int]:
        shared = len(wanted & set(content_terms(f"{entry.key} {entry.value}")))
        return (-shared, -entry.seq)

    return sorted(entries, key=rank)


def view(entries: Iterable[Entry], budget: int, relevant_to: str = "") -> ContextView:
    """The view of `entries` that fits `budget` tokens, by the module's rule (pure)."""
    lines: list[str] = []
    whole: list[str] = []
    summarized: list[str] = []
    dropped: list[str] = []
    used = lost = 0
    for entry in _order(entries, relevant_to):
        full, short = _whole(entry), _summary(entry)
        if not summarized and not dropped and used + count_tokens(full) <= budget:
            lines.append(full)
            whole.append(entry.key)
            used += count_tokens(full)
        elif not dropped and used + count_tokens(short) <= budget:
            lines.append(short)
            summarized.append(entry.key)
            used += count_tokens(short)
            lost += max(count_tokens(full) - count_tokens(short), 0)
        else:
            dropped.append(entry.key)
            lost += count_tokens(full)
    return ContextView(budget, tuple(lines), tuple(whole), tuple(summarized), tuple(dropped), used, lost)


def board_view_tool(board: Blackboard, budget: int, prefix: str = "", name: str = "read_board") -> Tool:
    """A tool that shows an agent the board (a `Blackboard`) within `budget` tokens, loss noted first."""

    def read_board(topic: str = "") -> str:
        """Read the shared board of findings other agents posted.

        Args:
            topic: what you are working on; findings about it are shown first.
        """
        entries = board.read(prefix).values()
        return view(entries, budget, relevant_to=topic).text

    made: Tool = tool(read_board, name=name)
    return made
