"""The offline model's repair skill: fix a failing test by trying one-operator patches (lab 03).

When the goal asks for a fix (fix, patch, repair) and a tool runs the tests after a `patch` (a string
parameter named so), the offline model repairs like the simplest automated program repair does —
generate a few small edits, keep the one the tests accept:

1. run the tests as they are (`patch` empty) and read every source file the read tool's `path` enum
   offers (`.py` files not named `test_*`), in one turn;
2. for each comparison in those files, the boundary edit (`<` ↔ `<=`, `>` ↔ `>=`) as a unified diff, and
   the tests run after each, in parallel (at most `MAX_CANDIDATES`);
3. answer with the edit after which every test passes, naming the file, the line, the function, the
   tests before and after; none passes: give up, saying how many edits it tried.

So the failing test runs in the sandbox before and after the patch, and the patch is the tests' choice,
not a guess. Left out: any edit but a boundary flip (an off-by-one is the bug this finds).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

__all__ = ["MAX_CANDIDATES", "repair_step"]

MAX_CANDIDATES = 12
_FIX_WORDS = frozenset({"fix", "fixing", "patch", "patching", "repair", "repairing"})
_FLIPS = {"<=": "<", ">=": ">", "<": "<=", ">": ">="}
_COMPARISON = re.compile(r"(?<=\s)(<=|>=|<|>)(?=\s)")
_SUMMARY = re.compile(r"\b\d+ (?:failed|passed|errors?)(?:, \d+ (?:failed|passed|errors?))*")

Step = tuple[str, Any]
"""("calls", [(tool, arguments), ...]), ("answer", text) or ("give_up", reason)."""


def _tool_with(tools: list[dict[str, Any]], param: str) -> dict[str, Any] | None:
    for entry in tools:
        fn = entry.get("function") or {}
        if param in ((fn.get("parameters") or {}).get("properties") or {}):
            return fn
    return None


def _sources(reader: dict[str, Any] | None) -> list[str]:
    if reader is None:
        return []
    values = reader["parameters"]["properties"]["path"].get("enum") or []
    return [str(v) for v in values if str(v).endswith(".py") and not str(v).split("/")[-1].startswith("test_")]


def _candidates(path: str, text: str) -> list[tuple[str, int, str, str]]:
    """(diff, line number, old line, new line) for each boundary flip in the file."""
    lines = text.splitlines(keepends=True)
    found = []
    for n, line in enumerate(lines, 1):
        code = line.split("#", 1)[0]
        if line.lstrip().startswith(("#", '"', "'")):
            continue
        for match in _COMPARISON.finditer(code):
            new = line[: match.start()] + _FLIPS[match.group(1)] + line[match.end() :]
            patched = [*lines[: n - 1], new, *lines[n:]]
            diff = "".join(difflib.unified_diff(lines, patched, fromfile=path, tofile=path))
            found.append((diff, n, line.strip(), new.strip()))
    return found[:MAX_CANDIDATES]


def _function_at(text: str, line: int) -> str | None:
    names = [m.group(1) for m in re.finditer(r"^\s*def (\w+)", "\n".join(text.splitlines()[:line]), re.MULTILINE)]
    return names[-1] if names else None


def _passed(report: str) -> bool:
    summary = _SUMMARY.search(report)
    return summary is not None and "passed" in summary.group(0) and not re.search(r"failed|error", summary.group(0))


def _summary(report: str) -> str:
    found = _SUMMARY.search(report)
    return found.group(0) if found else report.strip()[:120]


def repair_step(tools: list[dict[str, Any]], goal: str, outputs: list[tuple[str, dict[str, Any], str]]) -> Step | None:
    """The next step of a repair (module docstring), or None when the skill does not apply."""
    runner, reader = _tool_with(tools, "patch"), _tool_with(tools, "path")
    if runner is None or not _FIX_WORDS & set(re.findall(r"[a-z]+", goal.lower())):
        return None
    runs = {str(args.get("patch", "")): text for name, args, text in outputs if name == runner["name"]}
    read = {str(args["path"]): text for name, args, text in outputs if "path" in args and name != runner["name"]}
    sources = _sources(reader)
    if "" not in runs or any(path not in read for path in sources):
        calls = [(runner["name"], {"patch": ""})]
        return "calls", calls + [(str(reader["name"]), {"path": p}) for p in sources if reader is not None]
    candidates = [(path, *c) for path in sources for c in _candidates(path, read[path])]
    if not candidates:
        return "give_up", f"no source file to patch among {', '.join(sources) or 'the files I can read'}"
    if not any(diff in runs for _, diff, *_ in candidates):
        return "calls", [(runner["name"], {"patch": diff}) for _, diff, *_ in candidates]
    for path, diff, line, old, new in candidates:
        if diff in runs and _passed(runs[diff]):
            where = _function_at(read[path], line)
            return "answer", (
                f"Fix: in {path} line {line}{f' ({where})' if where else ''}, change `{old}` to `{new}`. "
                f"Tests before the patch: {_summary(runs[''])}; after it: {_summary(runs[diff])}.\n{diff}"
            )
    return "give_up", f"none of {len(candidates)} one-operator patches makes the tests pass"
