"""Cheats and hostile submissions, graded for real: none scores the parts it cheats, none changes anything.

Each submission is a student notebook with one part replaced by a cheat (the others answered
correctly, from the correct-submission suites). The whole set is graded once, as an instructor grades,
with the hidden checks; before and after, the package's check files and the instructor notebooks are
hashed, and no process any submission started may be left on the machine.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import pytest

from agentlab.grading import EXERCISES, Grade, grade_paths
from agentlab.grading.exercises import checks_dir
from agentlab.grading.grade import _instructor, source_dir
from agentlab.grading.report import MESSAGE_CHARS, write_csv

from . import submissions_ex1, submissions_ex2, submissions_ex3
from .test_submissions import parts_of, write_submission

pytestmark = pytest.mark.timeout(1800)  # a backstop against hangs: a whole class is graded at once

SUITES = {"ex1": submissions_ex1, "ex2": submissions_ex2, "ex3": submissions_ex3}
MARK = "987.6543"
"""In the command line of every process a submission leaves behind, so that the test can look for them."""

READ_THE_SOURCE = """
import json
import subprocess
from pathlib import Path

import agentlab

root = Path(agentlab.__file__).resolve().parents[1]
name = "labs/exercises/source/ex2_straggler_and_retry.ipynb"
try:
    text = (root / name).read_text()
except OSError:
    text = subprocess.run(["git", "-C", str(root), "show", f"HEAD:{name}"], capture_output=True, text=True).stdout
for cell in json.loads(text)["cells"]:
    if "answer:ex2.timeout" in cell["metadata"].get("tags", []):
        exec("".join(cell["source"]))
"""
ALWAYS_EQUAL = """
class Always(str):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


try:
    import agentlab.grading.testkit as testkit

    testkit.close = lambda *args, **kwargs: True
except Exception:
    pass
CLASSIFICATION = {"briefs": Always("?"), "debug": Always("?"), "prices": Always("?")}
"""
ALWAYS_CLOSE = """
class Close(float):
    def __eq__(self, other):
        return True


def fitted_p(result, workers):
    return Close(0.5)
"""
OVERWRITE_CHECKS = """
import glob
import importlib.util
import os
from pathlib import Path

package = Path(importlib.util.find_spec("agentlab").origin).parent
targets = glob.glob("/tmp/**/test_ex2*.py", recursive=True) + [os.path.join(os.getcwd(), "test_ex2_hidden.py")]
targets += [str(package / "grading" / "checks" / "test_ex2.py"), str(package / "grading" / "testkit.py")]
for target in targets:
    try:
        with open(target, "w") as out:
            out.write("def test_nothing():\\n    pass\\n")
    except OSError:
        pass


def parallel_critical_path(latencies, straggler_index, retry_index):
    return 0.0
"""
FORGE_EVENTS = """
import glob
import os
import socket
import stat

passed = '{"event": "test", "test": "x", "part": "condition", "hidden": false, "passed": true, "message": ""}\\n'
for path in glob.glob("/tmp/**/*.jsonl", recursive=True) + ["events.jsonl"]:
    try:
        with open(path, "a") as out:
            out.write(passed)
    except OSError:
        pass
os.write(1, passed.encode())
os.write(2, passed.encode())
for fd in range(3, 64):
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            os.write(fd, b'{"value": true}\\n' + passed.encode())
    except OSError:
        pass


def fanout_beats_sequential(c, latencies, q):
    return True


def break_even_overhead(latencies):
    return 0.0
"""
LEAK = """
def worst_case_path(latencies, straggler_index, retry_index, timeout):
    raise ValueError("path = timeout + latency")
"""
HUGE = """
def expected_sequential_time(latencies, q):
    return [0.0] * 2_000_000


def expected_fanout_time(c, latencies, q):
    raise ValueError("x" * 10_000_000)
