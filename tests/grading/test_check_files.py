"""An exercise's checks may span several modules (a lab's simulator-graded parts have their own), and a
check may carry its own time limit (a simulator attack runs the answer on 200 seeds)."""

from __future__ import annotations

from pathlib import Path

from agentlab.grading.exercises import Exercise, checks_dir
from agentlab.grading.runner import run_checks
from agentlab.grading.testkit import Answers

CHECKS = """
import signal

from agentlab.grading.testkit import graded


@graded("quick")
def test_quick(answers):
    assert signal.getitimer(signal.ITIMER_REAL)[0] <= 2.0, "the run's own limit applies"


@graded("attack", limit=600.0)
def test_attack(answers):
    left = signal.getitimer(signal.ITIMER_REAL)[0]
    assert left > 60.0, f"only {left} s left: the check's own limit was not applied"
"""


def test_a_lab_collects_its_check_module_and_the_ones_beside_it() -> None:
    lab05 = Exercise("lab05", "t", "05_shared_memory", {"increment": ("increment_step",)}, {"increment": 1})
    assert checks_dir() / "test_lab05_sim.py" in lab05.check_files
    assert all(p.is_file() for p in lab05.check_files)
    ex2 = Exercise("ex2", "t", "ex2_straggler_and_retry", {}, {})
    assert ex2.check_files == [checks_dir() / "test_ex2.py"]  # test_ex2_*.py: none, and no test_ex20.py either


def test_checks_in_two_modules_run_together_each_under_its_limit(tmp_path: Path) -> None:
    (tmp_path / "test_demo.py").write_text(CHECKS, encoding="utf-8")
    (tmp_path / "test_demo_more.py").write_text(CHECKS.replace("def test_", "def test_more_"), encoding="utf-8")
    outcomes, errors = run_checks(
        [tmp_path / "test_demo.py", tmp_path / "test_demo_more.py"], Answers({}, {}), limit=2.0
    )
    assert errors == [] and len(outcomes) == 4
    assert all(o.passed for o in outcomes), [o.message for o in outcomes]


def test_no_check_module_is_an_error_not_a_crash() -> None:
    outcomes, errors = run_checks([], Answers({}, {}))
    assert outcomes == [] and errors == ["no check modules were found for this exercise"]
