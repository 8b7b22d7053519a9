"""Grading notebooks: learner code in a sandbox, the checks in a process of their own, results from the checks.

    1. Read each notebook (unreadable JSON: every part scores 0, with the reason) and tell its exercise.
    2. Find the setup and answer cells by tag (`agentlab.grading.answers`); a missing, duplicated or
       retyped cell is a reason for that part alone.
    3. Hand the notebooks, a batch per exercise, to checking processes (`agentlab.grading.checker`),
       `jobs` at a time. Each runs every notebook's cells in a fresh sandbox (`agentlab.grading.session`)
       and the checks against it, and writes the outcomes on a pipe that only we read.
    4. Score each part from the exercise's points and its checks' outcomes (`agentlab.grading.report`).

Learner code never shares a process, a directory or a writable file with the checks: the sandbox sees
the host read-only, as `nobody`, without the instructor notebooks, the project checkout (except the
package and its datasets) or the submissions, and answers only with data. Instructor grading adds the
hidden checks, always taken from the instructor's source notebook, never from a submission; no line of
the instructor's solutions or hidden checks appears in any message. If a checking process goes quiet
for longer than any step may take, it is killed with everything below it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from agentlab.errors import AgentlabError
from agentlab.grading.answers import locate, tags_of
from agentlab.grading.checker import GRACE_S
from agentlab.grading.exercises import CHECK, Exercise, exercise_of, labs_dir
from agentlab.grading.markers import MarkerError, hidden_tests, region_lines
from agentlab.grading.report import Grade, clean, score
from agentlab.grading.runner import Outcome
from agentlab.grading.session import STARTUP_S, kill_tree

__all__ = ["GradingError", "find_notebooks", "grade_notebook", "grade_paths", "source_dir"]

STUDENT_NOTE = "(hidden checks run only in instructor grading)"


class GradingError(AgentlabError):
    """The grader cannot do what was asked (no hidden checks to run, no notebooks found): the caller's doing."""


def source_dir() -> Path:
    """Where the exercises' instructor notebooks live: labs/exercises/source (the labs': labs/source)."""
    return labs_dir() / "exercises" / "source"


@dataclass
class _Submission:
    """One notebook, read and located, waiting for its outcomes."""

    path: Path
    exercise: Exercise | None
    setup: list[str] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)


def _read(path: Path) -> _Submission:
    """The notebook's exercise and cells, or the reason it cannot be graded."""
    try:
        with warnings.catch_warnings():  # duplicate or missing cell ids are normal in a learner's notebook
            warnings.simplefilter("ignore")
            notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook, not readable: all are the submission's problem
        exercise = exercise_of(path)
        why = f"cannot read the notebook: {type(exc).__name__}: {str(exc)[:200]}"
        return _Submission(path, exercise, broken=dict.fromkeys(exercise.parts, why) if exercise else {}, error=why)
    cells = notebook.get("cells", [])
    cells = [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []
    metadata = notebook.get("metadata", {})
    exercise = exercise_of(path, metadata if isinstance(metadata, dict) else {})
    if exercise is None:
        return _Submission(
            path, None, error="not an exercise notebook (no agentlab.exercise metadata, no exN in its name)"
        )
    located = locate(cells, exercise)
    return _Submission(path, exercise, located.setup, located.answers, dict(located.problems))


@dataclass(frozen=True)
class _Instructor:
    """What instructor grading adds for one exercise: the hidden checks, and the lines never to show."""

    hidden: str
    secrets: tuple[str, ...]


def _instructor(exercise: Exercise, sources: Path | None) -> _Instructor:
    path = sources / f"{exercise.notebook}.ipynb" if sources else exercise.source_path
    if not path.exists():
        raise GradingError(f"instructor grading needs the source notebook {path} (see --source)")
    notebook = nbformat.read(path, as_version=4)
    try:
        hidden = "".join(hidden_tests(c.source) for c in notebook.cells if f"{CHECK}{exercise.id}" in tags_of(c))
        secrets = {line.strip() for c in notebook.cells for line in region_lines(c.source)}
    except MarkerError as exc:
        raise GradingError(f"{path}: {exc}") from exc
    return _Instructor(hidden, tuple(sorted(s for s in secrets if s)))


def _project_root() -> Path | None:
    """The checkout the package runs from, if it runs from one (an editable install)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").exists() or (root / ".git").exists() else None


def _hiding(submissions: Iterable[_Submission], sources: Path | None) -> list[str]:
    """What the sandbox covers (sources, labs, checkout, submissions); it binds back its runtime, package and data."""
    covers = {str(labs_dir().resolve())} | ({str(sources.resolve())} if sources else set())
    covers |= {str(s.path.resolve().parent) for s in submissions}
    if (root := _project_root()) is not None:
        covers.add(str(root))
    return sorted(covers)


def _spec(exercise: Exercise, batch: list[_Submission], instructor: _Instructor | None, limit: float) -> dict[str, Any]:
    return {
        "exercise": exercise.id,
        "files": [str(f) for f in exercise.check_files],
        "hidden": instructor.hidden if instructor else "",
        "limit": limit,
        "notebooks": [
            {
                "key": i,
                "setup": s.setup,
                "answers": [(p, src) for p, src in s.answers if p not in s.broken],
                "broken": s.broken,
            }
            for i, s in enumerate(batch)
        ],
    }


def _run_checker(spec: dict[str, Any], batch: list[_Submission], limit: float) -> None:
    """One checking process over `batch`; each submission gets its result (or the reason there is none)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentlab.grading.checker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(spec).encode())
    proc.stdin.close()
    lines: list[bytes] = []
    last = [time.monotonic()]

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            last[0] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    quiet = STARTUP_S + limit + 4 * GRACE_S  # longer than any one step of the checker may take
    while reader.is_alive() and time.monotonic() - last[0] < quiet:
        reader.join(0.1)
    kill_tree({proc.pid})  # the checker, and anything below it that is somehow still there
    proc.wait()
    reader.join()
    why = (
        "the grader's checking process stopped responding"
        if reader.is_alive()
        else "the grader's checking process failed"
    )
    for line in lines:
        event = json.loads(line)
        if event.get("event") == "result":
            batch[event["key"]].result = event
        elif event.get("event") == "error":
            why = str(event.get("message", why))
    for submission in batch:
        if not submission.result:
            submission.error = why


