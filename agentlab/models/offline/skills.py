"""The offline model's skills as a supervisor's planner and reducer (lab 03).

The offline model (`agentlab.models.offline.policy`) reads the supervisor's prompts (`agentlab.prompts`) like any
model would, and answers with these rules:

- plan, in this order:
  1. a goal that lists several items or names several ids: one researcher sub-task per item, plus an
     analyst that combines their findings;
  2. a goal that asks for *each* / *every* / *all* / *these* of something the planning context lists as a
     collection (`agentlab.prompts.collections_block`): the collection whose name and description share the
     most words with the goal, and whose size matches the count the goal states, if it states one
     ("forty", "12", "4,000"). One researcher sub-task per item, `For <item>: <goal>`, and no analyst: the
     reduce step combines them (so a plan is as wide as the collection, 4,000 items or 10,000);
  3. a goal whose steps are chained by "then" ("read X, then Y, then fix Z"): a chain of sub-tasks, each
     depending on the one before (a step with no verb borrows the previous step's); a step that fixes,
     patches or writes code goes to a coder, the others to researchers;
  4. anything else stays a single sub-task (no fan-out);
- reduce: if some sub-tasks failed and rounds remain, re-plan just those (each naming the sub-task it
  `replaces`). Otherwise finish: a goal that asks to *flag* (or check, compare, verify) over findings that
  each carry a listed value and a fetched one flags those that differ by more than the tolerance the
  context or goal states ("more than 5%"; none stated: any difference); a chain's answer is its last step's
  finding (it read all the others); a combining analyst's finding holds the others; else the findings
  joined. Work without a result is named as missing.

A real model decides differently; the supervisor relies only on the protocol, never on these rules.
"""

from __future__ import annotations

import re
from typing import Any

from agentlab.models.offline.choose import REDO_MARK
from agentlab.prompts import Collection, parse_collections, parse_findings, read_round, split_context
from agentlab.text import content_terms, identifiers

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


def offline_plan(prompt: str) -> dict[str, Any]:
    """The offline planner (rules in the module docstring): items, a collection, a chain, or one sub-task."""
    goal, context = split_context(prompt)
    items = _items(goal)
    if len(items) > 1:
        return {"subtasks": _fan_out(items, goal)}
    collection = _collection_for(goal, parse_collections(context))
    if collection is not None:
        return {"subtasks": [_per_item(i, line, goal) for i, line in enumerate(collection.items)]}
    steps = _steps(goal)
    if len(steps) > 1:
        return {"subtasks": _chain(steps)}
    return {"subtasks": [{"id": "a", "goal": goal, "role": "researcher", "deps": []}]}


def _fan_out(items: list[str], goal: str) -> list[dict[str, Any]]:
    ids = [chr(ord("a") + i) if i < 26 else f"t{i}" for i in range(len(items))]
    subtasks = [{"id": i, "goal": item, "role": "researcher", "deps": []} for i, item in zip(ids, items, strict=True)]
    subtasks.append(
        {"id": "combine", "goal": f"Combine the findings into one answer to: {goal}", "role": "analyst", "deps": ids}
    )
    return subtasks


_QUANTIFIERS = frozenset({"each", "every", "all", "these", "those"})
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_UNITS += " seventeen eighteen nineteen"
_NUMBER_WORDS = {w: n for n, w in enumerate(_UNITS.split())}
_NUMBER_WORDS |= {w: 10 * n for n, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())}
_COUNT = re.compile(r"\b(\d{1,3}(?:,\d{3})+|\d+)\b|\b([a-z]+)(?:-([a-z]+))?\b")


def _stated_count(goal: str) -> int | None:
    """The count a goal states after its quantifier ("each of our forty", "these 4,000"), if any."""
    words = goal.lower().split()
    for i, word in enumerate(words):
        if word.strip(",.") in _QUANTIFIERS:
            for later in words[i + 1 : i + 4]:
                found = _COUNT.fullmatch(later.strip(",."))
                if found and found.group(1):
                    return int(found.group(1).replace(",", ""))
                if found and found.group(2) in _NUMBER_WORDS:
                    return _NUMBER_WORDS[found.group(2)] + _NUMBER_WORDS.get(found.group(3) or "", 0)
    return None


def _collection_for(goal: str, collections: list[Collection]) -> Collection | None:
    """The collection the goal asks to go through item by item, if it asks that of one."""
    if not collections or not _QUANTIFIERS & {w.strip(",.") for w in goal.lower().split()}:
        return None
    count, words = _stated_count(goal), set(content_terms(goal))
    scored = [
        (len(words & set(content_terms(f"{c.name} {c.about}"))), c)
        for c in collections
        if c.items and (count is None or count == len(c.items))
    ]
    best = max(scored, key=lambda s: s[0], default=None)
    return best[1] if best is not None and best[0] >= 2 else None


def _per_item(i: int, line: str, goal: str) -> dict[str, Any]:
    item_id = re.sub(r"\W+", "-", line.split(" | ", maxsplit=1)[0].strip()).strip("-") or f"t{i}"
    return {"id": item_id, "goal": f"For {line}: {goal}", "role": "researcher", "deps": []}


