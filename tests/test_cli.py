"""The command line, run as a learner would: a separate process, offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentlab.data import demo_goal, demo_question
from agentlab.durable.sqlite import SqliteJournal
from agentlab.testing.hostile import HostileServer


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


def test_run_single_whose_tool_keeps_failing_gives_up_and_exits_1() -> None:
    """A real MCP server whose tool fails for this SKU, every time: the agent gives up, and says so."""
    inventory = Path(__file__).parent / "mcp_inventory_server.py"
    question, server = "How many units of NR-9999 are in stock?", f"{sys.executable} {inventory}"
    done = _agentlab("run", question, "--single", "--q", "1", "--latency", "0", "--mcp", server)
    _no_traceback(done)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stopped  : gave_up after 3 act-observe turn(s)" in done.stdout
    assert "no answer: The agent gave up: the tools keep failing (" in done.stdout
    assert "unknown SKU NR-9999" in done.stdout.split("no answer:", 1)[1]


def test_run_against_an_unreachable_endpoint_fails_clearly() -> None:
    args = ["run", "hi", "--single", "--base-url", "http://127.0.0.1:9/v1"]
    done = _agentlab(*args, env={"AGENTLAB_API_KEY": "sk-hidden"})
    assert done.returncode == 1
    assert "model_error" in done.stdout and "connection refused at http://127.0.0.1:9/v1" in done.stdout
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


def _journaled(path: str, run_id: str) -> Any:
    if not Path(path).exists():
        return None
    with SqliteJournal(path) as journal:
        return journal.run(run_id)


def _no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]


def test_a_fan_out_whose_planner_is_unreachable_fails_truthfully_and_is_journaled(
    tmp_path: Path, process_cluster: Any
) -> None:
    journal = str(tmp_path / "journal.sqlite")
    args = ["run", "What was the root cause of INC-2108?", "--base-url", "http://127.0.0.1:9/v1"]
    done = _agentlab(*args, "--address", process_cluster.address, "--run-id", "down", "--journal", journal)
    _no_traceback(done)
    assert done.returncode == 1
    assert "stopped  : model_error" in done.stdout and "plan     : none" in done.stdout
    listing = _agentlab("runs", "--journal", journal).stdout
    assert "down" in listing and "failed" in listing and "model_error" in listing
    shown = _agentlab("runs", "--journal", journal, "--show", "down")
    assert shown.returncode == 0 and "run      : down · failed · model_error" in shown.stdout


@pytest.mark.parametrize("mode", ["endless_tool_calls", "unknown_tool"])
def test_a_fan_out_whose_model_never_plans_says_why_nothing_ran(
    mode: str, tmp_path: Path, process_cluster: Any
) -> None:
    journal = str(tmp_path / "journal.sqlite")
    with HostileServer(mode) as server:
        args = ["run", "What was the root cause of INC-2108?", "--base-url", server.base_url, "--max-turns", "3"]
        done = _agentlab(
            *args,
            "--address",
            process_cluster.address,
            "--run-id",
            mode,
            "--journal",
            journal,
            env={"AGENTLAB_API_KEY": "sk-secret-for-test"},
        )
    _no_traceback(done)
    assert done.returncode == 1, done.stdout
    assert "stopped  : no_answer" in done.stdout
    # a model that never plans: the run says its plan was rejected and why (never a stand-in plan that runs)
    assert "The planning step's plan was rejected, so nothing ran:" in done.stdout and "plan     : none" in done.stdout
    assert "sk-secret-for-test" not in done.stdout + done.stderr
    run = SqliteJournal(journal).run(mode)
    assert run is not None and (run.status, run.stop_reason) == ("failed", "no_answer")


def test_resuming_a_run_id_with_another_goal_is_a_clear_error(tmp_path: Path, process_cluster: Any) -> None:
    journal = str(tmp_path / "journal.sqlite")
    first = _agentlab(
        "run",
        "What was the root cause of INC-2108?",
        "--run-id",
        "r",
        "--journal",
        journal,
        "--address",
        process_cluster.address,
        "--latency",
        "0",
    )
    assert first.returncode == 0, first.stdout + first.stderr
    other = _agentlab(
        "run",
        "Which team owns the Orion Gateway?",
        "--run-id",
        "r",
        "--journal",
        journal,
        "--address",
        process_cluster.address,
    )
    _no_traceback(other)
    assert other.returncode == 2 and "JournalMismatch" in other.stderr and "another --run-id" in other.stderr


def test_ctrl_c_ends_a_run_cancelled_and_journals_it(tmp_path: Path, process_cluster: Any) -> None:
    journal = str(tmp_path / "journal.sqlite")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLAB_", "OPENAI_"))}
    args = ["run", "What were the root causes of INC-2108 and INC-2181?", "--run-id", "c", "--journal", journal]
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentlab", *args, "--address", process_cluster.address, "--latency", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean,
        # a pytest-xdist worker ignores SIGINT, and an ignored signal stays ignored across exec: give the
        # command the default disposition a terminal would, so Ctrl-C reaches it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    while (run := _journaled(journal, "c")) is None or run.status != "running":  # the run is underway
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "cancelled" in err and "Traceback" not in out + err
    run = SqliteJournal(journal).run("c")
    assert run is not None and (run.status, run.stop_reason) == ("failed", "cancelled")