def _grade(submission: _Submission, instructor: _Instructor | None) -> Grade:
    path, exercise = str(submission.path), submission.exercise
    if exercise is None:
        return Grade(path, "?", "unknown exercise", error=submission.error)
    result = submission.result
    outcomes = [Outcome(**o) for o in result.get("outcomes", [])]
    broken = {**submission.broken, **result.get("broken", {})}
    if not result and not submission.error:
        submission.error = "not graded"
    if submission.error:
        broken = {**dict.fromkeys(exercise.parts, submission.error), **broken}
    secrets = instructor.secrets if instructor else ()
    notes = tuple(result.get("notes", [])) + (() if instructor else (STUDENT_NOTE,))
    error = clean(submission.error or "; ".join(result.get("errors", [])), secrets)
    parts = tuple(score(exercise, outcomes, broken, secrets))
    return Grade(path, exercise.id, exercise.title, parts, error, instructor is not None, notes)


def find_notebooks(paths: Iterable[Path | str]) -> list[Path]:
    """The notebooks named, and those inside the folders named (recursively), skipping checkpoints."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if not entry.exists():
            raise GradingError(f"{entry}: no such notebook or folder")
        if entry.is_dir():
            found += sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(entry)
    return found


def _batches(submissions: list[_Submission], jobs: int) -> list[tuple[Exercise, list[_Submission]]]:
    """Per exercise, the gradable submissions dealt out to at most `jobs` checking processes."""
    batches = []
    for exercise in {s.exercise.id: s.exercise for s in submissions if s.exercise}.values():
        mine = [s for s in submissions if s.exercise is exercise and not s.error]
        count = min(max(1, jobs), len(mine))
        batches += [(exercise, mine[i::count]) for i in range(count)]
    return batches


def grade_paths(
    paths: Sequence[Path | str],
    *,
    instructor: bool = False,
    sources: Path | None = None,
    limit: float = 10.0,
    jobs: int = 1,
) -> list[Grade]:
    """Grade every notebook named or found in the folders named, `jobs` checking processes at a time, in order."""
    notebooks = find_notebooks(paths)
    if not notebooks:
        raise GradingError(f"no notebooks found in {', '.join(map(str, paths))}")
    submissions = [_read(path) for path in notebooks]
    exercises = {s.exercise.id: s.exercise for s in submissions if s.exercise}
    extra = {ex_id: _instructor(ex, sources) for ex_id, ex in exercises.items()} if instructor else {}
    covers = _hiding(submissions, sources)
    batches = _batches(submissions, jobs)

    def run(batch: tuple[Exercise, list[_Submission]]) -> None:
        exercise, members = batch
        spec = _spec(exercise, members, extra.get(exercise.id), limit) | {"covers": covers}
        _run_checker(spec, members, limit)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(run, batches))
    return [_grade(s, extra.get(s.exercise.id) if s.exercise else None) for s in submissions]


def grade_notebook(
    path: Path | str, *, instructor: bool = False, sources: Path | None = None, limit: float = 10.0
) -> Grade:
    """Grade one notebook: a score per answer part, each with the first failing reason."""
    return grade_paths([path], instructor=instructor, sources=sources, limit=limit)[0]
