"""The command line, run as a learner would: a separate process, offline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from agentlab.data import demo_goal, demo_question


def _agentlab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "agentlab", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
        check=False,
    )


def test_demo_fans_a_research_goal_out_and_answers_it_correctly_offline_and_fast() -> None:
    start = time.perf_counter()
    done = _agentlab("demo")
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    goal, truths = demo_goal()
    out = done.stdout
    assert f"goal     : {goal}" in out
    assert all(q.answer.lower() in out.lower() for q in truths)
    assert "-> correct" in out
    assert "plan (round 1):" in out and "analyst" in out and "researcher" in out
    assert "timeline" in out and "achieved speedup" in out and "ideal speedup" in out
    assert "dashboard http://127.0.0.1:" in out
    print(f"the demo took {elapsed:.1f} s")  # timing belongs in benchmarks, not in a test that load can break


def test_run_single_answers_any_question_with_one_agent() -> None:
    question = demo_question()
    done = _agentlab("run", question.question, "--single", "--q", "1", "--latency", "0")
    assert done.returncode == 0, done.stderr
    assert question.answer.lower() in done.stdout.lower()
    assert "tool:search_kb" in done.stdout and "E[T] = 1/q = 1.00" in done.stdout


def test_run_against_an_unreachable_endpoint_fails_clearly() -> None:
    args = ["run", "hi", "--single", "--base-url", "http://127.0.0.1:9/v1"]
    done = _agentlab(*args, env={"AGENTLAB_API_KEY": "sk-hidden"})
    assert done.returncode == 1
    assert "model_error" in done.stdout and "cannot reach the model" in done.stdout
    assert "sk-hidden" not in done.stdout + done.stderr


def test_a_run_with_an_id_is_journaled_and_running_it_again_resumes_from_the_journal(tmp_path: Path) -> None:
    journal = str(tmp_path / "journal.sqlite")
    goal = "What were the root causes of INC-2108 and INC-2181?"
    first = _agentlab("run", goal, "--run-id", "r-1", "--journal", journal, "--latency", "0.02")
    assert first.returncode == 0, first.stderr
    steps = _agentlab("runs", "--journal", journal, "--show", "r-1")
    assert "run      : r-1 · finished · answer" in steps.stdout
    table = steps.stdout.split("\n\n", 1)[1]
    assert len(table.strip().splitlines()) == 1 + 5  # header; plan, two researchers, the analyst, reduce
    again = _agentlab("run", goal, "--run-id", "r-1", "--journal", journal, "--latency", "0.02")
    assert again.returncode == 0, again.stderr
    assert again.stdout.split("answer   :")[1].split("\n")[0] == first.stdout.split("answer   :")[1].split("\n")[0]
    assert _agentlab("runs", "--journal", journal, "--show", "r-1").stdout == steps.stdout  # nothing re-ran
    listing = _agentlab("runs", "--journal", journal).stdout
    assert "r-1" in listing and "finished" in listing
