"""The offline model's skills as a supervisor's planner and reducer (lab 03).

The offline model (`agentlab.models.offline.policy`) reads the supervisor's prompts (`agentlab.prompts`) like any
model would, and answers with these rules:

- plan: a goal that lists several items or names several ids becomes one researcher sub-task per item,
  plus an analyst that combines their findings; anything else stays a single sub-task (no fan-out);
- reduce: if every sub-task succeeded, finish with their findings combined; if some failed and rounds
  remain, re-plan just those (each naming the sub-task it `replaces`); otherwise finish with what there
  is, saying what is missing.

A real model decides differently; the supervisor relies only on the protocol, never on these rules.
"""

from __future__ import annotations

import re
from typing import Any

from agentlab.prompts import parse_findings, read_round
from agentlab.text import identifiers

__all__ = ["offline_plan", "offline_reduce", "synthesize"]

_ERROR = re.compile(r" \[error: .*\]$")


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
    ids = identifiers(goal)
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
    new_id = {f["id"]: f"{f['id']}-r{round_no}" for f in redo}
    latest = [new_id.get(f["id"], f["id"]) for f in findings if f["role"] != "analyst"]
    return [
        {
            "id": new_id[f["id"]],
            "goal": _ERROR.sub("", f["text"]),
            "role": f["role"],
            "deps": latest if f["role"] == "analyst" else [],
            "replaces": f["id"],
        }
        for f in redo
    ]
