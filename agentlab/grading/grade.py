"""Grading notebooks: each notebook's answers run in a watched process, so nothing in them can crash or hang us.

    1. Read the notebook (unreadable JSON: every part scores 0, with the reason) and tell its exercise.
    2. Find the setup and answer cells by tag (`agentlab.grading.answers`); a missing, duplicated or
       retyped cell is a reason for that part alone.
    3. Run them and the checks in a worker process (`agentlab.grading.worker`), which reports each step.
    4. If the worker goes quiet for longer than the time limit (a loop no alarm can interrupt) or dies,
       kill it, blame the part it was running, and run again without that part.
    5. Score each part from its checks' outcomes (`agentlab.grading.report`).

Instructor grading adds the hidden checks, always taken from the instructor's source notebook, never
from the submission. The worker runs learner code with the grader's permissions: for credit that
matters, run the grader inside a container per submission.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from agentlab.grading.answers import locate, tags_of
from agentlab.grading.exercises import CHECK, Exercise, exercise_of, labs_dir
from agentlab.grading.markers import MarkerError, hidden_tests
from agentlab.grading.report import Grade, score
from agentlab.grading.runner import Outcome

__all__ = ["GradingError", "find_notebooks", "grade_notebook", "grade_paths", "source_dir"]

STARTUP_S = 60.0
"""How long a worker may take to start (imports) before it counts as hung."""
GRACE_S = 5.0
"""How much longer than the time limit a worker may stay quiet before it is killed."""


class GradingError(Exception):
    """The grader cannot do what was asked (no hidden checks to run, no notebooks found)."""


def source_dir() -> Path:
    """Where the instructor notebooks live: labs/exercises/source."""
    return labs_dir() / "exercises" / "source"


@dataclass
class _Run:
    events: list[dict[str, Any]]
    finished: bool
    why: str = ""
    """Why the run did not finish: it hung or died."""


def _read_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines written after byte `offset`: (events, the new offset)."""
    with open(path, "rb") as reader:
        reader.seek(offset)
        data = reader.read()
    end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
    lines = data[:end].decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()], offset + end


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the worker and anything its answers started (on POSIX it leads its own process group)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group may be gone already
            os.killpg(proc.pid, signal.SIGKILL)
    elif proc.poll() is None:
        proc.kill()
    proc.wait()


def _run_worker(spec: dict[str, Any], limit: float, workdir: Path) -> _Run:
    """Start a worker on `spec` and follow its events until it is done, hangs or dies."""
    spec_file, events_file, errors_file = workdir / "spec.json", workdir / "events.jsonl", workdir / "stderr.txt"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    events_file.write_bytes(b"")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    with open(errors_file, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentlab.grading.worker", str(spec_file), str(events_file)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=os.name == "posix",
        )
    events: list[dict[str, Any]] = []
    offset, quiet_since = 0, time.monotonic()
    try:
        while True:
            new, offset = _read_events(events_file, offset)
            events += new
            if new:
                quiet_since = time.monotonic()
            if any(e["event"] == "done" for e in new):
                return _Run(events, True)
            if proc.poll() is not None:
                events += _read_events(events_file, offset)[0]
                done = any(e["event"] == "done" for e in events)
                tail = errors_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
                return _Run(events, done, f"the grading process died ({' '.join(tail) or 'no message'})")
            allowed = limit + GRACE_S if events else STARTUP_S
            if time.monotonic() - quiet_since > allowed:
                return _Run(events, False, f"timed out after {limit:g} s (an infinite loop?)")
            time.sleep(0.02)
    finally:
        _stop(proc)


def _blame(events: list[dict[str, Any]], exercise: Exercise, why: str) -> dict[str, str]:
    """The parts to give up on after a run hung or died: the one that was running (all, if it was setup)."""
    running = next((e for e in reversed(events) if e["event"] == "start"), None)
    if running is None or running.get("part") is None:
        return dict.fromkeys(exercise.parts, f"{why} in the setup cell")
    what = "the answer cell" if running["item"] == "answer" else "a check of this part"
    return {running["part"]: f"{why} while running {what}"}


