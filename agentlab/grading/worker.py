"""The grading worker: one notebook's answers and checks, run in a process of their own (see `grade`).

    python -m agentlab.grading.worker SPEC.json EVENTS.jsonl

The spec names the exercise, the setup and answer cells' sources, the parts already known to be
broken, the check files and the time limit. The worker reports as it goes, one JSON object per line,
flushed at once, so that if it hangs or dies the grader knows what it was running:

    {"event": "start", "item": "setup" | "answer" | "test", "part": ...}
    {"event": "answer", "part": ..., "ok": true | false, "message": ...}
    {"event": "test", "test": ..., "part": ..., "points": ..., "hidden": ..., "passed": ..., "message": ...}
    {"event": "error", "message": ...}         the checks themselves could not be loaded
    {"event": "done"}
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentlab.grading.exercises import EXERCISES, Exercise
from agentlab.grading.limits import GradingTimeout, time_limit
from agentlab.grading.runner import reason, run_checks
from agentlab.grading.testkit import Answers

__all__ = ["execute", "main", "run"]

Emit = Callable[[dict[str, Any]], None]


def execute(source: str, filename: str, namespace: dict[str, Any], limit: float | None, what: str) -> str | None:
    """Run one cell's source in `namespace`: None if it ran, else why not (a syntax error, an exception, a timeout)."""
    try:
        code = compile(source, filename, "exec", dont_inherit=True)  # not the grader's own __future__ flags
    except SyntaxError as exc:
        return f"SyntaxError in {what}, line {exc.lineno}: {exc.msg}"
    try:
        with (
            time_limit(limit, what),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            exec(code, namespace)
    except (Exception, GradingTimeout, SystemExit, KeyboardInterrupt) as exc:
        return reason(exc, exc.__traceback__)
    return None


def _hints(exercise: Exercise, broken: dict[str, str]) -> dict[str, str]:
    """For each answer name, what to say if a check finds it missing."""
    hints = {}
    for part, names in exercise.parts.items():
        tag = exercise.tag(part)
        for name in names:
            hints[name] = (
                f"its answer cell (tagged {tag}) could not run: {broken[part]}"
                if part in broken
                else f"the answer cell tagged {tag} ran but did not define it (was it renamed?)"
            )
    return hints


def run(spec: dict[str, Any], emit: Emit) -> None:
    """Run the setup cells, then each answer cell, then the checks, reporting every step through `emit`."""
    exercise = EXERCISES[spec["exercise"]]
    limit = spec.get("limit")
    broken: dict[str, str] = dict(spec.get("broken", {}))
    module = types.ModuleType("__answers__")  # a real module, so dataclasses and pickling inside answers work
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    emit({"event": "start", "item": "setup", "part": None})
    for number, source in enumerate(spec.get("setup", []), start=1):
        error = execute(source, f"<setup cell {number}>", namespace, limit, "the setup cell")
        if error:
            why = f"the setup cell failed ({error}); restore it from a fresh copy of the notebook"
            broken.update({part: why for part in exercise.parts if part not in broken})
            break
    for part, source in spec.get("answers", []):
        if part in broken:
            continue
        tag = exercise.tag(part)
        emit({"event": "start", "item": "answer", "part": part})
        error = execute(source, f"<{tag}>", namespace, limit, f"the answer cell {tag}")
        emit({"event": "answer", "part": part, "ok": error is None, "message": error or ""})
        if error:
            broken[part] = error
    files = [Path(f) for f in spec["files"]]
    _, errors = run_checks(files, Answers(namespace, _hints(exercise, broken)), broken=broken, limit=limit, listen=emit)
    for error in errors:
        emit({"event": "error", "message": error})
    emit({"event": "done"})


def main(argv: list[str] | None = None) -> int:
    spec_path, events_path = argv if argv is not None else sys.argv[1:]
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    with open(events_path, "a", encoding="utf-8") as out:

        def emit(event: dict[str, Any]) -> None:
            out.write(json.dumps(event) + "\n")
            out.flush()

        try:
            run(spec, emit)
        except BaseException as exc:  # the grader's own failure: say so, rather than die silently
            emit({"event": "error", "message": f"the grading worker failed: {type(exc).__name__}: {exc}"})
    # leave at once: threads or atexit hooks that an answer started must not keep this process alive
    os._exit(0)


if __name__ == "__main__":
    main()