_THEN = re.compile(r",?\s+then\s+|;\s*", re.IGNORECASE)
_CODING = frozenset({"fix", "fixing", "patch", "patching", "repair", "implement", "implementing", "code", "coding"})


def _steps(goal: str) -> list[str]:
    """The steps of a goal chained by "then"; the first step's "X by ..." names what they are for."""
    steps = [s.strip(" .") for s in _THEN.split(goal.strip()) if s.strip(" .")]
    if len(steps) < 2:
        return [goal]
    purpose, by, first = steps[0].partition(" by ")
    steps[0] = first if by else steps[0]
    for n in range(1, len(steps)):  # "then the implicated file": the step before's verb, "reading"
        verb = steps[n - 1].split()[0]
        if not steps[n].split()[0].endswith("ing") and verb.endswith("ing"):
            steps[n] = f"{verb} {steps[n]}"
    return [f"{step} (to {purpose})" if by else step for step in steps]


def _chain(steps: list[str]) -> list[dict[str, Any]]:
    ids = [f"step{n}" for n in range(1, len(steps) + 1)]
    return [
        {
            "id": tid,
            "goal": step,
            "role": "coder" if _CODING & {w.lower() for w in step.split(" (to ")[0].split()} else "researcher",
            "deps": ids[n - 1 : n],
        }
        for n, (tid, step) in enumerate(zip(ids, steps, strict=True))
    ]


def offline_reduce(prompt: str) -> tuple[str, dict[str, Any]]:
    """The offline reducer: ("finish", {answer}), or ("replan", {subtasks}) for work without a result."""
    round_no, max_rounds = read_round(prompt)
    findings = parse_findings(prompt)
    redo = [f for f in findings if f["state"] != "done"]
    if redo and round_no < max_rounds:
        return "replan", {"subtasks": _redo_plan(findings, redo, round_no + 1)}
    done = [f for f in findings if f["state"] == "done"]
    answer = _flags(prompt, done) or _combined(done)
    if redo:
        answer = f"{answer} (incomplete: no result for {', '.join(f['id'] for f in redo)})".strip()
    return "finish", {"answer": answer or "No sub-task produced a result."}


def _combined(done: list[dict[str, str]]) -> str:
    """A chain's last step, or a combining analyst's finding, already holds the others; else join them."""
    steps = [f for f in done if re.fullmatch(r"step\d+", f["id"])]
    if steps and len(steps) == len(done):
        return max(steps, key=lambda f: int(f["id"][4:]))["text"]
    analysts = [f for f in done if f["role"] == "analyst"]
    return analysts[-1]["text"] if analysts else " ".join(f["text"] for f in done)


_FLAG_VERBS = frozenset({"flag", "check", "compare", "verify", "audit"})
_TOLERANCE = re.compile(r"more than (\d+(?:\.\d+)?)\s*%")
_PAIR = re.compile(
    r"^(?P<item>\S+) .*?(?P<field>[a-z_]+) (?P<listed>-?\d+(?:\.\d+)?): \S+ -> (?P<fetched>-?\d+(?:\.\d+)?)$"
)


def _flags(prompt: str, done: list[dict[str, str]]) -> str | None:
    """For a goal that asks to flag: the items whose fetched value is off their listed one by more than the
    stated tolerance (None if the goal does not ask, or the findings carry no such pairs)."""
    goal = prompt.split("\n", 1)[0]
    if not _FLAG_VERBS & {w.strip(",.").lower() for w in goal.split()}:
        return None
    pairs = [m for m in (_PAIR.match(f["text"]) for f in done) if m]
    if not pairs:
        return None
    tolerance = _TOLERANCE.search(prompt)
    limit = float(tolerance.group(1)) if tolerance else 0.0
    flagged = []
    for m in pairs:
        listed, fetched = float(m["listed"]), float(m["fetched"])
        off = abs(listed - fetched) / abs(fetched) * 100 if fetched else (100.0 if listed else 0.0)
        if off > limit:
            flagged.append(f"{m['item']} ({m['field']} {listed:,.2f}, fetched {fetched:,.2f}, off {off:.1f}%)")
    rule = f"more than {limit:g}%" if tolerance else "any difference"
    head = f"Flagged {len(flagged)} of {len(pairs)} ({rule}):"
    return f"{head} {'; '.join(flagged)}." if flagged else f"{head} none."


def _again(goal: str, round_no: int) -> str:
    """A redone sub-task's goal, marked with its round: a new conversation, so a seeded model draws anew."""
    return f"{REDO_MARK.sub('', goal)} (round {round_no})"


def _redo_plan(findings: list[dict[str, str]], redo: list[dict[str, str]], round_no: int) -> list[dict[str, Any]]:
    """Failed, timed-out and blocked sub-tasks again, under new ids. A redone analyst combines everything
    the others found, old or new; researchers start afresh."""
    new_id = {f["id"]: f"{f['id']}-r{round_no}" for f in redo}
    latest = [new_id.get(f["id"], f["id"]) for f in findings if f["role"] != "analyst"]
    return [
        {
            "id": new_id[f["id"]],
            "goal": _again(_ERROR.sub("", f["text"]), round_no),
            "role": f["role"],
            "deps": latest if f["role"] == "analyst" else [],
            "replaces": f["id"],
        }
        for f in redo
    ]
