"""The supervisor's two model steps — plan and reduce — as tools a model calls (lab 03).

Planning is one model step offered a `make_plan` tool; reducing is one model step offered `finish` and
`replan`. Any tool-calling model can drive the supervisor this way. This module holds those tool
schemas, the text formats the steps read, and the offline model's planning and reducing skills:

- plan: a goal that lists several items or names several ids becomes one researcher sub-task per item,
  plus an analyst that combines their findings; anything else stays a single sub-task (no fan-out);
- reduce: if every sub-task succeeded, finish with their findings combined; if some failed and rounds
  remain, re-plan just those; otherwise finish with what there is, saying what is missing.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "FINISH_TOOL",
    "PLAN_TOOL",
    "REPLAN_TOOL",
    "findings_block",
    "offline_plan",
    "offline_reduce",
    "parse_findings",
    "read_round",
    "reduce_prompt",
    "synthesize",
]

_SUBTASK = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "short unique id, e.g. a, b, c"},
        "goal": {"type": "string", "description": "what this sub-task must find out or do"},
        "role": {"type": "string", "enum": ["researcher", "coder", "analyst", "critic"]},
        "deps": {"type": "array", "items": {"type": "string"}, "description": "ids that must finish first"},
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

_ID = re.compile(r"\b[A-Z]{2,}-\d+\b")
_FINDING = re.compile(r"^- \[(?P<id>[^\]]+)\] \((?P<role>\w+), (?P<state>\w+)\) (?P<text>.*)$")
_HEADER = "Findings of the sub-tasks:"
_ROUND = re.compile(r"Round (\d+) of at most (\d+)\.")
_ERROR = re.compile(r" \[error: .*\]$")
_BASE = re.compile(r"(~\d+|-r\d+)+$")


def findings_block(results: list[tuple[str, str, str, str, str]]) -> str:
    """Sub-task results as the text a model step reads, one line each (id, role, state, goal, result):

    - [a] (researcher, done) <what it found>
    - [b] (researcher, timeout) <its goal> [error: <why it has no result>]
    """
    lines = []
    for tid, role, state, goal, text in results:
        body = text if state == "done" else f"{goal} [error: {text}]"
        lines.append(f"- [{tid}] ({role}, {state}) {' '.join(body.split())}")
    return "\n".join([_HEADER, *lines])


def reduce_prompt(goal: str, round_no: int, max_rounds: int, findings: str) -> str:
    """What the reduce step reads: the goal, where we are in the rounds, and the findings."""
    return f"Goal: {goal}\nRound {round_no} of at most {max_rounds}.\n{findings}"


def read_round(prompt: str) -> tuple[int, int]:
    found = _ROUND.search(prompt)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


def parse_findings(text: str) -> list[dict[str, str]]:
    """The findings lines back as dicts (what the offline model reads)."""
    if _HEADER not in text:
        return []
    found = (_FINDING.match(line) for line in text.split(_HEADER, 1)[1].splitlines())
    return [m.groupdict() for m in found if m]


def synthesize(text: str) -> str | None:
    """Combine the findings in a prompt into one answer (the offline analyst's and reducer's skill)."""
    done = [f["text"] for f in parse_findings(text) if f["state"] == "done"]
    return " ".join(dict.fromkeys(done)) or None


def _items(goal: str) -> list[str]:
    """Sub-goals the goal spells out: bullet lines or ';'-separated parts; else one per id it names."""
    bullets = [ln.strip(" -*\t") for ln in goal.splitlines() if ln.strip().startswith(("-", "*"))]
    if len(bullets) > 1:
        return bullets
    parts = [p.strip() for p in goal.split(";") if p.strip()]
    if len(parts) > 1:
        return parts
    ids = list(dict.fromkeys(_ID.findall(goal)))
    if len(ids) > 1:
        span = re.compile(re.escape(ids[0]) + r".*" + re.escape(ids[-1]), re.DOTALL)
        return [span.sub(one, goal, count=1) for one in ids]  # "causes of A, B and C" -> "causes of A"
    return [goal]


def offline_plan(goal: str) -> dict[str, Any]:
    """The offline planner: fan out over the items the goal names, then combine with an analyst."""
    items = _items(goal)
    if len(items) == 1:
        return {"subtasks": [{"id": "a", "goal": goal, "role": "researcher", "deps": []}]}
    ids = [chr(ord("a") + i) if i < 26 else f"t{i}" for i in range(len(items))]
    subtasks = [{"id": i, "goal": item, "role": "researcher", "deps": []} for i, item in zip(ids, items, strict=True)]
    subtasks.append(
        {"id": "combine", "goal": f"Combine the findings into one answer to: {goal}", "role": "analyst", "deps": ids}
    )
    return {"subtasks": subtasks}


def offline_reduce(prompt: str) -> tuple[str, dict[str, Any]]:
    """The offline reducer: ("finish", {answer}), or ("replan", {subtasks}) for work without a result."""
    round_no, max_rounds = read_round(prompt)
    findings = parse_findings(prompt)
    redo = [f for f in findings if f["state"] != "done"]
    if redo and round_no < max_rounds:
        return "replan", {"subtasks": _redo_plan(findings, redo, round_no + 1)}
    # a combining analyst's finding already holds the others; without one, join what was found
    done = [f for f in findings if f["state"] == "done"]
    analysts = [f for f in done if f["role"] == "analyst"]
    answer = analysts[-1]["text"] if analysts else " ".join(f["text"] for f in done)
    if redo:
        answer = f"{answer} (incomplete: no result for {', '.join(f['id'] for f in redo)})".strip()
    return "finish", {"answer": answer or "No sub-task produced a result."}


def _redo_plan(findings: list[dict[str, str]], redo: list[dict[str, str]], round_no: int) -> list[dict[str, Any]]:
    """Failed, timed-out and blocked sub-tasks again, under new ids. A redone analyst combines everything
    the others found, old or new; researchers start afresh."""
    new_id = {f["id"]: f"{_BASE.sub('', f['id'])}-r{round_no}" for f in redo}
    latest = [new_id.get(f["id"], f["id"]) for f in findings if f["role"] != "analyst"]
    return [
        {
            "id": new_id[f["id"]],
            "goal": _ERROR.sub("", f["text"]),
            "role": f["role"],
            "deps": latest if f["role"] == "analyst" else [],
        }
        for f in redo
    ]