def _hidden_file(exercise: Exercise, sources: Path, workdir: Path) -> Path:
    """The instructor's hidden checks for `exercise`, written out as a pytest module."""
    path = sources / f"{exercise.notebook}.ipynb"
    if not path.exists():
        raise GradingError(f"instructor grading needs the source notebook {path} (see --source)")
    notebook = nbformat.read(path, as_version=4)
    try:
        text = "".join(hidden_tests(c.source) for c in notebook.cells if f"{CHECK}{exercise.id}" in tags_of(c))
    except MarkerError as exc:
        raise GradingError(f"{path}: {exc}") from exc
    target = workdir / f"test_{exercise.id}_hidden.py"
    target.write_text(text or "# no hidden checks\n", encoding="utf-8")
    return target


def _cells(path: Path) -> tuple[list[Any], dict[str, Any], str]:
    """The notebook's cells and metadata, or the reason it cannot be read."""
    try:
        with warnings.catch_warnings():  # duplicate or missing cell ids are normal in a learner's notebook
            warnings.simplefilter("ignore")
            notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook, not readable: all are the submission's problem
        return [], {}, f"cannot read the notebook: {type(exc).__name__}: {str(exc)[:200]}"
    cells = notebook.get("cells", [])
    cells = [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []
    metadata = notebook.get("metadata", {})
    return cells, metadata if isinstance(metadata, dict) else {}, ""


def grade_notebook(
    path: Path | str, *, instructor: bool = False, sources: Path | None = None, limit: float = 10.0
) -> Grade:
    """Grade one notebook: a score per answer part, each with the first failing reason."""
    path = Path(path)
    cells, metadata, unreadable = _cells(path)
    exercise = exercise_of(path, metadata)
    if exercise is None:
        why = unreadable or "not an exercise notebook (no agentlab.exercise metadata, no exN in its name)"
        return Grade(str(path), "?", "unknown exercise", error=why)
    located = locate(cells, exercise)
    broken = {p: unreadable for p in exercise.parts} if unreadable else dict(located.problems)
    with tempfile.TemporaryDirectory(prefix="agentlab-grade-") as tmp:
        workdir = Path(tmp)
        files = [exercise.check_file]
        if instructor:
            files.append(_hidden_file(exercise, sources or source_dir(), workdir))
        run, setup = _Run([], False), located.setup
        for _ in range(len(exercise.parts) + 2):  # each rerun gives up on one more part, so this ends
            spec = {
                "exercise": exercise.id,
                "setup": setup,
                "answers": [(p, s) for p, s in located.answers if p not in broken],
                "broken": broken,
                "files": [str(f) for f in files],
                "limit": limit,
            }
            run = _run_worker(spec, limit, workdir)
            if run.finished:
                break
            blamed = _blame(run.events, exercise, run.why)
            setup = [] if len(blamed) == len(exercise.parts) else setup  # a hung setup cell is not run again
            broken.update({part: why for part, why in blamed.items() if part not in broken})
    outcomes = [Outcome(**{k: v for k, v in e.items() if k != "event"}) for e in run.events if e["event"] == "test"]
    errors = tuple(e["message"] for e in run.events if e["event"] == "error")
    notes = () if instructor else ("(hidden checks run only in instructor grading)",)
    error = unreadable or "; ".join(errors) or ("" if run.finished else run.why)
    return Grade(
        str(path), exercise.id, exercise.title, tuple(score(exercise, outcomes, broken)), error, instructor, notes
    )


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


def grade_paths(
    paths: Sequence[Path | str],
    *,
    instructor: bool = False,
    sources: Path | None = None,
    limit: float = 10.0,
    jobs: int = 1,
) -> list[Grade]:
    """Grade every notebook named or found in the folders named, `jobs` notebooks at a time, in order."""
    notebooks = find_notebooks(paths)
    if not notebooks:
        raise GradingError(f"no notebooks found in {', '.join(map(str, paths))}")
    grade = functools.partial(grade_notebook, instructor=instructor, sources=sources, limit=limit)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # each notebook is its own worker process
        return list(pool.map(grade, notebooks))