"""
HUGE_CELL = 'raise RuntimeError("y" * 10_000_000)'
SURVIVORS = f'''
import os
import subprocess

subprocess.Popen(["sleep", "{MARK}1"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{MARK}2"])
    os._exit(0)
ENGINE_FEATURES = {{"straggler": "wait_all", "retry": "retry_policy", "timeout": "subtask_timeout"}}
'''
BREAK_IMPORTS = 'import sys\n\nsys.modules["math"] = None\nimport math'

CHEATS = {
    # name: (exercise, {part: cell}, the parts it must not score)
    "read_the_source": ("ex2", {"timeout": READ_THE_SOURCE}, {"timeout"}),
    "always_equal": ("ex1", {"classify": ALWAYS_EQUAL, "fitted": ALWAYS_CLOSE}, {"classify", "fitted"}),
    "overwrite_checks": ("ex2", {"critical_path": OVERWRITE_CHECKS}, {"critical_path"}),
    "forge_events": ("ex3", {"condition": FORGE_EVENTS}, {"condition"}),
    "leak_solution": ("ex2", {"timeout": LEAK}, {"timeout"}),
    "huge_messages": ("ex3", {"expected_times": HUGE, "regime": HUGE_CELL}, {"expected_times", "regime"}),
    "survivors": ("ex2", {"engine": SURVIVORS}, set()),
}


def _hashes() -> dict[str, str]:
    files = (
        sorted(checks_dir().glob("*.py")) + sorted(source_dir().glob("*.ipynb")) + [checks_dir().parent / "testkit.py"]
    )
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _marked_processes() -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if MARK in command and "pytest" not in command:
            found.append(f"{pid}: {command}")
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Grade], dict[str, str], Path]:
    folder = tmp_path_factory.mktemp("cheats")
    for name, (exercise, cells, _) in CHEATS.items():
        write_submission(folder, name, exercise, {**SUITES[exercise].BASE, **cells})
    write_submission(folder, "breaks_imports", "ex1", submissions_ex1.BASE, setup=BREAK_IMPORTS)
    before = _hashes()
    grades = grade_paths([folder], instructor=True, jobs=2)
    write_csv(grades, folder / "grades.csv")
    assert _hashes() == before, "a submission changed the package's checks or the instructor notebooks"
    return {Path(g.notebook).stem.rsplit("_", 1)[0]: g for g in grades}, before, folder / "grades.csv"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHEATS))
def test_a_cheat_scores_nothing_for_the_parts_it_cheats(
    graded: tuple[dict[str, Grade], object, Path], name: str
) -> None:
    grade = graded[0][name]
    _, _, cheated = CHEATS[name]
    assert grade.error == "" and grade.hidden, grade.text()
    for part in grade.parts:
        expected = 0 if part.part in cheated else part.max_points
        assert part.points == expected, grade.text()
        assert len(part.message) <= MESSAGE_CHARS


@pytest.mark.slow
def test_no_report_shows_solution_text(graded: tuple[dict[str, Grade], object, Path]) -> None:
    secrets = {s for ex in EXERCISES.values() for s in _instructor(ex, None).secrets if len(s) >= 8}
    text = Path(graded[2]).read_text(encoding="utf-8") + "\n".join(g.text() for g in graded[0].values())
    assert not [s for s in secrets if s in text]
    assert "[solution text withheld]" in parts_of(graded[0]["leak_solution"])["timeout"].message


@pytest.mark.slow
def test_huge_messages_are_cut_and_the_csv_reads_back(graded: tuple[dict[str, Grade], object, Path]) -> None:
    parts = parts_of(graded[0]["huge_messages"])
    assert "too large" in parts["expected_times"].message
    assert parts["regime"].message.startswith("RuntimeError: yyy") and parts["regime"].message.endswith("…")
    with open(graded[2], newline="", encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    assert len(rows) == sum(len(g.parts) for g in graded[0].values())
    assert max(len(r["message"]) for r in rows) <= MESSAGE_CHARS


@pytest.mark.slow
def test_a_submission_that_breaks_its_imports_scores_zero_with_a_short_message(
    graded: tuple[dict[str, Grade], object, Path],
) -> None:
    grade = graded[0]["breaks_imports"]
    assert grade.points == 0 and grade.max_points == EXERCISES["ex1"].max_points
    for part in grade.parts:
        assert part.message.startswith("the setup cell failed (") and "import of math halted" in part.message
        assert len(part.message) <= MESSAGE_CHARS


@pytest.mark.slow
def test_no_process_a_submission_started_survives_grading(graded: tuple[dict[str, Grade], object, Path]) -> None:
    assert _marked_processes() == []
    assert graded[0]["survivors"].points == graded[0]["survivors"].max_points
