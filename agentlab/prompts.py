"""The supervisor's protocol: its two model steps — plan and reduce — as tools a model calls (lab 03).

Planning is one model step offered a `make_plan` tool; reducing is one model step offered `finish` and
`replan`. Any tool-calling model can drive the supervisor this way. This module holds those tool
schemas and the text formats the steps read; it is a value layer, so the supervisor and any model
(the offline model's skills in `agentlab.models.offline.skills` included) can speak it without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONTEXT_HEADER",
    "FINISH_TOOL",
    "PLAN_TOOL",
    "REPLAN_TOOL",
    "ROLE_PROMPTS",
    "Collection",
    "collections_block",
    "findings_block",
    "parse_collections",
    "parse_findings",
    "read_round",
    "reduce_prompt",
    "split_context",
]

_SUBTASK = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "short unique id, e.g. a, b, c"},
        "goal": {"type": "string", "description": "what this sub-task must find out or do"},
        "role": {"type": "string", "enum": ["researcher", "coder", "analyst", "critic"]},
        "deps": {"type": "array", "items": {"type": "string"}, "description": "ids that must finish first"},
        "replaces": {
            "type": "string",
            "description": "when re-planning: the id of the earlier sub-task this one redoes",
        },
    },
    "required": ["id", "goal", "role"],
}
PLAN_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "make_plan",
        "description": "Decompose the goal into sub-tasks for executor agents; independent sub-tasks run in parallel.",
        "parameters": {
            "type": "object",
            "properties": {"subtasks": {"type": "array", "items": _SUBTASK}},
            "required": ["subtasks"],
        },
    },
}
FINISH_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "finish",
        "description": "Give the final answer to the goal, from the sub-tasks' findings.",
        "parameters": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    },
}
REPLAN_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "replan",
        "description": "Plan another round of sub-tasks (for work that failed or is still missing).",
        "parameters": PLAN_TOOL["function"]["parameters"],
    },
}

_FINDING = re.compile(r"^- \[(?P<id>[^\]]+)\] \((?P<role>\w+), (?P<state>\w+)\) (?P<text>.*)$")
_HEADER = "Findings of the sub-tasks:"
_ROUND = re.compile(r"Round (\d+) of at most (\d+)\.")


def findings_block(results: Sequence[tuple[str, str, str, str, str]]) -> str:
    """Sub-task results as the text a model step reads, one line each (id, role, state, goal, result):

    - [a] (researcher, done) <what it found>
    - [b] (researcher, timeout) <its goal> [error: <why it has no result>]
    """
    lines = []
    for tid, role, state, goal, text in results:
        body = text if state == "done" else f"{goal} [error: {text}]"
        lines.append(f"- [{tid}] ({role}, {state}) {' '.join(body.split())}")
    return "\n".join([_HEADER, *lines])


def reduce_prompt(goal: str, round_no: int, max_rounds: int, findings: str, context: str = "") -> str:
    """What the reduce step reads: the goal, where we are in the rounds, what the run works with, the findings."""
    told = f"{context}\n" if context else ""
    return f"Goal: {goal}\nRound {round_no} of at most {max_rounds}.\n{told}{findings}"


CONTEXT_HEADER = "What the executors work with:"
"""Opens the planning context: the executors' tools and the collections a plan may fan out over."""
_ITEM = "  · "


@dataclass(frozen=True)
class Collection:
    """Data a plan may fan out over, one sub-task per item: its name, what it is, and one line per item
    (the item's id first, then its fields, e.g. `NR-1001 | Orion Gateway | listed_price 1999.0`)."""

    name: str
    about: str
    items: tuple[str, ...]


def collections_block(tools: Sequence[tuple[str, str]], collections: Sequence[Collection]) -> str:
    """The planning context: each executor tool (name, description) and each collection with its items."""
    lines = [CONTEXT_HEADER, "Tools: " + "; ".join(f"{name} ({about})" for name, about in tools)]
    for c in collections:
        lines.append(f"Collection {c.name} ({len(c.items)} items): {c.about}")
        lines += [f"{_ITEM}{item}" for item in c.items]
    return "\n".join(lines)


def split_context(prompt: str) -> tuple[str, str]:
    """A planning prompt as (goal, context): the context starts at `CONTEXT_HEADER` (empty without one)."""
    goal, _, context = prompt.partition(CONTEXT_HEADER)
    return goal.strip(), (CONTEXT_HEADER + context if context else "")


def parse_collections(text: str) -> list[Collection]:
    """The collections named in a planning context (what the offline planner reads)."""
    heads: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        head = _COLLECTION.match(line)
        if head:
            heads.append((head.group("name"), head.group("about"), []))
        elif line.startswith(_ITEM) and heads:
            heads[-1][2].append(line[len(_ITEM) :])
    return [Collection(name, about, tuple(items)) for name, about, items in heads]


_COLLECTION = re.compile(r"^Collection (?P<name>\S+) \(\d+ items\): (?P<about>.*)$")


def read_round(prompt: str) -> tuple[int, int]:
    found = _ROUND.search(prompt)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


def parse_findings(text: str) -> list[dict[str, str]]:
    """The findings lines back as dicts (what the offline model reads)."""
    if _HEADER not in text:
        return []
    found = (_FINDING.match(line) for line in text.split(_HEADER, 1)[1].splitlines())
    return [m.groupdict() for m in found if m]


ROLE_PROMPTS = {
    "researcher": "You are a researcher. Find the facts the goal asks for with your tools; cite documents.",
    "coder": "You are a coder. Write and run small Python programs with run_python to answer the goal.",
    "analyst": "You are an analyst. Combine the findings you are given into one clear answer.",
    "critic": "You are a critic. Check the findings against the sources and point out anything unsupported.",
}
"""The system prompt of each executor role (`agentlab.fanout.runners.AgentRunner`)."""
