"""The debugging scenario's tools: read the failing-test workspace, run its tests in the sandbox (lab 03).

`datasets/debug/` holds a small inventory module with one off-by-one bug, its tests (one fails), the
pytest trace of that failure and the expected fix (`scenario.json`, `fix.patch`). Two tools let an agent
work on it the way an engineer would:

    read_file(path)     one file of the workspace; `path` is an enum of the files there, so any
                        tool-calling model sees exactly what it may open
    run_tests(patch)    the workspace's tests under pytest in a fresh sandbox (`agentlab.services.sandbox`),
                        after applying `patch`, a unified diff against the workspace (empty: as it is)

The workspace itself is never changed: each run copies it into its sandbox and patches the copy.
Left out: patches that add or delete files, and fuzzy hunk matching (a hunk must apply where it says).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import pydantic

from agentlab.agent.tools import Tool, tool
from agentlab.data import data_dir, read_json
from agentlab.errors import InvalidArguments
from agentlab.services.sandbox import SandboxLimits, run_python

__all__ = ["apply_patch", "choice_tool", "debug_tools", "scenario", "workspace_files"]

_RUNNER = """import pytest
code = pytest.main(["-q", "-p", "no:cacheprovider", "tests"])
print(f"pytest exit code {int(code)}")
"""
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")


@functools.cache
def workspace_files() -> dict[str, str]:
    """The workspace, path → text: the trace, the source and the tests."""
    root = data_dir() / "debug"
    paths = ["stack_trace.txt", *sorted(str(p.relative_to(root)) for p in root.glob("*/*.py"))]
    return {p: (root / p).read_text(encoding="utf-8") for p in paths}


def scenario() -> dict[str, Any]:
    """The scenario's ground truth: failing test, implicated file and line, the fix in words."""
    found: dict[str, Any] = read_json("debug/scenario.json")
    return found


def apply_patch(files: Mapping[str, str], patch: str) -> dict[str, str]:
    """`files` with a unified diff applied; InvalidArguments if it names another file or does not apply."""
    patched, path, lines, at = dict(files), None, [], 0
    for line in patch.splitlines():
        if line.startswith("--- "):
            continue
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0].strip()
            if path not in patched:
                raise InvalidArguments(f"the patch names {path!r}, which is not in the workspace")
            lines, at = patched[path].splitlines(keepends=True), 0
            continue
        hunk = _HUNK.match(line)
        if hunk and path is not None:
            at = max(int(hunk.group(1)) - 1, 0)
            continue
        if path is None or not line:
            continue
        sign, text = line[0], line[1:] + "\n"
        if sign in " -" and (at >= len(lines) or lines[at].rstrip("\n") != text.rstrip("\n")):
            raise InvalidArguments(f"the patch does not apply to {path} at line {at + 1}")
        if sign == " ":
            at += 1
        elif sign == "-":
            del lines[at]
        elif sign == "+":
            lines.insert(at, text)
            at += 1
        patched[path] = "".join(lines)
    return patched


def choice_tool(
    name: str, description: str, fn: Callable[[str], str], parameter: tuple[str, tuple[str, ...], str]
) -> Tool:
    """A tool of one string parameter whose schema lists its values as an `enum` (parameter: name, values,
    what it is): a model sees exactly what it may ask for."""
    param, values, about = parameter
    choices: Any = Literal[values]
    fields: dict[str, Any] = {param: (choices, pydantic.Field(description=about))}
    arguments = pydantic.create_model(f"{name}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields)
    return Tool(name=name, description=description, fn=fn, arguments=arguments)


def debug_tools(limits: SandboxLimits | None = None) -> list[Tool]:
    """`read_file` and `run_tests` over the debugging workspace (`limits`: the sandbox's, default its own)."""
    files, limits = workspace_files(), limits or SandboxLimits()
    paths = tuple(files)

    def read_file(path: str) -> str:
        return files[path]

    reader = choice_tool(
        "read_file",
        "Read one file of the failing-test workspace: its stack trace, its source code or its tests.",
        read_file,
        ("path", paths, "the file's path in the workspace"),
    )

    def run_tests(patch: str = "") -> str:
        """Run the failing-test workspace's tests with pytest in a fresh sandbox, after applying a patch.

        Args:
            patch: a unified diff against the workspace's files (empty: run the tests as they are).
        """
        code = {p: text for p, text in apply_patch(files, patch).items() if p.endswith(".py")}
        return run_python(_RUNNER, limits, code).render()

    return [reader, tool(run_tests, name="run_tests")]
