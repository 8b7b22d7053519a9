"""The checking process: pytest checks against answers that live in a sandbox (see `agentlab.grading.grade`).

    python -m agentlab.grading.checker  < SPEC.json  > RESULTS.jsonl

The spec (on stdin, from the grader) names the exercise, the check files, the hidden checks' text,
the time limit, what the sandbox must hide, and a batch of notebooks: each one's setup and answer
cells and the parts already known to be broken. For each notebook, in turn:

    1. start a sandbox (`Session`) and run the setup cell, then each answer cell, each under the limit;
       a cell that fails breaks its part; a cell that hangs or kills its process breaks its part and
       the sandbox is started again without it;
    2. run the checks with pytest here, asking the sandbox for values and calls, as data;
    3. end the sandbox and its whole process tree, and write one JSON line with the outcomes.

Only this process writes the results, on a pipe only the grader holds; learner code never runs here.
The hidden checks are written to a private 0700 directory of this process, which the sandbox cannot see.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentlab.grading.exercises import EXERCISES, Exercise
from agentlab.grading.runner import run_checks
from agentlab.grading.session import Session, SessionLost, become_subreaper
from agentlab.grading.testkit import Answers

__all__ = ["GRACE_S", "RemoteSource", "grade_batch", "main"]

GRACE_S = 2.0
"""How much longer than the limit the checker waits for a reply before it ends the sandbox."""

Emit = Callable[[dict[str, Any]], None]


class RemoteSource:
    """A notebook's answers in a sandbox; restarted, without the part to blame, when it hangs or dies."""

    def __init__(self, spec: dict[str, Any], notebook: dict[str, Any], emit: Emit) -> None:
        self.exercise: Exercise = EXERCISES[spec["exercise"]]
        self.limit: float | None = spec.get("limit")
        self._covers = list(spec.get("covers", []))
        self._setup: list[str] = list(notebook.get("setup", []))
        self._answers: list[tuple[str, str]] = [(p, s) for p, s in notebook.get("answers", [])]
        self.broken: dict[str, str] = dict(notebook.get("broken", {}))
        self.notes: set[str] = set()
        self.part: str | None = None
        """The part whose check is running (set by the runner's listener)."""
        self._session: Session | None = None
        self._emit = emit
        self._said_alive = time.monotonic()

    @property
    def _wait(self) -> float:
        return (self.exercise.limit_of(self.part, self.limit) or 3600.0) + GRACE_S

    def listen(self, event: dict[str, Any]) -> None:
        if event.get("event") == "start":
            self.part = event.get("part")
        self._emit({"event": "alive"})

    def start(self) -> None:
        """A fresh sandbox with the setup cell and every answer cell not yet broken run in it."""
        while True:
            self.close()
            try:
                self._session = Session(self._covers)
            except SessionLost as exc:
                self.broken.update({p: str(exc) for p in self.exercise.parts if p not in self.broken})
                return
            if self._session.hidden:
                self.notes.add(f"warning: {self._session.hidden}")
            if self._run_cells():
                return

    def _run_cells(self) -> bool:
        """Run the cells; False if the sandbox was lost and must be started again (the culprit now broken)."""
        assert self._session is not None
        cells: list[tuple[str | None, str, str]] = [(None, source, "the setup cell") for source in self._setup]
        cells += [(p, s, f"the answer cell {self.exercise.tag(p)}") for p, s in self._answers if p not in self.broken]
        for part, source, what in cells:
            self._emit({"event": "alive"})
            request = {"op": "run", "source": source, "filename": f"<{what}>", "limit": self.limit}
            try:
                reply = self._session.request(request, self._wait)
            except SessionLost as exc:
                why = f"{_lost(exc, self.limit)} while running {what}"
                self._break(part, why)
                return part is None  # a lost setup cell breaks every part: nothing is left to run
            if "error" in reply:
                self._break(part, _cell_error(reply["error"], what, self.limit))
                if part is None:
                    return True
        return True

    def _break(self, part: str | None, why: str) -> None:
        if part is not None:
            self.broken.setdefault(part, why)
            return
        why = f"the setup cell failed ({why}); restore it from a fresh copy of the notebook"
        self.broken.update({p: why for p in self.exercise.parts if p not in self.broken})

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        if time.monotonic() - self._said_alive > 1.0:  # a long check (a simulator attack) asks thousands
            self._said_alive = time.monotonic()
            self._emit({"event": "alive"})
        if self._session is None or not self._session.alive:
            self.start()
        if self._session is None or not self._session.alive:
            raise SessionLost("the answers' process could not be started")
        try:
            return self._session.request(message, self._wait)
        except SessionLost as exc:
            why = f"{_lost(exc, self.limit)} while a check of this part ran `{message['name']}`"
            if self.part is not None:
                self.broken.setdefault(self.part, why)
            raise SessionLost(why) from None

    def get(self, name: str) -> dict[str, Any]:
        return self._ask({"op": "get", "name": name})

    def call(self, name: str, args: Any, kwargs: Any) -> dict[str, Any]:
        limit = self.exercise.limit_of(self.part, self.limit)
        return self._ask({"op": "call", "name": name, "args": args, "kwargs": kwargs, "limit": limit})

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _lost(exc: SessionLost, limit: float | None) -> str:
    why = str(exc)
    if "in time" in why:
        return f"timed out after {limit or 0:g} s and was stopped (an infinite loop?)"
    return f"the answers' process stopped ({why})"


