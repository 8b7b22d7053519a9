"""What does grading a component pass^k cost? Each simulator-graded task on k seeds, beside the plain simulator.

    python benchmarks/passk.py              # k = 200, as the labs grade
    python benchmarks/passk.py --k 50       # a quicker look

Per task, side by side in one run: the same k seeds simulated with agentlab's own parts (the baseline),
then attacked with a correct learner's function called directly, then through `check("labNN.task")`
(every question and answer copied as data, as the grader does), then through the sandboxed grader
(`grade_paths`: a sandbox started, the answer cell run there, every question over its socket). Each line
prints seconds and the ratio to the baseline; the labs allow a task 60 s (`labtasks.SIM_LIMIT`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from agentlab.grading import EXERCISES, check, grade_paths
from agentlab.grading.answers import tags_of
from agentlab.sim.board import simulate_board
from agentlab.sim.components import COMPONENTS
from agentlab.sim.fleet import simulate
from agentlab.sim.passk import attack

ANSWERS = {
    "lab02.payment": (
        "import json\n\ndef payment_key(call):\n"
        '    return json.dumps([call["run"], call["tool"], call["arguments"]], sort_keys=True)'
    ),
    "lab04.key": (
        "import json\n\ndef step_key(step):\n"
        '    return json.dumps([step[k] for k in ("run", "origin", "role", "goal", "round", "deps")])'
    ),
    "lab05.increment": (
        "def increment_step(key, replies):\n"
        '    if not replies or (replies[-1]["op"] == "write" and not replies[-1]["ok"]):\n'
        '        return {"op": "read"}\n'
        '    if replies[-1]["op"] == "read":\n'
        '        return {"op": "write", "value": (replies[-1]["value"] or 0) + 1, "expected": replies[-1]["version"]}\n'
        '    return {"op": "done"}'
    ),
}


def _seconds(run: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    run(*args)
    return time.perf_counter() - start


def _baseline(task: str, k: int) -> None:
    """The task's k seeds with agentlab's own parts, under the same nemesis."""
    faults = COMPONENTS[task].faults
    for seed in range(k):
        if task == "lab05.increment":
            simulate_board(seed, faults)
        else:
            simulate(seed, faults)


def _sandboxed(task: str, source: str) -> None:
    lab, part = task.split(".")
    exercise = EXERCISES[lab]
    notebook = nbformat.read(exercise.student_path, as_version=4)
    for cell in notebook.cells:
        if exercise.tag(part) in tags_of(cell):
            cell.source = source
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{exercise.notebook}.ipynb"
        nbformat.write(notebook, path)
        (grade,) = grade_paths([path])
    assert any(p.part == part and p.points == p.max_points for p in grade.parts), grade.text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=200)
    args = parser.parse_args()
    for task, source in ANSWERS.items():
        component = COMPONENTS[task]
        namespace: dict[str, Any] = {}
        exec(compile(source, task, "exec"), namespace)
        decide = namespace[component.answer]
        base = _seconds(_baseline, task, args.k)
        verdict = attack(component, decide, k=args.k)
        assert verdict.ok, verdict.message()
        lines = [
            (f"{args.k} seeds, agentlab's own parts", base),
            (f"attacked, the function called ({verdict.calls} questions)", verdict.seconds),
        ]
        if args.k == component.k:  # the check and the grader attack the task's own k seeds
            lines.append(("through check() (data copied both ways)", _seconds(check, task, dict(namespace))))
            lines.append(("through the sandboxed grader", _seconds(_sandboxed, task, source)))
        print(task)
        for label, seconds in lines:
            print(f"  {label:<52} {seconds:6.1f} s  {seconds / base:6.2f}x")


if __name__ == "__main__":
    main()