def _cell_error(error: dict[str, Any], what: str, limit: float | None) -> str:
    if error.get("timeout"):
        return f"timed out after {limit or 0:g} s while running {what} (an infinite loop?)"
    if error.get("type") == "SyntaxError":
        return f"SyntaxError in {what}, line {error.get('line')}: {error.get('message')}"
    if error.get("not_implemented"):
        return f"not implemented: {what} still raises NotImplementedError"
    if error.get("exit"):
        return f"{what} tried to stop the process ({error.get('type')})"
    where = f"`{error['where']}`" if error.get("where") else what
    return f"{error.get('type')}: {error.get('message')} (raised in {where})"


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


def grade_one(spec: dict[str, Any], notebook: dict[str, Any], files: list[Path], emit: Emit) -> dict[str, Any]:
    """One notebook: its cells in a sandbox, the checks here; the outcomes as a JSON-ready dict."""
    source = RemoteSource(spec, notebook, emit)
    try:
        source.start()
        answers = Answers(source, _hints(source.exercise, source.broken))
        check_limit = (source.limit + 2 * GRACE_S) if source.limit else None
        limits = {part: limit + 2 * GRACE_S for part, limit in source.exercise.limits.items()}
        outcomes, errors = run_checks(
            files, answers, broken=source.broken, limit=check_limit, listen=source.listen, limits=limits
        )
    finally:
        source.close()
    return {
        "key": notebook["key"],
        "outcomes": [o.__dict__ for o in outcomes],
        "errors": errors,
        "broken": source.broken,
        "notes": sorted(source.notes),
    }


def grade_batch(spec: dict[str, Any], emit: Emit) -> None:
    """Every notebook of the spec, one after another; one `result` event each."""
    with tempfile.TemporaryDirectory(prefix="agentlab-checks-") as private:  # 0700: ours alone
        files = [Path(f) for f in spec["files"]]
        if spec.get("hidden"):
            hidden = Path(private) / f"test_{spec['exercise']}_hidden.py"
            hidden.write_text(spec["hidden"], encoding="utf-8")
            files.append(hidden)
        for notebook in spec["notebooks"]:
            emit({"event": "result", **grade_one(spec, notebook, files, emit)})


def main() -> None:
    """Read the spec from stdin; write events to the original stdout only (nothing else may write there)."""
    spec = json.loads(sys.stdin.read())
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # stray prints (ours, pytest's, a library's) cannot reach the results
    become_subreaper()

    def emit(event: dict[str, Any]) -> None:
        results.write(json.dumps(event) + "\n")
        results.flush()

    try:
        grade_batch(spec, emit)
    except BaseException as exc:  # the checker's own failure: say so rather than die silently
        with contextlib.suppress(BaseException):
            emit({"event": "error", "message": f"the checking process failed: {type(exc).__name__}: {exc}"})
    results.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
